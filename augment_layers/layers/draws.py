"""Where a layer's random parameters come from, wherever it runs.

Normally from the layer's ``keras.random.SeedGenerator``. Two places need
more: parallel ``tf.data`` map calls (they would race on the seed state) and
``tf.distribute`` replicas (each holds a copy of the same seed state).
"""

import threading
import weakref

import keras
from keras import backend
from keras import ops

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


def uniform(layer, shape, low, high):
    """float32 draws of ``shape`` from ``U(low, high)`` for ``layer``."""
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
