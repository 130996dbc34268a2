"""The native CPU resampler under PyTorch (issue 43): the same kernel as
TensorFlow's op and JAX's FFI target, as the custom op
``augment_layers::resample`` on CPU tensors.

Its reference is the general formulation as XLA computes it (TensorFlow,
compiled) from the same matrices: the kernel gives those bits, whichever
framework calls it. PyTorch's previous formulation, ``grid_sample``,
computes its coordinates another way; the kernel stays within the
interpolation's round-off of it.
"""

import os

import numpy as np
import pytest

from tests.backend import BACKEND
from tests.helpers import plan_id, resample_matrices

pytestmark = pytest.mark.skipif(
    BACKEND != "torch", reason="the PyTorch binding (KERAS_BACKEND=torch)")

if BACKEND == "torch":
    import tensorflow as tf
    import torch

    import augment_layers as al
    from augment_layers.layers import executor
    from augment_layers.ops import color, native, resample
    from augment_layers.ops.dispatch import tensorflow_scope
    from tests.test_native_jax import PLANS

    REASON = native.ffi_unavailable_reason("torch")
    needs_native = pytest.mark.skipif(
        native.compiler() is None, reason=f"no C++ compiler: {REASON}")
else:
    PLANS = []
    needs_native = pytest.mark.skip(reason="PyTorch only")


def _xla_reference(images, matrices, plan, steps):
    """The general formulation, compiled by XLA through TensorFlow."""
    def fn(x, m, scale):
        return color.apply_steps(resample._resample_rows(
            tf.cast(x, tf.float32), m, plan["interpolation"],
            plan["fill_mode"], 7.5, 0, None, plan["output_size"],
            plan["projective"], 0), ((color.SCALE, scale), steps[1]))

    with tensorflow_scope():
        return tf.function(fn, jit_compile=True)(
            images, matrices, steps[0][1].numpy()).numpy()


@needs_native
def test_the_library_builds_and_loads_where_a_compiler_exists():
    assert REASON is None, f"the PyTorch binding failed: {REASON}"


@needs_native
@pytest.mark.parametrize("plan", PLANS, ids=[plan_id(p) for p in PLANS])
def test_the_op_equals_xlas_general_formulation_bit_for_bit(plan):
    index = PLANS.index(plan)
    rng = np.random.default_rng(index)
    dtype = "uint8" if index % 2 else "float32"  # uint8 read as bytes
    images = rng.uniform(0, 255, (5, 37, 64, plan["channels"])).astype(dtype)
    matrices = resample_matrices(rng, 5, plan["projective"])
    height, width = plan["output_size"] or (37, 64)
    steps = ((color.SCALE, torch.tensor(rng.uniform(0.5, 1.5, 5),
                                        dtype=torch.float32)),
             (color.CLIP, 0.0, 230.0))

    def op(x, m):
        return native.resample(x, m, plan["interpolation"],
                               plan["fill_mode"], 7.5, height, width,
                               plan["projective"], steps)

    x, m = torch.from_numpy(images), torch.from_numpy(matrices)
    expected = _xla_reference(images, matrices, plan, steps)
    np.testing.assert_array_equal(op(x, m).numpy(), expected)
    # Under torch.compile (captured whole: the op has a fake kernel).
    compiled = torch.compile(op, backend="aot_eager", fullgraph=True)
    np.testing.assert_array_equal(compiled(x, m).numpy(), expected)


@needs_native
def test_the_pipeline_takes_the_kernel_near_grid_sample():
    x = np.random.default_rng(1).uniform(0, 255, (3, 96, 96, 3)).astype(
        "float32")
    layer = al.from_image_data_generator(
        rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
        shear_range=10, zoom_range=0.2, horizontal_flip=True,
        brightness_range=(0.8, 1.2))
    resample.formulations_taken()
    with_kernel = np.asarray(layer(x, training=True, seed=5).cpu())
    assert "native" in resample.formulations_taken()
    os.environ["AUGMENT_LAYERS_NATIVE"] = "0"
    executor.clear_cache()
    try:
        grid_sample = np.asarray(layer(x, training=True, seed=5).cpu())
    finally:
        os.environ.pop("AUGMENT_LAYERS_NATIVE")
        executor.clear_cache()
    assert set(resample.formulations_taken()) == {"general"}
    # Two formulations of one bilinear resample: within the coordinates'
    # float32 round-off times the largest step between neighbours.
    np.testing.assert_allclose(with_kernel, grid_sample, atol=0.05, rtol=0)
    assert not np.array_equal(with_kernel, x)
