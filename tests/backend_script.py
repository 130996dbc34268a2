"""Run under one backend by tests/test_backends.py, in a fresh process.

``python -m tests.backend_script save OUT_DIR``: writes, for this process's
backend, the outputs of every layer at fixed parameters, draws of random
parameters, and a trained ``.keras`` model with its predictions.
``python -m tests.backend_script load MODEL_DIR``: loads a model saved under
another backend, checks its predictions, augments and trains with it.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import augment_layers as al  # noqa: E402


def fixed_input():
    rng = np.random.default_rng(7)
    return rng.uniform(0, 255, (3, 21, 26, 3)).astype("float32")


def fixed_layers():
    """Every layer and op with each range pinned (lo == hi): deterministic."""
    geometric = [al.RandomRotation((17, 17)),
                 al.RandomShift((0.1, 0.1), (-0.2, -0.2)),
                 al.RandomShear((-9, -9)),
                 al.RandomZoomAspect((0.85, 0.85), aspect_range=(1.2, 1.2))]
    layers = {
        "shift_pixels": al.RandomShift((3, 3), (-2, -2), units="pixels",
                                       fill_mode="constant", fill_value=7),
        "shear_reflect": al.RandomShear((12, 12), fill_mode="reflect"),
        "zoom_wrap": al.RandomZoomAspect((0.8, 0.8),
                                         aspect_range=(1.3, 1.3),
                                         fill_mode="wrap"),
        "zoom_xy": al.RandomZoomAspect((1.1, 1.1)),
        "rotation_nearest": al.RandomRotation((25, 25),
                                              interpolation="nearest"),
        "affine": al.RandomAffine(rotation_range=(-8, -8),
                                  height_range=(2, 2), width_range=(3, 3),
                                  shear_range=(5, 5), zoom_range=(0.9, 0.9),
                                  units="pixels", fill_mode="reflect"),
        "brightness": al.RandomBrightnessRange((1.3, 1.3)),
        "channel_shift": al.RandomChannelShift((20, 20)),
        "augment_fused": al.Augment(geometric + [
            al.RandomBrightnessRange((0.8, 0.8))]),
        "samplewise": al.SamplewiseNormalization(center=True,
                                                 std_normalization=True),
        # Keras's layers: the 8-bit ones first, on the exact input.
        "keras_colour": al.Augment([
            al.RandomPosterization((3, 3)), al.Equalization(),
            al.RandomBrightness((0.1, 0.1)), al.RandomSaturation((0.7, 0.7)),
            al.RandomColorDegeneration((0.3, 0.3)),
            al.RandomSharpness((0.8, 0.8)),
            al.Solarization(threshold_factor=(0.6, 0.6)), al.AutoContrast(),
            al.RandomGaussianBlur((1.0, 1.0), 5, (1.2, 1.2))]),
        "keras_geometric": al.Augment([
            al.RandomTranslation((0.1, 0.1), (-0.05, -0.05)),
            al.RandomZoom((0.2, 0.2), (-0.1, -0.1))]),
    }
    for op, params in [("brightness", {"factor": (1.2, 1.2)}),
                       ("contrast", {"factor": (0.6, 0.6)}),
                       ("gamma", {"gamma": (1.5, 1.5)}),
                       ("channel_shift", {"shift": (-30, -30)}),
                       ("saturation", {"factor": (0.4, 0.4)})]:
        layers[f"op_{op}"] = al.RandomLambda(op, params)
    return layers


def draws(n=4000):
    """Random parameters drawn by the layers, as a call draws them."""
    shape = (n, 8, 8, 3)
    out = {}
    t = al.RandomRotation(30, seed=1).get_random_transformation(shape)
    out["rotation_theta"] = t["theta"]
    t = al.RandomZoomAspect(0.3, seed=2).get_random_transformation(shape)
    out["zoom_zx"] = t["zx"]
    t = al.RandomZoomAspect(0.2, aspect_range=(0.5, 2.0),
                            seed=3).get_random_transformation(shape)
    out.update({f"aspect_{k}": v for k, v in t.items()})
    t = al.RandomBrightnessRange((0.5, 1.5),
                                 seed=4).get_random_transformation(shape)
    out["brightness_factor"] = t["factor"]
    t = al.RandomFlip(seed=5).get_random_transformation(shape)
    out.update({f"flip_{k}": v for k, v in t.items()})
    return {k: np.asarray(keras.ops.convert_to_numpy(v), "float64").ravel()
            for k, v in out.items()}


def seeded_calls(calls=2):
    """Two training calls of a seeded stack."""
    augment = al.Augment([al.RandomRotation(20, seed=1),
                          al.RandomShift(0.2, 0.1, seed=2),
                          al.RandomShear(10, seed=3),
                          al.RandomZoomAspect(0.2, seed=4),
                          al.RandomFlip(seed=5),
                          al.RandomBrightnessRange((0.8, 1.2), seed=6),
                          al.RandomChannelShift(20, seed=7)])
    x = fixed_input()
    return {f"call{i}": keras.ops.convert_to_numpy(augment(x, training=True))
            for i in range(calls)}


def model():
    augment = al.Augment([al.RandomRotation(15, seed=1),
                          al.RandomShift(0.1, 0.1, seed=2),
                          al.RandomFlip(seed=3),
                          al.RandomLambda("contrast", {"factor": (0.8, 1.2)},
                                          seed=4),
                          keras.layers.Rescaling(1 / 255.0)])
    return keras.Sequential([
        keras.Input((16, 16, 3)), augment,
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax")])


def training_data():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32")
    return x, np.eye(3)[np.arange(8) % 3]


def save(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x = fixed_input()
    fixed = {name: keras.ops.convert_to_numpy(layer(x, training=True))
             for name, layer in fixed_layers().items()}
    np.savez(os.path.join(out_dir, "fixed.npz"), **fixed)
    np.savez(os.path.join(out_dir, "draws.npz"), **draws())
    np.savez(os.path.join(out_dir, "seeded.npz"), **seeded_calls())
    net = model()
    net.compile("adam", "categorical_crossentropy")
    xt, yt = training_data()
    net.fit(xt, yt, epochs=1, verbose=0)
    net.save(os.path.join(out_dir, "model.keras"))
    np.save(os.path.join(out_dir, "pred.npy"), net.predict(xt, verbose=0))
    print("SAVED", keras.backend.backend())


def load(model_dir):
    net = keras.models.load_model(os.path.join(model_dir, "model.keras"))
    xt, yt = training_data()
    np.testing.assert_allclose(net.predict(xt, verbose=0),
                               np.load(os.path.join(model_dir, "pred.npy")),
                               rtol=1e-4, atol=1e-5)
    augment = net.layers[0]
    out = keras.ops.convert_to_numpy(augment(xt, training=True))
    assert not np.allclose(out, xt / 255.0), "no augmentation after loading"
    # Keras records a PyTorch-compiled model's optimizer by its PyTorch class
    # (keras.src.backend.torch.optimizers), which cannot train elsewhere:
    # compile again under this backend. Our layers need nothing of the sort.
    net.compile("adam", "categorical_crossentropy")
    history = net.fit(xt, yt, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    print("LOADED", keras.backend.backend(),
          [type(layer).__name__ for layer in augment.layers])


if __name__ == "__main__":
    {"save": save, "load": load}[sys.argv[1]](sys.argv[2])
