"""All layers stacked, compiled with XLA; and a jit-compiled Keras fit.

On JAX the fit is a ``jax.jit``-compiled train step; Keras's own geometric
layers switch that off, ours do not.
"""

import keras
import numpy as np
import pytest

from tests import layer_cases
from tests.backend import jit_layer_call
from tests.backend import layer_hlo
from tests.backend import to_numpy
from tests.helpers import FULL
from tests.helpers import small_cnn


# AugMix, AutoAugment and the displacement fields compile under XLA on their
# own (test_contract.py::test_runs_under_xla; the fields fused with matrices:
# test_fields.py); in a stack of every layer they would double its compile
# time.
STACKED = [case for case in layer_cases.CASES
           if case.id not in ("AugMix", "AutoAugment",
                              "RandomElasticTransform",
                              "RandomGridDistortion")]


@pytest.mark.slow
def test_all_layers_stacked_under_xla(rng):
    stack = keras.Sequential([keras.Input((32, 32, 3))] + [
        case.make(seed=i) for i, case in enumerate(STACKED)])
    x = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    out = to_numpy(jit_layer_call(stack, x))
    assert out.shape == tuple(stack.compute_output_shape(x.shape))
    assert np.all(np.isfinite(out))
    # Really compiled: XLA's HLO exists for the whole stack.
    assert "gather" in layer_hlo(stack, x)


def test_model_fit_with_jit_compile(rng):
    # `make test`: a fixed third of the stack (every layer compiles in the
    # stack above and fits on its own in test_contract.py); test-full: all.
    fitted = STACKED if FULL else STACKED[::3]
    model = small_cnn([case.make(seed=i) for i, case in
                       enumerate(fitted)])
    assert all(getattr(layer, "supports_jit", True) for layer in model.layers)
    model.compile("adam", "categorical_crossentropy", jit_compile=True)
    assert model.jit_compile
    x = rng.uniform(0, 255, (16, 24, 24, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 16), 3)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_keras_geometric_layer_switches_jit_off_ours_do_not():
    def compiled(front):
        model = small_cnn([front])
        model.compile("adam", "categorical_crossentropy", jit_compile=True)
        return model.jit_compile

    assert compiled(keras.layers.RandomRotation(0.1)) is False
    assert compiled(layer_cases.CASES[0].make()) is True
