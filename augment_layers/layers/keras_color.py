"""Keras's colour layers, per image and compiled.

Each has Keras 3.15's class name, arguments and meaning
(``keras.layers.X(...)`` -> ``augment_layers.X(...)``), draws every
parameter per image from the layer's one random path, and runs inside the
compiled call of the resample before it (see :mod:`augment_layers.layers.
executor`). Masks, boxes and keypoints pass through unchanged;
``bounding_box_format`` is accepted (Keras requires it with boxes) and
changes nothing.

Where Keras's code contradicts its own documentation, the documentation wins
and the class says so. The maths is in :mod:`augment_layers.ops.color`,
:mod:`augment_layers.ops.policy` (the PIL operations) and
:mod:`augment_layers.ops.filters`.
"""

import keras

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, ColorAugmentation
from augment_layers.ops import color
from augment_layers.ops import filters
from augment_layers.ops import policy
from augment_layers.ops.dispatch import ops


class KerasColorAugmentation(ColorAugmentation):
    """Base of the Keras colour layers: ``value_range`` and an accepted
    ``bounding_box_format``."""

    def __init__(self, value_range=(0, 255), bounding_box_format=None,
                 **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.bounding_box_format = targets.check_bounding_box_format(
            bounding_box_format)

    def get_config(self):
        config = super().get_config()
        config["bounding_box_format"] = self.bounding_box_format
        return config


def _draw_factor(rng, batch_size, factor):
    return rng.uniform(batch_size, *factor)


def _apply_where(apply, changed, images):
    return ops.where(apply[:, None, None, None], changed, images)


def _draw_probability(rng, batch_size, factor):
    """Keras's "probability drawn from ``factor``, then a coin": ``(B,)``
    booleans."""
    probability = rng.uniform(batch_size, *factor)
    return rng.uniform(batch_size, 0.0, 1.0) < probability


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomBrightness(KerasColorAugmentation):
    """Keras's additive brightness: adds ``U(factor) * (hi - lo)`` to each
    image, clipped to ``value_range`` (:class:`RandomBrightnessRange` is
    ImageDataGenerator's multiplicative one).

    Args:
        factor: a number ``f`` in ``[0, 1]`` for ``[-f, f]``, or a pair
            ``(lo, hi)`` within ``[-1, 1]``: the delta, a fraction of the
            value range (``-1`` black, ``1`` white).
        value_range: the pixels' range, ``(0, 255)`` default.
        seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor, (-1.0, 1.0))
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        lo, hi = self.value_range
        return {"delta": _draw_factor(rng, shape[0], self.factor) * (hi - lo)}

    def transform_images(self, images, t):
        return color.apply_steps(images, self.value_steps(t))

    def value_steps(self, t):
        return color.channel_shift_steps(t["delta"], self.value_range)

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomContrast(KerasColorAugmentation):
    """Scales each channel's deviation from its mean (over height and width)
    by a factor drawn per image, clipped (``tf.image.adjust_contrast``).

    ``factor`` ``f`` draws from ``[1 - f, 1 + f]``, as Keras documents
    (Keras 3.15's code draws from ``[1, 1 + f]``); a pair ``(a, b)`` from
    ``[1 - a, 1 + b]``.

    Args:
        factor: a number in ``[0, 1]`` or a pair ``(a, b)`` of them.
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    # The mean reads the whole image (see BaseAugmentation.pointwise).
    pointwise = False

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        pair = factor if isinstance(factor, (tuple, list)) else None
        if pair is not None:
            if len(pair) != 2:
                raise ValueError(
                    f"`factor` must be a number or a pair (a, b), received "
                    f"factor={factor!r}.")
            lo = v.check_factor("factor", (pair[0], pair[0]))[0]
            hi = v.check_factor("factor", (pair[1], pair[1]))[1]
        else:
            lo = hi = v.check_factor("factor", factor)[1]
        self.factor = (1.0 - lo, 1.0 + hi)
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        return {"factor": _draw_factor(rng, shape[0], self.factor)}

    def transform_images(self, images, t):
        return color.contrast_per_channel(images, t["factor"],
                                          self.value_range)

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomSaturation(KerasColorAugmentation):
    """Multiplies each image's HSV saturation by ``f / (1 - f)``, ``f ~
    U(factor)``: 0.5 leaves it, 0 greys it, 1 saturates it fully. The
    saturation stays within ``[0, 1]`` (Keras 3.15 clips it to
    ``value_range``, so that on 0..255 it overshoots and the colours
    wrap).

    Args:
        factor: a number ``f`` in ``[0, 1]`` for ``[0, f]``, or a pair.
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        f = _draw_factor(rng, shape[0], self.factor)
        return {"factor": f / (1.0 - f + 1e-7)}

    def transform_images(self, images, t):
        return color.adjust_saturation(images, t["factor"], self.value_range)

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomHue(KerasColorAugmentation):
    """Turns each image's hue by ``±U(factor) / 2`` of the colour circle
    (sign drawn per image): 1.0 turns up to half-way round.

    Args:
        factor: a number ``f`` in ``[0, 1]`` for ``[0, f]``, or a pair.
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        sign = ops.where(rng.uniform(shape[0], 0.0, 1.0) > 0.5, -1.0, 1.0)
        return {"shift": sign * _draw_factor(rng, shape[0], self.factor)
                * 0.5}

    def transform_images(self, images, t):
        return color.adjust_hue(images, t["shift"], self.value_range)

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomColorJitter(KerasColorAugmentation):
    """Brightness, contrast, saturation and hue, in that order (Keras's),
    each as its own layer here and each drawn per image; a factor left
    ``None`` skips its step.

    Args:
        brightness_factor: as :class:`RandomBrightness`'s ``factor``.
        contrast_factor: as :class:`RandomContrast`'s.
        saturation_factor: as :class:`RandomSaturation`'s.
        hue_factor: as :class:`RandomHue`'s.
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None,
                 contrast_factor=None, saturation_factor=None,
                 hue_factor=None, **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        vr = list(self.value_range)
        self._steps = []
        for cls, value in ((RandomBrightness, brightness_factor),
                           (RandomContrast, contrast_factor),
                           (RandomSaturation, saturation_factor),
                           (RandomHue, hue_factor)):
            if value is not None:
                name = {RandomBrightness: "brightness_factor",
                        RandomContrast: "contrast_factor",
                        RandomSaturation: "saturation_factor",
                        RandomHue: "hue_factor"}[cls]
                try:
                    step = cls(value, value_range=vr)
                except ValueError as error:
                    raise ValueError(str(error).replace(
                        "`factor`", f"`{name}`").replace(
                        "factor=", f"{name}=")) from None
                self._steps.append(step)
        self.pointwise = all(step.pointwise for step in self._steps)

    def random_parameters(self, shape, rng):
        return {str(i): step.random_parameters(shape, rng)
                for i, step in enumerate(self._steps)}

    def transform_images(self, images, t):
        for i, step in enumerate(self._steps):
            images = step.transform_images(images, t[str(i)])
        return images

    def get_config(self):
        config = super().get_config()
        config.update({k: v.as_config_range(getattr(self, k))
                       if getattr(self, k) is not None else None
                       for k in ("brightness_factor", "contrast_factor",
                                 "saturation_factor", "hue_factor")})
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomGrayscale(KerasColorAugmentation):
    """Turns each image grey with probability ``factor`` (ITU-R 601 luma,
    ``PIL.Image.convert("L")``'s weights, on every channel).

    Args:
        factor: the probability, in ``[0, 1]`` (default 0.5).
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor=0.5, **kwargs):
        super().__init__(**kwargs)
        self.factor = v.check_probability("factor", factor)

    def random_parameters(self, shape, rng):
        return {"apply": rng.bernoulli(shape[0], self.factor)}

    def transform_images(self, images, t):
        return _apply_where(t["apply"], color.grayscale(images), images)

    def get_config(self):
        return dict(super().get_config(), factor=self.factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomInvert(KerasColorAugmentation):
    """Inverts each image (``lo + hi - x``) with a probability drawn per
    image from ``factor`` (Keras 3.15 computes ``hi - x``, which leaves the
    range unless ``lo`` is 0).

    Args:
        factor: a number ``f`` in ``[0, 1]`` for ``[0, f]``, or a pair
            (default 1.0: the chance is ``U(0, 1)``, a half on average).
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        return {"apply": _draw_probability(rng, shape[0], self.factor)}

    def transform_images(self, images, t):
        return _apply_where(t["apply"], color.invert(images, self.value_range),
                            images)

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


class _PilBlend(KerasColorAugmentation):
    """A PIL ``ImageEnhance`` blend at a factor drawn per image."""

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        return {"factor": _draw_factor(rng, shape[0], self.factor)}

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomSharpness(_PilBlend):
    """PIL's ``ImageEnhance.Sharpness(2 f)``, ``f ~ U(factor)`` per image:
    0 blurs (PIL's 3x3 SMOOTH filter), 0.5 leaves the image, 1 sharpens.
    The one-pixel border keeps its values, as in PIL (Keras 3.15 pads with
    zeros there, darkening the border).

    Args:
        factor: a number ``f`` in ``[0, 1]`` for ``[0, f]``, or a pair.
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    pointwise = False

    def transform_images(self, images, t):
        x = color.to_255(images, self.value_range)
        x = policy.sharpness(x, 2.0 * t["factor"])
        return color.from_255(x, self.value_range)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomColorDegeneration(_PilBlend):
    """Blends each image towards its grey by ``f ~ U(factor)``: PIL's
    ``ImageEnhance.Color(1 - f)``. A number ``f`` draws from ``[0, f]`` as
    Keras documents (Keras 3.15's code draws from ``[-f, f]``).

    Args:
        factor: a number in ``[0, 1]``, or a pair within ``[-1, 1]`` (a
            negative factor moves away from grey: more colourful).
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(0.0, value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor, (
            0.0 if not isinstance(factor, (tuple, list)) else -1.0, 1.0))
        self._factor = v.as_config_range(factor)

    def transform_images(self, images, t):
        f = color._per_image_channel(t["factor"], images)
        return color.clip(images + f * (color.grayscale(images) - images),
                          self.value_range)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomPosterization(KerasColorAugmentation):
    """Keeps the high ``bits`` bits of each 8-bit value
    (``PIL.ImageOps.posterize``), ``bits`` an integer drawn per image from
    ``[lo, hi]``, both ends included (Keras 3.15 never draws ``hi``).

    Args:
        factor: bits to keep: an int ``n`` in ``[1, 8]`` for ``[1, n]``, or
            a pair ``(lo, hi)``.
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        lo, hi = v.check_factor("factor", factor, (1.0, 8.0))
        if lo != int(lo) or hi != int(hi):
            raise ValueError(
                f"`factor` counts bits: whole numbers in [1, 8], received "
                f"factor={factor!r}.")
        self.factor = (int(lo), int(hi))
        self._factor = v.as_config_range(factor)

    def random_parameters(self, shape, rng):
        lo, hi = self.factor
        bits = ops.floor(rng.uniform(shape[0], float(lo), float(hi) + 1.0))
        return {"bits": ops.minimum(bits, float(hi))}

    def transform_images(self, images, t):
        x = color.to_255(images, self.value_range)
        x = policy.posterize(ops.clip(x, 0.0, 255.0), t["bits"])
        return color.from_255(x, self.value_range)

    def get_config(self):
        return dict(super().get_config(), factor=self._factor)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Solarization(KerasColorAugmentation):
    """Adds ``U(addition_factor)`` of the range to each image, then inverts
    the values at or above a threshold ``U(threshold_factor)`` of the range
    (``PIL.ImageOps.solarize``). Both ends of both ranges are fractions of
    ``value_range`` (Keras 3.15 scales only the upper end).

    Args:
        addition_factor: a number ``f`` in ``[0, 1]`` for ``[0, f]``, or a
            pair (default 0: nothing added).
        threshold_factor: likewise (default 0: every value inverted).
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0,
                 value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.addition_factor = v.check_factor("addition_factor",
                                              addition_factor)
        self.threshold_factor = v.check_factor("threshold_factor",
                                               threshold_factor)
        self._factors = {
            "addition_factor": v.as_config_range(addition_factor),
            "threshold_factor": v.as_config_range(threshold_factor)}

    def random_parameters(self, shape, rng):
        b = shape[0]
        return {"addition": _draw_factor(rng, b, self.addition_factor) * 255.,
                "threshold": _draw_factor(rng, b, self.threshold_factor)
                * 255.}

    def transform_images(self, images, t):
        x = color.to_255(images, self.value_range)
        x = ops.clip(x + color._per_image_channel(t["addition"], x), 0.0,
                     255.0)
        x = policy.solarize(x, t["threshold"])
        return color.from_255(x, self.value_range)

    def get_config(self):
        return dict(super().get_config(), **self._factors)


class _Deterministic(KerasColorAugmentation):
    """A layer without randomness, which acts at inference too (as its
    Keras documentation says)."""

    acts_at_inference = True
    pointwise = False

    def random_parameters(self, shape, rng):
        return {}

    def infer(self, data):
        return dict(data, images=self.transform_images(
            data[targets.IMAGES], {}))


@keras.saving.register_keras_serializable(package=PACKAGE)
class Equalization(_Deterministic):
    """Histogram equalization of each channel of each image on its own
    histogram (``PIL.ImageOps.equalize`` on the 8-bit values); Keras 3.15
    pools the histogram over the whole batch, and (against its
    documentation) does nothing at inference. Here it acts at training and
    inference alike.

    Args:
        value_range: the pixels' range, ``(0, 255)`` default.
        bins: histogram levels, 2 to 256 (default 256: PIL's).
        data_format, bounding_box_format: see the module.
    """

    def __init__(self, value_range=(0, 255), bins=256, **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.bins = v.check_positive_int("bins", bins)
        if not 2 <= self.bins <= 256:
            raise ValueError(f"`bins` must be in [2, 256], received "
                             f"bins={bins!r}.")

    def transform_images(self, images, t):
        x = color.to_255(images, self.value_range)
        x = policy.equalize(x, self.bins)
        return color.from_255(x, self.value_range)

    def get_config(self):
        return dict(super().get_config(), bins=self.bins)


@keras.saving.register_keras_serializable(package=PACKAGE)
class AutoContrast(_Deterministic):
    """Stretches each channel of each image from its ``[min, max]`` to
    ``value_range`` (``PIL.ImageOps.autocontrast``, without PIL's rounding
    to integers); a flat channel is left alone. Acts at training and
    inference, as Keras's.

    Args:
        value_range, data_format, bounding_box_format: see the module.
    """

    def transform_images(self, images, t):
        return color.autocontrast(images, self.value_range)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomGaussianBlur(KerasColorAugmentation):
    """Blurs each image, with a probability drawn per image from
    ``factor``, by a Gaussian of standard deviations ``sigma_y, sigma_x ~
    U(sigma)`` drawn per image (Keras 3.15 draws the two per batch);
    ``kernel_size`` taps, the border extended by reflection
    (``scipy.ndimage.gaussian_filter(mode="reflect")``; Keras pads with
    zeros, darkening the border).

    Args:
        factor: the chance of blurring: a number ``f`` in ``[0, 1]`` for
            ``[0, f]``, or a pair (default 1.0).
        kernel_size: odd int, or a pair ``(height, width)`` of them
            (default 3).
        sigma: a number ``s > 0`` for ``[0, s]``, or a pair ``(lo, hi)``
            (default 1.0).
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    pointwise = False

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0,
                 value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self.kernel_size = v.check_odd_size("kernel_size", kernel_size)
        self.sigma = v.check_factor("sigma", sigma, (0.0, float("inf")))
        self._config = {"factor": v.as_config_range(factor),
                        "kernel_size": list(self.kernel_size),
                        "sigma": v.as_config_range(sigma)}

    def random_parameters(self, shape, rng):
        b = shape[0]
        return {"apply": _draw_probability(rng, b, self.factor),
                "sigma_y": rng.uniform(b, *self.sigma) + 1e-6,
                "sigma_x": rng.uniform(b, *self.sigma) + 1e-6}

    def transform_images(self, images, t):
        blurred = filters.gaussian_blur(images, self.kernel_size,
                                        t["sigma_y"], t["sigma_x"])
        return _apply_where(t["apply"], color.clip(blurred, self.value_range),
                            images)

    def get_config(self):
        return dict(super().get_config(), **self._config)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomGaussianNoise(KerasColorAugmentation):
    """Adds Gaussian noise to every pixel, its standard deviation drawn per
    image as a fraction of the value range, clipped to ``value_range``.

    Args:
        stddev: a number ``s`` for ``[0, s]``, or a pair ``(lo, hi)``, in
            fractions of ``hi - lo`` (default 0.05: up to 12.75 on 0..255).
        value_range, seed, data_format, bounding_box_format: see the module.
    """

    def __init__(self, stddev=0.05, value_range=(0, 255), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.stddev = v.check_factor("stddev", stddev)
        self._stddev = v.as_config_range(stddev)

    def random_parameters(self, shape, rng):
        b = shape[0]
        lo, hi = self.value_range
        pixels = tuple(shape[1:])
        noise = color.normal(rng.uniform(b, 0.0, 1.0, per_image=pixels),
                             rng.uniform(b, 0.0, 1.0, per_image=pixels))
        return {"stddev": rng.uniform(b, *self.stddev) * (hi - lo),
                "noise": noise}

    def transform_images(self, images, t):
        return color.gaussian_noise(images, ops.cast(t["noise"], images.dtype),
                                    t["stddev"], self.value_range)

    def get_config(self):
        return dict(super().get_config(), stddev=self._stddev)
