import keras

from augment_layers.layers.base import PACKAGE
from augment_layers.layers.mix_up import _BatchMixing
from augment_layers.ops import mixing
from augment_layers.ops.dispatch import ops


@keras.saving.register_keras_serializable(package=PACKAGE)
class CutMix(_BatchMixing):
    """CutMix (Yun et al., 2019): a rectangle from a partner image of the
    batch is pasted into each image. With ``lam ~ Beta(alpha, alpha)`` the
    rectangle is ``sqrt(1 - lam)`` of the width and height, centred
    uniformly and clipped to the image; one-hot or soft ``"labels"`` mix by
    the share of pixels actually pasted (counted after clipping).
    Identity at inference.

    Args:
        alpha: the Beta distribution's parameter (> 0).
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> out = CutMix(1.0)({"images": x, "labels": one_hot}, training=True)
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(alpha, **kwargs)

    def random_parameters(self, shape, rng):
        b = shape[0]
        h = ops.cast(shape[1], "float32")
        w = ops.cast(shape[2], "float32")
        weight, partner = self.draw_mixing(b, rng)
        side = ops.sqrt(1.0 - weight)
        cut_w, cut_h = w * side, h * side
        cx = rng.uniform(b, 0.0, 1.0) * w
        cy = rng.uniform(b, 0.0, 1.0) * h
        x0 = ops.clip(cx - cut_w / 2, 0.0, w)
        y0 = ops.clip(cy - cut_h / 2, 0.0, h)
        x1 = ops.clip(cx + cut_w / 2, 0.0, w)
        y1 = ops.clip(cy + cut_h / 2, 0.0, h)
        return {"partner": partner, "x0": x0, "y0": y0, "width": x1 - x0,
                "height": y1 - y0}

    def mix(self, images, labels, t):
        return mixing.cutmix(images, labels, t["partner"], t["x0"], t["y0"],
                             t["width"], t["height"])
