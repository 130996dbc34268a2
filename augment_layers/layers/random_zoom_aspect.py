import math

import keras
from augment_layers.ops.dispatch import ops

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine


def check_zoom_range(zoom_range):
    return v.check_range("zoom_range", zoom_range, symmetric_around=1.0,
                         number_meaning="[1 - z, 1 + z] (needs z < 1)",
                         min_value=1e-6)


def check_aspect_range(aspect_range):
    if aspect_range is None:
        return None
    return v.check_positive_pair("aspect_range", aspect_range)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomZoomAspect(GeometricAugmentation):
    """Zooms each image, with height and width zoom that may differ.

    A zoom below 1 magnifies content (ImageDataGenerator's convention).

    Args:
        zoom_range: number ``z`` (uniform in ``[1 - z, 1 + z]``) or pair
            ``(lo, hi)`` with ``0 < lo``.
        aspect_range: ``None`` (default): height and width zoom are drawn
            independently from ``zoom_range``, as ImageDataGenerator does, so
            the aspect ratio changes. A pair ``(lo, hi)``: zoom ``z`` from
            ``zoom_range`` and aspect ``a`` log-uniform in ``[lo, hi]``; width
            zoom ``z / sqrt(a)``, height zoom ``z * sqrt(a)``, so ``a > 1``
            makes content wider.
        fill_mode, fill_value, interpolation, seed, data_format: see
            :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomZoomAspect(zoom_range=0.2, aspect_range=(3 / 4, 4 / 3))
    """

    def __init__(self, zoom_range=0.0, aspect_range=None, **kwargs):
        super().__init__(**kwargs)
        self.zoom_range = check_zoom_range(zoom_range)
        self.aspect_range = check_aspect_range(aspect_range)
        self._config_ranges = {
            "zoom_range": v.as_config_range(zoom_range),
            "aspect_range": v.as_config_range(aspect_range)}

    def random_parameters(self, shape, rng):
        batch_size = shape[0]
        return sample_zoom(rng, batch_size, self.zoom_range,
                           self.aspect_range)

    def transformation_matrix(self, transformation, height, width):
        return affine.center(
            affine.zoom(transformation["zx"], transformation["zy"]), height,
            width)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_ranges)
        return config


def sample_zoom(rng, batch_size, zoom_range, aspect_range):
    """Draws ``zx`` (width) and ``zy`` (height) zoom, shared with RandomAffine."""
    if aspect_range is None:
        return {"zx": rng.uniform(batch_size, *zoom_range),
                "zy": rng.uniform(batch_size, *zoom_range)}
    zoom = rng.uniform(batch_size, *zoom_range)
    log_aspect = rng.uniform(batch_size, math.log(aspect_range[0]),
                               math.log(aspect_range[1]))
    root = ops.exp(0.5 * log_aspect)
    return {"zx": zoom / root, "zy": zoom * root}
