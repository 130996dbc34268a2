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
from augment_layers.layers.base import (BaseAugmentation, geometric_run,
                                        reads_wide_values)
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
            for segment in stage.segments:
                moving = compiled_segment(segment, compute_dtype)(
                    moving, seeds)
            data = dict(data, **moving)
        else:
            for m in stage.members:
                if m.layer.acts_at_inference:
                    data = m.layer.infer(dict(data, images=_cast(
                        data[targets.IMAGES], compute_dtype)))
    return data


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


def compiled_segment(segment, compute_dtype):
    """The compiled function of ``segment`` (shared by every layer and
    ``Augment`` whose segment computes the same)."""
    key = (compute_dtype, tuple(_unit_key(u) for u in segment))
    with _cache_lock:
        fn = _cache.get(key)
        if fn is not None:
            _cache.move_to_end(key)
            return fn
    # A displacement field's grid is sized by the image: one trace per size.
    per_shape = any(m.layer.displaces for u in segment for m in (
        u.members if isinstance(u, GeometricRun) else (u.member,)))
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
    """Pure: ``(moving tensors, call seeds) -> moving tensors``."""

    def run_segment(data, seeds):
        data = dict(data)
        wide = reads_wide_values(data[targets.IMAGES])
        # The cast fuses with the first read of the compiled function.
        data[targets.IMAGES] = ops.cast(data[targets.IMAGES], compute_dtype)
        for unit in units:
            batch, height, width, channels = ops.shape(data[targets.IMAGES])
            if isinstance(unit, GeometricRun):
                layers, transformations = [], []
                for m in unit.members:
                    # Each layer draws for the size it sees.
                    transformations.append(draws.materialize(
                        m.layer.random_parameters(
                            (batch, height, width, channels),
                            draws.Stream(seeds[m.slot], m.position))))
                    layers.append(m.layer)
                    height, width = m.layer.output_size(height, width)
                data = geometric_run(layers, transformations, data, wide)
            else:
                m = unit.member
                # Every phase of a layer draws the same parameters.
                t = draws.materialize(m.layer.random_parameters(
                    (batch, height, width, channels),
                    draws.Stream(seeds[m.slot], m.position)))
                data = m.layer.transform_phase(data, t, unit.phase)
            wide = reads_wide_values(data[targets.IMAGES])
        return data

    return run_segment

