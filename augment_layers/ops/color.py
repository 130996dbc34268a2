"""Element-wise colour operations on channels-last batches.

Each takes ``images`` ``(B, H, W, C)`` and per-image parameters as ``(B,)``
tensors (or ``(B, C)`` where a parameter is per channel), and a
``value_range`` ``(lo, hi)``; each returns images clipped to that range.
"""

from keras import KerasTensor

from augment_layers.ops.dispatch import active_backend, ops


def _per_image_channel(param, images):
    """``(B, C)`` -> ``(B, 1, 1, C)``; ``(B,)`` -> ``(B, 1, 1, 1)``."""
    param = ops.cast(param, images.dtype)
    if len(param.shape) == 2:
        return param[:, None, None, :]
    return param[:, None, None, None]


def clip(images, value_range):
    """Clips a tensor that the calling op has just computed (a temporary).

    On PyTorch, which runs op by op, the temporary is clipped in place, so an
    op holds one full-size result rather than two (autograd still sees it).
    """
    lo, hi = value_range
    if active_backend() == "torch" and not isinstance(images, KerasTensor):
        return images.clamp_(float(lo), float(hi))
    return ops.clip(images, ops.cast(lo, images.dtype),
                    ops.cast(hi, images.dtype))


# -- value steps: per-image scales, shifts and clips --------------------------
# A colour layer whose whole work is a few of these steps declares them
# (``value_steps``), so that the executor can hand them to the resample that
# precedes it: the native kernel then applies them to each output row while
# it is in the cache (one pass over the batch saved), the general formulation
# applies them here, and both compute the same float ops.
SCALE, SHIFT, CLIP = "scale", "shift", "clip"


def apply_steps(images, steps):
    """Applies ``steps`` in order: ``(SCALE, p)`` multiplies by ``p``,
    ``(SHIFT, p)`` adds ``p`` (``p`` ``(B,)``, or ``(B, C)`` per channel),
    ``(CLIP, lo, hi)`` clips to ``[lo, hi]``."""
    fresh = False  # a clip may work in place only on a temporary
    for step in steps:
        if step[0] == SCALE:
            images = images * _per_image_channel(step[1], images)
        elif step[0] == SHIFT:
            images = images + _per_image_channel(step[1], images)
        elif step[0] == CLIP:
            images = (clip(images, step[1:]) if fresh else ops.clip(
                images, ops.cast(step[1], images.dtype),
                ops.cast(step[2], images.dtype)))
        else:
            raise ValueError(f"unknown value step {step[0]!r}")
        fresh = True
    return images


def brightness_steps(factor, value_range=(0, 255)):
    """:func:`brightness` as value steps."""
    return ((SCALE, factor), (CLIP, *value_range))


def channel_shift_steps(shift, value_range=(0, 255)):
    """:func:`channel_shift` as value steps."""
    return ((SHIFT, shift), (CLIP, *value_range))


def brightness(images, factor, value_range=(0, 255)):
    """Multiplies each image by ``factor`` (ImageDataGenerator's brightness)."""
    return apply_steps(images, brightness_steps(factor, value_range))


def channel_shift(images, shift, value_range=(0, 255)):
    """Adds ``shift`` to each image; ``(B,)`` for all channels, ``(B, C)`` each."""
    return apply_steps(images, channel_shift_steps(shift, value_range))


def channel_shift_within_image(images, intensity):
    """Adds ``intensity`` to each image and clips it to that image's own
    minimum and maximum, as ImageDataGenerator's ``apply_channel_shift``."""
    axes = tuple(range(1, len(images.shape)))
    lo = ops.min(images, axis=axes, keepdims=True)
    hi = ops.max(images, axis=axes, keepdims=True)
    return ops.clip(images + _per_image_channel(intensity, images), lo, hi)


def contrast(images, factor, value_range=(0, 255)):
    """Scales each image's deviation from its own mean (over H, W, C)."""
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return clip(mean + (images - mean) * _per_image_channel(factor, images),
                value_range)


def gamma(images, gamma, value_range=(0, 255)):
    """``lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma`` per image."""
    lo, hi = value_range
    scale = ops.cast(hi - lo, images.dtype)
    unit = ops.clip((images - ops.cast(lo, images.dtype)) / scale, 0.0, 1.0)
    return clip(ops.cast(lo, images.dtype)
                + scale * ops.power(unit, _per_image_channel(gamma, images)),
                value_range)


def saturation(images, factor, value_range=(0, 255)):
    """Blends each image with its grey version: 0 grey, 1 unchanged, >1 vivid.

    Grey is the ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), as in PIL's
    ``ImageEnhance.Color``; the images must have three (RGB) channels.
    """
    if images.shape[-1] != 3:
        raise ValueError(
            "The saturation op needs RGB images with 3 channels, received "
            f"images with {images.shape[-1]} channels (shape "
            f"{tuple(images.shape)}).")
    weights = ops.cast(ops.convert_to_tensor([0.299, 0.587, 0.114]),
                       images.dtype)
    grey = ops.sum(images * weights, axis=-1, keepdims=True)
    return clip(grey + (images - grey) * _per_image_channel(factor, images),
                value_range)


# -- Keras's colour layers (augment_layers.layers.keras_color) ----------------
# Each takes images in ``value_range`` and returns them in it. The PIL
# operations (posterize, solarize, equalize, sharpness, colour) live in
# :mod:`augment_layers.ops.policy`, on ``[0, 255]``; ``to_255``/``from_255``
# move a batch there and back.

def to_255(images, value_range):
    lo, hi = value_range
    if (lo, hi) == (0, 255):
        return images
    return (images - ops.cast(lo, images.dtype)) * ops.cast(
        255.0 / (hi - lo), images.dtype)


def from_255(images, value_range):
    lo, hi = value_range
    if (lo, hi) == (0, 255):
        return images
    return images * ops.cast((hi - lo) / 255.0, images.dtype) + ops.cast(
        lo, images.dtype)


def _check_rgb(images, op):
    if images.shape[-1] != 3:
        raise ValueError(
            f"{op} needs RGB images with 3 channels, received images with "
            f"{images.shape[-1]} channels (shape {tuple(images.shape)}).")


def rgb_to_hsv(images):
    """``colorsys.rgb_to_hsv`` on the last axis, for values in ``[0, 1]``:
    hue in ``[0, 1)``, saturation and value in ``[0, 1]``."""
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    v = ops.maximum(ops.maximum(r, g), b)
    delta = v - ops.minimum(ops.minimum(r, g), b)
    s = ops.where(v > 0, delta / ops.where(v > 0, v, 1.0), 0.0)
    safe = ops.where(delta > 0, delta, 1.0)
    h = ops.where(v == r, (g - b) / safe,
                  ops.where(v == g, 2.0 + (b - r) / safe,
                            4.0 + (r - g) / safe))
    h = h / 6.0
    h = h - ops.floor(h)
    h = ops.where(delta > 0, h, 0.0)
    return ops.stack([h, s, v], axis=-1)


def hsv_to_rgb(images):
    """``colorsys.hsv_to_rgb`` on the last axis, branch-free: channel ``n``
    is ``v - v s clip(min(k, 4 - k), 0, 1)``, ``k = (n + 6 h) mod 6``, for
    ``n`` = 5 (red), 3 (green), 1 (blue)."""
    h, s, v = images[..., 0], images[..., 1], images[..., 2]
    out = []
    for n in (5.0, 3.0, 1.0):
        k = n + 6.0 * h
        k = k - 6.0 * ops.floor(k / 6.0)
        out.append(v - v * s * ops.clip(ops.minimum(k, 4.0 - k), 0.0, 1.0))
    return ops.stack(out, axis=-1)


def _per_image_hsv(param, images):
    return ops.cast(param, images.dtype)[:, None, None]


def adjust_hue(images, shift, value_range=(0, 255)):
    """Turns each image's hue by ``shift`` (a fraction of the colour circle,
    ``(B,)``), through HSV as ``colorsys``."""
    _check_rgb(images, "The hue op")
    lo, hi = value_range
    unit = ops.clip((images - lo) / (hi - lo), 0.0, 1.0)
    hsv = rgb_to_hsv(unit)
    h = hsv[..., 0] + _per_image_hsv(shift, images)
    h = h - ops.floor(h)
    rgb = hsv_to_rgb(ops.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1))
    return clip(rgb * (hi - lo) + lo, value_range)


def adjust_saturation(images, factor, value_range=(0, 255)):
    """Multiplies each image's HSV saturation by ``factor`` (``(B,)``),
    keeping it within ``[0, 1]``."""
    _check_rgb(images, "The saturation op")
    lo, hi = value_range
    unit = ops.clip((images - lo) / (hi - lo), 0.0, 1.0)
    hsv = rgb_to_hsv(unit)
    s = ops.clip(hsv[..., 1] * _per_image_hsv(factor, images), 0.0, 1.0)
    rgb = hsv_to_rgb(ops.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))
    return clip(rgb * (hi - lo) + lo, value_range)


def grayscale(images):
    """ITU-R 601 luma (``PIL.Image.convert("L")``'s weights), repeated on
    every channel; a one-channel image is its own grey."""
    if images.shape[-1] == 1:
        return images
    _check_rgb(images, "The grayscale op")
    weights = ops.cast(ops.convert_to_tensor([0.299, 0.587, 0.114]),
                       images.dtype)
    grey = ops.sum(images * weights, axis=-1, keepdims=True)
    return grey + ops.zeros_like(images)


def add(images, delta, value_range=(0, 255)):
    """Adds ``delta`` (``(B,)``, in pixel units) to each image, clipped."""
    return apply_steps(images, channel_shift_steps(delta, value_range))


def invert(images, value_range=(0, 255)):
    """``lo + hi - x``: the value range turned upside down."""
    lo, hi = value_range
    return ops.cast(lo + hi, images.dtype) - images


def contrast_per_channel(images, factor, value_range=(0, 255)):
    """``(x - mean) * factor + mean``, the mean over each image's height and
    width per channel (``tf.image.adjust_contrast``, Keras's
    ``RandomContrast``), clipped."""
    mean = ops.mean(images, axis=(1, 2), keepdims=True)
    return clip(mean + (images - mean) * _per_image_channel(factor, images),
                value_range)


def autocontrast(images, value_range=(0, 255)):
    """Per image and channel, ``[min, max]`` stretched to ``value_range``
    (``PIL.ImageOps.autocontrast`` without its integer rounding); a flat
    channel is left as it is."""
    lo = ops.min(images, axis=(1, 2), keepdims=True)
    hi = ops.max(images, axis=(1, 2), keepdims=True)
    vlo, vhi = value_range
    scale = (vhi - vlo) / ops.where(hi > lo, hi - lo, 1.0)
    out = clip((images - lo) * scale + vlo, value_range)
    return ops.where(hi > lo, out, images)


def gaussian_noise(images, noise, stddev, value_range=(0, 255)):
    """Adds ``noise`` (standard normal, the images' shape) times each
    image's ``stddev`` (``(B,)``, pixel units), clipped."""
    return clip(images + noise * _per_image_channel(stddev, images),
                value_range)


def normal(uniform_a, uniform_b):
    """Standard normal values from two arrays of ``U(0, 1)`` draws
    (Box-Muller)."""
    radius = ops.sqrt(-2.0 * ops.log(ops.maximum(uniform_a, 1e-12)))
    return radius * ops.cos(6.283185307179586 * uniform_b)
