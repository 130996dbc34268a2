import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, ColorAugmentation
from augment_layers.ops import color


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomChannelShift(ColorAugmentation):
    """Adds a random offset to the channels, clipped to ``value_range``.

    Args:
        channel_shift_range: in pixel units; number ``r`` (uniform in
            ``[-r, r]``) or pair ``(lo, hi)``.
        value_range: ``(lo, hi)`` of the pixel values, ``(0, 255)`` default.
        per_channel: True (default): every channel of every image gets its own
            offset. False: one offset per image for all channels, as
            ImageDataGenerator's ``channel_shift_range`` draws it.
        seed, data_format: see :class:`BaseAugmentation`.

    ImageDataGenerator clipped to each image's own min and max; this layer
    clips to ``value_range``.

    Example:
    >>> layer = RandomChannelShift(channel_shift_range=30)
    """

    def __init__(self, channel_shift_range=0.0, *, per_channel=True, **kwargs):
        super().__init__(**kwargs)
        self.channel_shift_range = v.check_range("channel_shift_range",
                                                  channel_shift_range)
        self.per_channel = v.check_bool("per_channel", per_channel)
        self._config_range = v.as_config_range(channel_shift_range)

    def random_parameters(self, shape, rng):
        lo, hi = self.channel_shift_range
        if self.per_channel:
            # (B, C): one offset per channel of each image.
            shift = rng.uniform(shape[0], lo, hi, per_image=(shape[3],))
        else:
            shift = rng.uniform(shape[0], lo, hi)
        return {"shift": shift}

    def transform_images(self, images, transformation):
        return color.apply_steps(images, self.value_steps(transformation))

    def value_steps(self, transformation):
        return color.channel_shift_steps(transformation["shift"],
                                         self.value_range)

    def get_config(self):
        config = super().get_config()
        config["channel_shift_range"] = self._config_range
        config["per_channel"] = self.per_channel
        return config
