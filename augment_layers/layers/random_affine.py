import keras
from augment_layers.ops.dispatch import ops

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.layers.random_shift import shift_matrix
from augment_layers.layers.random_zoom_aspect import (check_aspect_range,
                                                      check_zoom_range,
                                                      sample_zoom)
from augment_layers.ops import affine


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomAffine(GeometricAugmentation):
    """Every geometric augmentation in one layer and one resample.

    The matrix is ImageDataGenerator's ``R(theta) @ T @ Sh @ Z`` about the
    image centre, followed by the flips, so with fixed parameters it equals
    ``apply_transform`` (with the shift axes the right way round).

    Args:
        rotation_range: degrees, counter-clockwise positive.
        height_range, width_range: shifts (see :class:`RandomShift`); positive
            moves content down / right, in ``units``.
        shear_range: degrees.
        zoom_range, aspect_range: see :class:`RandomZoomAspect`.
        horizontal_flip, vertical_flip: flip with probability 1/2.
        units: ``"fraction"`` (default) or ``"pixels"``, for the shifts.
        fill_mode, fill_value, interpolation, seed, data_format: see
            :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomAffine(rotation_range=20, height_range=0.1,
    ...                      width_range=0.1, zoom_range=0.2,
    ...                      horizontal_flip=True)
    """

    def __init__(self, rotation_range=0.0, height_range=0.0, width_range=0.0,
                 shear_range=0.0, zoom_range=0.0, aspect_range=None,
                 horizontal_flip=False, vertical_flip=False, *,
                 units="fraction", **kwargs):
        super().__init__(**kwargs)
        self.rotation_range = v.check_range("rotation_range", rotation_range)
        self.height_range = v.check_range("height_range", height_range)
        self.width_range = v.check_range("width_range", width_range)
        self.shear_range = v.check_range("shear_range", shear_range,
                                         min_value=-89.0, max_value=89.0)
        self.zoom_range = check_zoom_range(zoom_range)
        self.aspect_range = check_aspect_range(aspect_range)
        self.horizontal_flip = v.check_bool("horizontal_flip", horizontal_flip)
        self.vertical_flip = v.check_bool("vertical_flip", vertical_flip)
        self.units = v.check_choice("units", units, ("fraction", "pixels"))
        self._config_ranges = {
            name: v.as_config_range(value) for name, value in [
                ("rotation_range", rotation_range),
                ("height_range", height_range), ("width_range", width_range),
                ("shear_range", shear_range), ("zoom_range", zoom_range),
                ("aspect_range", aspect_range)]}

    @property
    def may_rotate(self):
        return tuple(self.rotation_range) != (0.0, 0.0)

    def random_parameters(self, shape, rng):
        b = shape[0]
        t = {"theta": rng.uniform(b, *self.rotation_range),
             "dy": rng.uniform(b, *self.height_range),
             "dx": rng.uniform(b, *self.width_range),
             "shear": rng.uniform(b, *self.shear_range)}
        t.update(sample_zoom(rng, b, self.zoom_range, self.aspect_range))
        no = ops.zeros((b,), "bool")
        t["horizontal"] = rng.bernoulli(b) if self.horizontal_flip else no
        t["vertical"] = rng.bernoulli(b) if self.vertical_flip else no
        return t

    def transformation_matrix(self, t, height, width):
        shift = shift_matrix(t["dy"], t["dx"], self.units, height, width)
        centred = affine.compose(
            affine.rotation(t["theta"]), shift, affine.shear(t["shear"]),
            affine.zoom(t["zx"], t["zy"]),
            affine.flip(t["horizontal"], t["vertical"]))
        return affine.center(centred, height, width)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_ranges)
        config.update({"horizontal_flip": self.horizontal_flip,
                       "vertical_flip": self.vertical_flip,
                       "units": self.units})
        return config
