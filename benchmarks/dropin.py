"""The drop-in ImageDataGenerator against tf_keras's, same arguments, same
data, interleaved: ``flow()`` on arrays and ``flow_from_directory`` on a
folder of JPEGs."""

import os
import statistics
import tempfile
import time

import numpy as np

from benchmarks import contenders as C

OURS_FLOW = "ours: ImageDataGenerator.flow"
THEIRS_FLOW = "tf_keras: ImageDataGenerator.flow"
OURS_DIR = "ours: flow_from_directory (JPEG)"
THEIRS_DIR = "tf_keras: flow_from_directory (JPEG)"


def _jpeg_folder(root, count, side):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(2):
        os.makedirs(os.path.join(root, f"class_{c}"), exist_ok=True)
        for i in range(count // 2):
            small = rng.integers(0, 256, (side // 8, side // 8, 3), "uint8")
            Image.fromarray(small).resize((side, side)).save(
                os.path.join(root, f"class_{c}", f"{i}.jpg"), quality=90)
    return root


def _rate(iterator, batches):
    iterator[0]  # warm-up: traces and compiles ours
    start = time.perf_counter()
    count = 0
    for i in range(batches):
        x = iterator[i % len(iterator)]
        count += len(x[0] if isinstance(x, tuple) else x)
    return count / (time.perf_counter() - start)


def rows(batch_size=32, side=224, batches=4, reps=3, files=128):
    from tf_keras.preprocessing.image import ImageDataGenerator as Theirs

    import augment_layers as al

    args = dict(C.PIPELINE)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch_size * batches, side, side, 3)).astype(
        "float32")
    y = np.arange(len(x)) % 10
    ours, theirs = al.ImageDataGenerator(**args), Theirs(**args)
    rates = {OURS_FLOW: [], THEIRS_FLOW: [], OURS_DIR: [], THEIRS_DIR: []}
    with tempfile.TemporaryDirectory() as root:
        _jpeg_folder(root, files, side + 32)
        dir_kwargs = dict(target_size=(side, side), batch_size=batch_size,
                          interpolation="bilinear")
        for _ in range(reps):
            rates[OURS_FLOW].append(_rate(
                ours.flow(x, y, batch_size=batch_size), batches))
            rates[THEIRS_FLOW].append(_rate(
                theirs.flow(x, y, batch_size=batch_size), batches))
            rates[OURS_DIR].append(_rate(
                ours.flow_from_directory(root, **dir_kwargs), batches))
            rates[THEIRS_DIR].append(_rate(
                theirs.flow_from_directory(root, **dir_kwargs), batches))
    return {"batch": batch_size, "side": side,
            "rows": [{"name": name, "images_per_s": statistics.median(r)}
                     for name, r in rates.items()]}
