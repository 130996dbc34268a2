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

import functools
import json
import threading

import keras
import numpy as np
from keras import backend

from augment_layers.ops import boxes as box_ops
from augment_layers.ops.compile import compiled
from augment_layers.ops import dispatch
from augment_layers.ops.dispatch import ops
from augment_layers.ops import resample
from augment_layers.ops import targets as target_ops
from augment_layers.layers import draws
from augment_layers.layers import targets
from augment_layers.layers import validation as v

PACKAGE = "augment_layers"
DRAW_LOCK = threading.RLock()
# (class, config) -> compiled functions; see
# BaseAugmentation._shared_compiled_segments.
_SHARED_FUNCTIONS = {}


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

    def finish(self, data):
        """The output's images in the compute dtype, and an empty batch
        (where nothing ran) at the layer's output size."""
        images = data[targets.IMAGES]
        if backend.standardize_dtype(images.dtype) != self.compute_dtype:
            data = dict(data, images=ops.cast(images, self.compute_dtype))
        if len(images.shape) == 4 and images.shape[0] == 0:
            for key in (targets.IMAGES, targets.MASKS):
                if key in data:
                    shape = self._resized_shape(data[key].shape)
                    if tuple(shape) != tuple(data[key].shape):
                        data = dict(data, **{key: ops.zeros(
                            shape, data[key].dtype)})
        return data

    def prepare(self, inputs, cast=True):
        """``(data, was_dict)``: the input as a checked dict whose images are
        in the compute dtype; with ``cast=False`` they keep their dtype
        (the compiled function casts them, fused with its first read)."""
        dtype = self.compute_dtype if cast else None
        if not targets.is_dict(inputs):
            return {targets.IMAGES: prepare_images(
                inputs, dtype, self.name)}, False
        data = targets.check_dict(inputs, self.name)
        data[targets.IMAGES] = prepare_images(
            data[targets.IMAGES], dtype, self.name)
        targets.check_mask_size(data, self.data_format, self.name)
        return data, True


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

    def call_seed(self):
        """This call's seed (see :mod:`augment_layers.layers.draws`), one
        thread at a time."""
        with DRAW_LOCK:
            return draws.call_seed(self)

    def draw_from(self, seed, shape):
        """:meth:`get_random_transformation` as stateless draws from a call
        seed: pure, so it runs inside the compiled function."""
        with draws.stream(self, seed):
            return self.get_random_transformation(shape)

    def transform_data(self, data, transformation):
        """Applies ``transformation`` to the internal dict (channels-last
        batches, boxes ``xyxy``). Here: the images; targets pass through."""
        out = dict(data)
        out[targets.IMAGES] = self.transform_images(data[targets.IMAGES],
                                                    transformation)
        return out

    # -- where the compiled work splits ------------------------------------
    # True where the layer's work reads more than each pixel itself (a
    # mean, a histogram, a neighbourhood, another image of the batch):
    # after a resample in the same compiled function,
    # XLA would keep the resample's corner gathers and recompute the
    # interpolation for each consumer (measured: 3.3x slower on a resized
    # crop + contrast recipe), so a new compiled call starts there.
    reads_statistics = False
    # True where the layer resamples its input.
    resamples = False

    def phases(self):
        """The parts of the layer's work, in order, as ``(phase, resamples,
        reads_statistics)``; ``phase`` is passed to
        :meth:`transform_phase`. Most layers have one, ``None``."""
        return ((None, self.resamples, self.reads_statistics),)

    def transform_phase(self, data, transformation, phase):
        """One phase of :meth:`transform_data` (``None``: all of it)."""
        return self.transform_data(data, transformation)

    def augment(self, data):
        """Augments the internal dict (see :meth:`transform_data`): one
        compiled call per segment of :func:`segments` (most layers: one),
        draws included, from this call's seed."""
        functions = self.__dict__.get("_compiled_segments")
        if functions is None:
            functions = self._shared_compiled_segments()
            object.__setattr__(self, "_compiled_segments", functions)
        # Only tensors enter the compiled function ("labels" may be
        # anything, strings included, unless the layer mixes them).
        keys = targets.MOVING + ((targets.LABELS,) if getattr(
            self, "uses_labels", False) else ())
        inside = {k: data[k] for k in keys if k in data}
        seed = self.call_seed()
        for fn in functions:
            inside = fn(inside, seed)
        return dict(data, **inside)

    def _shared_compiled_segments(self):
        """The compiled functions of :meth:`augment`, shared by every layer
        of the same class and config (the work depends on nothing else: the
        draws come from the seed argument), so that building a layer again
        does not compile again."""
        try:
            config = dict(self.get_config())
            for key in ("name", "seed"):
                config.pop(key, None)
            key = (type(self), json.dumps(config, sort_keys=True,
                                          default=repr))
        except Exception:  # an unusual config: this layer's own functions
            key = None
        functions = _SHARED_FUNCTIONS.get(key) if key else None
        if functions is None:
            functions = [compiled(functools.partial(
                self._augment_from_seed, [phase for phase, _, _ in part]))
                for part in segments(self.phases())]
            if key:
                _SHARED_FUNCTIONS[key] = functions
        return functions

    def _augment_from_seed(self, phases, data, seed):
        """Pure: draws from ``seed`` (the same in every segment, so every
        phase sees the same parameters), then the ``phases``."""
        data = dict(data)
        wide = reads_wide_values(data[targets.IMAGES])
        data[targets.IMAGES] = ops.cast(data[targets.IMAGES],
                                        self.compute_dtype)
        transformation = self.draw_from(seed, ops.shape(data[targets.IMAGES]))
        with wide_source_scope(wide):
            for phase in phases:
                data = self.transform_phase(data, transformation, phase)
        return data

    def box_format_for(self, data):
        """The format the call converts boxes from and back to; None: boxes
        pass through untouched (only geometric layers move them)."""
        return None

    def infer(self, data):
        """What the layer does at inference, on the internal dict; None
        (the default): nothing, the input comes back as it is."""
        return None

    def call(self, inputs, training=None):
        data, was_dict = self.prepare(inputs, cast=not training)
        if training:
            data = targets.on_channels_last_batch(
                self.augment, data, self.data_format, self.box_format_for(data))
        elif type(self).infer is not BaseAugmentation.infer:
            data = targets.on_channels_last_batch(
                self.infer, data, self.data_format, self.box_format_for(data))
        data = self.finish(data)
        return data if was_dict else data[targets.IMAGES]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


def reads_wide_values(images):
    """True where ``images`` hold 4 bytes a value or more (float32,
    float64, int32): the sources whose slanted reads pay for column
    strips."""
    name = backend.standardize_dtype(images.dtype)
    return name not in ("bfloat16", "float16") and np.dtype(name).itemsize >= 4


_source = threading.local()


class wide_source_scope:
    """While a compiled function is traced: whether the batch it was
    given held wide values (see :func:`reads_wide_values`), which the cast
    to the compute dtype at its start hides from the layers' phases."""

    def __init__(self, wide):
        self._wide = bool(wide)

    def __enter__(self):
        self._before = getattr(_source, "wide", False)
        _source.wide = self._wide

    def __exit__(self, *exc):
        _source.wide = self._before


def reading_wide_source():
    return getattr(_source, "wide", False)


def segments(parts):
    """Splits a sequence of parts ``(..., resamples, reads_statistics)``
    into the runs that each become one compiled function: a new one starts
    where a part reads image statistics after a resample of the current
    run (see :attr:`BaseAugmentation.reads_statistics`)."""
    out, resampled = [], False
    for part in parts:
        resamples, reads = part[-2], part[-1]
        if not out or (reads and resampled):
            out.append([])
            resampled = False
        out[-1].append(part)
        resampled = resampled or resamples
    return out


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


def prepare_images(images, compute_dtype, layer_name="layer"):
    """Checks rank and dtype, and casts to the compute dtype."""
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
    if rank not in (3, 4):
        raise ValueError(
            f"{layer_name} expects a batch (B, H, W, C) or a single image "
            f"(H, W, C) (channels_first likewise), received an input of rank "
            f"{rank} with shape {tuple(images.shape)}.")
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

    # True where the matrices are homographies (perspective).
    projective = False

    @property
    def slants_rows(self):
        """True where the matrices can map an output row onto a slanted
        line of the source (a rotation, a perspective): the resample of a
        float32 batch then reads in column strips under XLA on a CPU (see
        :func:`augment_layers.ops.resample.strip_width`). Shifts, zooms,
        shears (along x, as ImageDataGenerator's) and flips keep rows rows.
        """
        return self.projective

    # The resample's output ``(height, width)`` as Python ints; None where
    # it keeps the input's size (a resized crop says otherwise).
    fixed_output_size = None

    def resample(self, images, matrices, transformation):
        """Resamples a channels-last batch by ``matrices``."""
        return resample.affine_transform(
            images, matrices, self.interpolation, self.fill_mode,
            self.fill_value, self.fixed_output_size, self.projective)

    def matrices_for(self, images, transformation):
        shape = ops.shape(images)
        return self.transformation_matrix(transformation, shape[1], shape[2])

    def transform_images(self, images, transformation):
        return self.resample(images, self.matrices_for(images, transformation),
                             transformation)

    # True where :meth:`resample` is exact and needs no shared coordinates
    # (a flip): the targets then move on their own.
    exact_resample = False

    def transform_data(self, data, transformation):
        images = data[targets.IMAGES]
        matrices = self.matrices_for(images, transformation)
        if not self.exact_resample:
            # One compiled call: images, masks (sharing the coordinates),
            # boxes and keypoints.
            moving = {k: data[k] for k in targets.MOVING if k in data}
            return dict(data, **target_ops.warp(
                moving, matrices, self.interpolation, self.fill_mode,
                self.fill_value, self.mask_fill_value,
                self.fixed_output_size, self.projective,
                self.slants_rows and reading_wide_source()))
        out = dict(data)
        out[targets.IMAGES] = self.resample(images, matrices, transformation)
        return move_targets(out, matrices, self.fill_mode,
                            self.mask_fill_value)

    def box_format_for(self, data):
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


def move_targets(data, matrices, fill_mode, mask_fill_value):
    """Moves the masks, boxes and keypoints of ``data`` by ``matrices`` (one
    compiled call); the images and any ``"labels"`` are left as they are."""
    moving = {k: data[k] for k in targets.MOVING if k in data}
    if len(moving) == 1:  # images only
        return data
    return dict(data, **target_ops.warp_targets_compiled(
        moving, matrices, fill_mode, mask_fill_value))


class ColorAugmentation(BaseAugmentation):
    """Base of the element-wise layers that work within a ``value_range``."""

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = v.check_value_range(value_range)

    def get_config(self):
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config
