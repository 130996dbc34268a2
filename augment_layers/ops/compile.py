"""Runs a pure tensor function XLA-compiled: the package's one numeric path.

On TensorFlow every segment of augmentation work runs as a
``tf.function(jit_compile=True)``: in eager calls, in the user's graphs and
inside ``tf.data`` maps (a plain TensorFlow graph of gathers runs several
times slower, and a user's model is not always XLA-compiled). Inside the
user's own XLA cluster the call is inlined. On JAX it is ``jax.jit``-ed
likewise. PyTorch runs the function as it is (``torch.compile`` of the
user's step traces it).

There is no op-by-op fast path for a first small call: compiled and op by op
round differently, and the same seed must give the same bits however the
call is made. The compile (0.3-0.9 s on a CPU) is paid once per distinct
piece of work, which :mod:`augment_layers.layers.executor` caches.
"""

from keras import backend

from augment_layers.ops import dispatch

_state = {"enabled": True}


def set_jit_augment(enabled):
    """Turns the XLA-compiled augmentation (TensorFlow, JAX) on or off.

    A debugging switch: off, every op runs one by one (slow, and the last
    bits of a result may differ from the compiled run).
    """
    _state["enabled"] = bool(enabled)


def _tf_jit(fn, per_shape=False):
    import tensorflow as tf

    jitted = tf.function(fn, jit_compile=True,
                         reduce_retracing=not per_shape, autograph=False)
    # TensorFlow counts traces per code object, so every cached piece of
    # work adds to one count and warns of "retracing" that is by design.
    if hasattr(jitted, "_omit_frequent_tracing_warning"):
        jitted._omit_frequent_tracing_warning = True
    return jitted


def compiled(fn, static_argnums=(), per_shape=False):
    """Wraps the pure function ``fn`` so that it runs XLA-compiled on
    TensorFlow (including inside a ``tf.data`` map on any backend) and JAX.

    ``static_argnums``: the arguments that are Python constants (modes,
    fill values); JAX compiles once per value of them (tf.function treats
    Python values as constants of the trace anyway).
    ``per_shape``: TensorFlow traces once per input shape, as JAX does
    (otherwise, after a second shape, one trace takes any size): for work
    whose shapes depend on the image size (a displacement field's grid).
    """
    cache = {}

    def run(*args):
        if not _state["enabled"]:
            return fn(*args)
        name = dispatch.active_backend()
        if name == "tensorflow":
            if "tf" not in cache:
                cache["tf"] = _tf_jit(fn, per_shape)
            return cache["tf"](*args)
        if backend.backend() == "jax":
            if "jax" not in cache:
                import jax

                cache["jax"] = jax.jit(fn, static_argnums=static_argnums)
            return cache["jax"](*args)
        return fn(*args)

    def tracing_count():
        """How many times TensorFlow traced the function (0 elsewhere)."""
        return cache["tf"].experimental_get_tracing_count() \
            if "tf" in cache else 0

    run.python_function = fn
    run.tracing_count = tracing_count
    return run
