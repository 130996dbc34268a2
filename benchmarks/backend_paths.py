"""Eager rows under JAX and PyTorch: the pipeline called as a layer, beside
albumentations in the same process, then again after
:func:`augment_layers.reuse_freed_memory`.

PyTorch has no compiler in the call (Keras runs it op by op, and
``torch.compile`` is the user's opt-in), so it is the slowest call path the
package has on a CPU; JAX compiles the call (``jax.jit``) but its CPU
client maps a fresh output buffer on every call. Both pay a page fault per
4 KiB of every large buffer, call after call, unless freed memory is kept
for reuse: the second phase measures that. The setting holds for the whole
process and cannot be undone, so it comes second, and albumentations is
timed again beside it.

``python -m benchmarks.backend_paths --json`` prints the rows as JSON, so
that ``run.py`` can take them from a fresh process under each backend.
"""

import argparse
import json
import statistics
import time

import numpy as np

from benchmarks import contenders as C

BACKENDS = {"torch": "PyTorch", "jax": "JAX", "tensorflow": "TensorFlow"}
PEER = "albumentations (uint8, 1 process)"
REUSE = " + reuse_freed_memory()"


def path_name(backend, dtype):
    return (f"ours on {BACKENDS[backend]}: pipeline called eagerly, "
            f"{dtype} input")


def _interleaved(contenders, batch, reps):
    for fn in contenders.values():  # warm-up (and compile, on JAX)
        fn(batch)
    times = {name: [] for name in contenders}
    for _ in range(reps):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn(batch)
            times[name].append(time.perf_counter() - start)
    return {name: len(batch) / statistics.median(t)
            for name, t in times.items()}


def rows(batch_size=64, side=224, reps=5):
    """Median images/s of each contender, interleaved by round, before and
    after ``reuse_freed_memory()``."""
    import keras

    import augment_layers as al

    backend = keras.backend.backend()
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, (batch_size, side, side, 3)).astype("float32")
    layer = al.from_image_data_generator(**C.PIPELINE)

    def eager(x):  # as the TensorFlow backend's eager rows are timed
        return C._block(layer(x, training=True))

    contenders = {path_name(backend, "float32"): eager,
                  path_name(backend, "uint8"): C._as_uint8(eager)}
    try:  # the peer is installed for `make bench`, not for the tests
        contenders[PEER] = C.albumentations("uint8")[2]
    except ImportError:
        pass
    rates = _interleaved(contenders, batch, reps)
    reused = al.reuse_freed_memory()
    if reused:
        rates.update({name + REUSE: rate for name, rate in _interleaved(
            contenders, batch, reps).items()})
    return {"backend": backend, "batch": batch_size, "side": side,
            "reps": reps, "reuse_freed_memory": reused,
            "rows": [{"name": name, "images_per_s": rate}
                     for name, rate in rates.items()]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backend_paths")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--side", type=int, default=224)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    result = rows(args.batch_size, args.side, args.reps)
    if args.json:
        print(json.dumps(result))
    else:
        for row in result["rows"]:
            print(f"{row['name']:72s} {row['images_per_s']:10.1f}")


if __name__ == "__main__":
    main()
