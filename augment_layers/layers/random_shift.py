import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine
from augment_layers.ops.dispatch import ops


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomShift(GeometricAugmentation):
    """Shifts each image by a random number of rows and columns.

    Positive ``height`` moves content **down**, positive ``width`` moves it
    **right**. Equivalent to ImageDataGenerator's ``height_shift_range`` and
    ``width_shift_range`` with the axes the right way round.

    Args:
        height_range: number ``r`` (uniform in ``[-r, r]``) or pair ``(lo, hi)``.
        width_range: likewise, for columns.
        units: ``"fraction"`` (of the image's height/width, default) or
            ``"pixels"``.
        fill_mode, fill_value, interpolation, seed, data_format: see
            :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomShift(height_range=0.1, width_range=8, units="pixels")
    """

    def __init__(self, height_range=0.0, width_range=0.0, *, units="fraction",
                 **kwargs):
        super().__init__(**kwargs)
        self.height_range = v.check_range("height_range", height_range)
        self.width_range = v.check_range("width_range", width_range)
        self.units = v.check_choice("units", units, ("fraction", "pixels"))
        self._config_ranges = {"height_range": v.as_config_range(height_range),
                               "width_range": v.as_config_range(width_range)}

    def random_parameters(self, shape, rng):
        batch_size = shape[0]
        return {"dy": rng.uniform(batch_size, *self.height_range),
                "dx": rng.uniform(batch_size, *self.width_range)}

    def transformation_matrix(self, transformation, height, width):
        return shift_matrix(transformation["dy"], transformation["dx"],
                            self.units, height, width)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_ranges)
        config["units"] = self.units
        return config


def shift_matrix(dy, dx, units, height, width):
    """Pixel-coordinate matrix that moves content down by dy and right by dx."""
    dy = ops.cast(dy, "float32")
    dx = ops.cast(dx, "float32")
    if units == "fraction":
        dy = dy * ops.cast(height, "float32")
        dx = dx * ops.cast(width, "float32")
    # Translation commutes with centring, so no centre is needed.
    return affine.translation(-dx, -dy)
