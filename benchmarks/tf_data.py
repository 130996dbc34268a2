"""tf.data rows: our pipeline inside ``Dataset.map``, its direct call, and
Keras's layers in the same map, on the active backend.

``python -m benchmarks.tf_data --json`` prints the rows as JSON, so that
``run.py`` can take the JAX backend's figure from a fresh process.
"""

import argparse
import json
import statistics
import time

import numpy as np

from benchmarks import contenders as C

MAP = "ours in tf.data map (AUTOTUNE)"
DIRECT = "ours, direct call"
MAP_UINT8 = "ours in tf.data map (AUTOTUNE), uint8 batches"
DIRECT_UINT8 = "ours, direct call, uint8 batches"
KERAS_MAP = "keras 3 built-in stack in tf.data map"
# The pipeline's own ceiling: one element-wise op in the same map (a fresh
# batch-sized output per element, as any map makes).
ONE_OP_MAP = "one element-wise op in tf.data map (the ceiling)"


def _dataset_rate(fn, batch, batches):
    """Images/s of iterating ``batches`` mapped batches (after a warm-up)."""
    import tensorflow as tf

    ds = (tf.data.Dataset.from_tensors(tf.constant(batch)).repeat(batches)
          .map(fn, num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))
    for _ in ds.take(2):  # traces, compiles, fills the prefetch buffer
        pass
    start = time.perf_counter()
    count = 0
    for out in ds:
        count += 1
    _ = out.numpy()
    return count * len(batch) / (time.perf_counter() - start)


def rows(batch_size=64, side=224, batches=24, reps=3):
    """Median images/s of the three contenders, interleaved by round."""
    import keras

    import augment_layers as al

    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, (batch_size, side, side, 3)).astype("float32")
    ours = al.from_image_data_generator(**C.PIPELINE)
    direct = C._compiled_call(al.from_image_data_generator(**C.PIPELINE))
    stack = C.keras_stack_layers()

    def keras_map(x):
        for layer in stack:
            x = layer(x, training=True)
        return x

    def direct_rate(batch):
        # On a tensor, as the map's function gets it (a NumPy batch would add
        # its copy in to each call).
        batch = keras.ops.convert_to_tensor(batch)
        direct(batch)
        start = time.perf_counter()
        for _ in range(batches):
            direct(batch)
        return batches * batch_size / (time.perf_counter() - start)

    # A decoded image's dtype: the layer converts it in its one compiled
    # call (float32 out).
    batch_uint8 = batch.astype("uint8")
    import tensorflow as tf

    def one_op(x):
        return x + tf.random.uniform([], dtype=x.dtype)

    rates = {MAP: [], DIRECT: [], MAP_UINT8: [], DIRECT_UINT8: [],
             ONE_OP_MAP: [], KERAS_MAP: []}
    for _ in range(reps):
        rates[MAP].append(_dataset_rate(
            lambda x: ours(x, training=True), batch, batches))
        rates[DIRECT].append(direct_rate(batch))
        rates[MAP_UINT8].append(_dataset_rate(
            lambda x: ours(x, training=True), batch_uint8, batches))
        rates[DIRECT_UINT8].append(direct_rate(batch_uint8))
        rates[ONE_OP_MAP].append(_dataset_rate(one_op, batch, batches))
        rates[KERAS_MAP].append(_dataset_rate(keras_map, batch,
                                              max(4, batches // 6)))
    return {"backend": keras.backend.backend(), "batch": batch_size,
            "side": side,
            "rows": [{"name": name, "images_per_s": statistics.median(r)}
                     for name, r in rates.items()]}


def rows_in_process(backend, module="benchmarks.tf_data", **kwargs):
    """``module``'s rows (this module's :func:`rows` by default) under
    ``backend``, in a fresh interpreter: ``python -m module --json``."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    args = [sys.executable, "-m", module, "--json"]
    for key, value in kwargs.items():
        args += [f"--{key}", str(value)]
    out = subprocess.run(args, capture_output=True, text=True, env=env,
                         cwd=root, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tf_data")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--side", type=int, default=224)
    parser.add_argument("--batches", type=int, default=24)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    result = rows(args.batch_size, args.side, args.batches, args.reps)
    if args.json:
        print(json.dumps(result))
    else:
        for row in result["rows"]:
            print(f"{row['name']:40s} {row['images_per_s']:10.1f}")


if __name__ == "__main__":
    main()
