import keras

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, ColorAugmentation
from augment_layers.layers.rand_augment import _slots
from augment_layers.ops import affine
from augment_layers.ops import color
from augment_layers.ops import policy
from augment_layers.ops import resample
from augment_layers.ops import sampling
from augment_layers.ops.dispatch import ops


# The ops that read more than their pixel (a histogram, their extremes, a
# neighbourhood).
_COSTLY = ("Equalize", "AutoContrast", "Sharpness")


@keras.saving.register_keras_serializable(package=PACKAGE)
class AugMix(ColorAugmentation):
    """AugMix (Hendrycks et al., 2020), per image, compiled.

    Each image gets ``num_chains`` chains of 1 to ``chain_depth`` ops (the
    depth drawn per chain and image), each op drawn from torchvision's
    AugMix set (AutoContrast, Equalize, Posterize, Rotate, Solarize,
    ShearX/Y, TranslateX/Y, and with ``all_ops`` Brightness, Color,
    Contrast, Sharpness) at a magnitude ``U(factor)`` of its largest
    (shear 0.3, translation a third of the size, rotation 30 degrees,
    enhancement 0.9, posterize 4 bits down to 0, solarize 255 down to 0)
    with a random sign where it has one. The chains are mixed with
    Dirichlet(``alpha``) weights and the mix blended with the image by
    ``m ~ Beta(alpha, alpha)``: ``m x + (1 - m) sum_i w_i chain_i``, all
    drawn per image. Keras 3.15 draws the op sequence once per trace and
    the weights once per batch.

    Within a chain the geometric ops compose into one resample (reflected
    borders, as Keras's), before the chain's colour ops. The mixed output
    belongs to no single geometry, so masks, boxes and keypoints are
    refused with a clear error.

    Args:
        value_range: the pixels' range, ``(0, 255)`` default.
        num_chains: chains per image (default 3).
        chain_depth: the most ops per chain (default 3).
        factor: a number ``f`` in ``[0, 1]`` for ``[0, f]``, or a pair:
            the strength (default 0.3, about torchvision's severity 3).
        alpha: the Dirichlet and Beta concentration (default 1.0).
        all_ops: include the enhancement ops (default True).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed, data_format: see :class:`BaseAugmentation`.
    """

    resamples = True
    pointwise = False

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3,
                 factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", bounding_box_format=None,
                 **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.num_chains = v.check_positive_int("num_chains", num_chains)
        self.chain_depth = v.check_positive_int("chain_depth", chain_depth)
        self.factor = v.check_factor("factor", factor)
        self._factor = v.as_config_range(factor)
        self.alpha = v.check_number("alpha", alpha)
        if self.alpha <= 0:
            raise ValueError(f"`alpha` must be > 0, received alpha={alpha!r}.")
        self.all_ops = v.check_bool("all_ops", all_ops)
        self.interpolation = v.check_choice("interpolation", interpolation,
                                            resample.INTERPOLATIONS)
        self.bounding_box_format = targets.check_bounding_box_format(
            bounding_box_format)
        self.op_names = policy.AUGMIX_ALL_OPS if all_ops else \
            policy.AUGMIX_OPS

    def random_parameters(self, shape, rng):
        b, slots = shape[0], (self.num_chains, self.chain_depth)
        count = len(self.op_names) - 1  # Identity is never drawn
        op = 1 + ops.minimum(ops.cast(ops.floor(rng.uniform(
            b, 0.0, float(count), per_image=slots)), "int32"), count - 1)
        depth = ops.floor(rng.uniform(b, 1.0, self.chain_depth + 1.0,
                                      per_image=(self.num_chains,)))
        active = ops.arange(self.chain_depth)[None, None, :] < ops.cast(
            depth, "int32")[:, :, None]
        gammas = sampling.gamma(
            self.alpha,
            rng.uniform(b, 0.0, 1.0, per_image=(self.num_chains,
                                                sampling.CANDIDATES, 3)),
            rng.uniform(b, 0.0, 1.0, per_image=(self.num_chains,)))
        weights = gammas / ops.maximum(ops.sum(gammas, axis=1,
                                               keepdims=True), 1e-30)
        blend = sampling.beta(
            self.alpha,
            rng.uniform(b, 0.0, 1.0, per_image=(2, sampling.CANDIDATES, 3)),
            rng.uniform(b, 0.0, 1.0, per_image=(2,)))
        return {"op": ops.where(active, op, 0),
                "unit": rng.uniform(b, *self.factor, per_image=slots),
                "sign": ops.where(rng.uniform(b, 0.0, 1.0, per_image=slots)
                                  < 0.5, -1.0, 1.0),
                "weights": weights, "blend": blend}

    @staticmethod
    def _capacity(batch_size):
        """Images per round of a costly op: an op drawn by one image in a
        dozen needs one round of a quarter of the batch (at least 2)."""
        if isinstance(batch_size, int):
            return max(2, batch_size // 4)
        return 8

    def _slot(self, t, chain, slot, height, width):
        """The ``(B,)`` op index and signed magnitude at ``chain``,
        ``slot`` (loop counters: picked by masks, not gathers)."""
        pick = ops.logical_and(
            (ops.arange(self.num_chains) == chain)[:, None],
            (ops.arange(self.chain_depth) == slot)[None, :])[None]
        op, unit, sign = (ops.sum(ops.where(pick, t[k], 0), axis=(1, 2))
                          for k in ("op", "unit", "sign"))
        m = ops.zeros_like(unit)
        for k, name in enumerate(self.op_names):
            value = policy.augmix_magnitude(name, unit, height, width)
            if name in policy.SIGNED:
                value = value * sign
            m = ops.where(op == k, value, m)
        return op, m

    def _chain(self, images, t, chain):
        shape = ops.shape(images)
        b, h, w = shape[0], shape[1], shape[2]

        def slot_matrix(slot, matrices):
            op, m = self._slot(t, chain, slot, h, w)
            step = affine.identity(b)
            for name in policy.GEOMETRIC:
                step = ops.where(
                    (op == policy.index_of(name, self.op_names))[:, None,
                                                                 None],
                    policy.geometric_matrix(name, m, h, w), step)
            return affine.compose(matrices, step)

        matrices = _slots(self.chain_depth, slot_matrix, affine.identity(b))
        x = resample.affine_transform_impl(images, matrices,
                                           self.interpolation, "reflect",
                                           0.0, None, False)

        def slot_colour(slot, x):
            op, m = self._slot(t, chain, slot, h, w)
            for name in self.op_names:
                if name not in policy.COLOUR:
                    continue
                chosen = op == policy.index_of(name, self.op_names)

                if name in _COSTLY:
                    # Histograms and neighbourhoods only on the images
                    # that chose them (the same values).
                    x = policy.on_chosen(
                        x, chosen, lambda sub, idx, name=name, m=m:
                        policy.colour_op(name, sub, ops.take(m, idx)),
                        self._capacity(ops.shape(x)[0]))
                else:
                    x = ops.where(chosen[:, None, None, None],
                                  policy.colour_op(name, x, m), x)
            return x

        return _slots(self.chain_depth, slot_colour, x)

    def transform_images(self, images, t):
        x = color.to_255(images, self.value_range)

        def add_chain(chain, mix):
            weight = ops.sum(ops.where(
                (ops.arange(self.num_chains) == chain)[None], t["weights"],
                0.0), axis=1)
            return mix + ops.cast(weight, x.dtype)[:, None, None, None] * \
                self._chain(x, t, chain)

        mix = _slots(self.num_chains, add_chain, ops.zeros_like(x))
        m = ops.cast(t["blend"], x.dtype)[:, None, None, None]
        out = ops.clip(m * x + (1.0 - m) * mix, 0.0, 255.0)
        return color.from_255(out, self.value_range)

    def transform_data(self, data, t):
        for key in (targets.MASKS, targets.BOXES, targets.KEYPOINTS):
            if key in data:
                raise ValueError(
                    f"{self.name} (AugMix) blends several differently "
                    f"warped copies of each image, so {key!r} cannot follow "
                    "it; pass {'images', 'labels'} only, or use RandAugment "
                    "or AutoAugment, which move targets.")
        return dict(data, images=self.transform_images(
            data[targets.IMAGES], t))

    def get_config(self):
        config = super().get_config()
        config.update({"num_chains": self.num_chains,
                       "chain_depth": self.chain_depth,
                       "factor": self._factor, "alpha": self.alpha,
                       "all_ops": self.all_ops,
                       "interpolation": self.interpolation,
                       "bounding_box_format": self.bounding_box_format})
        return config
