"""Runs a pure tensor function XLA-compiled where that pays off.

TensorFlow runs a plain graph of gathers several times slower than XLA does,
and a user's model is not always XLA-compiled (any layer with
``supports_jit = False`` in it turns XLA off for the whole model). Calling an
XLA-compiled function from a plain graph keeps most of XLA's speed, so on the
TensorFlow backend the augmentation work always runs compiled; inside an
XLA cluster the call is simply inlined. On JAX the function is ``jax.jit``-ed
likewise (inlined when the user's step is already traced), which also keeps
an eager call from materialising every intermediate. PyTorch runs the
function as it is.
"""

from keras import backend

_state = {"enabled": True}


def set_jit_augment(enabled):
    """Turns the XLA-compiled augmentation (TensorFlow, JAX) on or off."""
    _state["enabled"] = bool(enabled)


def in_tf_data():
    """True while tf.data traces a map function (TensorFlow backend only)."""
    if backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    # tf.data traces map functions into graphs named after the dataset op;
    # XLA-compiled functions are not supported there.
    graph = tf.compat.v1.get_default_graph()
    name = getattr(graph, "name", "") or ""
    return "Dataset" in name or "dataset" in name


def compiled(fn, static_argnums=()):
    """Wraps ``fn`` so that it runs XLA-compiled on TensorFlow and JAX.

    ``static_argnums``: the arguments that are Python constants (modes,
    fill values); JAX compiles once per value of them.
    """
    if backend.backend() == "jax":
        import jax

        jitted = jax.jit(fn, static_argnums=static_argnums)

        def run(*args):
            return jitted(*args) if _state["enabled"] else fn(*args)

        run.python_function = fn
        return run
    if backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    jitted = tf.function(fn, jit_compile=True, reduce_retracing=True,
                         autograph=False)

    def run(*args):
        if not _state["enabled"] or in_tf_data():
            return fn(*args)
        return jitted(*args)

    run.python_function = fn
    return run
