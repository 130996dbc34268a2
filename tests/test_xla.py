"""All layers stacked, compiled with XLA; and a jit-compiled Keras fit."""

import keras
import numpy as np
import tensorflow as tf

from tests import layer_cases
from tests.helpers import small_cnn


def test_all_layers_stacked_under_xla(rng):
    layers = [case.make(seed=i) for i, case in enumerate(layer_cases.CASES)]

    @tf.function(jit_compile=True)
    def augment(x):
        for layer in layers:
            x = layer(x, training=True)
        return x

    x = tf.constant(rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32"))
    out = augment(x)
    assert out.shape == x.shape
    assert np.all(np.isfinite(out.numpy()))
    # Really compiled: XLA's HLO exists for the whole function.
    hlo = augment.experimental_get_compiler_ir(x)(stage="hlo")
    assert "gather" in hlo


def test_model_fit_with_jit_compile(rng):
    model = small_cnn([case.make(seed=i) for i, case in
                       enumerate(layer_cases.CASES)])
    assert all(getattr(layer, "supports_jit", True) for layer in model.layers)
    model.compile("adam", "categorical_crossentropy", jit_compile=True)
    assert model.jit_compile
    x = rng.uniform(0, 255, (16, 24, 24, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 16), 3)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
