"""2,000 training steps with the full pipeline in front; prints a JSON line.

Run by tests/test_long_run.py in a fresh process:
``python -m tests.long_run_script STEPS``.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import augment_layers as al  # noqa: E402
from augment_layers.ops import resample  # noqa: E402


def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024


def main(steps):
    keras.utils.set_random_seed(0)
    augment = al.from_image_data_generator(
        rotation_range=20, width_shift_range=0.1, height_shift_range=3,
        shear_range=10, zoom_range=0.2, horizontal_flip=True,
        vertical_flip=True, brightness_range=(0.7, 1.3),
        channel_shift_range=10, fill_mode="reflect", rescale=1 / 255.0)
    model = keras.Sequential([
        keras.Input((None, None, 3)), augment,
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    assert not model.run_eagerly

    traces = {"train_step": 0, "augment": 0, "resample": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            traces[name] += 1  # Python runs only while a graph is traced
            return fn(*args, **kwargs)
        return wrapper

    model.train_step = counting("train_step", model.train_step)
    augment.call = counting("augment", augment.call)
    resample.affine_transform_impl = counting(
        "resample", resample.affine_transform_impl)

    rng = np.random.default_rng(0)
    # Batch sizes and image sizes vary, as with a ragged last batch and
    # Input((None, None, 3)).
    shapes = [(8, 32, 32), (8, 32, 32), (5, 32, 32), (8, 40, 24),
              (3, 28, 36)]
    data = {s: (rng.uniform(0, 255, (*s, 3)).astype("float32"),
                rng.integers(0, 3, s[0])) for s in shapes}
    warmup = min(200, steps // 4)
    rss, after_warmup, losses = [], None, []
    for step in range(steps):
        x, y = data[shapes[step % len(shapes)]]
        losses.append(float(model.train_on_batch(x, y)))
        if step + 1 == warmup:
            after_warmup = dict(traces)
        if (step + 1) % 100 == 0:
            rss.append(rss_mib())
    print(json.dumps({"traces": traces, "after_warmup": after_warmup,
                      "rss_mib": rss, "warmup_steps": warmup,
                      "finite": bool(np.all(np.isfinite(losses)))}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
