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
_HEADERS = [os.path.join(_SOURCE_DIR, name) for name in (
    "resample_kernel.h", "resample_geometry.h", "kernel_entry.h",
    "thread_pool.h")]
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


def build(path=None, verbose=False):
    """Compiles the library into ``path`` (atomically); returns the path.

    Three objects, compiled side by side: the TensorFlow binding
    (``resample.cc``) for the baseline, and the kernel (``kernel.cc``) once
    per level of :func:`_levels`; linked with the baseline objects first (a
    template that two objects share is then taken from the baseline's)."""
    import concurrent.futures

    import tensorflow as tf

    path = path or library_path()
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler (g++, c++ or clang++) on PATH")
    tf_dir = os.path.dirname(tf.__file__)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as work:
        objects = [os.path.join(work, "resample.o")]
        commands = [[cxx, *FLAGS, "-c", _SOURCE, "-o", objects[0],
                     "-I" + os.path.join(_SOURCE_DIR, "stub"),
                     *tf.sysconfig.get_compile_flags()]]
        for name, flags in _levels():
            objects.append(os.path.join(work, f"kernel_{name}.o"))
            commands.append([cxx, *FLAGS, *flags, "-c", _KERNEL_SOURCE,
                             "-o", objects[-1],
                             f"-DAL_KERNEL_SYMBOL=augment_layers_resample_"
                             f"{name}"])
        with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
            for future in [pool.submit(_run, c) for c in commands]:
                future.result()
        tmp = os.path.join(work, "resample.so")
        _run([cxx, "-shared", "-pthread", *objects, "-o", tmp,
              *tf.sysconfig.get_link_flags(), "-l:libtensorflow_cc.so.2",
              "-Wl,-rpath," + tf_dir])
        os.replace(tmp, path)
    if verbose:
        print(f"built {path}")
    return path


def _build_once(path):
    """Builds ``path`` unless another process is building or has built it
    (a lock file beside it: two test workers, two tf.data workers)."""
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
        build(path)


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
    import ctypes

    lib = ctypes.CDLL(_state["path"])
    lib.augment_layers_native_level.restype = ctypes.c_char_p
    return lib.augment_layers_native_level().decode()


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


# The kernel's code of each step (clip: two rows of values, low then high).
_STEP_CODES = {"scale": "s", "shift": "a", "clip": "c"}


def _step_values(steps, batch, channels):
    """``steps`` as the op's ``(B, rows, C)`` float32 values and codes."""
    import tensorflow as tf

    rows, codes = [], ""
    for step in steps:
        codes += _STEP_CODES[step[0]]
        if step[0] == "clip":
            for bound in step[1:]:
                rows.append(tf.fill((batch, channels), tf.constant(
                    bound, tf.float32)))
            continue
        value = tf.cast(step[1], tf.float32)
        if len(value.shape) == 1:
            value = value[:, None]
        rows.append(tf.broadcast_to(value, (batch, channels)))
    if not rows:
        return tf.zeros((batch, 0, channels), tf.float32), codes
    return tf.stack(rows, 1), codes


def resample(images, matrices, interpolation, fill_mode, fill_value,
             out_height, out_width, projective, value_steps=()):
    """The op itself: float32 ``(B, H, W, C)`` images, ``(B, 2|3, 3)``
    float32 matrices; ``value_steps`` (see :func:`fusable_steps`) applied to
    each output row as it is written."""
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
