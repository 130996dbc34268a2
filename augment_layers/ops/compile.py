"""Runs a pure tensor function XLA-compiled where that pays off.

TensorFlow runs a plain graph of gathers several times slower than XLA does,
and a user's model is not always XLA-compiled (any layer with
``supports_jit = False`` in it turns XLA off for the whole model). Calling an
XLA-compiled function from a plain graph keeps most of XLA's speed, so on the
TensorFlow backend the augmentation work always runs compiled: in eager
calls, in the user's graphs and inside ``tf.data`` maps (measured: a map
reaches about 0.9x the direct call's speed compiled, a third uncompiled).
Inside an XLA cluster the call is simply inlined. On JAX the function is
``jax.jit``-ed likewise (inlined when the user's step is already traced).
PyTorch runs the function as it is.

Inside a ``tf.data`` map under JAX or PyTorch the ops run on TensorFlow (see
:mod:`augment_layers.ops.dispatch`), and the function is compiled there
with ``tf.function(jit_compile=True)``, as on the TensorFlow backend.
"""

import functools
import threading

from keras import backend

from augment_layers.ops import dispatch

_state = {"enabled": True}
_tracing = threading.local()


def set_jit_augment(enabled):
    """Turns the XLA-compiled augmentation (TensorFlow, JAX) on or off."""
    _state["enabled"] = bool(enabled)


def jit_augment_enabled():
    return _state["enabled"]


def in_tf_data():
    """True while tf.data traces a map function.

    On JAX and PyTorch that is the TensorFlow scope of
    :mod:`augment_layers.ops.dispatch`; on TensorFlow, a graph named after a
    dataset op.
    """
    if dispatch.in_tensorflow_scope():
        return True
    if backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    # tf.data traces map functions into graphs named after the dataset op.
    graph = tf.compat.v1.get_default_graph()
    name = getattr(graph, "name", "") or ""
    return "Dataset" in name or "dataset" in name


def _tf_jit(fn):
    import tensorflow as tf

    jitted = tf.function(fn, jit_compile=True, reduce_retracing=True,
                         autograph=False)
    # TensorFlow counts traces per code object, so every layer instance's
    # function adds to one count and a notebook that builds a few layers
    # sees "triggered tf.function retracing". Relaxed shapes keep the
    # traces to about two per instance and dtype; the warning says nothing
    # useful here.
    if hasattr(jitted, "_omit_frequent_tracing_warning"):
        jitted._omit_frequent_tracing_warning = True
    return jitted


# An eager call on fewer values than this runs op by op the first time:
# compiling costs 0.3-0.9 s on a CPU, more than a small batch takes op by
# op, and a one-off call (a preview, a notebook cell) never pays it back.
# From the second eager call on, or at once for a larger batch, and always
# inside a graph being traced (a train step, a tf.data map), it compiles.
EAGER_FIRST_CALL_VALUES = 1 << 20


def _eager_first_call(args, eager_calls):
    if eager_calls[0] > 0 or in_tf_data():
        return False
    values = 0
    for x in keras_tree_leaves(args):
        shape = getattr(x, "shape", None)
        if shape is None:
            continue
        if not _is_eager(x):
            return False  # traced: compile into the user's graph
        count = 1
        for d in shape:
            count *= int(d) if d is not None else 0
        values = max(values, count)
    eager_calls[0] += 1
    return values < EAGER_FIRST_CALL_VALUES


def keras_tree_leaves(args):
    import keras

    return keras.tree.flatten(args)


def _is_eager(x):
    if dispatch.active_backend() == "tensorflow":
        import tensorflow as tf

        if tf.is_tensor(x):
            return tf.executing_eagerly() and hasattr(x, "numpy")
        return tf.executing_eagerly()
    if backend.backend() == "jax":
        import jax

        return not isinstance(x, jax.core.Tracer)
    return True


def _traced_as_one(fn):
    """``fn``, marking its trace: compiled functions it calls are traced
    into it as plain Python (see :func:`compiled`)."""
    @functools.wraps(fn)
    def traced(*args):
        _tracing.depth = getattr(_tracing, "depth", 0) + 1
        try:
            return fn(*args)
        finally:
            _tracing.depth -= 1
    return traced


def _inside_a_compiled_trace():
    return getattr(_tracing, "depth", 0) > 0


def compiled(fn, static_argnums=()):
    """Wraps ``fn`` so that it runs XLA-compiled on TensorFlow and JAX.

    ``static_argnums``: the arguments that are Python constants (modes,
    fill values); JAX compiles once per value of them (tf.function treats
    Python values as constants of the trace anyway).
    """
    native = None
    tf_jitted = None
    eager_calls = [0]

    def run(*args):
        nonlocal native, tf_jitted
        if not _state["enabled"]:
            return fn(*args)
        if _inside_a_compiled_trace():
            # Called while another of these functions is traced (a layer's
            # resample inside an Augment's call): XLA would inline it
            # anyway. Traced on its own, it would keep a signature of its
            # own, shared by every caller in the process, which TensorFlow
            # relaxes to unknown sizes after a few (and a resample of
            # unknown width cannot be written in column strips).
            return fn(*args)
        if _eager_first_call(args, eager_calls):
            return fn(*args)
        if dispatch.active_backend() == "tensorflow":
            if tf_jitted is None:
                tf_jitted = _tf_jit(_traced_as_one(fn))
            return tf_jitted(*args)
        if backend.backend() == "jax":
            if native is None:
                import jax

                native = jax.jit(_traced_as_one(fn),
                                 static_argnums=static_argnums)
            return native(*args)
        return fn(*args)

    def tracing_count():
        """How many times TensorFlow traced the function (0 elsewhere)."""
        return 0 if tf_jitted is None else \
            tf_jitted.experimental_get_tracing_count()

    run.python_function = fn
    run.tracing_count = tracing_count
    return run
