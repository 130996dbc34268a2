"""What the tests need to know about the Keras backend they run under.

``make test`` runs the suite three times: under TensorFlow (everything), then
under JAX and PyTorch (all but the tests marked ``tensorflow_only``).
"""

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()

tensorflow_only = pytest.mark.tensorflow_only


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def jit(fn, static_argnums=()):
    """``fn`` compiled by the backend's XLA: tf.function or jax.jit."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if BACKEND == "jax":
        import jax

        return jax.jit(fn, static_argnums=static_argnums)
    pytest.skip("PyTorch has no XLA compilation; the layers run eagerly there")


def jit_layer_call(layer, x):
    """``layer(x, training=True)`` inside one XLA-compiled function."""
    if BACKEND == "jax":
        import jax

        @jax.jit
        def step(state, x):
            # JAX is functional: the seed state goes in and comes out.
            return layer.stateless_call([], state, x, training=True)

        out, state = step([v.value for v in layer.non_trainable_variables], x)
        for variable, value in zip(layer.non_trainable_variables, state):
            variable.assign(value)
        return out
    return jit(lambda t: layer(t, training=True))(x)


def layer_hlo(layer, x):
    """The optimised XLA HLO text of ``layer(x, training=True)``."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda t: layer(t, training=True), jit_compile=True)
        return fn.experimental_get_compiler_ir(x)(stage="hlo")
    if BACKEND == "jax":
        import jax

        def fn(state, t):
            return layer.stateless_call([], state, t, training=True)[0]

        state = [v.value for v in layer.non_trainable_variables]
        return jax.jit(fn).lower(state, x).compile().as_text()
    pytest.skip("PyTorch has no XLA compilation; the layers run eagerly there")


def stored_dtype(dtype):
    """The dtype the backend keeps an array of ``dtype`` in (JAX without x64
    stores int64 as int32 and float64 as float32): what "keeps its dtype"
    can mean there."""
    tensor = keras.ops.convert_to_tensor(np.zeros((1,), dtype))
    return np.dtype(keras.backend.standardize_dtype(tensor.dtype))


def resamples(hlo, other_gathers=0):
    """How many image resamples an optimised HLO holds: each native
    resample is one custom call (``augment_layers_resample``), each
    general bilinear one is four gathers (``other_gathers`` are the
    program's gathers of other things)."""
    native = hlo.count('custom_call_target="augment_layers_resample"')
    gathers = hlo.count(" gather(") - other_gathers
    assert gathers % 4 == 0, f"{gathers} gathers is not whole resamples"
    return native + gathers // 4
