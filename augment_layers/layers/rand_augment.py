import keras

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import (PACKAGE, ColorAugmentation,
                                        Phase)
from augment_layers.ops import affine
from augment_layers.ops import policy
from augment_layers.ops import resample
from augment_layers.ops import targets as target_ops
from augment_layers.ops.dispatch import ops


class _Policy(ColorAugmentation):
    """Shared mechanics of :class:`RandAugment` and
    :class:`TrivialAugmentWide`: per-image op choices, vectorised.

    For each image, its chosen geometric ops compose into one matrix and the
    image is resampled once; then its chosen colour ops run in their drawn
    order, each selected with a ``where`` mask over the batch (no per-image
    branching, no ``map_fn``), so the whole policy compiles under XLA.
    Geometric ops therefore act before colour ops, whatever order they were
    drawn in (torchvision interleaves them); the area that a geometric op
    brings in is filled with ``fill_value`` before the colour ops see it.
    """

    wide = False
    #: The ops an image may draw (indices into this tuple).
    op_names = policy.OPS

    def __init__(self, num_ops, num_magnitude_bins, interpolation="nearest",
                 fill_value=0.0, bounding_box_format=None, mask_fill_value=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = targets.check_bounding_box_format(
            bounding_box_format)
        self.mask_fill_value = v.check_number("mask_fill_value",
                                              mask_fill_value)
        self.num_ops = v.check_positive_int("num_ops", num_ops)
        self.num_magnitude_bins = v.check_positive_int(
            "num_magnitude_bins", num_magnitude_bins)
        self.interpolation = v.check_choice(
            "interpolation", interpolation, resample.INTERPOLATIONS)
        self.fill_value = v.check_number("fill_value", fill_value)

    def draw_bins(self, batch_size, rng):
        raise NotImplementedError

    def random_parameters(self, shape, rng):
        b, slots = shape[0], (self.num_ops,)
        count = float(len(policy.OPS))
        op = ops.minimum(ops.cast(ops.floor(rng.uniform(
            b, 0.0, count, per_image=slots)), "int32"), len(policy.OPS) - 1)
        sign = ops.where(rng.uniform(b, 0.0, 1.0, per_image=slots) < 0.5,
                         -1.0, 1.0)
        return {"op": op, "sign": sign, "bin": self.draw_bins(b, rng)}

    def _magnitudes(self, t, slot, height, width):
        """The ``(B,)`` op index and signed magnitude of each image's op in
        ``slot`` (a scalar, possibly a loop counter)."""
        # Column ``slot`` by a mask (no gather: ``slot`` may be a loop
        # counter).
        pick = ops.arange(self.num_ops) == slot
        op, bins, sign = (ops.sum(ops.where(pick[None], t[k], 0), axis=1)
                          for k in ("op", "bin", "sign"))
        m = ops.zeros_like(sign)
        for k, name in enumerate(self.op_names):
            value = policy.magnitude(name, bins, self.num_magnitude_bins,
                                     height, width, self.wide)
            if name in policy.SIGNED:
                value = value * sign
            m = ops.where(op == k, value, m)
        return op, m

    # The slots run as a loop, not unrolled: XLA compiles one slot's ops
    # once (half the compile time of two unrolled slots, the same bits).
    def _matrices(self, t, batch, height, width):
        """Each image's chosen geometric ops, composed: ``(B, 3, 3)``."""
        def slot_matrix(slot, matrices):
            op, m = self._magnitudes(t, slot, height, width)
            step = affine.identity(batch)
            for name in policy.GEOMETRIC:
                step = ops.where(
                    (op == policy.index_of(name, self.op_names))[:, None,
                                                                 None],
                    policy.geometric_matrix(name, m, height, width), step)
            return affine.compose(matrices, step)

        return _slots(self.num_ops, slot_matrix, affine.identity(batch))

    def colour_images(self, images, t):
        """The colour ops, in their drawn order, each selected per image
        with a ``where`` mask, on ``[0, 255]``."""
        shape = ops.shape(images)
        lo, hi = self.value_range

        def slot_colour(slot, x):
            op, m = self._magnitudes(t, slot, shape[1], shape[2])
            for name in self.op_names:
                if name not in policy.COLOUR + ("Invert",):
                    continue
                x = ops.where((op == policy.index_of(name, self.op_names))[
                    :, None, None, None],
                              policy.colour_op(name, x, m), x)
            return x

        x = (images - lo) * (255.0 / (hi - lo))
        x = _slots(self.num_ops, slot_colour, x)
        return ops.cast(x * ((hi - lo) / 255.0) + lo, images.dtype)

    # Two phases, compiled apart: the colour ops read whole images (means,
    # histograms, neighbourhoods); see BaseAugmentation.pointwise.
    def phases(self):
        return (Phase("geometric", resamples=True, pointwise=True),
                Phase("colour", resamples=False, pointwise=False))

    def transform_phase(self, data, t, phase):
        if phase == "colour":
            return dict(data, images=self.colour_images(
                data[targets.IMAGES], t))
        if phase == "geometric":
            return self._geometric_data(data, t)
        return self.transform_data(data, t)

    def _geometric_data(self, data, t):
        """Masks, boxes and keypoints follow the geometric ops (masks by
        nearest neighbour, ``mask_fill_value`` where the image is filled);
        the colour ops leave them alone."""
        shape = ops.shape(data[targets.IMAGES])
        matrices = self._matrices(t, shape[0], shape[1], shape[2])
        moving = {k: data[k] for k in targets.MOVING if k in data}
        # One pure call: the images and masks share their coordinates.
        return dict(data, **target_ops.warp_impl(
            moving, matrices, self.interpolation, "constant",
            self.fill_value, self.mask_fill_value))

    def transform_data(self, data, t):
        data = self._geometric_data(data, t)
        return dict(data, images=self.colour_images(data[targets.IMAGES], t))

    def box_format_for(self, data, training):
        if targets.BOXES in data and self.bounding_box_format is None:
            raise ValueError(
                f"{self.name} received 'bounding_boxes' but no "
                "`bounding_box_format`; pass one when building the layer.")
        return self.bounding_box_format

    def get_config(self):
        config = super().get_config()
        config.update({"bounding_box_format": self.bounding_box_format,
                       "mask_fill_value": self.mask_fill_value})
        config.update({"num_magnitude_bins": self.num_magnitude_bins,
                       "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


def _slots(count, body, value):
    """``body(slot, value)`` for each slot in turn: one call where there is
    one slot, else a loop."""
    if count == 1:
        return body(0, value)
    return ops.fori_loop(0, count, body, value)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandAugment(_Policy):
    """RandAugment (Cubuk et al., 2020), torchvision's definition.

    Each image gets ``num_ops`` ops drawn uniformly (with replacement) from
    Identity, ShearX/Y, TranslateX/Y, Rotate, Brightness, Color, Contrast,
    Sharpness, Posterize, Solarize, AutoContrast and Equalize, each at
    ``magnitude`` out of ``num_magnitude_bins`` with a random sign where it
    has one: torchvision's ``transforms.RandAugment`` magnitudes (shear up
    to 0.3, translation up to 150/331 of the size, rotation up to 30
    degrees, enhancement factors 1 ± 0.9, posterize 8 to 4 bits, solarize
    threshold 255 to 0), and its PIL definitions of each op
    (:mod:`augment_layers.ops.policy`). Vectorised over the batch and
    compiled as one resample (see :class:`_Policy`).

    Args:
        num_ops: ops per image (default 2).
        magnitude: the bin, ``0 <= magnitude < num_magnitude_bins``.
        num_magnitude_bins: default 31.
        interpolation: ``"nearest"`` (torchvision's default) or
            ``"bilinear"``.
        fill_value: what geometric ops bring in.
        value_range: the pixels' range, ``(0, 255)`` default.
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandAugment(num_ops=2, magnitude=9)
    """

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31,
                 **kwargs):
        super().__init__(num_ops, num_magnitude_bins, **kwargs)
        if isinstance(magnitude, bool) or not isinstance(magnitude, int) or \
                not 0 <= magnitude < self.num_magnitude_bins:
            raise ValueError(
                f"`magnitude` must be an integer in [0, num_magnitude_bins), "
                f"received magnitude={magnitude!r}.")
        self.magnitude = magnitude

    def draw_bins(self, batch_size, rng):
        return ops.full((batch_size, self.num_ops), self.magnitude, "int32")

    def get_config(self):
        config = super().get_config()
        config.update({"num_ops": self.num_ops, "magnitude": self.magnitude})
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class TrivialAugmentWide(_Policy):
    """TrivialAugment (Müller and Hutter, 2021), torchvision's
    ``TrivialAugmentWide``: one op per image, at a magnitude bin drawn
    uniformly per image, with the wide ranges (shear up to 0.99,
    translation up to 32 pixels, rotation up to 135 degrees, enhancement
    factors 1 ± 0.99, posterize 8 to 2 bits). Same ops and mechanics as
    :class:`RandAugment`.

    Args:
        num_magnitude_bins: default 31.
        interpolation, fill_value, value_range, seed, data_format: see
            :class:`RandAugment`.
    """

    wide = True

    def __init__(self, num_magnitude_bins=31, **kwargs):
        super().__init__(1, num_magnitude_bins, **kwargs)

    def draw_bins(self, batch_size, rng):
        n = self.num_magnitude_bins
        return ops.minimum(ops.cast(ops.floor(rng.uniform(
            batch_size, 0.0, float(n), per_image=(1,))), "int32"), n - 1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class AutoAugment(_Policy):
    """AutoAugment (Cubuk et al., 2019), torchvision's ImageNet policy: each
    image draws one of the 25 sub-policies, and each of its two steps acts
    with the step's probability at the step's magnitude (of 10 bins, a
    random sign where the op has one), torchvision's ranges and PIL
    definitions. Vectorised and compiled like :class:`RandAugment`: the
    geometric steps of an image compose into one resample, before its
    colour steps.

    Args:
        policy: ``"imagenet"`` (the one policy shipped).
        interpolation: ``"nearest"`` (torchvision's default) or
            ``"bilinear"``.
        fill_value, value_range, bounding_box_format, mask_fill_value,
            seed, data_format: see :class:`RandAugment`.
    """

    op_names = policy.AUTO_OPS
    _POLICIES = {"imagenet": policy.IMAGENET_POLICY}

    def __init__(self, policy="imagenet", **kwargs):
        kwargs.pop("num_magnitude_bins", None)
        super().__init__(2, 10, **kwargs)
        self.policy = v.check_choice("policy", policy,
                                     tuple(self._POLICIES))

    def random_parameters(self, shape, rng):
        b = shape[0]
        table = self._POLICIES[self.policy]
        n = len(table)
        op_table = ops.convert_to_tensor(
            [[policy.index_of(s[0], self.op_names) for s in sub]
             for sub in table], "int32")
        p_table = ops.convert_to_tensor([[s[1] for s in sub]
                                         for sub in table], "float32")
        bin_table = ops.convert_to_tensor([[s[2] or 0 for s in sub]
                                           for sub in table], "int32")
        sub = ops.minimum(ops.cast(ops.floor(rng.uniform(b, 0.0, float(n))),
                                   "int32"), n - 1)
        applied = rng.uniform(b, 0.0, 1.0, per_image=(2,)) < ops.take(
            p_table, sub, axis=0)
        op = ops.where(applied, ops.take(op_table, sub, axis=0), 0)
        sign = ops.where(rng.uniform(b, 0.0, 1.0, per_image=(2,)) < 0.5,
                         -1.0, 1.0)
        return {"op": op, "sign": sign, "bin": ops.take(bin_table, sub,
                                                        axis=0)}

    def get_config(self):
        config = super().get_config()
        config.pop("num_magnitude_bins", None)
        config["policy"] = self.policy
        return config
