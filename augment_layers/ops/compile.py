"""Runs a pure tensor function XLA-compiled where that pays off.

TensorFlow runs a plain graph of gathers several times slower than XLA does,
and a user's model is not always XLA-compiled (any layer with
``supports_jit = False`` in it turns XLA off for the whole model). Calling an
XLA-compiled function from a plain graph keeps most of XLA's speed, so on the
TensorFlow backend the augmentation work always runs compiled; inside an
XLA cluster the call is simply inlined. JAX and PyTorch run the function as
it is (their users jit the whole step).
"""

from keras import backend

_state = {"enabled": True}


def set_jit_augment(enabled):
    """Turns the TensorFlow backend's XLA-compiled augmentation on or off."""
    _state["enabled"] = bool(enabled)


def _in_tf_data():
    import tensorflow as tf

    # tf.data traces map functions into graphs named after the dataset op;
    # XLA-compiled functions are not supported there.
    graph = tf.compat.v1.get_default_graph()
    name = getattr(graph, "name", "") or ""
    return "Dataset" in name or "dataset" in name


def compiled(fn):
    """Wraps ``fn`` so that it runs XLA-compiled on the TensorFlow backend."""
    if backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    jitted = tf.function(fn, jit_compile=True, reduce_retracing=True,
                         autograph=False)

    def run(*args):
        if not _state["enabled"] or _in_tf_data():
            return fn(*args)
        return jitted(*args)

    run.python_function = fn
    return run
