"""The custom ops shipped with the package, for ``RandomLambda``.

Each is ``fn(images, <param>, value_range=(0, 255))`` with the parameter a
``(B,)`` tensor, one value per image.
"""

from augment_layers.ops import color
from augment_layers.registry import register_op


@register_op("brightness", pointwise=True)
def brightness(images, factor, value_range=(0, 255)):
    """Multiplies each image by ``factor``; 1 leaves it unchanged.

    ``RandomLambda("brightness", {"factor": (0.8, 1.2)})``
    """
    return color.brightness(images, factor, value_range)


@register_op("contrast")
def contrast(images, factor, value_range=(0, 255)):
    """Scales each image's deviation from its mean by ``factor``; 1 keeps it.

    ``RandomLambda("contrast", {"factor": (0.7, 1.3)})``
    """
    return color.contrast(images, factor, value_range)


@register_op("gamma", pointwise=True)
def gamma(images, gamma, value_range=(0, 255)):
    """Gamma curve over ``value_range``: ``lo + (hi-lo) * u ** gamma``.

    ``RandomLambda("gamma", {"gamma": (0.8, 1.25)})``
    """
    return color.gamma(images, gamma, value_range)


@register_op("channel_shift", pointwise=True)
def channel_shift(images, shift, value_range=(0, 255)):
    """Adds ``shift`` (pixel units) to every channel of each image.

    ``RandomLambda("channel_shift", {"shift": 20})``
    """
    return color.channel_shift(images, shift, value_range)


@register_op("saturation", pointwise=True)
def saturation(images, factor, value_range=(0, 255)):
    """Blends each RGB image with its grey (0), itself (1) or beyond (>1).

    ``RandomLambda("saturation", {"factor": (0.5, 1.5)})``
    """
    return color.saturation(images, factor, value_range)


@register_op("channel_shift_within_image")
def channel_shift_within_image(images, intensity):
    """ImageDataGenerator's ``channel_shift_range``: adds ``intensity`` and
    clips to each image's own range (its min and max before the shift).

    ``RandomLambda("channel_shift_within_image", {"intensity": 20})``
    """
    return color.channel_shift_within_image(images, intensity)
