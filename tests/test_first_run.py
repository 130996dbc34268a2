"""A new user's first run (issue 42): the native CPU resampler in the process
that builds it and in any import order.

TensorFlow makes the kernels of its XLA devices once per process, the first
time anything compiles; an op library loaded after that moment used to have
none ("No registered 'AugmentLayersResample' OpKernel for XLA_CPU_JIT
devices"), so a fresh install's first jit-compiled ``fit`` crashed. Each
scenario here is a fresh interpreter with a new, empty
``AUGMENT_LAYERS_CACHE`` (as after ``pip install``): it runs as a user's
program would, checks that the native formulation was taken, and compares
its bits with the general formulation's (``AUGMENT_LAYERS_NATIVE=0``) in the
same process.
"""

import os
import shutil

import pytest

from augment_layers.ops import native
from tests.helpers import run_python

pytestmark = pytest.mark.tensorflow_only

REASON = native.unavailable_reason()
# Only a host without a C++ compiler may skip (test_native.py fails where a
# compiler exists and the build fails).
needs_native = pytest.mark.skipif(
    native.compiler() is None, reason=f"no C++ compiler: {REASON}")

# What every scenario's program starts and ends with: a seeded layer stack
# at the most common size, and the general formulation's result of the same
# call for comparison.
PROLOGUE = """
import os, numpy as np
os.environ.pop("AUGMENT_LAYERS_NATIVE", None)
"""

GENERAL = """
def general(fn):
    from augment_layers.layers import executor
    os.environ["AUGMENT_LAYERS_NATIVE"] = "0"
    executor.clear_cache()
    try:
        return fn()
    finally:
        os.environ.pop("AUGMENT_LAYERS_NATIVE")
        executor.clear_cache()
"""


def _run(code, cache):
    return run_python(PROLOGUE + code, timeout=600,
                      env={"AUGMENT_LAYERS_CACHE": str(cache)})


def _fresh(tmp_path):
    cache = tmp_path / "cache"
    assert not cache.exists()
    return cache


def _prebuilt(tmp_path):
    """A new cache holding the library already built (copied from this
    process's), for the import-order scenario, where the build is not the
    point and the load is."""
    assert native.load() is not None, native.unavailable_reason()
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(native.library_path(), cache)
    return cache


@pytest.mark.slow
@needs_native
def test_first_jit_compiled_fit_at_224_builds_and_takes_the_kernel(tmp_path):
    out = _run(GENERAL + """
import keras
import augment_layers as al
from augment_layers.ops import native, resample

rng = np.random.default_rng(0)
images = rng.uniform(0, 255, (8, 224, 224, 3)).astype("float32")
labels = np.arange(8) % 10

def fitted():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((224, 224, 3)),
        al.RandomAffine(rotation_range=20, height_range=0.1, width_range=0.1,
                        seed=11),
        keras.layers.Rescaling(1 / 255.0),
        keras.layers.Conv2D(4, 3, strides=8),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=True)
    model.fit(images, labels, batch_size=4, epochs=1, verbose=0,
              shuffle=False)
    return model.get_weights()

assert not os.path.exists(native.library_path())
resample.formulations_taken()
weights = fitted()
assert "native" in resample.formulations_taken(), native.unavailable_reason()
assert os.path.exists(native.library_path())
assert all(np.isfinite(w).all() for w in weights)
# The layer's own compiled call in this process: the kernel's bits are the
# general formulation's.
layer = al.RandomAffine(rotation_range=20, height_range=0.1, width_range=0.1)
call = lambda: layer(images, training=True, seed=7).numpy()
with_native = call()
assert "native" in resample.formulations_taken()
np.testing.assert_array_equal(with_native, general(call))
print("FIT-OK", native.level())
""", _fresh(tmp_path))
    assert "FIT-OK" in out


@needs_native
def test_import_after_another_xla_compilation(tmp_path):
    out = _run(GENERAL + """
import tensorflow as tf
# Anything XLA-compiled before the package is imported: TensorFlow makes its
# XLA kernels now, before the library (loaded at import) is there.
assert float(tf.function(lambda x: x * 2.0, jit_compile=True)(
    tf.constant(1.0))) == 2.0
import augment_layers as al
from augment_layers.ops import native, resample

x = tf.constant(np.random.default_rng(1).uniform(
    0, 255, (2, 224, 224, 3)).astype("float32"))
layer = al.RandomAffine(rotation_range=30, zoom_range=0.2)
# The package's own jit-compiled segment, and a user's jit-compiled function
# around the layer: both hold the op's XLA kernel.
call = lambda: layer(x, training=True, seed=5).numpy()
users = lambda: tf.function(lambda x: layer(x, training=True, seed=5),
                            jit_compile=True)(x).numpy()
resample.formulations_taken()
with_native = call()
taken = resample.formulations_taken()
assert "native" in taken, (taken, native.unavailable_reason())
np.testing.assert_array_equal(with_native, general(call))
inside = users()
taken = resample.formulations_taken()
assert "native" in taken, (taken, native.unavailable_reason())
assert inside.shape == with_native.shape and np.isfinite(inside).all()
print("IMPORT-OK")
""", _prebuilt(tmp_path))
    assert "IMPORT-OK" in out


@needs_native
@pytest.mark.slow
def test_a_tf_function_whose_first_trace_builds_the_library(tmp_path):
    out = _run(GENERAL + """
import tensorflow as tf
import augment_layers as al
from augment_layers.ops import native, resample

x = tf.constant(np.random.default_rng(2).uniform(
    0, 255, (2, 224, 224, 3)).astype("float32"))
layer = al.RandomRotation(25)
call = lambda: tf.function(lambda x: layer(x, training=True, seed=9))(
    x).numpy()
assert not os.path.exists(native.library_path())
resample.formulations_taken()
with_native = call()
taken = resample.formulations_taken()
assert "native" in taken, (taken, native.unavailable_reason())
np.testing.assert_array_equal(with_native, general(call))
print("TRACE-OK")
""", _fresh(tmp_path))
    assert "TRACE-OK" in out


@needs_native
@pytest.mark.slow
def test_a_tf_data_map_whose_first_call_builds_the_library(tmp_path):
    out = _run(GENERAL + """
import tensorflow as tf
import augment_layers as al
from augment_layers.ops import native, resample

images = np.random.default_rng(3).uniform(
    0, 255, (4, 224, 224, 3)).astype("float32")
layer = al.RandomAffine(rotation_range=20, shear_range=10)

def call():
    ds = tf.data.Dataset.from_tensor_slices(images).batch(2).map(
        lambda x: layer(x, training=True, seed=4),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return np.concatenate([b.numpy() for b in ds])

assert not os.path.exists(native.library_path())
resample.formulations_taken()
with_native = call()
assert "native" in resample.formulations_taken()
np.testing.assert_array_equal(with_native, general(call))
print("DATA-OK")
""", _fresh(tmp_path))
    assert "DATA-OK" in out
