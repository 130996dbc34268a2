"""The native CPU formulation of the resampler (TensorFlow on a CPU host).

``augment_layers/native/resample.cc`` computes what the general formulation
(:func:`augment_layers.ops.resample._resample_rows`) computes, float op for
float op, a row of output pixels at a time over the host's cores. It is one
TensorFlow op with two kernels: a CPU kernel, and an XLA kernel that lowers
to a typed-FFI custom call, so the op runs inside the package's
``jit_compile=True`` segments and inside a user's XLA-compiled train step.

It is built by the C++ compiler found on the host, against the TensorFlow
that is installed, the first time it is needed, into a cache keyed by the
source, TensorFlow and the architecture (``AUGMENT_LAYERS_CACHE``, else
``$XDG_CACHE_HOME/augment_layers``, else ``~/.cache/augment_layers``). The
binding is compiled for the architecture's baseline and the kernel once per
instruction-set level (x86-64-v3 and generic), the level picked at run time
by the CPU, so a library built on one host runs on any of its architecture.
``python -m augment_layers build-native`` builds it ahead of time (``make``
does) and exits non-zero where a compiler exists and the build or load
fails. Where there is no compiler, the general formulation runs: the bits
are the same either way. The op works in a jit-compiled function whatever
the order of imports and compilations (``resample.cc`` adds its XLA kernel
when TensorFlow made its own before the library was loaded).
``AUGMENT_LAYERS_NATIVE=0`` turns it off.
"""

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings

_SOURCE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                           "native")
_SOURCE = os.path.join(_SOURCE_DIR, "resample.cc")
_KERNEL_SOURCE = os.path.join(_SOURCE_DIR, "kernel.cc")
_FFI_SOURCE = os.path.join(_SOURCE_DIR, "ffi_binding.cc")
_HEADERS = [os.path.join(_SOURCE_DIR, name) for name in (
    "resample_kernel.h", "resample_geometry.h", "kernel_entry.h",
    "thread_pool.h", "ffi_handler.h")]
# -fno-trapping-math lets floor and ceil be inlined (values unchanged);
# -ffp-contract=off keeps every multiply-add the source does not fuse apart.
# No -march=native: the framework binding is compiled for the architecture's
# baseline, and the kernel once per level (LEVELS), the level picked at run
# time by the CPU (native/kernel_entry.h); a library built on one host runs
# on any host of its architecture.
FLAGS = ("-std=c++17", "-fPIC", "-O3", "-ffp-contract=off",
         "-fno-trapping-math", "-fno-math-errno", "-pthread", "-w")


def _levels():
    """The kernel's levels for this architecture: (symbol suffix, flags)."""
    levels = [("generic", ())]
    if platform.machine() in ("x86_64", "AMD64"):
        levels.append(("x86_64_v3", ("-march=x86-64-v3",)))
    return levels


_lock = threading.Lock()
_state = {"module": None, "tried": False, "error": None}


def enabled():
    """False where ``AUGMENT_LAYERS_NATIVE=0`` (the general formulation)."""
    return os.environ.get("AUGMENT_LAYERS_NATIVE", "1") != "0"


def _cache_dir():
    root = os.environ.get("AUGMENT_LAYERS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "augment_layers")
    return root


def library_path():
    """Where the library for this source, TensorFlow and architecture
    lives."""
    import tensorflow as tf

    digest = hashlib.sha256()
    for source in (_SOURCE, _KERNEL_SOURCE, *_HEADERS):
        with open(source, "rb") as f:
            digest.update(f.read())
    for part in (tf.__version__, tf.__file__, " ".join(FLAGS),
                 repr(_levels()), platform.machine(), sys.version):
        digest.update(part.encode())
    return os.path.join(_cache_dir(),
                        f"resample-{digest.hexdigest()[:16]}.so")


def compiler():
    """The C++ compiler the library is built with (``$CXX``, ``g++``,
    ``c++``, ``clang++``); None where there is none."""
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError("building the native resampler failed:\n"
                           + " ".join(command) + "\n" + done.stderr[-4000:])


def _link_library(path, binding, link_flags):
    """Compiles ``binding`` (a compile command's tail: the binding's source
    and its framework's flags) for the baseline and the kernel once per
    level of :func:`_levels`, side by side, and links them into ``path``
    (atomically), the baseline objects first (a template that two objects
    share is then taken from the baseline's)."""
    import concurrent.futures

    cxx = compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler (g++, c++ or clang++) on PATH")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as work:
        objects = [os.path.join(work, "binding.o")]
        commands = [[cxx, *FLAGS, "-c", *binding, "-o", objects[0]]]
        for name, flags in _levels():
            objects.append(os.path.join(work, f"kernel_{name}.o"))
            commands.append([cxx, *FLAGS, *flags, "-c", _KERNEL_SOURCE,
                             "-o", objects[-1],
                             f"-DAL_KERNEL_SYMBOL=augment_layers_resample_"
                             f"{name}"])
        with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
            for future in [pool.submit(_run, c) for c in commands]:
                future.result()
        tmp = os.path.join(work, "library.so")
        _run([cxx, "-shared", "-pthread", *objects, "-o", tmp, *link_flags])
        os.replace(tmp, path)
    return path


def build(path=None, verbose=False):
    """Compiles the TensorFlow library into ``path``; returns the path."""
    import tensorflow as tf

    path = _link_library(
        path or library_path(),
        [_SOURCE, "-I" + os.path.join(_SOURCE_DIR, "stub"),
         *tf.sysconfig.get_compile_flags()],
        [*tf.sysconfig.get_link_flags(), "-l:libtensorflow_cc.so.2",
         "-Wl,-rpath," + os.path.dirname(tf.__file__)])
    if verbose:
        print(f"built {path}")
    return path


def _build_once(path, builder=None):
    """Builds ``path`` (with ``builder``, :func:`build` by default) unless
    another process is building or has built it (a lock file beside it: two
    test workers, two tf.data workers)."""
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path):
            return
        warnings.warn(
            "augment_layers: building the native CPU resampler for this host "
            "and TensorFlow (once, about a minute; `python -m augment_layers "
            "build-native` builds it ahead of time, AUGMENT_LAYERS_NATIVE=0 "
            "turns it off)", stacklevel=3)
        (builder or build)(path)


def load():
    """The op module, built if need be; None where it is unavailable."""
    if not enabled():
        return None
    if _state["tried"]:
        return _state["module"]
    with _lock:
        if _state["tried"]:
            return _state["module"]
        try:
            import tensorflow as tf

            path = library_path()
            if not os.path.exists(path):
                _build_once(path)
            module = tf.load_op_library(path)
            if not _xla_kernel_ready():
                raise RuntimeError(
                    "TensorFlow made its XLA kernels before the library was "
                    "loaded and the library could not add its own")
            _state["module"] = module
            _state["path"] = path
        except Exception as error:  # noqa: BLE001 - any failure: general path
            _state["error"] = error
            _state["module"] = None
        _state["tried"] = True
    return _state["module"]


def _has_kernel(op, device):
    from tensorflow.python.framework import kernels

    return any(k.device_type == device
               for k in kernels.get_registered_kernels_for_op(op).kernel)


def _xla_kernel_ready():
    """True where a jit-compiled function can hold the op: TensorFlow has not
    made its XLA kernels yet (it makes ours with them), or it has and ours is
    among them (``resample.cc`` adds it when the library is loaded after)."""
    return (not _has_kernel("NoOp", "XLA_CPU_JIT")
            or _has_kernel("AugmentLayersResample", "XLA_CPU_JIT"))


def level():
    """The kernel level this process runs ("x86-64-v3" or "generic"); None
    where the library is unavailable."""
    if load() is None:
        return None
    lib = ctypes.CDLL(_state["path"])
    lib.augment_layers_native_level.restype = ctypes.c_char_p
    return lib.augment_layers_native_level().decode()


def available(framework="tensorflow"):
    """True where the kernel can run under ``framework`` here (built if
    need be): TensorFlow's op, or JAX's FFI target."""
    if framework == "jax":
        return load_jax()
    if framework == "torch":
        return load_ffi() is not None
    return load() is not None


def load_if_built():
    """Registers the op where the library for this host is already built
    (cheap; no compile): a graph that holds the op, deserialized in a
    process that has not resampled yet (a tf.data service worker), finds
    it."""
    if not enabled() or _state["tried"] or "tensorflow" not in sys.modules:
        return
    try:
        if os.path.exists(library_path()):
            load()
    except Exception:  # noqa: BLE001 - it will be retried (and built) on use
        pass


def unavailable_reason():
    """Why :func:`load` returned None (None when it did not)."""
    load()
    if not enabled():
        return "AUGMENT_LAYERS_NATIVE=0"
    return None if _state["module"] is not None else str(_state["error"])


def uint8_source(images):
    """What the kernel reads for float32 ``images``: ``images``, or the
    uint8 batch that a graph's cast turned into them (they are then never
    read as floats); None for any other dtype."""
    import tensorflow as tf

    if images.dtype != tf.float32:
        return None
    op = getattr(images, "op", None)
    if (op is not None and not tf.executing_eagerly() and op.type == "Cast"
            and op.inputs[0].dtype == tf.uint8):
        return op.inputs[0]
    return images


def fusable_steps(steps):
    """True where the kernel can apply colour ``steps`` itself with XLA's
    arithmetic: never a scale right before a shift (XLA:CPU may fuse that
    pair into one multiply-add; the steps then run as XLA ops after the
    kernel)."""
    from augment_layers.ops import color

    kinds = [step[0] for step in steps]
    return all(kinds[i:i + 2] != [color.SCALE, color.SHIFT]
               for i in range(len(kinds)))


# The kernel's code of each fill mode (native/resample_geometry.h's Fill).
_FILL_CODES = {"constant": 0, "nearest": 1, "reflect": 2, "wrap": 3}

# The kernel's code of each step (clip: two rows of values, low then high).
_STEP_CODES = {"scale": "s", "shift": "a", "clip": "c"}


class _TensorFlowArrays:
    """The few float32 array functions :func:`_step_values` needs."""

    @staticmethod
    def full(shape, value):
        import tensorflow as tf

        return tf.fill(shape, tf.constant(value, tf.float32))

    @staticmethod
    def float32(x):
        import tensorflow as tf

        return tf.cast(x, tf.float32)

    @staticmethod
    def broadcast_to(x, shape):
        import tensorflow as tf

        return tf.broadcast_to(x, shape)

    @staticmethod
    def stack(rows, axis):
        import tensorflow as tf

        return tf.stack(rows, axis)


class _JaxArrays:
    @staticmethod
    def full(shape, value):
        import jax.numpy as jnp

        return jnp.full(shape, value, jnp.float32)

    @staticmethod
    def float32(x):
        import jax.numpy as jnp

        return jnp.asarray(x, jnp.float32)

    @staticmethod
    def broadcast_to(x, shape):
        import jax.numpy as jnp

        return jnp.broadcast_to(x, shape)

    @staticmethod
    def stack(rows, axis):
        import jax.numpy as jnp

        return jnp.stack(rows, axis)


class _TorchArrays:
    @staticmethod
    def full(shape, value):
        import torch

        return torch.full(shape, value, dtype=torch.float32)

    @staticmethod
    def float32(x):
        import torch

        return torch.as_tensor(x).to(torch.float32)

    @staticmethod
    def broadcast_to(x, shape):
        import torch

        return torch.broadcast_to(x, shape)

    @staticmethod
    def stack(rows, axis):
        import torch

        return torch.stack(rows, axis)


_ARRAYS = {"tensorflow": _TensorFlowArrays, "jax": _JaxArrays,
           "torch": _TorchArrays}


def _step_values(steps, batch, channels, framework="tensorflow"):
    """``steps`` as the op's ``(B, rows, C)`` float32 values and codes."""
    xp = _ARRAYS[framework]
    rows, codes = [], ""
    for step in steps:
        codes += _STEP_CODES[step[0]]
        if step[0] == "clip":
            for bound in step[1:]:
                rows.append(xp.full((batch, channels), bound))
            continue
        value = xp.float32(step[1])
        if len(value.shape) == 1:
            value = value[:, None]
        rows.append(xp.broadcast_to(value, (batch, channels)))
    if not rows:
        return xp.full((batch, 0, channels), 0.0), codes
    return xp.stack(rows, 1), codes


def resample(images, matrices, interpolation, fill_mode, fill_value,
             out_height, out_width, projective, value_steps=()):
    """The op itself: float32 ``(B, H, W, C)`` images, ``(B, 2|3, 3)``
    float32 matrices; ``value_steps`` (see :func:`fusable_steps`) applied to
    each output row as it is written. TensorFlow's op, or the same kernel
    through JAX's FFI target or PyTorch's custom op."""
    from augment_layers.ops.dispatch import active_backend

    framework = active_backend()
    if framework in ("jax", "torch"):
        run = _resample_jax if framework == "jax" else _resample_torch
        return run(images, matrices, interpolation, fill_mode, fill_value,
                   out_height, out_width, projective, value_steps)
    import tensorflow as tf

    values, codes = _step_values(value_steps, tf.shape(images)[0],
                                 images.shape[3])
    # A batch given as uint8 is read as bytes, not through its cast to
    # float32 (the same values: u8 -> f32 is exact).
    images = uint8_source(images)
    if images is None:
        raise ValueError("the native resampler reads float32 or uint8")
    return load().augment_layers_resample(
        images, matrices, values, out_height=out_height, out_width=out_width,
        interpolation=interpolation, fill_mode=fill_mode,
        fill_value=float(fill_value), projective=bool(projective),
        steps=codes)


# ------------------------------------------------------ JAX and PyTorch --
# The same kernel for JAX and PyTorch, in one library without TensorFlow
# (``native/ffi_binding.cc``): the typed-FFI handler that TensorFlow's XLA
# kernel lowers to, registered with JAX as the CPU target
# ``augment_layers_resample`` (one custom call in a ``jax.jit`` step, and run
# as such op by op), and a C entry that PyTorch's custom op
# ``augment_layers::resample`` calls on CPU tensors.

_ffi_state = {"tried": False, "library": None, "error": None, "jax": None}


def _ffi_include_dir():
    """XLA's FFI headers: jaxlib's where JAX is installed, else
    TensorFlow's."""
    try:
        import jax.ffi

        return jax.ffi.include_dir()
    except ImportError:
        import tensorflow as tf

        return tf.sysconfig.get_include()


def ffi_library_path():
    """Where the framework-free library for this source, FFI headers and
    architecture lives."""
    include = _ffi_include_dir()
    digest = hashlib.sha256()
    for source in (_FFI_SOURCE, _KERNEL_SOURCE, *_HEADERS,
                   os.path.join(include, "xla", "ffi", "api", "c_api.h")):
        with open(source, "rb") as f:
            digest.update(f.read())
    for part in (" ".join(FLAGS), repr(_levels()), platform.machine()):
        digest.update(part.encode())
    return os.path.join(_cache_dir(),
                        f"resample-ffi-{digest.hexdigest()[:16]}.so")


def build_ffi(path=None, verbose=False):
    """Compiles the framework-free library (no TensorFlow headers)."""
    path = _link_library(path or ffi_library_path(),
                         [_FFI_SOURCE, "-I" + _ffi_include_dir()], [])
    if verbose:
        print(f"built {path}")
    return path


class Geometry(ctypes.Structure):
    """``native/resample_geometry.h``'s ``Geometry``, field for field."""
    _fields_ = [*[(name, ctypes.c_int64) for name in (
        "batch", "height", "width", "channels", "out_height", "out_width",
        "matrix_rows")],
        ("fill", ctypes.c_int32), ("bilinear", ctypes.c_bool),
        ("projective", ctypes.c_bool), ("fill_value", ctypes.c_float),
        ("uint8_source", ctypes.c_bool), ("steps", ctypes.c_char_p),
        ("n_steps", ctypes.c_int32), ("values", ctypes.c_void_p),
        ("value_rows", ctypes.c_int64)]


def load_ffi():
    """The framework-free library (ctypes), built if need be; None where it
    is unavailable."""
    if not enabled():
        return None
    if _ffi_state["tried"]:
        return _ffi_state["library"]
    with _lock:
        if _ffi_state["tried"]:
            return _ffi_state["library"]
        try:
            path = ffi_library_path()
            if not os.path.exists(path):
                _build_once(path, build_ffi)
            library = ctypes.CDLL(path)
            library.augment_layers_resample.restype = None
            library.augment_layers_resample.argtypes = [
                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                ctypes.POINTER(Geometry)]
            library.augment_layers_native_level.restype = ctypes.c_char_p
            _ffi_state["library"] = library
        except Exception as error:  # noqa: BLE001 - any failure: general path
            _ffi_state["error"] = error
        _ffi_state["tried"] = True
    return _ffi_state["library"]


def load_jax():
    """True where the kernel is registered with JAX as an FFI target."""
    library = load_ffi()
    if library is None:
        return False
    with _lock:
        if _ffi_state["jax"] is None:
            try:
                import jax

                jax.ffi.register_ffi_target(
                    "augment_layers_resample",
                    jax.ffi.pycapsule(library.AugmentLayersResampleFfi),
                    platform="cpu")
                _ffi_state["jax"] = True
            except Exception as error:  # noqa: BLE001 - general path
                _ffi_state.update(jax=False, error=error)
    return _ffi_state["jax"]


def ffi_unavailable_reason(framework=None):
    """Why the kernel is unavailable under ``framework`` ("jax", "torch";
    None: the library itself), None where it is available."""
    if not enabled():
        return "AUGMENT_LAYERS_NATIVE=0"
    ok = load_ffi() is not None if framework is None else available(
        framework)
    return None if ok else str(_ffi_state["error"])


def _resample_jax(images, matrices, interpolation, fill_mode, fill_value,
                  out_height, out_width, projective, value_steps):
    import jax
    import jax.numpy as jnp
    import numpy as np

    batch, _, _, channels = images.shape
    values, codes = _step_values(value_steps, batch, channels, "jax")
    call = jax.ffi.ffi_call(
        "augment_layers_resample",
        jax.ShapeDtypeStruct((batch, out_height, out_width, channels),
                             jnp.float32))
    return call(jnp.asarray(images, jnp.float32),
                jnp.asarray(matrices, jnp.float32), values,
                bilinear=np.int32(interpolation == "bilinear"),
                fill_mode=np.int32(_FILL_CODES[fill_mode]),
                fill_value=np.float32(fill_value),
                projective=np.int32(bool(projective)), steps=codes)


_torch_op = {}


def _torch_resample_op():
    """PyTorch's custom op ``augment_layers::resample`` (defined once): CPU
    tensors in, the kernel through ctypes (the GIL released), a new float32
    tensor out; opaque to ``torch.compile``, which calls it as it is."""
    if "op" in _torch_op:
        return _torch_op["op"]
    import torch

    @torch.library.custom_op("augment_layers::resample", mutates_args=())
    def resample_op(images: torch.Tensor, matrices: torch.Tensor,
                    values: torch.Tensor, out_height: int, out_width: int,
                    bilinear: bool, fill_mode: int, fill_value: float,
                    projective: bool, steps: str) -> torch.Tensor:
        images = images.contiguous()
        matrices = matrices.to(torch.float32).contiguous()
        values = values.to(torch.float32).contiguous()
        batch, height, width, channels = images.shape
        out = torch.empty((batch, out_height, out_width, channels),
                          dtype=torch.float32)
        if out.numel() == 0:
            return out
        codes = steps.encode()
        geometry = Geometry(
            batch, height, width, channels, out_height, out_width,
            matrices.shape[1], fill_mode, bilinear, projective, fill_value,
            images.dtype == torch.uint8, codes, len(codes),
            values.data_ptr(), values.shape[1])
        load_ffi().augment_layers_resample(
            images.data_ptr(), matrices.data_ptr(), out.data_ptr(),
            ctypes.byref(geometry))
        return out

    @resample_op.register_fake
    def _(images, matrices, values, out_height, out_width, bilinear,
          fill_mode, fill_value, projective, steps):
        return images.new_empty(
            (images.shape[0], out_height, out_width, images.shape[3]),
            dtype=torch.float32)

    _torch_op["op"] = resample_op
    return resample_op


def _resample_torch(images, matrices, interpolation, fill_mode, fill_value,
                    out_height, out_width, projective, value_steps):
    import torch

    images, matrices = torch.as_tensor(images), torch.as_tensor(matrices)
    batch, _, _, channels = images.shape
    values, codes = _step_values(value_steps, batch, channels, "torch")
    if images.dtype != torch.uint8:
        images = images.to(torch.float32)
    return _torch_resample_op()(
        images, matrices, values, int(out_height), int(out_width),
        interpolation == "bilinear", _FILL_CODES[fill_mode],
        float(fill_value), bool(projective), codes)
