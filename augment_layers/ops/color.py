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


def brightness(images, factor, value_range=(0, 255)):
    """Multiplies each image by ``factor`` (ImageDataGenerator's brightness)."""
    return clip(images * _per_image_channel(factor, images), value_range)


def channel_shift(images, shift, value_range=(0, 255)):
    """Adds ``shift`` to each image; ``(B,)`` for all channels, ``(B, C)`` each."""
    return clip(images + _per_image_channel(shift, images), value_range)


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
