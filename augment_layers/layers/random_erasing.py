import math

import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, BaseAugmentation
from augment_layers.ops import color
from augment_layers.ops import mixing
from augment_layers.ops.dispatch import ops

_ATTEMPTS = 10


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomErasing(BaseAugmentation):
    """Erases one random rectangle per image (Zhong et al., 2017).

    With ``probability``, an image gets one rectangle of area fraction
    ``U(area)`` and aspect ratio (height / width) log-uniform in ``ratio``,
    placed uniformly in whole pixels and filled with ``value``
    (torchvision's ``RandomErasing``: 10 candidates, the first that fits;
    none fits, no erasing). A candidate counts as fitting only if its
    rounded size keeps the erased share within ``area``. Targets pass
    through: masks are left alone, as the image's labels are.

    ``side_range`` switches to Keras's ``RandomErasing`` rectangle: each
    side a fraction ``sqrt(U(side_range))`` of the image's, drawn apart
    (Keras's ``scale``), placed continuously. ``value=None`` fills with
    per-pixel Gaussian noise of standard deviation ``noise_std`` (Keras's
    ``fill_value=None``, with ``noise_std`` its ``value_range[1]``).

    Args:
        probability: chance that an image is erased.
        area: ``(lo, hi)`` fractions of the image's area, ``0 < lo <= hi
            <= 1``.
        ratio: ``(lo, hi)`` aspect ratios (height / width), ``0 < lo <= hi``.
        value: the fill value, or None for noise.
        side_range: None (default), or ``(lo, hi)`` in ``(0, 1]``: Keras's
            rectangle (replaces ``area`` and ``ratio``).
        noise_std: the noise's standard deviation where ``value`` is None.
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandomErasing(probability=0.5, value=127.0)
    """

    def __init__(self, probability=0.5, area=(0.02, 0.33), ratio=(0.3, 3.3),
                 value=0.0, *, side_range=None, noise_std=1.0, **kwargs):
        super().__init__(**kwargs)
        self.probability = v.check_probability("probability", probability)
        self.area = v.check_positive_pair("area", area)
        if self.area[1] > 1.0:
            raise ValueError(f"`area` holds fractions, at most 1, received "
                             f"area={area!r}.")
        self.ratio = v.check_positive_pair("ratio", ratio)
        self.value = None if value is None else v.check_number("value",
                                                                value)
        self.side_range = None if side_range is None else \
            v.check_positive_pair("side_range", side_range)
        if self.side_range is not None and self.side_range[1] > 1.0:
            raise ValueError(f"`side_range` holds fractions, at most 1, "
                             f"received side_range={side_range!r}.")
        self.noise_std = v.check_number("noise_std", noise_std)
        if self.noise_std < 0:
            raise ValueError(f"`noise_std` must be >= 0, received "
                             f"noise_std={noise_std!r}.")
        self._config_ranges = {"area": v.as_config_range(area),
                               "ratio": v.as_config_range(ratio),
                               "side_range": v.as_config_range(side_range)}

    def random_parameters(self, shape, rng):
        out = self._keras_rectangle(shape, rng) if self.side_range \
            else self._rectangle(shape, rng)
        if self.value is None:
            pixels = tuple(shape[1:])
            out["noise"] = color.normal(
                rng.uniform(shape[0], 0.0, 1.0, per_image=pixels),
                rng.uniform(shape[0], 0.0, 1.0, per_image=pixels))
        return out

    def _keras_rectangle(self, shape, rng):
        b = shape[0]
        h = ops.cast(shape[1], "float32")
        w = ops.cast(shape[2], "float32")
        side = ops.sqrt(rng.uniform(b, *self.side_range, per_image=(2,)))
        ew, eh = side[:, 0] * w, side[:, 1] * h
        x0 = rng.uniform(b, 0.0, 1.0) * (w - ew)
        y0 = rng.uniform(b, 0.0, 1.0) * (h - eh)
        return {"x0": x0, "y0": y0, "width": ew, "height": eh,
                "apply": rng.bernoulli(b, self.probability)}

    def _rectangle(self, shape, rng):
        b = shape[0]
        h = ops.cast(shape[1], "float32")
        w = ops.cast(shape[2], "float32")
        fraction = rng.uniform(b, *self.area, per_image=(_ATTEMPTS,))
        log_ratio = rng.uniform(b, math.log(self.ratio[0]),
                                 math.log(self.ratio[1]),
                                 per_image=(_ATTEMPTS,))
        aspect = ops.exp(log_ratio)
        eh = ops.round(ops.sqrt(fraction * h * w * aspect))
        ew = ops.round(ops.sqrt(fraction * h * w / aspect))
        share = eh * ew / (h * w)
        fits = (eh >= 1) & (ew >= 1) & (eh <= h) & (ew <= w) & (
            share >= self.area[0]) & (share <= self.area[1])
        first = ops.argmax(ops.cast(fits, "int32"), axis=1)
        pick = ops.one_hot(first, _ATTEMPTS, dtype="float32")
        eh = ops.sum(eh * pick, axis=1)
        ew = ops.sum(ew * pick, axis=1)
        apply = ops.logical_and(ops.any(fits, axis=1),
                                rng.bernoulli(b, self.probability))
        x0 = ops.floor(rng.uniform(b, 0.0, 1.0) * (w - ew + 1.0))
        y0 = ops.floor(rng.uniform(b, 0.0, 1.0) * (h - eh + 1.0))
        return {"x0": ops.minimum(x0, w - ew), "y0": ops.minimum(y0, h - eh),
                "width": ew, "height": eh, "apply": apply}

    def transform_images(self, images, t):
        value = self.value if self.value is not None else \
            ops.cast(t["noise"], images.dtype) * self.noise_std
        return mixing.erase(images, t["x0"], t["y0"], t["width"],
                            t["height"], t["apply"], value)

    def get_config(self):
        config = super().get_config()
        config.update({"probability": self.probability, "value": self.value,
                       "noise_std": self.noise_std})
        config.update(self._config_ranges)
        return config
