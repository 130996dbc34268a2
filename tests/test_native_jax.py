"""The native CPU resampler under JAX (issue 43): the same kernel as
TensorFlow's op, registered as a JAX FFI target, gives JAX's general
formulation's bits on every plan, op by op and in a ``jax.jit`` step.

The general formulation is itself checked against ``scipy.ndimage`` in
``test_resample.py``.
"""

import os

import numpy as np
import pytest

from tests.backend import BACKEND
from tests.helpers import plan_id, resample_matrices

pytestmark = pytest.mark.skipif(BACKEND != "jax",
                                reason="the JAX binding (KERAS_BACKEND=jax)")

if BACKEND == "jax":
    import jax
    import jax.numpy as jnp

    import augment_layers as al
    from augment_layers.layers import executor
    from augment_layers.ops import color, native, resample

    REASON = native.ffi_unavailable_reason("jax")
    needs_native = pytest.mark.skipif(
        native.compiler() is None, reason=f"no C++ compiler: {REASON}")
else:
    needs_native = pytest.mark.skip(reason="JAX only")

FILLS = ("constant", "nearest", "reflect", "wrap")
# Eight plans in which every value of every axis appears (the pairs are
# spread, not crossed: test_native.py crosses them under TensorFlow, with the
# same kernel).
PLANS = [dict(interpolation=("bilinear", "nearest")[k % 2],
              fill_mode=FILLS[k // 2],
              projective=bool((k // 2 + k) % 2),
              output_size=(None, (29, 96))[(k // 4 + k // 2) % 2],
              channels=(3, 1, 4, 5)[(k + k // 4) % 4]) for k in range(8)]


def _general_formulation(fn):
    """``fn()`` with the native kernel off (and no trace made with it)."""
    os.environ["AUGMENT_LAYERS_NATIVE"] = "0"
    executor.clear_cache()
    try:
        return fn()
    finally:
        os.environ.pop("AUGMENT_LAYERS_NATIVE")
        executor.clear_cache()


@needs_native
def test_the_jax_library_builds_and_registers_where_a_compiler_exists():
    assert REASON is None, f"the JAX binding failed: {REASON}"


@needs_native
@pytest.mark.parametrize("plan", PLANS, ids=[plan_id(p) for p in PLANS])
def test_native_equals_jaxs_general_formulation_bit_for_bit(plan):
    rng = np.random.default_rng(PLANS.index(plan))
    images = rng.uniform(0, 255, (5, 37, 64, plan["channels"])).astype(
        "float32")
    matrices = resample_matrices(rng, 5, plan["projective"])
    height, width = plan["output_size"] or (37, 64)
    steps = ((color.SCALE, jnp.asarray(rng.uniform(0.5, 1.5, 5),
                                       jnp.float32)),
             (color.CLIP, 0.0, 230.0))

    def kernel(x, m):
        return native.resample(x, m, plan["interpolation"],
                               plan["fill_mode"], 7.5, height, width,
                               plan["projective"], steps)

    def general(x, m):
        return color.apply_steps(resample._resample_rows(
            x, m, plan["interpolation"], plan["fill_mode"], 7.5, 0, None,
            plan["output_size"], plan["projective"], 0), steps)

    expected = np.asarray(jax.jit(general)(images, matrices))
    np.testing.assert_array_equal(
        np.asarray(jax.jit(kernel)(images, matrices)), expected)
    np.testing.assert_array_equal(np.asarray(kernel(images, matrices)),
                                  expected)
    # The identity gives the image back (clipped as the steps clip).
    want = np.clip(images[2] * np.float32(steps[0][1][2]), 0, 230)
    if plan["output_size"] is None:
        np.testing.assert_allclose(expected[2], want, rtol=1e-6)


@needs_native
def test_the_pipeline_takes_the_kernel_with_the_same_bits():
    x = np.random.default_rng(1).uniform(0, 255, (3, 224, 224, 3)).astype(
        "float32")
    layer = al.from_image_data_generator(
        rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
        shear_range=10, zoom_range=0.2, horizontal_flip=True,
        brightness_range=(0.8, 1.2))
    call = lambda: np.asarray(layer(x, training=True, seed=5))  # noqa: E731
    resample.formulations_taken()
    with_kernel = call()
    assert "native" in resample.formulations_taken()
    without = _general_formulation(call)
    assert set(resample.formulations_taken()) == {"general"}
    np.testing.assert_array_equal(with_kernel, without)


@needs_native
def test_a_jit_compiled_fit_takes_the_kernel():
    import keras

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 255, (4, 224, 224, 3)).astype("float32")
    y = rng.integers(0, 2, 4)
    model = keras.Sequential([
        keras.Input((224, 224, 3)), al.RandomRotation(0.1, seed=3),
        keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(4, 3, strides=8),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), jit_compile=True)
    resample.formulations_taken()
    history = model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert "native" in resample.formulations_taken()
