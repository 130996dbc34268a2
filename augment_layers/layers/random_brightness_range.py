import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, ColorAugmentation
from augment_layers.ops import color


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomBrightnessRange(ColorAugmentation):
    """Multiplies each image by a random factor, clipped to ``value_range``.

    ImageDataGenerator's ``brightness_range``: a factor of 1.0 leaves the image
    unchanged, 0.5 halves every pixel.

    Args:
        brightness_range: pair ``(lo, hi)`` with ``0 <= lo <= hi`` (default
            ``(0.8, 1.2)``), or a number ``b`` for ``[1 - b, 1 + b]``.
        value_range: ``(lo, hi)`` of the pixel values, ``(0, 255)`` default.
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandomBrightnessRange((0.5, 1.5), value_range=(0, 1))
    """

    def __init__(self, brightness_range=(0.8, 1.2), **kwargs):
        super().__init__(**kwargs)
        self.brightness_range = v.check_range(
            "brightness_range", brightness_range, symmetric_around=1.0,
            number_meaning="[1 - b, 1 + b]", min_value=0.0)
        self._config_range = v.as_config_range(brightness_range)

    def random_parameters(self, shape, rng):
        batch_size = shape[0]
        return {"factor": rng.uniform(batch_size, *self.brightness_range)}

    def transform_images(self, images, transformation):
        return color.apply_steps(images, self.value_steps(transformation))

    def value_steps(self, transformation):
        return color.brightness_steps(transformation["factor"],
                                      self.value_range)

    def get_config(self):
        config = super().get_config()
        config["brightness_range"] = self._config_range
        return config
