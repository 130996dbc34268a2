"""The one executor: every layer call, a single layer's or an ``Augment``'s.

A layer call becomes a :class:`Plan` (a single layer is a one-layer plan) and
runs here:

1. ``ImageLayer.__call__`` checks the images and turns NumPy into tensors.
2. ``ImageLayer.call`` brings the input to the internal dict (channels-last
   batches, ``xyxy`` boxes) and calls :func:`run`.
3. :func:`run` walks the plan's stages. A plain Keras layer (``Rescaling``)
   is called. An augmentation stage takes one call seed per member
   (:func:`augment_layers.layers.draws.call_seed`), then calls the compiled
   function of each of its segments (usually one) on the tensors that move.
4. A segment's compiled function (:func:`_segment_function`) casts the
   images to the compute dtype, and for each unit draws the parameters from
   ``Stream(call seed, salt=position)`` and applies them: a run of geometric
   layers composes its matrices and resamples once
   (:func:`augment_layers.layers.base.geometric_run`); any other layer runs
   its phase.
5. ``ImageLayer.call`` restores the caller's form and dtype.

Compiled functions are built from clones of the layers (from their configs),
never from the caller's objects, and cached by what they compute (each
layer's class, config, place and any op it calls), at most
:data:`CACHE_SIZE` of them.
"""

import collections
import contextlib
import dataclasses
import json
import sys
import threading
from typing import Any

from augment_layers.layers import draws
from augment_layers.layers import targets
from augment_layers.layers.base import (BaseAugmentation,
                                        declares_value_steps, geometric_run,
                                        reads_wide_values)
from augment_layers.ops import native
from augment_layers.ops.compile import compiled
from augment_layers.ops.dispatch import ops


@dataclasses.dataclass(frozen=True)
class Member:
    """An augmentation layer at its place in the plan."""
    position: int  # its index in the Augment (0 alone): the draws' salt
    slot: int  # its index among its stage's members: which call seed
    layer: Any


@dataclasses.dataclass(frozen=True)
class GeometricRun:
    """Consecutive geometric layers, composed into one resample."""
    members: tuple
    resamples = True
    pointwise = True


@dataclasses.dataclass(frozen=True)
class LayerPhase:
    """One phase of a non-geometric layer (most layers have one)."""
    member: Member
    phase: Any
    resamples: bool
    pointwise: bool


@dataclasses.dataclass(frozen=True)
class AugmentStage:
    """Augmentation layers between plain Keras layers: one call seed each,
    one compiled call per segment."""
    members: tuple
    segments: tuple  # of tuples of units
    uses_labels: bool


@dataclasses.dataclass(frozen=True)
class KerasStage:
    """A plain Keras layer (``Rescaling``, a normalisation): runs always."""
    layer: Any


@dataclasses.dataclass(frozen=True)
class Plan:
    stages: tuple

    @property
    def acts_at_inference(self):
        """Something runs at inference: a plain Keras layer, or a layer
        that declares :attr:`~BaseAugmentation.acts_at_inference`."""
        return any(isinstance(stage, KerasStage) or any(
            m.layer.acts_at_inference for m in stage.members)
            for stage in self.stages)


def plan_of(layers):
    """The plan of ``layers`` in order (each a Keras layer)."""
    stages, members, units, run = [], [], [], []

    def close_run():
        if not run:
            return
        options = [m.layer.resample_options for m in run
                   if m.layer.resample_options is not None]
        if len(run) == 1 or not options:
            units.extend(GeometricRun((m,)) for m in run)
        else:
            units.append(GeometricRun(tuple(run)))
        run.clear()

    def close_stage():
        close_run()
        if members:
            stages.append(AugmentStage(
                tuple(members), tuple(segments(units)),
                any(m.layer.uses_labels for m in members)))
        members.clear()
        units.clear()

    for position, layer in enumerate(layers):
        if not isinstance(layer, BaseAugmentation):
            close_stage()
            stages.append(KerasStage(layer))
            continue
        member = Member(position, len(members), layer)
        members.append(member)
        if layer.composes_matrices:
            wanted = layer.resample_options
            current = [m.layer.resample_options for m in run
                       if m.layer.resample_options is not None]
            if wanted is not None and current and current[0] != wanted:
                close_run()
            run.append(member)
        else:
            close_run()
            units.extend(LayerPhase(member, p.name, p.resamples, p.pointwise)
                         for p in layer.phases())
    close_stage()
    return Plan(tuple(stages))


def segments(units):
    """Splits units into the runs compiled together: a new one starts where
    a unit that is not pointwise follows a resample of the current run
    (XLA would otherwise recompute the interpolation for each read of it)."""
    out, resampled = [], False
    for unit in units:
        if not out or (not unit.pointwise and resampled):
            out.append([])
            resampled = False
        out[-1].append(unit)
        resampled = resampled or unit.resamples
    return out


def run(plan, data, training, compute_dtype, seed=None):
    """Runs ``plan`` on the internal dict ``data``.

    ``training``: augmentation layers act (else only what they do at
    inference). ``seed``: an int call seed for every member (else each
    member's own seed state)."""
    for stage in plan.stages:
        if isinstance(stage, KerasStage):
            images = _cast(data[targets.IMAGES], compute_dtype)
            data = dict(data, images=stage.layer(images, training=training))
        elif training:
            with draws.DRAW_LOCK:  # one call's seeds together, across threads
                seeds = tuple(draws.call_seed(m.layer, seed)
                              for m in stage.members)
            keys = targets.MOVING + (
                (targets.LABELS,) if stage.uses_labels else ())
            moving = {k: data[k] for k in keys if k in data}
            rank = len(data[targets.IMAGES].shape)
            for segment in stage.segments:
                moving = compiled_segment(segment, compute_dtype, rank)(
                    moving, seeds)
            data = dict(data, **moving)
        else:
            for m in stage.members:
                if m.layer.acts_at_inference:
                    data = _infer(m.layer, dict(data, images=_cast(
                        data[targets.IMAGES], compute_dtype)))
    return data


def _infer(layer, data):
    """``layer.infer``, frame by frame for a batch of clips."""
    if len(data[targets.IMAGES].shape) == 5 and layer.spatial_rank == 2:
        data, frames = fold_clips(data)
        return unfold_clips(layer.infer(data), frames)
    return layer.infer(data)


def _cast(images, dtype):
    from keras import backend

    if backend.standardize_dtype(images.dtype) == dtype:
        return images
    return ops.cast(images, dtype)


# -- compiled segments, cached by what they compute ---------------------------
CACHE_SIZE = 128
_cache = collections.OrderedDict()
_cache_lock = threading.Lock()


def _layer_key(layer):
    """What a layer's work depends on: class, config (less name and seed:
    draws come from the call seed) and any op it calls; None where the
    config is not JSON (the layer itself is then used)."""
    try:
        config = dict(layer.get_config())
        for key in ("name", "seed"):
            config.pop(key, None)
        return (type(layer), json.dumps(config, sort_keys=True),
                layer.work_identity())
    except (TypeError, ValueError):
        return None


def _unit_key(unit):
    members = unit.members if isinstance(unit, GeometricRun) else \
        (unit.member,)
    keys = []
    for m in members:
        key = _layer_key(m.layer)
        keys.append((m.position, m.slot,
                     key if key is not None else ("object", id(m.layer))))
    phase = None if isinstance(unit, GeometricRun) else unit.phase
    return (type(unit).__name__, phase, tuple(keys))


def _clone(layer):
    """A new layer of the same config, built outside any trace (its seed
    state is a variable: a user's train step may be tracing)."""
    try:
        with _outside_traces():
            return type(layer).from_config(layer.get_config())
    except Exception:  # noqa: BLE001 (an unusual layer: use it as it is)
        return layer


def _outside_traces():
    from keras import backend

    if backend.backend() == "jax":
        import jax

        return jax.ensure_compile_time_eval()
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf.init_scope()
    return contextlib.nullcontext()


def _cloned(unit):
    def member(m):
        return Member(m.position, m.slot, _clone(m.layer))

    if isinstance(unit, GeometricRun):
        return GeometricRun(tuple(member(m) for m in unit.members))
    return dataclasses.replace(unit, member=member(unit.member))


def compiled_segment(segment, compute_dtype, rank=4):
    """The compiled function of ``segment`` (shared by every layer and
    ``Augment`` whose segment computes the same) for images of ``rank``
    (4: a batch of images; 5: of clips or volumes: a trace of its own)."""
    # AUGMENT_LAYERS_NATIVE is part of the key: a function traced with the
    # native resampler on is not served once it is turned off, or back.
    key = (compute_dtype, rank, native.enabled(),
           tuple(_unit_key(u) for u in segment))
    with _cache_lock:
        fn = _cache.get(key)
        if fn is not None:
            _cache.move_to_end(key)
            return fn
    # A displacement field's grid is sized by the image: one trace per size.
    per_shape = any(m.layer.displaces for u in segment for m in (
        u.members if isinstance(u, GeometricRun) else (u.member,)))
    # Clips fold their frames by a count known when traced: one trace per
    # shape (a relaxed trace would forget it).
    per_shape = per_shape or rank == 5
    fn = compiled(_segment_function(tuple(_cloned(u) for u in segment),
                                    compute_dtype), per_shape=per_shape)
    with _cache_lock:
        fn = _cache.setdefault(key, fn)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return fn


def clear_cache():
    with _cache_lock:
        _cache.clear()


def _segment_function(units, compute_dtype):
    """Pure: ``(moving tensors, call seeds) -> moving tensors``.

    A 5-D batch given to 2-D layers is a batch of clips ``(B, T, H, W,
    C)``: its frames fold into the batch (:func:`fold_clips`), each unit
    draws for ``B`` clips and its parameters repeat per frame
    (:func:`per_frame`), so every frame of a clip is moved and coloured
    alike, in the same one resample. A layer that reads other images of
    the batch (MixUp, CutMix) sees each clip as one image whose channels
    are its frames' (:func:`frames_as_channels`): it mixes whole clips."""
    volumetric = any(_unit_layer(u).spatial_rank == 3 for u in units)

    def run_segment(data, seeds):
        data = dict(data)
        wide = reads_wide_values(data[targets.IMAGES])
        # The cast fuses with the first read of the compiled function.
        data[targets.IMAGES] = ops.cast(data[targets.IMAGES], compute_dtype)
        frames = None
        if len(data[targets.IMAGES].shape) == 5 and not volumetric:
            data, frames = fold_clips(data)
        absorbed = set()  # colour units applied by the resample before them
        for index, unit in enumerate(units):
            if index in absorbed:
                continue
            shape = ops.shape(data[targets.IMAGES])
            batch = shape[0] if frames is None else shape[0] // frames
            if volumetric:
                batch = shape[0]
            sizes = tuple(shape[1:])
            if isinstance(unit, GeometricRun):
                layers, transformations = [], []
                for m in unit.members:
                    # Each layer draws for the size it sees.
                    transformations.append(per_frame(draws.materialize(
                        m.layer.random_parameters(
                            (batch,) + sizes,
                            draws.Stream(seeds[m.slot], m.position))),
                        frames))
                    layers.append(m.layer)
                    if not volumetric:
                        sizes = m.layer.output_size(*sizes[:2]) + sizes[2:]
                if volumetric:
                    data = layers[0].geometric_run(layers, transformations,
                                                   data, wide)
                else:
                    steps = _following_value_steps(
                        units, index, (batch,) + sizes, seeds, frames,
                        absorbed)
                    data = geometric_run(layers, transformations, data,
                                         wide, steps)
            else:
                m = unit.member
                # Every phase of a layer draws the same parameters.
                t = draws.materialize(m.layer.random_parameters(
                    (batch,) + sizes,
                    draws.Stream(seeds[m.slot], m.position)))
                if frames is not None and m.layer.reads_batch:
                    data = dict(data, images=frames_as_channels(
                        data[targets.IMAGES], frames))
                    data = m.layer.transform_phase(data, t, unit.phase)
                    data = dict(data, images=channels_as_frames(
                        data[targets.IMAGES], frames))
                else:
                    data = m.layer.transform_phase(
                        data, per_frame(t, frames), unit.phase)
            wide = reads_wide_values(data[targets.IMAGES])
        if frames is not None:
            data = unfold_clips(data, frames)
        return data

    return run_segment


def _following_value_steps(units, index, shape, seeds, frames, absorbed):
    """The value steps of the colour units right after the geometric run at
    ``index`` (each a layer whose whole work is value steps, drawn as it
    would draw them for its own phase), their indices added to
    ``absorbed``: the resample applies them to its output."""
    steps = []
    for later in range(index + 1, len(units)):
        unit = units[later]
        if not isinstance(unit, LayerPhase) or not declares_value_steps(
                unit.member.layer):
            break
        m = unit.member
        t = draws.materialize(m.layer.random_parameters(
            shape, draws.Stream(seeds[m.slot], m.position)))
        layer_steps = m.layer.value_steps(per_frame(t, frames))
        if layer_steps is None:
            break
        steps.extend(layer_steps)
        absorbed.add(later)
    return tuple(steps)


def _unit_layer(unit):
    return unit.members[0].layer if isinstance(unit, GeometricRun) else \
        unit.member.layer


# -- clips: (B, T, H, W, C) batches given to 2-D layers -----------------------
def _clip_frames(images):
    frames = images.shape[1]
    if not isinstance(frames, int):
        raise ValueError(
            "A batch of clips (B, frames, H, W, C) needs its number of "
            f"frames known when traced; received images of shape "
            f"{tuple(images.shape)}.")
    return frames


def _fold(x, frames):
    """``(B, T, ...)`` -> ``(B * T, ...)``."""
    return ops.reshape(x, (-1,) + tuple(x.shape[2:]))


def _unfold(x, frames):
    """``(B * T, ...)`` -> ``(B, T, ...)``."""
    return ops.reshape(x, (-1, frames) + tuple(x.shape[1:]))


def _map_targets(data, fn):
    out = dict(data)
    for key in (targets.IMAGES, targets.MASKS, targets.KEYPOINTS):
        if key in out:
            out[key] = fn(out[key])
    if targets.BOXES in out:
        out[targets.BOXES] = {k: fn(x) for k, x in out[targets.BOXES].items()}
    return out


def fold_clips(data):
    """A batch of clips as a batch of frames: ``(data, frames)``. Images
    and masks ``(B, T, H, W, C)``, boxes ``(B, T, N, 4)`` and keypoints
    ``(B, T, N, 2)`` (one set per frame) fold their frames into the batch;
    ``"labels"`` stay per clip."""
    frames = _clip_frames(data[targets.IMAGES])
    return _map_targets(data, lambda x: _fold(x, frames)), frames


def unfold_clips(data, frames):
    """The inverse of :func:`fold_clips`."""
    return _map_targets(data, lambda x: _unfold(x, frames))


def per_frame(parameters, frames):
    """Per-clip parameters ``(B, ...)`` repeated for each of a clip's
    ``frames`` (``(B * T, ...)``, in the order of :func:`fold_clips`);
    ``frames`` None: as they are."""
    if frames is None:
        return parameters
    import keras

    def repeat(x):
        if not hasattr(x, "shape") or len(x.shape) == 0:
            return x
        return ops.repeat(x, frames, axis=0)

    return keras.tree.map_structure(repeat, parameters)


def frames_as_channels(images, frames):
    """``(B * T, H, W, C)`` frames -> ``(B, H, W, T * C)``: a clip as one
    image, its frames side by side in the channels."""
    _, height, width, channels = images.shape
    clips = ops.transpose(_unfold(images, frames), (0, 2, 3, 1, 4))
    return ops.reshape(clips, (-1, height, width, frames * channels))


def channels_as_frames(images, frames):
    """The inverse of :func:`frames_as_channels`."""
    _, height, width, channels = images.shape
    clips = ops.reshape(images, (-1, height, width, frames,
                                 channels // frames))
    return _fold(ops.transpose(clips, (0, 3, 1, 2, 4)), frames)
