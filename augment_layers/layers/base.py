"""The shared mechanics of every augmentation layer.

:class:`ImageLayer` is the base of every layer that takes images (or Keras's
dict of images and targets): input checks, the internal form, and the one
``call``, which hands a plan (:meth:`ImageLayer.plan`) to the executor
(:mod:`augment_layers.layers.executor`). :class:`BaseAugmentation` declares
the layer contract (the flags the executor reads) and the one random path;
:class:`GeometricAugmentation` adds per-image ``(B, 3, 3)`` matrices
(:meth:`GeometricAugmentation.transformation_matrix`), which the executor
composes across neighbours into one resample (:func:`geometric_run`).
"""

import dataclasses

import keras
import numpy as np
from keras import backend

from augment_layers.ops import affine
from augment_layers.ops import boxes as box_ops
from augment_layers.ops import color
from augment_layers.ops import dispatch
from augment_layers.ops import fields
from augment_layers.ops.dispatch import ops
from augment_layers.ops import resample
from augment_layers.ops import targets as target_ops
from augment_layers.layers import draws
from augment_layers.layers import targets
from augment_layers.layers import validation as v

PACKAGE = "augment_layers"


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
    """A layer that takes images, or Keras's dict of images and targets, and
    returns the same structure and shapes.

    Shared by :class:`BaseAugmentation` and :class:`augment_layers.Augment`:
    input checks before Keras converts the input, and the output spec. Keras's
    own input conversion is off: it would cast float targets (soft masks,
    keypoints) to the compute dtype, and targets keep theirs.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True

    def __call__(self, inputs, *args, **kwargs):
        images = inputs.get(targets.IMAGES) if targets.is_dict(inputs) \
            else inputs
        check_input_before_conversion(images, self.name)
        inputs = targets.arrays_to_tensors(inputs)
        if dispatch.needs_tensorflow_scope(inputs):
            # tf.data's tensors under JAX or PyTorch: the same maths, on
            # TensorFlow, for the length of this call.
            with dispatch.tensorflow_scope():
                return super().__call__(inputs, *args, **kwargs)
        if dispatch.in_grain_pipeline():
            # A Grain worker: augment on the CPU, as Keras's own layers do,
            # leaving the accelerator to the training step.
            with keras.device("cpu"):
                return super().__call__(inputs, *args, **kwargs)
        return super().__call__(inputs, *args, **kwargs)

    #: 2: the layer takes images ``(B, H, W, C)``, and a 5-D batch as clips
    #: ``(B, T, H, W, C)`` (one draw per clip); 3: volumes ``(B, D, H, W,
    #: C)`` (:mod:`augment_layers.layers.volume`).
    spatial_rank = 2

    @property
    def _single_rank(self):
        """The rank of one unbatched item: an image 3, a volume 4."""
        return self.spatial_rank + 1

    def output_size(self, height, width):
        """The ``(height, width)`` of the output for an input of that size
        (a resized crop changes it; most layers keep it)."""
        return height, width

    def _resized_shape(self, shape):
        shape = tuple(shape)
        first = getattr(self, "data_format", "channels_last") == \
            "channels_first"
        h_axis = len(shape) - (2 if first else 3)
        height, width = self.output_size(shape[h_axis], shape[h_axis + 1])
        return shape[:h_axis] + (height, width) + shape[h_axis + 2:]

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict):
            out = dict(input_shape)
            for key in (targets.IMAGES, targets.MASKS):
                if key in out:
                    out[key] = self._resized_shape(out[key])
            return out
        return self._resized_shape(input_shape)

    def compute_output_spec(self, inputs, training=None):
        if targets.is_dict(inputs):
            out = targets.output_spec(inputs, self.compute_dtype)
            for key in (targets.IMAGES, targets.MASKS):
                if key in out:
                    out[key] = keras.KerasTensor(
                        self._resized_shape(out[key].shape),
                        dtype=out[key].dtype)
            return out
        return keras.KerasTensor(self._resized_shape(inputs.shape),
                                 dtype=self.compute_dtype)

    def plan(self):
        """The :class:`~augment_layers.layers.executor.Plan` of a call."""
        raise NotImplementedError

    def box_format_for(self, data, training):
        """The box format the call converts from and back to, or None."""
        return None

    def call(self, inputs, training=None, seed=None):
        """Augments when ``training`` is true; ``seed``: an int that replaces
        the layers' seed state for this call (same seed, same draws)."""
        from augment_layers.layers import executor

        data, was_dict = self._internal(inputs)
        plan = self.plan()
        training = bool(training)
        if training or plan.acts_at_inference:
            data = targets.on_channels_last_batch(
                lambda d: executor.run(plan, d, training, self.compute_dtype,
                                       seed),
                data, self.data_format, self.box_format_for(data, training),
                self._single_rank)
        data = self._finish(data)
        return data if was_dict else data[targets.IMAGES]

    def _internal(self, inputs):
        """``(data, was_dict)``: the input as a checked dict; the images
        keep their dtype (the compiled work casts them, fused with its first
        read)."""
        if not targets.is_dict(inputs):
            return {targets.IMAGES: prepare_images(
                inputs, None, self.name, self.spatial_rank)}, False
        if self.spatial_rank == 3:
            for key in (targets.BOXES, targets.KEYPOINTS):
                if key in inputs:
                    raise ValueError(
                        f"{self.name} moves volumes and their "
                        f"'segmentation_masks'; it does not take {key!r}.")
        data = targets.check_dict(inputs, self.name)
        data[targets.IMAGES] = prepare_images(
            data[targets.IMAGES], None, self.name, self.spatial_rank)
        targets.check_mask_size(data, self.data_format, self.name)
        return data, True

    def _finish(self, data):
        """The output's images in the compute dtype, and an empty batch
        (where nothing ran) at the layer's output size."""
        images = data[targets.IMAGES]
        if backend.standardize_dtype(images.dtype) != self.compute_dtype:
            data = dict(data, images=ops.cast(images, self.compute_dtype))
        if len(images.shape) > self._single_rank and images.shape[0] == 0:
            for key in (targets.IMAGES, targets.MASKS):
                if key in data:
                    shape = self._resized_shape(data[key].shape)
                    if tuple(shape) != tuple(data[key].shape):
                        data = dict(data, **{key: ops.zeros(
                            shape, data[key].dtype)})
        return data


class BaseAugmentation(ImageLayer):
    """Base class of every augmentation layer.

    A layer says *what is random* (:meth:`random_parameters`: a dict of
    per-image ``(B,)`` tensors drawn from a :class:`~augment_layers.layers.
    draws.Stream`) and *how to apply it* (:meth:`transform_images`, or
    :meth:`transform_data` for targets too). The executor
    (:mod:`augment_layers.layers.executor`) does the rest.

    Args:
        seed: integer seed of the layer's random stream, or None.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    # -- the layer contract: what the executor reads, declared per class ---
    #: The layer moves pixels (it resamples, or holds a layer that does).
    resamples = False
    #: The layer's work is a per-image displacement field
    #: (:meth:`FieldAugmentation.field`), composed with the matrices of
    #: its geometric neighbours into one sampling map, one resample.
    displaces = False
    #: The layer's work is per-image matrices
    #: (:meth:`GeometricAugmentation.transformation_matrix`), composed with
    #: its geometric neighbours' into one resample.
    composes_matrices = False
    #: Each output pixel depends only on the same input pixel (a colour
    #: change). False for means, histograms, neighbourhoods or other images
    #: of the batch: after a resample such a layer starts a new compiled
    #: call, or XLA would redo the interpolation for each of its reads.
    pointwise = True
    #: The matrices may turn rows (a rotation, a perspective): see
    #: :func:`augment_layers.ops.resample.strip_width`.
    may_rotate = False
    #: The matrices are homographies (a perspective).
    projective = False
    #: The layer's own resample is exact (a flip) and used when it is alone.
    exact_resample = False
    #: The layer mixes ``"labels"`` (MixUp, CutMix), which then enter its
    #: compiled work.
    uses_labels = False
    #: The layer reads other images of the batch (MixUp, CutMix): given
    #: clips, it sees each clip as one image, its frames in the channels,
    #: so that it mixes whole clips.
    reads_batch = False
    #: The layer does something at inference (:meth:`infer`); otherwise its
    #: output then equals its input.
    acts_at_inference = False

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = v.check_seed(seed)
        self.data_format = v.check_data_format(data_format)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.built = True

    # -- what subclasses provide ------------------------------------------
    def random_parameters(self, shape, rng):
        """A dict of per-image ``(B, ...)`` parameter tensors for a
        channels-last batch of ``shape`` ``(B, H, W, C)``, every value drawn
        from ``rng`` (``rng.uniform(B, lo, hi)``, ``rng.bernoulli(B, p)``)."""
        raise NotImplementedError

    def transform_images(self, images, transformation):
        """Applies ``transformation`` to a channels-last batch."""
        raise NotImplementedError

    def transform_data(self, data, transformation):
        """Applies ``transformation`` to the internal dict (channels-last
        batches, boxes ``xyxy``). Here: the images; targets pass through."""
        out = dict(data)
        out[targets.IMAGES] = self.transform_images(data[targets.IMAGES],
                                                    transformation)
        return out

    def phases(self):
        """The parts of the layer's work, in order, each a :class:`Phase`
        whose ``name`` is passed to :meth:`transform_phase`. Most layers
        have one, ``None``; a layer that resamples and then reads whole
        images (RandAugment) has two, compiled apart."""
        return (Phase(None, self.resamples, self.pointwise),)

    def value_steps(self, transformation):
        """The layer's whole work on the images as per-image value steps
        (:func:`augment_layers.ops.color.apply_steps`), where it is no more
        than that; None (the default) otherwise. A resample just before
        applies them to its output (one pass saved)."""
        return None

    def transform_phase(self, data, transformation, phase):
        """One phase of :meth:`transform_data` (``None``: all of it)."""
        return self.transform_data(data, transformation)

    def infer(self, data):
        """What the layer does at inference on the internal dict, where
        :attr:`acts_at_inference` is declared."""
        return data

    def work_identity(self):
        """What the layer's work depends on beyond its class and config (a
        custom op's function): part of the compiled-function cache key."""
        return ()

    # -- the one random path -------------------------------------------------
    def get_random_transformation(self, shape, seed=None):
        """The parameters that a call of this layer on a batch of ``shape``
        draws, from the same call seed and the same function: it advances
        the seed state as a call does. ``seed``: an int call seed instead
        (as ``layer(x, training=True, seed=seed)``)."""
        return self.random_parameters(
            tuple(shape), draws.Stream(draws.call_seed(self, seed)))

    # -- the call ---------------------------------------------------------
    def plan(self):
        from augment_layers.layers import executor

        return executor.plan_of([self])

    def box_format_for(self, data, training):
        """The format the call converts boxes from and back to; None: boxes
        pass through untouched (only geometric layers move them)."""
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


@dataclasses.dataclass(frozen=True)
class Phase:
    """One part of a layer's work (see :meth:`BaseAugmentation.phases`)."""
    name: object
    resamples: bool
    pointwise: bool


def reads_wide_values(images):
    """True where ``images`` hold 4 bytes a value or more (float32,
    float64, int32): the sources whose slanted reads pay for column
    strips."""
    name = backend.standardize_dtype(images.dtype)
    return name not in ("bfloat16", "float16") and np.dtype(name).itemsize >= 4


def _defined_in(cls, name):
    return next(c for c in cls.__mro__ if name in vars(c))


def declares_value_steps(layer):
    """True where ``layer``'s work is its :meth:`~BaseAugmentation.value_steps`
    (declared by the class that writes its ``transform_images``, with the
    base's data and phase mechanics): a subclass that changes the work and
    not the steps is never fused."""
    cls = type(layer)
    steps = _defined_in(cls, "value_steps")
    return (steps is not BaseAugmentation
            and _defined_in(cls, "transform_images") is steps
            and all(_defined_in(cls, name) is BaseAugmentation for name in (
                "transform_data", "transform_phase", "phases")))


def geometric_run(layers, transformations, data, wide_source=False,
                  value_steps=()):
    """Moves ``data`` (the internal dict) by geometric ``layers`` drawn as
    ``transformations``: their matrices composed, one resample of the
    images, one of the masks, and the boxes and keypoints by the same
    matrices. A flip alone flips exactly.

    ``wide_source``: the batch as given held 4-byte values or wider (see
    :func:`reads_wide_values`), before the cast to the compute dtype.
    ``value_steps``: colour steps (:func:`augment_layers.ops.color.apply_steps`)
    of the layers that follow, applied to the resampled images."""
    images = data[targets.IMAGES]
    shape = ops.shape(images)
    height, width = shape[1], shape[2]
    moving = {k: data[k] for k in targets.MOVING if k in data}
    first = layers[0]
    if len(layers) == 1 and first.exact_resample:
        matrices = first.transformation_matrix(transformations[0], height,
                                               width)
        out = dict(data)
        if len(moving) > 1:
            out.update(target_ops.warp_targets(
                moving, matrices, first.fill_mode, first.mask_fill_value))
        out[targets.IMAGES] = color.apply_steps(
            first.resample(images, matrices, transformations[0]),
            value_steps)
        return out
    matrices, output_size = [], None
    for layer, t in zip(layers, transformations):
        # Each matrix (or field) maps its layer's output to its input, at
        # its size.
        matrices.append(layer.field(t, height, width) if layer.displaces
                        else layer.transformation_matrix(t, height, width))
        height, width = layer.output_size(height, width)
        output_size = layer.fixed_output_size or output_size
    options = next((layer.resample_options for layer in layers
                    if layer.resample_options is not None),
                   (first.interpolation, first.fill_mode, first.fill_value,
                    first.mask_fill_value))
    projective = any(layer.projective for layer in layers)
    if any(layer.displaces for layer in layers):
        # Matrices and fields: evaluated at every output pixel, one gather.
        mapping = fields.chain(matrices, shape[0], projective)
    else:
        mapping = affine.compose(*matrices)
    turns = any(layer.may_rotate for layer in layers)
    return dict(data, **target_ops.warp_impl(
        moving, mapping, *options, output_size, projective,
        wide_source and turns, value_steps))


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


def prepare_images(images, compute_dtype, layer_name="layer",
                   spatial_rank=2):
    """Checks rank and dtype, and casts to the compute dtype.

    ``spatial_rank`` 2: an image (rank 3), a batch (4) or a batch of clips
    (5); 3: a volume (4) or a batch of volumes (5)."""
    check_input_before_conversion(images, layer_name)
    if isinstance(images, (np.ndarray, np.generic)) or not (
            hasattr(images, "shape") and hasattr(images, "dtype")):
        images = dispatch.array_to_tensor(images)
    dtype = backend.standardize_dtype(images.dtype)
    if dtype in ("string", "bool") or dtype.startswith("complex"):
        raise ValueError(
            f"{layer_name} expects images of a real numeric dtype (float or "
            f"integer), received dtype {dtype}.")
    rank = len(images.shape)
    if spatial_rank == 3 and rank not in (4, 5):
        raise ValueError(
            f"{layer_name} expects a batch of volumes (B, D, H, W, C) or a "
            f"single volume (D, H, W, C) (channels_first likewise), received "
            f"an input of rank {rank} with shape {tuple(images.shape)}.")
    if spatial_rank == 2 and rank not in (3, 4, 5):
        raise ValueError(
            f"{layer_name} expects a batch (B, H, W, C), a single image "
            f"(H, W, C) or a batch of clips (B, frames, H, W, C) "
            f"(channels_first likewise), received an input of rank {rank} "
            f"with shape {tuple(images.shape)}.")
    if compute_dtype is not None and dtype != compute_dtype:
        images = ops.cast(images, compute_dtype)
    return images


class GeometricAugmentation(BaseAugmentation):
    """Base of the layers that move pixels by a per-image affine matrix.

    Masks, boxes and keypoints given in the dict format move with the
    image, by the same matrix (see :mod:`augment_layers.ops.targets`).

    Args:
        fill_mode: ``"nearest"`` (default), ``"constant"``, ``"reflect"``
            (d c b a | a b c d | d c b a) or ``"wrap"`` (periodic).
        fill_value: the value of ``"constant"`` fill.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        bounding_box_format: the format of ``"bounding_boxes"`` in a dict
            input (Keras's names: ``"xyxy"``, ``"rel_xywh"``, ...); needed
            only when boxes are given.
        mask_fill_value: what ``"constant"`` fill writes into
            ``"segmentation_masks"`` (default 0); masks always use nearest
            sampling and the images' ``fill_mode``.
    """

    def __init__(self, fill_mode="nearest", fill_value=0.0,
                 interpolation="bilinear", bounding_box_format=None,
                 mask_fill_value=0, **kwargs):
        super().__init__(**kwargs)
        self.fill_mode = v.check_choice("fill_mode", fill_mode,
                                        resample.FILL_MODES)
        self.fill_value = v.check_number("fill_value", fill_value)
        self.interpolation = v.check_choice("interpolation", interpolation,
                                            resample.INTERPOLATIONS)
        self.bounding_box_format = targets.check_bounding_box_format(
            bounding_box_format)
        self.mask_fill_value = v.check_number("mask_fill_value",
                                              mask_fill_value)

    def transformation_matrix(self, transformation, height, width):
        """Per-image ``(B, 3, 3)`` matrices, output pixel -> input pixel."""
        raise NotImplementedError

    @property
    def resample_options(self):
        """What a fused resample must share with this layer; None: anything."""
        return (self.interpolation, self.fill_mode, self.fill_value,
                self.mask_fill_value)

    resamples = True
    composes_matrices = True

    # The resample's output ``(height, width)`` as Python ints; None where
    # it keeps the input's size (a resized crop says otherwise).
    fixed_output_size = None

    def resample(self, images, matrices, transformation):
        """Resamples a channels-last batch by ``matrices`` (a pure function:
        it runs inside the compiled call)."""
        return resample.affine_transform_impl(
            images, matrices, self.interpolation, self.fill_mode,
            self.fill_value, self.fixed_output_size, self.projective)

    def transform_images(self, images, transformation):
        return self.transform_data({targets.IMAGES: images},
                                   transformation)[targets.IMAGES]

    def transform_data(self, data, transformation):
        return geometric_run([self], [transformation], data)

    def box_format_for(self, data, training):
        if targets.BOXES in data and self.bounding_box_format is None:
            raise ValueError(
                f"{self.name} received 'bounding_boxes' but no "
                "`bounding_box_format`; pass one of "
                f"{box_ops.FORMATS} when building the layer.")
        return self.bounding_box_format

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode,
                       "fill_value": self.fill_value,
                       "interpolation": self.interpolation,
                       "bounding_box_format": self.bounding_box_format,
                       "mask_fill_value": self.mask_fill_value})
        return config


class FieldAugmentation(GeometricAugmentation):
    """Base of the layers that move pixels by a per-image displacement
    field (:mod:`augment_layers.ops.fields`): the elastic and grid
    distortions. Inside :class:`augment_layers.Augment` the field composes
    with the matrices of its geometric neighbours into one sampling map
    (one resample); masks follow the same map, keypoints and points along
    box edges move by its inverse.

    Fields are drawn for the image size the layer sees, which must be known
    when the layer is traced (a static height and width).
    """

    displaces = True
    may_rotate = True  # a field's reads run across rows

    def field(self, transformation, height, width):
        """The field (:class:`~augment_layers.ops.fields.NodeField` or
        :class:`~augment_layers.ops.fields.SeparableField`) of
        ``transformation`` on a ``height x width`` image: output pixel ->
        the source point it samples."""
        raise NotImplementedError

    def transformation_matrix(self, transformation, height, width):
        raise TypeError(
            f"{type(self).__name__} is a displacement field, not a matrix; "
            "use field().")

    def static_size(self, shape):
        """``(height, width)`` of a channels-last ``shape`` as ints, or a
        clear error."""
        height, width = shape[1], shape[2]
        if not (isinstance(height, int) and isinstance(width, int)):
            raise ValueError(
                f"{self.name} draws a displacement field for the image size, "
                "which must be known when the layer is traced; received "
                f"images of shape {tuple(shape)}. Resize the images to a "
                "fixed size first.")
        return height, width


class ColorAugmentation(BaseAugmentation):
    """Base of the element-wise layers that work within a ``value_range``."""

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = v.check_value_range(value_range)

    def get_config(self):
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config
