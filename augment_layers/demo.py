"""``make demo``: what augmentation at the front of a model buys, end to end.

1. scikit-learn's handwritten digits (shipped with the package, no network),
   upsampled to 32x32.
2. The same small CNN trained twice from each of three seeds: with our
   layers at the front of the ``Sequential`` model, and without.
3. Both evaluated on the clean test set and on a perturbed copy (shifted,
   sheared, zoomed, rotated and darkened with a fixed seed); the mean and
   the spread over the seeds are printed.
4. The augmented model saved to ``.keras`` and exported as a SavedModel, both
   reloaded in safe mode and checked against the trained model.
5. ``preview.png``: a 3x3 grid of augmentations of a real photo.
"""

import json
import os
import time

import numpy as np


def load_digits(size=32, limit=None):
    import keras
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    x = data.images.astype("float32")[..., None] * (255.0 / 16.0)
    x = keras.ops.convert_to_numpy(keras.ops.image.resize(x, (size, size)))
    x = np.clip(x, 0, 255)
    y = data.target.astype("int32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    if limit:
        x, y = x[:limit], y[:limit]
    split = int(0.67 * len(x))
    return (x[:split], y[:split]), (x[split:], y[split:])


def augmentation(seed):
    """The augmentation: the family of the perturbed test set, drawn a
    little wider (what a user would choose without seeing the test set)."""
    import augment_layers as al

    return [al.RandomAffine(rotation_range=18, height_range=0.12,
                            width_range=0.12, shear_range=15,
                            zoom_range=0.18, fill_mode="constant",
                            seed=seed),
            al.RandomBrightnessRange((0.45, 1.15), seed=seed + 1)]


def perturb(x):
    """The fixed-seed 'real world' test: moved, sheared, zoomed, darkened."""
    import keras

    import augment_layers as al

    layers = [al.RandomAffine(rotation_range=(-15, 15),
                              height_range=0.1, width_range=0.1,
                              shear_range=12, zoom_range=(0.85, 1.15),
                              fill_mode="constant", seed=1234),
              al.RandomBrightnessRange((0.5, 0.8), seed=99)]
    for layer in layers:
        x = layer(x, training=True)
    return keras.ops.convert_to_numpy(x)


def build_model(front, input_shape):
    """A small CNN; batch normalisation lets the augmented model converge
    in as many epochs as the plain one."""
    import keras

    def block(filters):
        return [keras.layers.Conv2D(filters, 3, padding="same",
                                    use_bias=False),
                keras.layers.BatchNormalization(momentum=0.9),
                keras.layers.Activation("relu")]

    return keras.Sequential([
        keras.Input(input_shape), *front,
        keras.layers.Rescaling(1 / 255.0),
        *block(16), keras.layers.MaxPooling2D(),
        *block(32), keras.layers.MaxPooling2D(),
        *block(64), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax")])


def write_preview(path, seed=7):
    import matplotlib.cbook as cbook
    from PIL import Image

    import augment_layers as al

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        photo = Image.open(f).convert("RGB")
        photo.thumbnail((256, 256))
        image = np.asarray(photo, dtype="float32")
    augment = al.from_image_data_generator(
        rotation_range=25, width_shift_range=0.15, height_shift_range=0.15,
        shear_range=15, zoom_range=(0.7, 1.1), horizontal_flip=True,
        brightness_range=(0.6, 1.3), fill_mode="reflect")
    fig = al.preview(augment, image, n=9, seed=seed)
    fig.suptitle("augment_layers.from_image_data_generator(...) on one photo")
    fig.savefig(path, dpi=70)


def train_pair(seed, data, epochs, verbose=0):
    """The plain and the augmented model, trained from one seed; their
    clean and perturbed test accuracies, and the models."""
    import keras

    (x_train, y_train), (x_test, y_test), x_perturbed = data
    results, models = {}, {}
    for name, front in [("plain", []), ("augmented", augmentation(seed))]:
        keras.utils.set_random_seed(seed)
        model = build_model(front, x_train.shape[1:])
        # The learning rate decays to zero: the last epochs settle the
        # augmented model on the clean digits too.
        steps = epochs * -(-len(x_train) // 64)
        rate = keras.optimizers.schedules.CosineDecay(3e-3, steps)
        model.compile(keras.optimizers.Adam(rate),
                      "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x_train, y_train, batch_size=64, epochs=epochs,
                  verbose=verbose)
        results[name] = {
            "clean_accuracy": float(model.evaluate(x_test, y_test,
                                                   verbose=0)[1]),
            "perturbed_accuracy": float(model.evaluate(
                x_perturbed, y_test, verbose=0)[1])}
        models[name] = model
    return results, models


def summarise(per_seed):
    """Mean and spread (min, max) of each model's accuracies over seeds."""
    out = {}
    for name in ("plain", "augmented"):
        out[name] = {}
        for key in ("clean_accuracy", "perturbed_accuracy"):
            values = np.array([r[name][key] for r in per_seed])
            out[name][key] = {"mean": float(values.mean()),
                              "min": float(values.min()),
                              "max": float(values.max())}
    return out


def run_demo(out_dir="demo_out", epochs=30, limit=None, verbose=0,
             seeds=(0, 1, 2)):
    import keras

    start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = load_digits(limit=limit)
    data = ((x_train, y_train), (x_test, y_test), perturb(x_test))
    shape = x_train.shape[1:]
    print(f"digits: {len(x_train)} training and {len(x_test)} test images, "
          f"{shape[0]}x{shape[1]}; {len(seeds)} seeds, {epochs} epochs")

    per_seed = []
    for seed in seeds:
        results, models = train_pair(seed, data, epochs, verbose)
        per_seed.append(results)
        print(f"seed {seed}: " + ", ".join(
            f"{name} {r['clean_accuracy']:.3f} clean / "
            f"{r['perturbed_accuracy']:.3f} perturbed"
            for name, r in results.items()))
    stats = summarise(per_seed)

    # Save, export, reload in safe mode, compare (the last seed's model).
    model = models["augmented"]
    keras_path = os.path.join(out_dir, "augmented.keras")
    export_path = os.path.join(out_dir, "augmented_savedmodel")
    model.save(keras_path)
    model.export(export_path, verbose=False)
    expected = model.predict(x_test, verbose=0)
    reloaded = keras.models.load_model(keras_path)  # safe_mode=True
    keras_equal = bool(np.array_equal(reloaded.predict(x_test, verbose=0),
                                      expected))
    import tensorflow as tf

    served = tf.saved_model.load(export_path)
    served_out = np.asarray(served.serve(x_test))
    export_equal = bool(np.allclose(served_out, expected, atol=1e-5))

    preview_path = os.path.join(out_dir, "preview.png")
    write_preview(preview_path)

    elapsed = time.time() - start
    summary = {
        "per_seed": per_seed,
        "results": stats,
        "augmented_wins_on_perturbed_every_seed": all(
            r["augmented"]["perturbed_accuracy"]
            > r["plain"]["perturbed_accuracy"] for r in per_seed),
        "keras_reload_equal": keras_equal,
        "savedmodel_equal": export_equal,
        "files": {"keras": keras_path, "savedmodel": export_path,
                  "preview": preview_path},
        "seconds": round(elapsed, 1),
    }
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)

    print(f"\naccuracy over {len(seeds)} seeds: mean (min-max)")
    print("                      clean test             perturbed test")
    for name in ("plain", "augmented"):
        r = stats[name]
        cells = [f"{r[k]['mean']:.3f} ({r[k]['min']:.3f}-{r[k]['max']:.3f})"
                 for k in ("clean_accuracy", "perturbed_accuracy")]
        print(f"{name + ' model':20s}  {cells[0]:22s} {cells[1]}")
    print(f"\n.keras reloaded in safe mode, same predictions: {keras_equal}")
    print(f"SavedModel export serves the same predictions:  {export_equal}")
    print(f"wrote {keras_path}, {export_path}/, {preview_path}, "
          f"{os.path.join(out_dir, 'results.json')} ({elapsed:.0f} s)")
    return summary
