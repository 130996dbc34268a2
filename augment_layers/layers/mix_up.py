import keras
from keras import backend

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, BaseAugmentation
from augment_layers.ops import mixing
from augment_layers.ops import sampling
from augment_layers.ops.dispatch import ops


class _BatchMixing(BaseAugmentation):
    """Shared by :class:`MixUp` and :class:`CutMix`: each image is mixed
    with a partner from the same batch (a random permutation), and
    ``"labels"`` with the partner's by the same weight."""

    uses_labels = True
    reads_batch = True
    pointwise = False  # each image reads its partner's pixels

    def __init__(self, alpha, **kwargs):
        super().__init__(**kwargs)
        self.alpha = v.check_number("alpha", alpha)
        if self.alpha <= 0:
            raise ValueError(f"`alpha` must be > 0, received alpha={alpha!r}.")

    def draw_mixing(self, batch_size, rng):
        weight = sampling.beta(
            self.alpha,
            rng.uniform(batch_size, 0.0, 1.0,
                         per_image=(2, sampling.CANDIDATES, 3)),
            rng.uniform(batch_size, 0.0, 1.0, per_image=(2,)))
        partner = ops.argsort(rng.uniform(batch_size, 0.0, 1.0))
        return weight, ops.cast(partner, "int32")

    def transform_images(self, images, transformation):
        return self.mix(images, None, transformation)[0]

    def transform_data(self, data, transformation):
        for key in (targets.MASKS, targets.BOXES, targets.KEYPOINTS):
            if key in data:
                raise ValueError(
                    f"{self.name} mixes images and their labels; it cannot "
                    f"mix {key!r}. Pass {{'images', 'labels'}}.")
        labels = data.get(targets.LABELS)
        if labels is not None:
            dtype = backend.standardize_dtype(labels.dtype)
            if "float" not in dtype or len(labels.shape) < 2:
                raise ValueError(
                    f"{self.name} mixes labels by weight: it needs one-hot "
                    "or soft labels, float, shaped (B, classes), received "
                    f"labels of dtype {dtype} and shape "
                    f"{tuple(labels.shape)}.")
        images, labels = self.mix(data[targets.IMAGES], labels,
                                  transformation)
        out = dict(data, images=images)
        if labels is not None:
            out[targets.LABELS] = labels
        return out

    def call(self, inputs, training=None, seed=None):
        if training and len(getattr(
                inputs.get(targets.IMAGES) if targets.is_dict(inputs)
                else inputs, "shape", ())) == 3:
            raise ValueError(f"{self.name} mixes the images of a batch; it "
                             "needs a batch (B, H, W, C), not one image.")
        return super().call(inputs, training=training, seed=seed)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class MixUp(_BatchMixing):
    """MixUp (Zhang et al., 2018): each image becomes ``lam * x + (1 - lam)
    * x'`` with a partner ``x'`` from the batch and ``lam ~ Beta(alpha,
    alpha)`` per image; one-hot or soft ``"labels"`` mix by the same
    ``lam``. Identity at inference.

    Args:
        alpha: the Beta distribution's parameter (> 0).
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> out = MixUp(0.2)({"images": x, "labels": one_hot}, training=True)
    """

    def __init__(self, alpha=0.2, **kwargs):
        super().__init__(alpha, **kwargs)

    def random_parameters(self, shape, rng):
        weight, partner = self.draw_mixing(shape[0], rng)
        return {"weight": weight, "partner": partner}

    def mix(self, images, labels, t):
        return mixing.mixup(images, labels, t["weight"], t["partner"])
