import keras
from augment_layers.ops.dispatch import ops

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomFlip(GeometricAugmentation):
    """Mirrors each image left-right and/or top-bottom with probability 1/2.

    On its own the layer flips exactly (no resampling). Inside
    :class:`augment_layers.Augment` the flip joins the neighbouring geometric
    layers' single resample.

    Args:
        mode: ``"horizontal"`` (default), ``"vertical"`` or
            ``"horizontal_and_vertical"`` (each axis decided independently).
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandomFlip("horizontal")
    """

    def __init__(self, mode="horizontal", **kwargs):
        super().__init__(**kwargs)
        self.mode = v.check_choice("mode", mode, FLIP_MODES)

    exact_resample = True

    @property
    def resample_options(self):
        return None  # a flip samples pixel centres only: any options do.

    def random_parameters(self, shape, rng):
        batch_size = shape[0]
        horizontal = rng.bernoulli(batch_size)
        vertical = rng.bernoulli(batch_size)
        if self.mode == "horizontal":
            vertical = ops.zeros_like(vertical)
        elif self.mode == "vertical":
            horizontal = ops.zeros_like(horizontal)
        return {"horizontal": horizontal, "vertical": vertical}

    def transformation_matrix(self, transformation, height, width):
        return affine.center(
            affine.flip(transformation["horizontal"],
                        transformation["vertical"]), height, width)

    def resample(self, images, matrices, transformation):
        # Exact: a flip needs no interpolation (the matrices move targets).
        if self.mode != "vertical":
            images = ops.where(transformation["horizontal"][:, None, None, None],
                               ops.flip(images, axis=2), images)
        if self.mode != "horizontal":
            images = ops.where(transformation["vertical"][:, None, None, None],
                               ops.flip(images, axis=1), images)
        return images

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config
