"""ImageDataGenerator's ``standardize`` steps as Keras layers.

Unlike the augmentation layers these are deterministic preprocessing: they
run at training *and* inference, because a model trained on standardised
images must see standardised images when it serves.
"""

import keras
import numpy as np
from augment_layers.ops.dispatch import ops

from augment_layers import registry
from augment_layers.layers import validation as v
from augment_layers.layers import targets
from augment_layers.layers.base import PACKAGE, ImageLayer


class ImagesOnly(ImageLayer):
    """A deterministic image step that also takes Keras's dict of targets:
    it applies to ``"images"`` and passes every target through unchanged.

    Subclasses write ``call_images(images)``.
    """

    def call(self, inputs):
        if targets.is_dict(inputs):
            data = targets.check_dict(inputs, self.name)
            data[targets.IMAGES] = self.call_images(data[targets.IMAGES])
            return data
        return self.call_images(inputs)

    def call_images(self, images):
        raise NotImplementedError


@keras.saving.register_keras_serializable(package=PACKAGE)
class ApplyOp(ImagesOnly):
    """Applies a registered op always (ImageDataGenerator's
    ``preprocessing_function``), saved by name.

    Args:
        op: a registered op or its name (see ``register_op``); it is called
            as ``op(images)`` on channels-last batches.
    """

    def __init__(self, op, **kwargs):
        super().__init__(**kwargs)
        self.op = registry.op_name(op)
        missing = registry.required_keywords(registry.get_op(self.op))
        if missing:
            raise ValueError(
                f"`op` {self.op!r} needs the arguments {missing}, which "
                "ApplyOp cannot give: it calls op(images). Use RandomLambda "
                f"with params for them, received op={op!r}.")
        self.built = True

    def call_images(self, images):
        images = ops.cast(images, self.compute_dtype)
        return ops.cast(registry.get_op(self.op)(images), self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config["op"] = self.op
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class SamplewiseNormalization(ImagesOnly):
    """Per image: subtract its mean and/or divide by its std (+1e-6).

    ImageDataGenerator's ``samplewise_center`` and
    ``samplewise_std_normalization`` (statistics over H, W and C).
    """

    def __init__(self, center=True, std_normalization=False, **kwargs):
        super().__init__(**kwargs)
        self.center = v.check_bool("center", center)
        self.std_normalization = v.check_bool("std_normalization",
                                              std_normalization)
        self.built = True

    def call_images(self, images):
        x = ops.cast(images, self.compute_dtype)
        axes = tuple(range(1, len(x.shape))) if len(x.shape) == 4 else None
        return _center_and_scale(
            x,
            ops.mean(x, axis=axes, keepdims=True) if self.center else None,
            ops.std(x, axis=axes, keepdims=True)
            if self.std_normalization else None)

    def get_config(self):
        config = super().get_config()
        config.update({"center": self.center,
                       "std_normalization": self.std_normalization})
        return config


def _center_and_scale(x, mean, std):
    """``(x - mean) / (std + 1e-6)`` as ImageDataGenerator's ``standardize``;
    a ``mean`` or ``std`` of None skips that step."""
    if mean is not None:
        x = x - mean
    if std is not None:
        x = x / (std + 1e-6)
    return x


class _AdaptedLayer(ImagesOnly):
    """A layer whose statistics come from ``adapt(data)``; saved as weights."""

    def _weights_for(self, shape):
        raise NotImplementedError

    def build(self, input_shape):
        if isinstance(input_shape, dict):
            input_shape = input_shape[targets.IMAGES]
        shape = tuple(input_shape[-3:])
        if any(d is None for d in shape):
            raise ValueError(
                f"{type(self).__name__} needs the image size and channels to be "
                f"known, received input shape {tuple(input_shape)}.")
        self._image_shape = shape
        for name, wshape in self._weights_for(shape).items():
            setattr(self, name, self.add_weight(
                shape=wshape, initializer="zeros", trainable=False, name=name))
        self.adapted = self.add_weight(shape=(), initializer="zeros",
                                       trainable=False, name="adapted")

    # How much of (H, W, C) the statistics fix: the channels, or everything.
    _fixed_dims = 1

    def check_images(self, images):
        """A clear error when the images do not fit the adapted statistics."""
        if len(images.shape) != 4:
            raise ValueError(
                f"{self.name} expects a batch (B, H, W, C), received shape "
                f"{tuple(images.shape)}.")
        expected = self._image_shape[-self._fixed_dims:]
        got = tuple(images.shape[-self._fixed_dims:])
        if any(g is not None and g != e for g, e in zip(got, expected)):
            what = "channels" if self._fixed_dims == 1 else "(H, W, C)"
            raise ValueError(
                f"{self.name} was built for {what} {expected}, received "
                f"images of shape {tuple(images.shape)}.")
        return ops.cast(images, self.compute_dtype)

    def adapt(self, data):
        """Computes the statistics from ``data`` (an array of images)."""
        data = np.asarray(data, dtype="float64")
        if data.ndim != 4:
            raise ValueError(
                f"adapt needs a batch of images (N, H, W, C), received shape "
                f"{data.shape}.")
        if not self.built:
            self.build(data.shape)
        for name, value in self._statistics(data).items():
            getattr(self, name).assign(value.astype("float32"))
        self.adapted.assign(1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
class FeaturewiseNormalization(_AdaptedLayer):
    """Per channel, over the dataset: subtract the mean, divide by std + 1e-6.

    ImageDataGenerator's ``featurewise_center`` and
    ``featurewise_std_normalization`` with the same maths; call
    ``adapt(images)`` (or :func:`augment_layers.adapt`) first.
    """

    def __init__(self, center=True, std_normalization=False, **kwargs):
        super().__init__(**kwargs)
        self.center = v.check_bool("center", center)
        self.std_normalization = v.check_bool("std_normalization",
                                              std_normalization)

    def _weights_for(self, shape):
        return {"mean": (shape[-1],), "std": (shape[-1],)}

    def _statistics(self, data):
        mean = data.mean(axis=(0, 1, 2))
        std = (data - mean).std(axis=(0, 1, 2))
        return {"mean": mean, "std": std}

    def call_images(self, images):
        x = self.check_images(images)
        return _center_and_scale(
            x, ops.cast(self.mean, x.dtype) if self.center else None,
            ops.cast(self.std, x.dtype) if self.std_normalization else None)

    def get_config(self):
        config = super().get_config()
        config.update({"center": self.center,
                       "std_normalization": self.std_normalization})
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class ZCAWhitening(_AdaptedLayer):
    """ZCA whitening with ImageDataGenerator's maths, saved with the model.

    ``adapt(images)``: subtract the per-channel mean, take the SVD of the
    flattened data, ``W = U diag(sqrt(n) / (s + epsilon)) U^T``. ``call``:
    ``(x - mean)`` flattened, times ``W``. The image size must be fixed.

    Args:
        epsilon: ImageDataGenerator's ``zca_epsilon`` (default 1e-6).
    """

    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = v.check_number("epsilon", epsilon)
        if self.epsilon < 0:
            raise ValueError(f"`epsilon` must be >= 0, received epsilon={epsilon!r}.")

    _fixed_dims = 3

    def _weights_for(self, shape):
        d = int(np.prod(shape))
        return {"mean": (shape[-1],), "matrix": (d, d)}

    def _statistics(self, data):
        n = len(data)
        mean = data.mean(axis=(0, 1, 2))
        flat = (data - mean).reshape(n, -1)
        u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
        s_inv = np.sqrt(n) / (s + self.epsilon)
        return {"mean": mean, "matrix": (u * s_inv) @ u.T}

    def call_images(self, images):
        x = self.check_images(images)
        x = x - ops.cast(self.mean, x.dtype)
        shape = ops.shape(x)
        flat = ops.reshape(x, (shape[0], -1))
        return ops.reshape(ops.matmul(flat, ops.cast(self.matrix, x.dtype)),
                           shape)

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config


def adapt(model_or_layer, data, batch_size=256):
    """Adapts every adaptable layer in ``model_or_layer`` on ``data``.

    The data flows (in inference mode) through the layers before each
    adaptable one, so ``Rescaling`` is applied first, as
    ImageDataGenerator's ``fit`` did. Keras's own ``Normalization`` layers are
    adapted too. Returns ``model_or_layer``.
    """
    layers = getattr(model_or_layer, "layers", None)
    if layers is None:
        layers = [model_or_layer]
    x = np.asarray(data, dtype="float32")
    for layer in layers:
        if isinstance(layer, _AdaptedLayer):
            layer.adapt(x)
        elif isinstance(layer, keras.layers.Normalization):
            layer.adapt(x, batch_size=batch_size)
        elif hasattr(layer, "layers"):
            adapt(layer, x, batch_size)
        out = [ops.convert_to_numpy(layer(x[i:i + batch_size], training=False))
               for i in range(0, len(x), batch_size)]
        x = np.concatenate(out) if out else x
    return model_or_layer
