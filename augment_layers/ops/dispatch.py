"""``keras.ops``, or the same ops on TensorFlow while tf.data traces a map.

Every pure function of the package calls ``ops.X`` from here. Normally that
is ``keras.ops.X`` on the active backend. Inside a ``tf.data`` map under JAX
or PyTorch the inputs are symbolic ``tf.Tensor``s, which those backends
cannot take; there, :func:`tensorflow_scope` makes ``ops.X`` resolve to
Keras's TensorFlow implementation of the same op (what
``keras.layers.TFDataLayer`` does with its ``DynamicBackend``), so the maths
is written once and runs in both places.

The scope is a thread-local switch, set for the length of one layer call:
tf.data traces a map function in the calling thread, and the traced graph
runs no Python.
"""

import functools
import sys
import threading

import keras
import numpy as np
from keras import backend as keras_backend

_local = threading.local()
_TF_SUBMODULES = ("core", "numpy", "math", "nn", "linalg", "image")


def in_tensorflow_scope():
    return getattr(_local, "tensorflow", False)


def active_backend():
    """The backend that the ops of this call run on."""
    return "tensorflow" if in_tensorflow_scope() else keras_backend.backend()


class tensorflow_scope:
    """Within it, :data:`ops` runs TensorFlow's implementation of each op."""

    def __enter__(self):
        self._before = in_tensorflow_scope()
        _local.tensorflow = True
        return self

    def __exit__(self, *exc):
        _local.tensorflow = self._before


@functools.lru_cache(maxsize=None)
def _tensorflow_op(name):
    from keras.src.backend import tensorflow as tf_backend

    for module in _TF_SUBMODULES:
        fn = getattr(getattr(tf_backend, module), name, None)
        if fn is not None:
            return fn
    raise AttributeError(
        f"keras.ops.{name} has no TensorFlow implementation to run inside "
        "tf.data.")


class _Ops:
    """``keras.ops`` with the tf.data switch (see the module docstring)."""

    def __getattr__(self, name):
        if in_tensorflow_scope():
            return _tensorflow_op(name)
        return getattr(keras.ops, name)


ops = _Ops()


def array_to_tensor(x):
    """``x`` (a NumPy array or anything ``convert_to_tensor`` takes) as a
    tensor of its own dtype.

    On TensorFlow, run eagerly, a NumPy array is handed to an op (Identity)
    instead: ``tf.convert_to_tensor`` copies an array twice (a defensive
    ``ndarray.copy()``, then into the tensor), an op converts it in C++ with
    one copy, 2.8x faster on a 38 MB batch here. That conversion shares the
    array's memory instead where the array is aligned for TensorFlow's
    kernels (a 32- or 64-byte boundary), so those take the defensive path:
    the tensor never changes when the array does. NumPy's large arrays
    start 16 bytes past a page, so a batch takes the one-copy path.

    On JAX with a CPU device, a large array goes through one aligned
    private NumPy copy that JAX takes without copying again (see
    :func:`_jax_from_staging_copy`).
    """
    if isinstance(x, np.ndarray):
        backend_name = active_backend()
        if backend_name == "tensorflow" and (
                x.ctypes.data % _SHAREABLE_ALIGNMENT):
            import tensorflow as tf

            if tf.executing_eagerly():
                return tf.raw_ops.Identity(input=x)
        elif backend_name == "jax" and x.nbytes >= _JAX_STAGING_BYTES:
            staged = _jax_from_staging_copy(x)
            if staged is not None:
                return staged
    return ops.convert_to_tensor(x)


# JAX's CPU client copies an unaligned NumPy array slowly; a large one goes
# through one private aligned NumPy copy instead (docs/performance.md).
_JAX_STAGING_BYTES = 1 << 20
_JAX_ALIGNMENT = 64


def _jax_from_staging_copy(x):
    """``x`` as a JAX array through an aligned private copy, or None where
    that does not apply: an accelerator (the copy to it is the transfer), a
    dtype that JAX would convert (float64 without x64), a JAX without
    ``may_alias``."""
    import jax

    if not x.dtype.isnative or jax.dtypes.canonicalize_dtype(
            x.dtype) != x.dtype:
        return None
    device = jax.config.jax_default_device
    platform = device if isinstance(device, str) else getattr(
        device, "platform", None)
    if platform is None:
        platform = jax.default_backend()
    if platform != "cpu":
        return None
    buffer = np.empty(x.nbytes + _JAX_ALIGNMENT, np.uint8)
    start = -buffer.ctypes.data % _JAX_ALIGNMENT
    staged = buffer[start:start + x.nbytes].view(x.dtype).reshape(x.shape)
    np.copyto(staged, x)
    try:
        return jax.device_put(staged, may_alias=True)
    except TypeError:
        return None


# TensorFlow shares a NumPy array's buffer when it is aligned to
# EIGEN_MAX_ALIGN_BYTES (64 in its wheels; 32 covers builds that use less).
_SHAREABLE_ALIGNMENT = 32


def is_symbolic_tf(x):
    """A ``tf.Tensor`` inside a graph being traced (as in ``Dataset.map``)."""
    if "tensorflow" not in sys.modules:
        return False
    import tensorflow as tf

    return tf.is_tensor(x) and not tf.executing_eagerly() and not isinstance(
        x, keras.KerasTensor)


def needs_tensorflow_scope(inputs):
    """True where a non-TensorFlow backend is handed tf.data's tensors."""
    if keras_backend.backend() == "tensorflow" or in_tensorflow_scope():
        return False
    return any(is_symbolic_tf(x) for x in keras.tree.flatten(inputs))


def in_tf_data():
    """True while tf.data traces a map function: on JAX and PyTorch, inside
    :func:`tensorflow_scope`; on TensorFlow, a graph named after a dataset
    op."""
    if in_tensorflow_scope():
        return True
    if keras_backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    graph = tf.compat.v1.get_default_graph()
    name = getattr(graph, "name", "") or ""
    return "Dataset" in name or "dataset" in name


def in_grain_pipeline():
    """True inside a Grain dataset's transformation (Keras's own test)."""
    if "grain" not in sys.modules:
        return False
    from keras.src.utils import backend_utils

    return backend_utils.in_grain_data_pipeline()


def computed_once(table):
    """``table``, computed into a buffer before it is gathered from.

    XLA fuses cheap producers into their consumers, a gather or a
    window of a blur included: the blur that makes an elastic field's
    nodes was recomputed for each of the four lookups of every output
    pixel (11 ms where 7 ms do, 128 x 128, batch 16). A
    reduction is never duplicated into its consumers: a sum with a zero
    leaves the values exactly as they are (the same bits)."""
    if active_backend() == "torch":
        return table  # op by op: nothing is fused
    return ops.sum(ops.stack([table, ops.zeros_like(table)], axis=-1),
                   axis=-1)
