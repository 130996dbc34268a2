import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine
from augment_layers.ops.dispatch import ops


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomPerspective(GeometricAugmentation):
    """A random projective warp: each corner of the image moves on its own.

    The output's four corner pixels sample input points displaced from the
    input's corners by up to ``scale / 2`` of the width (x) and height (y),
    each independently and uniformly; the warp between is the homography
    through those four points (a 3x3 matrix with the projective divide).
    Inside :class:`augment_layers.Augment` it composes with the affine
    layers around it into one resample. Masks follow; boxes and keypoints go
    through the homography.

    Names follow Keras 3.15's ``RandomPerspective``: ``factor`` is the
    chance that an image is warped (a number, or a pair ``(lo, hi)`` from
    which each call draws it) and ``scale`` the distortion. (Keras moves each
    corner in proportion to its own coordinates, so its top-left corner never
    moves; here every corner does.)

    Args:
        factor: probability of warping an image, number or pair in [0, 1].
        scale: the largest corner displacement, as a fraction of the size
            (``0 <= scale <= 1``; each corner moves by ``U(-scale/2,
            scale/2)`` of the width and height).
        fill_mode, fill_value, interpolation, seed, data_format,
            bounding_box_format, mask_fill_value: see
            :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomPerspective(factor=0.5, scale=0.3)
    """

    projective = True
    may_rotate = True

    def __init__(self, factor=1.0, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(factor, (tuple, list)):
            self.factor = v.check_range("factor", factor, min_value=0.0,
                                        max_value=1.0)
        else:
            value = v.check_probability("factor", factor)
            self.factor = (value, value)
        self.scale = v.check_number("scale", scale)
        if not 0.0 <= self.scale <= 1.0:
            raise ValueError(
                f"`scale` must be in [0, 1], received scale={scale!r}.")
        self._config_factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        b = shape[0]
        chance = rng.uniform(b, *self.factor)
        apply = rng.uniform(b, 0.0, 1.0) < chance
        shift = rng.uniform(b, -0.5 * self.scale, 0.5 * self.scale,
                             per_image=(4, 2))
        return {"corner_shift": shift * ops.cast(apply, "float32")[:, None,
                                                                   None]}

    def transformation_matrix(self, t, height, width):
        # The corner pixels' centres (a one-pixel side: one pixel apart,
        # as affine.perspective takes it).
        w = ops.maximum(ops.cast(width, "float32") - 1.0, 1.0)
        h = ops.maximum(ops.cast(height, "float32") - 1.0, 1.0)
        zero = ops.zeros_like(w)
        corners = ops.stack([ops.stack([zero, zero]), ops.stack([w, zero]),
                             ops.stack([w, h]), ops.stack([zero, h])])
        size = ops.stack([w + 1.0, h + 1.0])
        shift = ops.convert_to_tensor(t["corner_shift"], "float32")
        moved = corners[None] + shift * size
        return affine.perspective(moved, height, width)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self._config_factor, "scale": self.scale})
        return config
