"""Pixel-region and mixing ops: erasing, MixUp, CutMix.

Rectangles are in pixel units, ``[x0, x0 + w) x [y0, y0 + h)``: a pixel
belongs to one when its centre ``(j + 0.5, i + 0.5)`` does (the package's
continuous coordinates, :mod:`augment_layers.ops.points`).
"""

from augment_layers.ops.dispatch import ops


def rectangle_mask(shape, x0, y0, width, height):
    """``(B, H, W, 1)`` booleans: the pixels whose centres lie in each
    image's rectangle (``(B,)`` tensors)."""
    h, w = shape[1], shape[2]
    cols = ops.cast(ops.arange(w), "float32")[None, None, :] + 0.5
    rows = ops.cast(ops.arange(h), "float32")[None, :, None] + 0.5

    def per_image(v):
        return ops.cast(v, "float32")[:, None, None]

    inside_x = ops.logical_and(cols >= per_image(x0),
                               cols < per_image(x0) + per_image(width))
    inside_y = ops.logical_and(rows >= per_image(y0),
                               rows < per_image(y0) + per_image(height))
    return ops.logical_and(inside_x, inside_y)[..., None]


def erase(images, x0, y0, width, height, apply, value):
    """Fills each image's rectangle with ``value`` where ``apply``."""
    mask = ops.logical_and(rectangle_mask(ops.shape(images), x0, y0, width,
                                          height),
                           apply[:, None, None, None])
    return ops.where(mask, ops.cast(value, images.dtype), images)


def mixup(images, labels, weight, partner):
    """``weight * x + (1 - weight) * x[partner]``, for images and labels.

    ``weight``: ``(B,)``; ``partner``: ``(B,)`` int indices; ``labels``
    may be None.
    """
    lam = ops.cast(weight, images.dtype)[:, None, None, None]
    mixed = lam * images + (1.0 - lam) * ops.take(images, partner, axis=0)
    if labels is None:
        return mixed, None
    lab = ops.cast(weight, labels.dtype)
    lab = ops.reshape(lab, (-1,) + (1,) * (len(labels.shape) - 1))
    return mixed, lab * labels + (1.0 - lab) * ops.take(labels, partner,
                                                        axis=0)


def cutmix(images, labels, partner, x0, y0, width, height):
    """Pastes each partner's rectangle into the image; labels mix by the
    share of pixels pasted (exactly, counted on the pixel grid)."""
    shape = ops.shape(images)
    mask = rectangle_mask(shape, x0, y0, width, height)
    pasted = ops.where(mask, ops.take(images, partner, axis=0), images)
    if labels is None:
        return pasted, None
    share = ops.mean(ops.cast(mask, "float32"), axis=(1, 2, 3))
    keep = ops.cast(1.0 - share, labels.dtype)
    keep = ops.reshape(keep, (-1,) + (1,) * (len(labels.shape) - 1))
    return pasted, keep * labels + (1.0 - keep) * ops.take(labels, partner,
                                                           axis=0)
