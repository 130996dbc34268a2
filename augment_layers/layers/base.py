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

import threading

import keras
import numpy as np
from keras import backend
from keras import ops

from augment_layers.ops import resample
from augment_layers.layers import draws
from augment_layers.layers import validation as v

PACKAGE = "augment_layers"
DRAW_LOCK = threading.RLock()


class CheckedConfig:
    """``from_config`` that fails clearly on a tampered config.

    Every argument is validated by the constructor; this adds the keys that
    Keras itself reads (``name``, ``trainable``, ``dtype``) and turns any
    other failure into a ``ValueError`` naming the layer, so that a bad file
    never crashes deep inside a backend.
    """

    @classmethod
    def from_config(cls, config):
        v.check_common_config(cls.__name__, config)
        try:
            return cls.build_from_checked_config(config)
        except (ValueError, TypeError):
            raise
        except Exception as error:  # noqa: BLE001 (re-raised, named)
            raise ValueError(
                f"Invalid config for {cls.__name__}: {type(error).__name__}: "
                f"{error}") from error

    @classmethod
    def build_from_checked_config(cls, config):
        return super().from_config(config)


class ImageLayer(CheckedConfig, keras.layers.Layer):
    """A layer that takes images and returns images of the same shape.

    Shared by :class:`BaseAugmentation` and :class:`augment_layers.Augment`:
    input checks before Keras converts the input, and the output spec.
    """

    def __call__(self, images, *args, **kwargs):
        check_input_before_conversion(images, self.name)
        return super().__call__(images, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, images, training=None):
        return keras.KerasTensor(images.shape, dtype=self.compute_dtype)


class BaseAugmentation(ImageLayer):
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
    def uniform(self, batch_size, low, high, per_image=()):
        """``(B, *per_image)`` float32 draws from ``U(low, high)``.

        Every draw of every layer comes through here. Under a
        ``tf.distribute`` strategy each replica runs this on its own shard
        with a copy of the same seed state, so the draw is made for all
        replicas and each keeps its own slice: replicas never augment alike
        (see :mod:`augment_layers.layers.draws`).
        """
        return draws.uniform(self, (batch_size, *per_image), low, high)

    def bernoulli(self, batch_size, probability=0.5):
        return self.uniform(batch_size, 0.0, 1.0) < probability

    def draw(self, shape):
        """:meth:`get_random_transformation`, one thread at a time.

        Advancing the seed state is a read and then a write; two threads
        calling one layer at once could otherwise read the same state and
        draw the same parameters.
        """
        with DRAW_LOCK:
            return self.get_random_transformation(shape)

    def augment(self, images):
        """Augments a channels-last batch in the compute dtype."""
        transformation = self.draw(ops.shape(images))
        return self.transform_images(images, transformation)

    def call(self, images, training=None):
        images = prepare_images(images, self.compute_dtype, self.name)
        if not training:
            return images
        return apply_channels_last_batch(self.augment, images,
                                         self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


def _is_ml_float(dtype):
    """bfloat16 and friends (ml_dtypes): NumPy kind 'V', yet real floats."""
    try:
        return backend.standardize_dtype(dtype) in ("bfloat16", "float16")
    except ValueError:
        return False


def check_input_before_conversion(images, layer_name):
    """Refuses what Keras would fail on, obscurely, while converting inputs."""
    if isinstance(images, (np.ndarray, np.generic)) and (
            images.dtype.kind not in "biuf") and not _is_ml_float(images.dtype):
        raise ValueError(
            f"{layer_name} expects images of a real numeric dtype (float or "
            f"integer), received a NumPy array of dtype {images.dtype}.")
    if backend.backend() == "tensorflow":
        return
    if not type(images).__module__.startswith("tensorflow"):
        return
    import tensorflow as tf

    if tf.inside_function():
        raise RuntimeError(
            f"{layer_name} received a symbolic tf.Tensor, as inside "
            f"tf.data's Dataset.map, while Keras runs on the "
            f"{backend.backend()!r} backend. Our layers run on the active "
            "backend only: put them in the model (they run on the "
            "accelerator, inside its jit-compiled step, and are identity at "
            "inference), or use KERAS_BACKEND=tensorflow to augment inside "
            "tf.data.")


def prepare_images(images, compute_dtype, layer_name="layer"):
    """Checks rank and dtype, and casts to the compute dtype."""
    check_input_before_conversion(images, layer_name)
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
    if not unbatched and images.shape[0] == 0:
        return images  # an empty batch: nothing to draw or move
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

    def get_config(self):
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config
