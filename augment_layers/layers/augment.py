import keras
from keras import backend

from augment_layers.ops.dispatch import ops

from augment_layers.layers import draws
from augment_layers.layers import validation as v
from augment_layers.layers import targets
from augment_layers.layers.base import (PACKAGE, BaseAugmentation,
                                        DRAW_LOCK, GeometricAugmentation,
                                        ImageLayer, reads_wide_values,
                                        segments, wide_source_scope)
from augment_layers.ops import affine
from augment_layers.ops import targets as target_ops
from augment_layers.ops.compile import compiled


@keras.saving.register_keras_serializable(package=PACKAGE)
class Augment(ImageLayer):
    """Applies its layers in order, resampling each geometric run **once**.

    Consecutive geometric layers (shift, shear, zoom, rotation, flip, affine)
    are composed into one matrix per image and resampled in a single pass;
    a run breaks where two neighbours ask for different ``fill_mode``,
    ``fill_value`` or ``interpolation``. Colour layers run in order between
    runs, and on the TensorFlow backend every stretch of augmentation between
    plain Keras layers runs as one XLA-compiled function, so consecutive
    colour layers fuse into one element-wise pass.

    Given Keras's dict (``images``, ``segmentation_masks``,
    ``bounding_boxes``, ``keypoints``, ``labels``), each fused matrix moves
    the masks, box corners and keypoints too: one resample of the images,
    one of the masks.

    Augmentation layers act only when ``training`` is true. Other Keras layers
    placed inside (``Rescaling``, normalisation) run always, as
    ImageDataGenerator's ``standardize`` did; they see channels-last batches.

    Args:
        layers: list of layers.
        data_format: ``None`` (the children's, which must agree),
            ``"channels_last"`` or ``"channels_first"``.
        bounding_box_format: the format of ``"bounding_boxes"`` in a dict
            input; ``None``: the geometric children's, which must agree.
            It replaces the children's own inside ``Augment``.
        **kwargs: passed to ``keras.layers.Layer``.

    Example:
    >>> augment = Augment([RandomRotation(20), RandomShift(0.1, 0.1),
    ...                    RandomFlip(), RandomBrightnessRange((0.8, 1.2))])
    """

    def __init__(self, layers, data_format=None, bounding_box_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layers, (list, tuple)) or not all(
                isinstance(layer, keras.layers.Layer) for layer in layers):
            raise ValueError(
                "`layers` must be a list of Keras layers, received "
                f"layers={layers!r}.")
        formats = {layer.data_format for layer in layers
                   if isinstance(layer, BaseAugmentation)}
        if data_format is None:
            if len(formats) > 1:
                raise ValueError(
                    "The layers given to Augment mix data formats "
                    f"({sorted(formats)}); pass `data_format` explicitly.")
            data_format = formats.pop() if formats else None
        self.data_format = v.check_data_format(data_format)
        self.bounding_box_format = targets.check_bounding_box_format(
            bounding_box_format)
        if self.bounding_box_format is None:
            given = {layer.bounding_box_format for layer in layers
                     if isinstance(layer, GeometricAugmentation)
                     and layer.bounding_box_format is not None}
            if len(given) > 1:
                raise ValueError(
                    "The layers given to Augment mix bounding box formats "
                    f"({sorted(given)}); pass `bounding_box_format`.")
            self.bounding_box_format = given.pop() if given else None
        self._moves_targets = any(isinstance(layer, GeometricAugmentation)
                                  for layer in layers)
        self._layers = list(layers)
        self._stages = _plan(self._layers)
        self._compiled_stages = [
            [compiled(_segment_runner(segment, _stage_layers(stage),
                                      self.compute_dtype))
             for segment in _segments(stage)]
            if stage[0] == "augment" else None for stage in self._stages]
        self.built = True

    @property
    def layers(self):
        return list(self._layers)

    def call(self, inputs, training=None):
        data, was_dict = self.prepare(inputs, cast=False)
        if (targets.BOXES in data and self._moves_targets and training
                and self.bounding_box_format is None):
            raise ValueError(
                f"{self.name} received 'bounding_boxes' but no "
                "`bounding_box_format`; pass it to Augment or to its "
                "geometric layers.")
        box_format = self.bounding_box_format if self._moves_targets else None
        data = targets.on_channels_last_batch(
            lambda d: self._run(d, bool(training)), data, self.data_format,
            box_format if training else None)
        data = self.finish(data)
        return data if was_dict else data[targets.IMAGES]

    def _run(self, data, training):
        for stage, runner in zip(self._stages, self._compiled_stages):
            if stage[0] == "keras":
                data = dict(data, images=stage[1](self._cast(
                    data[targets.IMAGES]), training=training))
            elif training:
                # One compiled call per stage, draws included: here only
                # each layer's call seed is taken (all of one call's
                # together, across threads).
                with DRAW_LOCK:
                    seeds = [draws.call_seed(layer)
                             for layer in _stage_layers(stage)]
                # Only what moves enters the compiled function ("labels"
                # may be anything, strings included).
                keys = targets.MOVING
                if any(getattr(layer, "uses_labels", False)
                       for step in stage[1] for layer in step[1]):
                    keys += (targets.LABELS,)  # MixUp, CutMix
                moving = {k: data[k] for k in keys if k in data}
                for segment_runner in runner:
                    moving = segment_runner(moving, seeds)
                data = dict(data, **moving)
            else:  # inference: only what a layer does then (a resize)
                data = dict(data, images=self._cast(data[targets.IMAGES]))
                for step in stage[1]:
                    for layer in step[1]:
                        if type(layer).infer is not BaseAugmentation.infer:
                            data = layer.infer(data)
        return dict(data, images=self._cast(data[targets.IMAGES]))

    def _cast(self, images):
        if backend.standardize_dtype(images.dtype) == self.compute_dtype:
            return images
        return ops.cast(images, self.compute_dtype)

    def output_size(self, height, width):
        for layer in self._layers:
            if isinstance(layer, BaseAugmentation):
                height, width = layer.output_size(height, width)
        return height, width

    def get_config(self):
        config = super().get_config()
        config["layers"] = [keras.saving.serialize_keras_object(layer)
                            for layer in self._layers]
        config["data_format"] = self.data_format
        config["bounding_box_format"] = self.bounding_box_format
        return config

    @classmethod
    def build_from_checked_config(cls, config):
        config = dict(config)
        layers = config.pop("layers", None)
        if not isinstance(layers, list):
            raise ValueError(
                f"Augment's config needs a list under 'layers', received "
                f"{layers!r}.")
        layers = [keras.saving.deserialize_keras_object(layer)
                  for layer in layers]
        return cls(layers, **config)


def _plan(layers):
    """Groups layers into stages.

    A stage is ``("keras", layer)`` (a plain layer, run always) or
    ``("augment", steps)`` where each step is ``("geometric", run, options)``
    (fused into one resample) or ``("single", [layer])``.
    """
    stages, steps = [], []
    run, options = [], None

    def close_run():
        nonlocal run, options
        if run:
            if len(run) == 1 or options is None:
                steps.extend(("single", [layer], None) for layer in run)
            else:
                steps.append(("geometric", run, options))
        run, options = [], None

    for layer in layers:
        if isinstance(layer, GeometricAugmentation):
            wanted = layer.resample_options
            if wanted is not None and options is not None and wanted != options:
                close_run()
            run.append(layer)
            options = options if wanted is None else wanted
        else:
            close_run()
            if isinstance(layer, BaseAugmentation):
                steps.append(("single", [layer], None))
            else:
                if steps:
                    stages.append(("augment", steps))
                    steps = []
                stages.append(("keras", layer))
    close_run()
    if steps:
        stages.append(("augment", steps))
    return stages


def _stage_layers(stage):
    """The augmentation layers of a stage, in order (one seed each)."""
    return [layer for step in stage[1] for layer in step[1]]


def _segments(stage):
    """The stage's work as units ``(kind, layers, options, phase, resamples,
    reads_statistics)``, split into the runs compiled together (see
    :func:`augment_layers.layers.base.segments`): usually one."""
    units = []
    for kind, layers, options in stage[1]:
        if kind == "geometric":
            units.append((kind, layers, options, None, True, False))
        else:
            units.extend((kind, layers, None, *phase)
                         for phase in layers[0].phases())
    return segments(units)


def _segment_runner(units, stage_layers, compute_dtype):
    index = {id(layer): k for k, layer in enumerate(stage_layers)}

    def run(data, seeds):
        data = dict(data)
        wide_source = reads_wide_values(data[targets.IMAGES])
        # Integer images are read as they are: the cast fuses with the
        # first read of the compiled function.
        data[targets.IMAGES] = ops.cast(data[targets.IMAGES], compute_dtype)
        for kind, layers, options, phase, _, _ in units:
            shape = ops.shape(data[targets.IMAGES])
            batch, height, width, channels = shape
            if kind == "single":
                layer = layers[0]
                t = layer.draw_from(seeds[index[id(layer)]], shape)
                with wide_source_scope(wide_source):
                    data = layer.transform_phase(data, t, phase)
                wide_source = reads_wide_values(data[targets.IMAGES])
                continue
            matrices, output_size = [], None
            for layer in layers:
                # Each layer draws for, and each matrix maps its layer's
                # output to its input at, the size that layer sees.
                t = layer.draw_from(seeds[index[id(layer)]],
                                    (batch, height, width, channels))
                matrices.append(layer.transformation_matrix(t, height, width))
                height, width = layer.output_size(height, width)
                output_size = layer.fixed_output_size or output_size
            data = target_ops.warp_impl(
                data, affine.compose(*matrices), *options, output_size,
                any(layer.projective for layer in layers),
                wide_source and any(layer.slants_rows for layer in layers))
            # Later runs read what this one wrote, in the compute dtype.
            wide_source = reads_wide_values(data[targets.IMAGES])
        return data

    return run
