"""The shared mechanics of every augmentation layer.

A layer says only *what is random* (:meth:`get_random_transformation`, a dict
of per-image ``(B,)`` tensors) and *how to apply it* (:meth:`transform_images`
on a channels-last batch). This base class owns the rest: the ``training``
switch, dtype casting, single images versus batches, ``channels_first``, input
checks, the seed generator and the common config.

Geometric layers additionally say how a transformation becomes a per-image
``(B, 3, 3)`` matrix (:meth:`GeometricAugmentation.transformation_matrix`),
which lets :class:`augment_layers.Augment` compose several of them and
resample once.
"""

import keras
from keras import backend
from keras import ops

from augment_layers.ops import resample
from augment_layers.layers import validation as v

PACKAGE = "augment_layers"


class BaseAugmentation(keras.layers.Layer):
    """Base class of every augmentation layer.

    Args:
        seed: integer seed of the layer's random stream, or None.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = v.check_seed(seed)
        self.data_format = v.check_data_format(data_format)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.built = True

    # -- what subclasses provide ------------------------------------------
    def get_random_transformation(self, shape):
        """Returns a dict of per-image ``(B,)`` parameter tensors.

        ``shape`` is the channels-last batch's ``ops.shape``: ``(B, H, W, C)``.
        """
        raise NotImplementedError

    def transform_images(self, images, transformation):
        """Applies ``transformation`` to a channels-last batch."""
        raise NotImplementedError

    # -- shared mechanics ----------------------------------------------------
    def uniform(self, batch_size, low, high):
        """``(B,)`` float32 draws from ``U(low, high)`` off the layer's stream."""
        return keras.random.uniform((batch_size,), low, high, dtype="float32",
                                    seed=self.seed_generator)

    def bernoulli(self, batch_size, probability=0.5):
        return self.uniform(batch_size, 0.0, 1.0) < probability

    def augment(self, images):
        """Augments a channels-last batch in the compute dtype."""
        transformation = self.get_random_transformation(ops.shape(images))
        return self.transform_images(images, transformation)

    def call(self, images, training=None):
        images = prepare_images(images, self.compute_dtype, self.name)
        if not training:
            return images
        return apply_channels_last_batch(self.augment, images,
                                         self.data_format)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, images, training=None):
        return keras.KerasTensor(images.shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


def prepare_images(images, compute_dtype, layer_name="layer"):
    """Checks rank and dtype, and casts to the compute dtype."""
    if not hasattr(images, "shape") or not hasattr(images, "dtype"):
        images = ops.convert_to_tensor(images)
    dtype = backend.standardize_dtype(images.dtype)
    if dtype in ("string", "bool") or dtype.startswith("complex"):
        raise ValueError(
            f"{layer_name} expects images of a real numeric dtype (float or "
            f"integer), received dtype {dtype}.")
    rank = len(images.shape)
    if rank not in (3, 4):
        raise ValueError(
            f"{layer_name} expects a batch (B, H, W, C) or a single image "
            f"(H, W, C) (channels_first likewise), received an input of rank "
            f"{rank} with shape {tuple(images.shape)}.")
    if dtype != compute_dtype:
        images = ops.cast(images, compute_dtype)
    return images


def apply_channels_last_batch(fn, images, data_format):
    """Runs ``fn`` on ``images`` as a channels-last batch, then restores them."""
    unbatched = len(images.shape) == 3
    if unbatched:
        images = ops.expand_dims(images, 0)
    if data_format == "channels_first":
        images = ops.transpose(images, (0, 2, 3, 1))
    images = fn(images)
    if data_format == "channels_first":
        images = ops.transpose(images, (0, 3, 1, 2))
    if unbatched:
        images = ops.squeeze(images, 0)
    return images


class GeometricAugmentation(BaseAugmentation):
    """Base of the layers that move pixels by a per-image affine matrix.

    Args:
        fill_mode: ``"nearest"`` (default), ``"constant"``, ``"reflect"``
            (d c b a | a b c d | d c b a) or ``"wrap"`` (periodic).
        fill_value: the value of ``"constant"`` fill.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
    """

    def __init__(self, fill_mode="nearest", fill_value=0.0,
                 interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.fill_mode = v.check_choice("fill_mode", fill_mode,
                                        resample.FILL_MODES)
        self.fill_value = v.check_number("fill_value", fill_value)
        self.interpolation = v.check_choice("interpolation", interpolation,
                                            resample.INTERPOLATIONS)

    def transformation_matrix(self, transformation, height, width):
        """Per-image ``(B, 3, 3)`` matrices, output pixel -> input pixel."""
        raise NotImplementedError

    @property
    def resample_options(self):
        """What a fused resample must share with this layer; None: anything."""
        return (self.interpolation, self.fill_mode, self.fill_value)

    def transform_images(self, images, transformation):
        shape = ops.shape(images)
        matrices = self.transformation_matrix(transformation, shape[1],
                                              shape[2])
        return resample.affine_transform(images, matrices, self.interpolation,
                                         self.fill_mode, self.fill_value)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode,
                       "fill_value": self.fill_value,
                       "interpolation": self.interpolation})
        return config


class ColorAugmentation(BaseAugmentation):
    """Base of the element-wise layers that work within a ``value_range``."""

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = v.check_value_range(value_range)

    def clip(self, images):
        lo, hi = self.value_range
        return ops.clip(images, ops.cast(lo, images.dtype),
                        ops.cast(hi, images.dtype))

    def get_config(self):
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config
