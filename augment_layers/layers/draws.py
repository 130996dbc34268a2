"""Where a layer's random parameters come from, wherever it runs.

A call of a layer (or of :class:`Augment`) takes one **call seed** per
augmenting layer, outside its compiled function: normally the next state
of the layer's ``keras.random.SeedGenerator``. Inside the compiled
function, within :class:`stream`, every draw of that layer is a
*stateless* draw from the call seed folded with a counter, so the draws
compile with the work (one compiled call, no op-by-op plumbing around it).

Two places need more than the seed state: parallel ``tf.data`` map calls
(they would race on its read-then-assign: there the seed comes from an
atomic ``tf.random.Generator``) and ``tf.distribute`` replicas (each holds
a copy of the same seed state: each folds in its replica id).
"""

import threading
import weakref

import keras
from keras import backend
from keras import ops

from augment_layers.ops import dispatch
from augment_layers.ops.compile import in_tf_data


_seeded = threading.local()


class seeded:
    """Within it, every draw of this thread comes from ``seed`` and a
    counter instead of the layers' seed state: a call made twice in such a
    scope with one seed draws the same parameters, whatever ran in between
    and in whichever thread (the drop-in ImageDataGenerator's batches)."""

    def __init__(self, seed):
        self.seed = int(seed)

    def __enter__(self):
        self._before = getattr(_seeded, "state", None)
        _seeded.state = [self.seed, 0]
        return self

    def __exit__(self, *exc):
        _seeded.state = self._before


def _next_seed():
    state = getattr(_seeded, "state", None)
    if state is None:
        return None
    state[1] += 1
    return (state[0] * 1_000_003 + state[1]) % (2**31 - 1)


_streams = threading.local()


class stream:
    """Within it, ``layer``'s draws are stateless draws from ``seed`` (its
    call seed, see :func:`call_seed`) and a counter: the same seed gives
    the same draws, in a trace as in eager code."""

    def __init__(self, layer, seed):
        self.layer, self.seed = layer, seed

    def __enter__(self):
        active = getattr(_streams, "active", None)
        if active is None:
            active = _streams.active = {}
        self._before = active.get(id(self.layer))
        active[id(self.layer)] = [self.seed, 0]
        return self

    def __exit__(self, *exc):
        active = _streams.active
        if self._before is None:
            del active[id(self.layer)]
        else:
            active[id(self.layer)] = self._before


def _as_int32_seed(seed):
    """A ``(2,)`` int32 tensor (TensorFlow's stateless ops under XLA)."""
    import tensorflow as tf

    seed = tf.convert_to_tensor(seed)
    if seed.dtype != tf.int32:
        seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64),
                                        tf.int32.max - 1), tf.int32)
    return seed


def call_seed(layer):
    """The seed of one call of ``layer``: its next seed state (a ``(2,)``
    tensor), taken outside the compiled function. Call it under the draw
    lock: reading and advancing the state is not atomic."""
    seed = _next_seed()
    if seed is not None:
        return _seed_tensor([seed, 0])
    if in_tf_data():
        import tensorflow as tf

        return _as_int32_seed(tf.reshape(
            _tf_data_generator(layer).make_seeds(1), (2,)))
    seed = _next_state(layer.seed_generator)
    replicas = _replica_context()
    if replicas is not None:
        import tensorflow as tf

        seed = tf.random.experimental.stateless_fold_in(
            _as_int32_seed(seed), replicas[1], alg="philox")
    return seed


def _next_state(generator):
    """``generator.next()``: its state before the call, advanced by
    ``(0, 1)``.

    Called eagerly on TensorFlow, Keras's ``next`` runs five ops through
    its variable plumbing (about 230 us, twice a call of a two-layer
    pipeline); a plain resource variable takes two, a read and an
    ``assign_add``. The read stays intact: TensorFlow copies a variable's
    buffer before updating it while a read of it is alive. Anywhere else
    (a trace, a stateless or symbolic scope, a distributed variable, JAX,
    PyTorch) Keras's own ``next`` runs.
    """
    variable = getattr(generator.state, "value", None)
    if (backend.backend() == "tensorflow"
            and type(variable).__name__ == "ResourceVariable"
            and not _in_keras_scope()):
        import tensorflow as tf

        if tf.executing_eagerly() and not tf.distribute.has_strategy():
            seed = variable.value()
            variable.assign_add(_increment(variable.dtype), read_value=False)
            return seed
    return generator.next()


def _in_keras_scope():
    from keras.src.backend.common.stateless_scope import in_stateless_scope
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope

    return in_stateless_scope() or in_symbolic_scope()


_INCREMENTS = {}


def _increment(dtype):
    """The constant ``(0, 1)`` of ``dtype``, made once."""
    if dtype not in _INCREMENTS:
        import tensorflow as tf

        _INCREMENTS[dtype] = tf.constant([0, 1], dtype)
    return _INCREMENTS[dtype]


def _seed_tensor(values):
    if dispatch.active_backend() == "tensorflow":
        import tensorflow as tf

        return tf.constant(values, tf.int32)
    if backend.backend() == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values, dtype="uint32")
    return values  # PyTorch: Python ints


def _stateless_uniform(seed, counter, shape, low, high):
    if backend.backend() == "jax" and dispatch.active_backend() != "tensorflow":
        import jax

        key = jax.random.fold_in(jax.numpy.asarray(seed, "uint32"), counter)
        return jax.random.uniform(key, tuple(shape), "float32", low, high)
    bits = _bits()
    if isinstance(bits, _TorchBits):
        return _torch_hash_uniform(bits, seed, counter, shape, low, high)
    return _hash_uniform(bits, seed, counter, shape, low, high)


def _torch_hash_uniform(*args):
    """:func:`_hash_uniform` on PyTorch, run eagerly inside ``torch.compile``.

    Traced, its thirty-odd integer ops went into every compiled graph and
    the compiler generated and built code for each (a ``jit_compile=True``
    fit of every layer took five times as long to compile); run eagerly
    they cost microseconds. The seed stays a tensor argument either way,
    so a new seed value never recompiles anything.
    """
    return _hash_uniform(*args)


if backend.backend() == "torch":  # wrapped once, outside any compiled code
    import torch

    _torch_hash_uniform = torch.compiler.disable(_torch_hash_uniform)


_MASK = 0xFFFFFFFF


class _TensorFlowBits:
    """The hash's integer ops on TensorFlow int64 tensors."""

    def __init__(self):
        import tensorflow as tf

        self.tf = tf
        self.xor = tf.bitwise.bitwise_xor
        self.shr = tf.bitwise.right_shift
        self.mask = lambda x: tf.bitwise.bitwise_and(x, _MASK)

    def seed(self, seed):
        return self.mask(self.tf.cast(seed, self.tf.int64))

    def index(self, shape):
        tf = self.tf
        count = tf.reduce_prod(tf.cast(tf.stack(shape), tf.int64)) if shape \
            else tf.constant(1, tf.int64)
        return tf.range(count, dtype=tf.int64)

    def to_unit(self, bits, shape):
        tf = self.tf
        return tf.reshape(tf.cast(self.shr(bits, 8), tf.float32), shape) * (
            1.0 / (1 << 24))


class _TorchBits:
    """The hash's integer ops on PyTorch int64 tensors, on the seed's device.

    The seed stays a tensor: no host sync per draw, and ``torch.compile``
    sees a tensor input instead of a new Python int on every call (which
    made it recompile each step).
    """

    def __init__(self):
        import torch

        self.torch = torch
        self.xor = torch.bitwise_xor
        self.shr = torch.bitwise_right_shift
        self.mask = lambda x: torch.bitwise_and(x, _MASK)

    def seed(self, seed):
        if not isinstance(seed, self.torch.Tensor):
            seed = ops.convert_to_tensor(seed, "int64")
        self.device = seed.device
        return self.mask(seed.to(self.torch.int64))

    def index(self, shape):
        count = 1
        for d in shape:
            count *= int(d)
        return self.torch.arange(count, dtype=self.torch.int64,
                                 device=self.device)

    def to_unit(self, bits, shape):
        torch = self.torch
        return self.shr(bits, 8).to(torch.float32).reshape(
            tuple(int(d) for d in shape)) * (1.0 / (1 << 24))


def _bits():
    if dispatch.active_backend() == "tensorflow":
        return _TensorFlowBits()
    return _TorchBits()


def _mix32(b, x):
    """A 32-bit integer hash (Wellons' "lowbias32"), on int64 tensors
    holding 32-bit values: the same bits op by op, under XLA and on
    PyTorch."""
    x = b.xor(x, b.shr(x, 16))
    x = b.mask(x * 0x7FEB352D)
    x = b.xor(x, b.shr(x, 15))
    x = b.mask(x * 0x846CA68B)
    return b.xor(x, b.shr(x, 16))


def _hash_uniform(b, seed, counter, shape, low, high):
    """Stateless uniform draws from a counter-based hash (TensorFlow and
    PyTorch).

    TensorFlow's own stateless ops draw different numbers under XLA than
    op by op (even with a named algorithm), and a layer's first small eager
    call runs op by op (see :mod:`augment_layers.ops.compile`): both paths
    must draw alike. Each value hashes its index with a key hashed from the
    call seed and the draw's counter; 24 bits make a float32 in [0, 1).
    The same seed draws the same numbers on both backends.
    """
    seed = b.seed(seed)
    key = _mix32(b, b.xor(
        _mix32(b, b.xor(seed[0], counter * 0x9E3779B9 & _MASK)), seed[1]))
    key2 = _mix32(b, b.mask(key + 0x632BE5AB))
    shape = [int(d) if isinstance(d, int) else d for d in shape]
    bits = _mix32(b, b.mask(_mix32(b, b.xor(b.index(shape), key)) + key2))
    return low + (high - low) * b.to_unit(bits, shape)


def uniform(layer, shape, low, high):
    """float32 draws of ``shape`` from ``U(low, high)`` for ``layer``."""
    active = getattr(_streams, "active", None)
    if active and id(layer) in active:
        state = active[id(layer)]
        state[1] += 1
        return _stateless_uniform(state[0], state[1], shape, low, high)
    seed = _next_seed()
    if seed is not None:
        return keras.random.uniform(shape, low, high, dtype="float32",
                                    seed=seed)
    if in_tf_data():
        return _tf_data_generator(layer).uniform(shape, low, high,
                                                 dtype="float32")
    replicas = _replica_context()
    if replicas is None:
        return keras.random.uniform(shape, low, high, dtype="float32",
                                    seed=layer.seed_generator)
    # Draw for every replica; each keeps its own slice.
    count, index = replicas
    every = keras.random.uniform((count, *shape), low, high, dtype="float32",
                                 seed=layer.seed_generator)
    return ops.take(every, index, axis=0)


# Inside tf.data the layer draws from a tf.random.Generator instead of its
# SeedGenerator: parallel map calls would race on the SeedGenerator's
# read-then-assign and could draw the same parameters twice, whereas each
# stateful Generator op advances its state atomically.
_tf_data_generators = weakref.WeakKeyDictionary()


def _tf_data_generator(layer):
    generator = _tf_data_generators.get(layer)
    if generator is None:
        import tensorflow as tf

        with tf.init_scope():
            if layer.seed is None:
                generator = tf.random.Generator.from_non_deterministic_state()
            else:
                generator = tf.random.Generator.from_seed(layer.seed)
        _tf_data_generators[layer] = generator
    return generator


def _replica_context():
    """``(replica count, replica id)`` inside a multi-replica ``tf.distribute``
    step on the TensorFlow backend, else None."""
    if backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return None
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync < 2:
        return None
    return context.num_replicas_in_sync, context.replica_id_in_sync_group
