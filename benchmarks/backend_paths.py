"""PyTorch rows: the pipeline called eagerly under the PyTorch backend,
beside albumentations in the same process.

PyTorch has no compiler in the call (Keras runs it op by op, and
``torch.compile`` is the user's opt-in), so this is the slowest call path
the package has on a CPU; the rows show by how much.

``python -m benchmarks.torch_paths --json`` prints the rows as JSON, so that
``run.py`` can take them from a fresh process under ``KERAS_BACKEND=torch``.
"""

import argparse
import json
import statistics
import time

import numpy as np

from benchmarks import contenders as C

FLOAT32 = "ours on PyTorch: pipeline called eagerly, float32 input"
UINT8 = "ours on PyTorch: pipeline called eagerly, uint8 input"
PEER = "albumentations (uint8, 1 process)"


def rows(batch_size=64, side=224, reps=5):
    """Median images/s of each contender, interleaved by round."""
    import keras

    import augment_layers as al

    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, (batch_size, side, side, 3)).astype("float32")
    layer = al.from_image_data_generator(**C.PIPELINE)

    def eager(x):  # as the TensorFlow backend's eager rows are timed
        return C._block(layer(x, training=True))

    contenders = {FLOAT32: eager, UINT8: C._as_uint8(eager)}
    try:  # the peer is installed for `make bench`, not for the tests
        contenders[PEER] = C.albumentations("uint8")[2]
    except ImportError:
        pass
    for fn in contenders.values():  # warm-up
        fn(batch)
    times = {name: [] for name in contenders}
    for _ in range(reps):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn(batch)
            times[name].append(time.perf_counter() - start)
    return {"backend": keras.backend.backend(), "batch": batch_size,
            "side": side, "reps": reps,
            "rows": [{"name": name, "images_per_s":
                      batch_size / statistics.median(t)}
                     for name, t in times.items()]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.torch_paths")
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
            print(f"{row['name']:56s} {row['images_per_s']:10.1f}")


if __name__ == "__main__":
    main()
