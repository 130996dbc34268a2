"""The resampler's candidate formulations under XLA on this host (issue 31):
``python -m benchmarks.formulations``.

Issue 31 asks for fast paths chosen by static properties of the plan, each
equal bit for bit to the general resample: a gather of 2x2xC windows (one
slice per output pixel instead of four rows), and a separable path for
transforms without rotation or shear (whole-row gathers, then columns).
Both are written here, for the ``"nearest"`` fill the benchmark pipeline
uses, checked bit for bit against the package's resampler
(``resample._resample_rows``), and timed beside it in the same run under
``tf.function(jit_compile=True)``, with a one-gather resample (nearest
interpolation) and the read+write of the batch as the floors. The native kernel
(``augment_layers/native``, what the package now takes on a CPU host) is
timed and checked beside them. The section
``"formulations"`` of the device's JSON keeps the figures and the host.
"""

import argparse
import datetime
import json
import os

import numpy as np

SIZES = ((64, 224), (8, 1024))


def _coordinates(tf, matrices, height, width, xs=None, ys=None):
    """The general path's source coordinates, the same expression."""
    if xs is None:
        xs = tf.cast(tf.range(width), tf.float32)[None, None, :]
    if ys is None:
        ys = tf.cast(tf.range(height), tf.float32)[None, :, None]

    def c(i, j):
        return tf.reshape(matrices[:, i, j], (-1, 1, 1))

    return (c(0, 0) * xs + c(0, 1) * ys + c(0, 2),
            c(1, 0) * xs + c(1, 1) * ys + c(1, 2))


def _neighbours(tf, coord, size):
    """``(near, far, weight)`` of the general path, ``"nearest"`` fill."""
    floor = tf.floor(coord)
    near = tf.clip_by_value(tf.cast(floor, tf.int32), 0, size - 1)
    far = tf.clip_by_value(tf.cast(tf.math.ceil(coord), tf.int32), 0,
                           size - 1)
    return near, far, (coord - floor)[..., None]


def window_resample(images, matrices):
    """One XLA gather of a 2x2xC window per output pixel, from the batch
    padded by one edge pixel; the four neighbours picked from the window,
    blended as the general path blends them."""
    import tensorflow as tf
    from tensorflow.compiler.tf2xla.python import xla as tfxla
    from tensorflow.compiler.xla import xla_data_pb2

    batch, height, width, channels = images.shape
    src_x, src_y = _coordinates(tf, matrices, height, width)
    x0, x1, wx = _neighbours(tf, src_x, width)
    y0, y1, wy = _neighbours(tf, src_y, height)
    padded = tf.pad(images, [[0, 0], [0, 1], [0, 1], [0, 0]],
                    mode="SYMMETRIC")
    index = tf.stack([tf.broadcast_to(tf.range(batch)[:, None, None],
                                      x0.shape), y0, x0], -1)
    numbers = xla_data_pb2.GatherDimensionNumbers(
        offset_dims=[3, 4, 5], collapsed_slice_dims=[0],
        start_index_map=[0, 1, 2], index_vector_dim=3)
    window = tfxla.gather(padded, index, numbers, [1, 2, 2, channels])
    right, down = (x1 > x0)[..., None], (y1 > y0)[..., None]
    p00 = window[..., 0, 0, :]
    p01 = tf.where(right, window[..., 0, 1, :], p00)
    p10 = tf.where(down, window[..., 1, 0, :], p00)
    p11 = tf.where(down, tf.where(right, window[..., 1, 1, :],
                                  window[..., 1, 0, :]), p01)
    top = p00 + wx * (p01 - p00)
    bottom = p10 + wx * (p11 - p10)
    return top + wy * (bottom - top)


def separable_resample(images, matrices):
    """For matrices without rotation or shear: source rows gathered whole,
    then the columns of each row (one index vector per image)."""
    import tensorflow as tf

    batch, height, width, channels = images.shape
    zero = tf.zeros((1, 1, 1))
    src_x, _ = _coordinates(tf, matrices, height, width, ys=zero)  # (B,1,W)
    _, src_y = _coordinates(tf, matrices, height, width, xs=zero)  # (B,H,1)
    x0, x1, wx = _neighbours(tf, src_x, width)
    y0, y1, wy = _neighbours(tf, src_y, height)
    rows = tf.reshape(images, (batch * height, width, channels))
    base = tf.range(batch)[:, None, None] * height
    row0 = tf.gather(rows, base + y0)[:, :, 0]
    row1 = tf.gather(rows, base + y1)[:, :, 0]

    def columns(row, index):
        return tf.gather(row, index[:, 0, :], axis=2, batch_dims=1)

    top = columns(row0, x0) + wx * (columns(row0, x1) - columns(row0, x0))
    bottom = columns(row1, x0) + wx * (columns(row1, x1)
                                       - columns(row1, x0))
    return top + wy * (bottom - top)


def _matrices(batch, side, rotate, seed=0):
    from augment_layers.ops import affine

    rng = np.random.default_rng(seed)

    def draw(lo, hi):
        return rng.uniform(lo, hi, batch).astype("float32")

    parts = [affine.translation(draw(-0.2 * side, 0.2 * side),
                                draw(-0.2 * side, 0.2 * side)),
             affine.zoom(draw(0.8, 1.2), draw(0.8, 1.2)),
             affine.flip(rng.uniform(0, 1, batch) < 0.5,
                         np.zeros(batch, bool))]
    if rotate:
        parts = [affine.rotation(draw(-20, 20)), *parts[:1],
                 affine.shear(draw(-10, 10)), *parts[1:]]
    return np.asarray(affine.center(affine.compose(*parts), side, side))


def rows(sizes=SIZES, reps=7):
    """The section: per size, milliseconds per batch of each formulation,
    their ratio to the general path and to read+write, and whether each
    candidate equals the general path bit for bit."""
    import tensorflow as tf

    from augment_layers.ops import native, resample
    from benchmarks import run as R

    def general(strips):
        return tf.function(lambda x, m: resample._resample_rows(
            x, m, "bilinear", "nearest", 0.0, 0, None, None, False, strips),
            jit_compile=True)

    def native_fn(side):
        def fn(x, m):
            return native.resample(x, m, "bilinear", "nearest", 0.0, side,
                                   side, False)

        return tf.function(fn, jit_compile=True)

    def nearest(x, m):
        return resample._resample_rows(x, m, "nearest", "nearest", 0.0, 0,
                                       None, None, False, 0)

    out = []
    for batch, side in sizes:
        rng = np.random.default_rng(0)
        images = tf.constant(rng.uniform(0, 255, (batch, side, side, 3))
                             .astype("float32"))
        turned = tf.constant(_matrices(batch, side, rotate=True))
        straight = tf.constant(_matrices(batch, side, rotate=False))
        strips = resample._STRIP_WIDTH if side % resample._STRIP_WIDTH == 0 \
            else 0
        contenders = [
            ("general, column strips (rotation)", turned, general(strips)),
            ("native kernel (rotation)", turned,
             native_fn(side)),
            ("general, rows (rotation)", turned, general(0)),
            ("2x2xC window gather (rotation)", turned,
             tf.function(window_resample, jit_compile=True)),
            ("nearest interpolation: one gather (rotation)", turned,
             tf.function(nearest, jit_compile=True)),
            ("general, rows (no rotation or shear)", straight, general(0)),
            ("separable: rows, then columns (no rotation or shear)",
             straight, tf.function(separable_resample, jit_compile=True)),
            ("native kernel (no rotation or shear)", straight,
             native_fn(side)),
            ("read+write of the batch (memory limit)", turned,
             tf.function(lambda x, m: x * 1.0001, jit_compile=True))]
        if native.load() is None:
            contenders = [c for c in contenders if "native" not in c[0]]
        fns = {name: (m, f) for name, m, f in contenders}

        def same(a, b):
            if a not in fns:
                return None
            m, f = fns[a]
            return bool(np.array_equal(f(images, m).numpy(),
                                       fns[b][1](images, m).numpy()))

        equal = {
            "window": same("2x2xC window gather (rotation)",
                           "general, rows (rotation)"),
            "separable": same(
                "separable: rows, then columns (no rotation or shear)",
                "general, rows (no rotation or shear)"),
            "native (rotation)": same(
                "native kernel (rotation)",
                "general, rows (rotation)"),
            "native (no rotation)": same(
                "native kernel (no rotation or shear)",
                "general, rows (no rotation or shear)")}
        entries = [(name, "", (lambda f, m: lambda x: f(x, m).numpy())(f, m))
                   for name, m, f in contenders]
        secs, _ = R.measure(entries, images, reps)
        out.append({"batch": batch, "side": side, "bit_equal": equal,
                    "rows": [{"name": name, "ms": secs[name] * 1000}
                             for name, _, _ in contenders]})
    return out


def _under(flag, fn):
    """``fn`` called with ``AUGMENT_LAYERS_NATIVE=flag``: the eager paths
    look their compiled segments up at each call, by the flag."""

    def call(x):
        previous = os.environ.get("AUGMENT_LAYERS_NATIVE")
        os.environ["AUGMENT_LAYERS_NATIVE"] = flag
        try:
            return fn(x)
        finally:
            if previous is None:
                os.environ.pop("AUGMENT_LAYERS_NATIVE", None)
            else:
                os.environ["AUGMENT_LAYERS_NATIVE"] = previous

    return call


def pipeline_rows(sizes=SIZES, reps=7):
    """The ImageDataGenerator pipeline on every call path, with the native
    kernel where the package takes it and with the general formulation
    (``AUGMENT_LAYERS_NATIVE=0`` when traced), beside albumentations
    (uint8, one process) and the read+write of the batch, in one run."""
    from augment_layers.layers import executor
    from benchmarks import contenders as C
    from benchmarks import run as R

    out = []
    for batch, side in sizes:
        x = np.random.default_rng(0).uniform(
            0, 255, (batch, side, side, 3)).astype("float32")
        entries = []
        previous = os.environ.get("AUGMENT_LAYERS_NATIVE")
        try:
            for flag, tag in (("1", "as the package takes it"),
                              ("0", "general formulation")):
                os.environ["AUGMENT_LAYERS_NATIVE"] = flag
                executor.clear_cache()
                for name, group, fn in [C.ours_fused(True), *C.call_paths()]:
                    if "convert_to_tensor" in name:
                        continue
                    fn = _under(flag, fn)
                    fn(x)  # traced now, under this setting
                    entries.append((f"{name} [{tag}]", group, fn))
        finally:
            if previous is None:
                os.environ.pop("AUGMENT_LAYERS_NATIVE", None)
            else:
                os.environ["AUGMENT_LAYERS_NATIVE"] = previous
            executor.clear_cache()
        entries.append(C.albumentations("uint8"))
        entries.append(C.numpy_copy())
        secs, _ = R.measure(entries, x, reps)
        out.append({"batch": batch, "side": side, "rows": [
            {"name": name, "images_per_s": batch / secs[name]}
            for name, _, _ in entries]})
    return out


def format_pipeline(entries):
    lines = []
    for e in entries:
        rate = {r["name"]: r["images_per_s"] for r in e["rows"]}
        peer = rate["albumentations (uint8, 1 process)"]
        lines.append(f"\nThe pipeline on each call path, batch {e['batch']} at "
                     f"{e['side']}²x3 (images/s; ratio to albumentations "
                     "uint8)")
        for name, value in rate.items():
            lines.append(f"  {name:<86} {value:9.1f}  {value / peer:5.2f}x")
    return "\n".join(lines)


def format_rows(entries):
    lines = []
    for e in entries:
        ms = {r["name"]: r["ms"] for r in e["rows"]}
        base = ms["general, column strips (rotation)"]
        memory = ms["read+write of the batch (memory limit)"]
        lines.append(f"\nResampler formulations, batch {e['batch']} at "
                     f"{e['side']}²x3 float32, XLA (ms per batch; the "
                     "general path with strips / it; read+write / it)")
        for name, value in ms.items():
            lines.append(f"  {name:<56} {value:8.2f}  {base / value:5.2f}x"
                         f"  {memory / value:6.1%}")
        lines.append("  bit for bit equal to the general path: " + ", ".join(
            f"{k} {v}" for k, v in e["bit_equal"].items() if v is not None))
    return "\n".join(lines)


def main(argv=None):
    from benchmarks import run as R

    parser = argparse.ArgumentParser(prog="python -m benchmarks.formulations")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results"))
    args = parser.parse_args(argv)
    entry = {"measured": datetime.date.today().isoformat(),
             "host": R.host_info(), "sizes": rows(reps=args.reps),
             "pipeline": pipeline_rows(reps=args.reps)}
    table = format_rows(entry["sizes"]) + "\n" + format_pipeline(
        entry["pipeline"])
    print(R.format_host(entry["host"]))
    print(table)
    device = R.device_name()
    path = os.path.join(args.out, f"{device}.json")
    results = {}
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    results["formulations"] = entry
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, f"{device}-log.txt"), "a") as f:
        f.write(f"\n# python -m benchmarks.formulations ({entry['measured']})"
                f"\n{R.format_host(entry['host'])}{table}\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
