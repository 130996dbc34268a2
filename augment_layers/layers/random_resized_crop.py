import math

import keras

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine
from augment_layers.ops import targets as target_ops
from augment_layers.ops.dispatch import ops

# Candidates drawn per image; the first that fits is taken (torchvision
# tries 10 times, one after another; here all 10 are drawn at once).
_ATTEMPTS = 10


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomResizedCrop(GeometricAugmentation):
    """A random crop, resized to ``(height, width)``: the ImageNet recipe.

    Training: a crop whose area is a fraction ``U(scale)`` of the input and
    whose aspect ratio (width / height) is log-uniform in ``ratio``
    (torchvision's ``RandomResizedCrop`` convention: 10 candidates, the first
    that fits, else a centre crop of the nearest allowed ratio), placed
    uniformly, resized to ``(height, width)``. The crop is an affine matrix
    with another output size, so inside :class:`augment_layers.Augment` it
    fuses with the geometric layers around it: one resample at the output
    size. Crops are continuous (sub-pixel), not rounded to whole pixels.

    Inference: ``keras.layers.Resizing(height, width,
    crop_to_aspect_ratio=True)``: the largest centred crop of the output's
    aspect ratio, resized.

    Masks, boxes and keypoints follow (boxes clipped to the output).

    Args:
        height, width: the output size.
        scale: ``(lo, hi)`` area fractions, ``0 < lo <= hi <= 1``.
        ratio: ``(lo, hi)`` width / height ratios, ``0 < lo <= hi``.
        interpolation, seed, data_format, bounding_box_format,
            mask_fill_value: see :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomResizedCrop(224, 224, scale=(0.08, 1.0))
    """

    def __init__(self, height, width, scale=(0.08, 1.0),
                 ratio=(3 / 4, 4 / 3), **kwargs):
        super().__init__(**kwargs)
        self.height = v.check_positive_int("height", height)
        self.width = v.check_positive_int("width", width)
        self.scale = v.check_positive_pair("scale", scale)
        if self.scale[1] > 1.0:
            raise ValueError(f"`scale` holds area fractions, at most 1, "
                             f"received scale={scale!r}.")
        self.ratio = v.check_positive_pair("ratio", ratio)
        self._config_ranges = {"scale": v.as_config_range(scale),
                               "ratio": v.as_config_range(ratio)}

    @property
    def fixed_output_size(self):
        return (self.height, self.width)

    def output_size(self, height, width):
        return self.height, self.width

    def random_parameters(self, shape, rng):
        b = shape[0]
        h = ops.cast(shape[1], "float32")
        w = ops.cast(shape[2], "float32")
        area = h * w
        fraction = rng.uniform(b, *self.scale, per_image=(_ATTEMPTS,))
        log_ratio = rng.uniform(b, math.log(self.ratio[0]),
                                 math.log(self.ratio[1]),
                                 per_image=(_ATTEMPTS,))
        ratio = ops.exp(log_ratio)
        crop_w = ops.sqrt(fraction * area * ratio)
        crop_h = ops.sqrt(fraction * area / ratio)
        fits = ops.logical_and(crop_w <= w, crop_h <= h)
        first = ops.argmax(ops.cast(fits, "int32"), axis=1)
        pick = ops.one_hot(first, _ATTEMPTS, dtype="float32")
        chosen_w = ops.sum(crop_w * pick, axis=1)
        chosen_h = ops.sum(crop_h * pick, axis=1)
        # None fits: a centre crop of the nearest allowed ratio.
        image_ratio = w / h
        lo, hi = self.ratio
        fallback_w = ops.where(image_ratio > hi, h * hi, w)
        fallback_h = ops.where(image_ratio < lo, w / lo, h)
        any_fit = ops.any(fits, axis=1)
        crop_w = ops.where(any_fit, chosen_w, fallback_w)
        crop_h = ops.where(any_fit, chosen_h, fallback_h)
        ux = rng.uniform(b, 0.0, 1.0)
        uy = rng.uniform(b, 0.0, 1.0)
        ux = ops.where(any_fit, ux, 0.5)
        uy = ops.where(any_fit, uy, 0.5)
        return {"x0": ux * (w - crop_w), "y0": uy * (h - crop_h),
                "crop_width": crop_w, "crop_height": crop_h}

    def transformation_matrix(self, t, height, width):
        return affine.crop_and_resize(t["x0"], t["y0"], t["crop_width"],
                                      t["crop_height"], self.height,
                                      self.width)

    acts_at_inference = True

    def infer(self, data):
        """``Resizing(height, width, crop_to_aspect_ratio=True)``."""
        return resize_to_aspect(data, self.height, self.width,
                                self.interpolation, self.mask_fill_value)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        config.update(self._config_ranges)
        return config


def resize_to_aspect(data, height, width, interpolation, mask_fill_value):
    """``keras.layers.Resizing(height, width, crop_to_aspect_ratio=True)``
    on the internal dict: Keras's whole-pixel centred crop of the output's
    aspect ratio, resized; masks, boxes and keypoints follow."""
    shape = ops.shape(data[targets.IMAGES])
    y0, x0, crop_h, crop_w = affine.aspect_crop(shape[1], shape[2], height,
                                                width)
    ones = ops.ones((shape[0],), "float32")
    matrices = affine.crop_and_resize(x0 * ones, y0 * ones, crop_w * ones,
                                      crop_h * ones, height, width)
    moving = {k: data[k] for k in targets.MOVING if k in data}
    return dict(data, **target_ops.warp(
        moving, matrices, interpolation, "nearest", 0.0, mask_fill_value,
        (height, width), False))
