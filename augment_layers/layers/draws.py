"""The one source of randomness: a call seed, and draws from it.

Every random parameter of every layer comes from one function,
:meth:`Stream.uniform`: a counter-based hash of ``(call seed, salt, counter,
index)``, the same integer arithmetic on TensorFlow, JAX and PyTorch, op by
op or compiled, so the same call seed gives the same bits everywhere.

- A **call seed** (a ``(2,)`` integer tensor) is taken once per call of a
  layer, outside its compiled function, by :func:`call_seed`: the next state
  of the layer's ``keras.random.SeedGenerator``, or, inside ``tf.data``, of
  an atomic ``tf.random.Generator`` (parallel map calls would race on the
  SeedGenerator's read-then-assign); a ``tf.distribute`` replica folds in its
  replica id. ``layer(x, training=True, seed=n)`` gives the call seed
  ``(n, 0)`` instead (the ImageDataGenerator drop-in seeds each batch so).
- A :class:`Stream` is that call seed plus a **salt**, the layer's place in
  its ``Augment`` (0 for a layer called on its own), plus a counter advanced
  by each draw. Two children of one ``Augment`` with equal seeds, or the same
  object twice, therefore draw independently.
- Value ``i`` of a draw of shape ``(B, ...)`` hashes its flat index ``i``, so
  image ``k``'s draws do not depend on the batch size.
"""

import threading

from keras import backend
from keras import ops

from augment_layers.ops import dispatch

# Taking call seeds is a read and then a write of a layer's seed state; two
# threads calling one layer at once could otherwise take the same seed.
DRAW_LOCK = threading.RLock()

_MASK = 0xFFFFFFFF


class Stream:
    """Stateless draws from one call seed and salt.

    Args:
        seed: the call seed, a ``(2,)`` integer tensor (or pair of ints).
        salt: a small int mixed into every draw (the layer's position in
            its ``Augment``).
    """

    def __init__(self, seed, salt=0):
        self.seed = seed
        self.salt = int(salt)
        self._counter = 0

    def uniform(self, batch_size, low, high, per_image=()):
        """``(batch_size, *per_image)`` float32 draws from ``U(low, high)``."""
        self._counter += 1
        bits = _bits()
        draw = _torch_hash_uniform if isinstance(bits, _TorchBits) \
            else _hash_uniform
        return draw(bits, self.seed, self._counter, self.salt,
                    (batch_size, *per_image), low, high)

    def bernoulli(self, batch_size, probability=0.5):
        """``(batch_size,)`` booleans, true with ``probability``."""
        return self.uniform(batch_size, 0.0, 1.0) < probability


def call_seed(layer, seed=None):
    """The seed of one call of ``layer`` (a ``(2,)`` integer tensor), taken
    outside its compiled function.

    ``seed``: a key given to the call (an int, or an integer scalar tensor
    such as an element's index in a ``tf.data`` pipeline), which replaces
    the layer's seed state: the call seed is ``(seed mod (2**31 - 1), 0)``,
    the same for an int and a tensor, in whatever worker runs the call.

    Otherwise the layer's own stream, told apart from its copies in other
    workers, processes and replicas (:func:`worker_key`):

    - in ``tf.data``, a seeded layer's atomic ``tf.random.Generator`` with
      this process's worker key folded in; an unseeded layer's call seed
      comes from the operating system's entropy, per call, in whichever
      process runs the graph (a ``tf.data`` service worker runs a copy of
      it, with a copy of any state it holds);
    - elsewhere the next state of the layer's ``SeedGenerator``, with the
      worker key folded in, and a ``tf.distribute`` replica's id.
    """
    if seed is not None:
        return _key_seed(seed)
    key = worker_key()
    with DRAW_LOCK:
        if dispatch.in_tf_data():
            return _tf_data_seed(layer, key)
        state = _next_state(layer.seed_generator)
    if key is not None:
        state = ops.bitwise_xor(state, ops.convert_to_tensor(
            [key, 0], backend.standardize_dtype(state.dtype)))
    replica = _replica_id()
    if replica is not None:
        import tensorflow as tf

        state = tf.random.experimental.stateless_fold_in(
            _as_int32_seed(state), replica, alg="philox")
    return state


def _key_seed(seed):
    """``(seed mod (2**31 - 1), 0)``: for an int, or an integer tensor."""
    if isinstance(seed, int) or getattr(seed, "shape", None) is None:
        return _seed_tensor([int(seed) % (2**31 - 1), 0])
    if dispatch.active_backend() == "tensorflow":
        import tensorflow as tf

        seed = tf.math.floormod(tf.cast(tf.reshape(seed, ()), tf.int64),
                                2**31 - 1)
        return tf.stack([tf.cast(seed, tf.int32), tf.constant(0, tf.int32)])
    seed = ops.mod(ops.cast(ops.reshape(seed, ()), "int64"), 2**31 - 1)
    return ops.stack([ops.cast(seed, "int32"), ops.zeros((), "int32")])


def _tf_data_seed(layer, key):
    import tensorflow as tf

    if layer.seed is None:
        # seed=seed2=0: the kernel seeds itself from the OS, unaffected by
        # a global seed, in every process and every copy of the graph.
        return tf.raw_ops.RandomUniformInt(
            shape=tf.constant([2]), minval=tf.constant(0),
            maxval=tf.constant(2**31 - 1), seed=0, seed2=0)
    seed = _as_int32_seed(tf.reshape(
        _tf_data_generator(layer).make_seeds(1), (2,)))
    if key is not None:
        seed = tf.bitwise.bitwise_xor(seed, tf.constant([key, 0], tf.int32))
    return seed


# -- workers ------------------------------------------------------------------
# A worker process runs a copy of the layer, with a copy of its seed state.
# Its place among its peers, as the engine tells it, keys its draws.
_declared_worker = None
_worker_keys = {}  # pid -> key (a forked child recomputes its own)


def set_worker_index(index, count=None):
    """Declares this process's place among its peers: worker ``index`` (of
    ``count``). Every layer's draws in this process then come from its
    seed state with ``index`` folded in, so seeded workers draw distinct,
    reproducible streams. Its signature is Grain's ``worker_init_fn``::

        dataset.mp_prefetch(options, worker_init_fn=al.set_worker_index)

    Without it, a multiprocessing child (a Grain or ``PyDataset`` worker)
    is keyed by its process's place in multiprocessing's own count: distinct
    from its peers, but not tied to the work a worker gets. ``None`` takes
    the declaration back."""
    global _declared_worker
    if index is None:
        _declared_worker = None
        _worker_keys.clear()
        return
    index = int(index)
    if index < 0 or (count is not None and index >= int(count)):
        raise ValueError(f"set_worker_index: index {index} is not in "
                         f"[0, {count}).")
    _declared_worker = index
    _worker_keys.clear()


def worker_key():
    """The key that tells this process's draws from its peers' (a 31-bit
    int), or None in a lone process (whose draws are then unchanged). From,
    in this order: :func:`set_worker_index`; a multi-worker
    ``tf.distribute`` cluster's task (``TF_CONFIG``); a multi-process JAX
    job's ``jax.process_index()``; a multiprocessing child's identity."""
    import os

    pid = os.getpid()
    if pid not in _worker_keys:
        place = _worker_place()
        _worker_keys.clear()
        _worker_keys[pid] = None if place is None else _place_key(place)
    return _worker_keys[pid]


def _worker_place():
    import json
    import multiprocessing
    import os
    import sys

    if _declared_worker is not None:
        return ("worker", _declared_worker)
    config = os.environ.get("TF_CONFIG")
    if config:
        try:
            parsed = json.loads(config)
            cluster = parsed.get("cluster", {})
            task = parsed.get("task", {})
            if sum(len(v) for v in cluster.values()) > 1 and task:
                return (task.get("type", "worker"), int(task.get("index", 0)))
        except (ValueError, TypeError, AttributeError):
            pass
    if backend.backend() == "jax" and "jax" in sys.modules:
        # Only under JAX: asking starts JAX's runtime (and its threads).
        jax = sys.modules["jax"]
        try:
            if jax.process_count() > 1:
                return ("jax", jax.process_index())
        except Exception:  # noqa: BLE001 - JAX not initialised for this
            pass
    identity = getattr(multiprocessing.current_process(), "_identity", ())
    if identity:
        return ("process",) + tuple(identity)
    return None


def _place_key(place):
    """A 31-bit hash of a worker's place (the same in every run)."""
    import zlib

    return zlib.crc32(repr(place).encode()) & 0x7FFFFFFF or 1


def _as_int32_seed(seed):
    """A ``(2,)`` int32 tensor (TensorFlow's stateless ops under XLA)."""
    import tensorflow as tf

    seed = tf.convert_to_tensor(seed)
    if seed.dtype != tf.int32:
        seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64),
                                        tf.int32.max - 1), tf.int32)
    return seed


def _next_state(generator):
    """``generator.next()``: its state before the call, advanced by
    ``(0, 1)``. Run eagerly on TensorFlow, the same in two variable ops (a
    read and an ``assign_add``) instead of Keras's five (about 0.2 ms each);
    anywhere else Keras's own ``next``."""
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
    return ops.convert_to_tensor(values, "int32")


def _replica_id():
    """The replica id inside a multi-replica ``tf.distribute`` step on the
    TensorFlow backend (each replica holds a copy of the same seed state),
    else None."""
    if backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if not tf.distribute.has_strategy() or \
            tf.distribute.in_cross_replica_context():
        return None
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync < 2:
        return None
    return context.replica_id_in_sync_group


# Inside tf.data a seeded layer's call seed comes from a tf.random.Generator:
# each of its ops advances the state atomically, so parallel map calls never
# share one.
_tf_data_generators = {}


def _tf_data_generator(layer):
    import weakref

    key = id(layer)
    entry = _tf_data_generators.get(key)
    if entry is None or entry[0]() is not layer:
        import tensorflow as tf

        with tf.init_scope():
            generator = tf.random.Generator.from_seed(layer.seed)
        entry = (weakref.ref(layer, lambda _, k=key:
                             _tf_data_generators.pop(k, None)), generator)
        _tf_data_generators[key] = entry
    return entry[1]


# -- the hash ---------------------------------------------------------------
class _TensorFlowBits:
    """The hash's integer ops on TensorFlow int64 tensors."""

    def __init__(self):
        import tensorflow as tf

        self.tf = tf
        self.xor = tf.bitwise.bitwise_xor
        self.shr = tf.bitwise.right_shift
        self.mask = lambda x: tf.bitwise.bitwise_and(x, _MASK)
        self.const = int

    def seed(self, seed):
        return self.mask(self.tf.cast(seed, self.tf.int64))

    def index(self, shape):
        tf = self.tf
        count = tf.reduce_prod(tf.cast(tf.stack(shape), tf.int64))
        return tf.range(count, dtype=tf.int64)

    def to_unit(self, bits, shape):
        tf = self.tf
        return tf.reshape(tf.cast(self.shr(bits, 8), tf.float32), shape) * (
            1.0 / (1 << 24))


class _JaxBits:
    """The hash's integer ops on JAX uint32 arrays (arithmetic wraps at
    2**32, so the masks are no-ops)."""

    def __init__(self):
        import jax.numpy as jnp

        self.jnp = jnp
        self.xor = jnp.bitwise_xor
        self.shr = jnp.right_shift
        self.mask = lambda x: x
        self.const = jnp.uint32

    def seed(self, seed):
        jnp = self.jnp
        seed = jnp.asarray(seed)
        if seed.dtype != jnp.uint32:
            seed = seed.astype(jnp.int64 if seed.dtype.itemsize == 8
                               else jnp.int32).astype(jnp.uint32)
        return seed

    def index(self, shape):
        count = 1
        for d in shape:
            count *= d
        return self.jnp.arange(count, dtype=self.jnp.uint32)

    def to_unit(self, bits, shape):
        jnp = self.jnp
        return jnp.reshape(self.shr(bits, 8).astype(jnp.float32),
                           tuple(shape)) * jnp.float32(1.0 / (1 << 24))


class _TorchBits:
    """The hash's integer ops on PyTorch int64 tensors, on the seed's device
    (the seed stays a tensor: no host sync per draw, and ``torch.compile``
    sees a tensor input, not a new Python int every call)."""

    def __init__(self):
        import torch

        self.torch = torch
        self.xor = torch.bitwise_xor
        self.shr = torch.bitwise_right_shift
        self.mask = lambda x: torch.bitwise_and(x, _MASK)
        self.const = int

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
    name = dispatch.active_backend()
    if name == "tensorflow":
        return _TensorFlowBits()
    if name == "jax":
        return _JaxBits()
    return _TorchBits()


def _mix32(b, x):
    """A 32-bit integer hash (Wellons' "lowbias32")."""
    x = b.xor(x, b.shr(x, 16))
    x = b.mask(x * b.const(0x7FEB352D))
    x = b.xor(x, b.shr(x, 15))
    x = b.mask(x * b.const(0x846CA68B))
    return b.xor(x, b.shr(x, 16))


def _hash_uniform(b, seed, counter, salt, shape, low, high):
    """Each value hashes its flat index with a key hashed from the call
    seed, the salt and the draw's counter; 24 bits make a float32 in
    [0, 1). Integer ops are exact, so the bits are the same op by op, under
    XLA and on every backend."""
    seed = b.seed(seed)
    stream = (counter * 0x9E3779B9 + salt * 0x85EBCA6B) & _MASK
    key = _mix32(b, b.xor(_mix32(b, b.xor(seed[0], b.const(stream))),
                          seed[1]))
    key2 = _mix32(b, b.mask(key + b.const(0x632BE5AB)))
    shape = [int(d) if isinstance(d, int) else d for d in shape]
    bits = _mix32(b, b.mask(_mix32(b, b.xor(b.index(shape), key)) + key2))
    return low + (high - low) * b.to_unit(bits, shape)


def _torch_hash_uniform(*args):
    """:func:`_hash_uniform` on PyTorch, run eagerly inside
    ``torch.compile``: traced, its thirty-odd integer ops went into every
    compiled graph (a ``jit_compile=True`` fit of every layer took five
    times as long to compile)."""
    return _hash_uniform(*args)


if backend.backend() == "torch":  # wrapped once, outside any compiled code
    import torch

    _torch_hash_uniform = torch.compiler.disable(_torch_hash_uniform)


def materialize(parameters):
    """The per-image parameters, computed once before the pixels use them.

    XLA fuses cheap element-wise producers into their consumers, so a
    parameter computed from the counter hash (thirty-odd integer ops) and
    read by every pixel of its image was recomputed for every pixel: a
    random hue turn took eight times as long as a fixed one. A reduction
    is never duplicated into its consumers: each small leaf (rank 3 or
    less) goes through a sum with a zero, which leaves its value exactly as
    it was (the same bits) and makes XLA compute it once. Larger leaves (a
    noise field) are per pixel anyway and pass as they are."""
    import keras

    from augment_layers.ops.dispatch import active_backend
    from augment_layers.ops.dispatch import ops as active_ops

    if active_backend() == "torch":
        return parameters  # no fusion to fear

    def once(value):
        if not hasattr(value, "shape") or len(value.shape) > 3:
            return value
        dtype = backend.standardize_dtype(value.dtype)
        work = active_ops.cast(value, "int32") if dtype == "bool" else value
        work = active_ops.sum(active_ops.stack(
            [work, active_ops.zeros_like(work)], axis=-1), axis=-1)
        return work != 0 if dtype == "bool" else work

    return keras.tree.map_structure(once, parameters)
