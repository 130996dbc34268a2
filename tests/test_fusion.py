"""Augment and RandomAffine: one resample for the whole geometric pipeline."""

import keras
import numpy as np
import pytest

import augment_layers as al
from tests.backend import layer_hlo
from tests.backend import resamples
from tests import reference as ref
from tests.helpers import plan_units, reload_in_new_process, small_cnn

MODES = ["constant", "nearest", "reflect", "wrap"]


def fixed_stack(fill_mode="nearest"):
    k = {"fill_mode": fill_mode}
    return [al.RandomRotation((20, 20), **k),
            al.RandomShift((3, 3), (-2, -2), units="pixels", **k),
            al.RandomShear((12, 12), **k),
            al.RandomZoomAspect((0.9, 0.9), aspect_range=(1.2, 1.2), **k)]


def composed_matrix(h, w):
    """The four layers' matrices, composed: first layer on the left."""
    zx, zy = 0.9 / np.sqrt(1.2), 0.9 * np.sqrt(1.2)
    mats = [ref.idg_matrix(theta=20), ref.idg_matrix(tx=2, ty=-3),
            ref.idg_matrix(shear=12), ref.idg_matrix(zx=zx, zy=zy)]
    out = np.eye(3)
    for m in mats:
        out = out @ ref.centred(m, h, w)
    return out


@pytest.mark.parametrize("fill_mode", MODES)
def test_fused_equals_one_scipy_transform(rng, fill_mode):
    h, w = 30, 41
    image = rng.uniform(0, 255, (h, w, 3)).astype("float32")
    augment = al.Augment(fixed_stack(fill_mode))
    out = np.asarray(augment(image[None], training=True))[0]
    expected = ref.scipy_affine(image, composed_matrix(h, w), fill_mode)
    np.testing.assert_allclose(out, expected, atol=0.255, rtol=0)


def test_geometric_run_is_planned_as_one_resample():
    augment = al.Augment(fixed_stack() + [al.RandomFlip(),
                                          al.RandomBrightnessRange()])
    # Four layers and the flip, one resample; then the colour layer.
    assert plan_units(augment) == [("geometric", 5), ("phase", None)]
    # Under XLA the fused stage holds exactly one resample (one native
    # custom call, or four gathers in the general formulation).
    hlo = layer_hlo(augment, np.zeros((2, 16, 16, 3), "float32"))
    assert resamples(hlo) == 1


@pytest.mark.parametrize("fill_mode", ["constant", "reflect"])
def test_colour_layers_after_the_run_equal_scipy_then_numpy(rng, fill_mode):
    """Brightness, a channel shift and Keras's additive brightness, right
    after the fused run, ride on its resample (the native kernel applies
    them to each row it writes): the result is scipy's one transform, then
    each layer's arithmetic in NumPy, with the parameters each drew."""
    h, w = 30, 41
    image = rng.uniform(0, 255, (h, w, 3)).astype("float32")
    colour = [al.RandomBrightnessRange((1.3, 1.3)),
              al.RandomChannelShift((-30, -30)),
              al.RandomBrightness((0.1, 0.1))]
    augment = al.Augment(fixed_stack(fill_mode) + colour)
    out = np.asarray(augment(image[None], training=True))[0]
    expected = ref.scipy_affine(image, composed_matrix(h, w), fill_mode)
    expected = np.clip(expected * 1.3, 0, 255)
    expected = np.clip(expected - 30, 0, 255)
    expected = np.clip(expected + 25.5, 0, 255)
    np.testing.assert_allclose(out, expected, atol=1.3 * 0.255, rtol=0)


def test_a_subclass_that_changes_the_work_is_never_fused(rng):
    """A colour layer whose ``transform_images`` a subclass overrides runs
    its own code, not the steps its parent declared."""
    class Whiten(al.RandomBrightnessRange):
        def transform_images(self, images, transformation):
            return images * 0.0 + 255.0

    image = rng.uniform(0, 255, (1, 16, 16, 3)).astype("float32")
    out = al.Augment([al.RandomRotation(10), Whiten()])(image, training=True)
    np.testing.assert_array_equal(np.asarray(out), 255.0)


def test_mismatched_fill_modes_break_the_run():
    augment = al.Augment([al.RandomRotation(10, fill_mode="reflect"),
                          al.RandomShift(0.1, fill_mode="constant")])
    assert plan_units(augment) == [("geometric", 1), ("geometric", 1)]


def test_fused_is_sharper_than_sequential(rng):
    checker = ((np.indices((64, 64)).sum(0) // 2) % 2 * 255.0)
    image = np.repeat(checker[..., None], 3, -1).astype("float32")[None]
    fused = np.asarray(al.Augment(fixed_stack("reflect"))(image, training=True))
    sequential = image
    for layer in fixed_stack("reflect"):
        sequential = layer(sequential, training=True)
    sequential = np.asarray(sequential)

    def sharpness(x):
        return (np.abs(np.diff(x, axis=1)).mean()
                + np.abs(np.diff(x, axis=2)).mean())

    assert sharpness(fused) > 1.1 * sharpness(sequential)


@pytest.mark.parametrize("fill_mode", MODES)
def test_random_affine_equals_image_data_generator(rng, fill_mode):
    image = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    layer = al.RandomAffine(rotation_range=(15, 15), height_range=(4, 4),
                            width_range=(-3, -3), shear_range=(8, 8),
                            zoom_range=(0.85, 0.85), units="pixels",
                            fill_mode=fill_mode)
    out = np.asarray(layer(image[None], training=True))[0]
    params = {"theta": 15, "tx": 3, "ty": -4, "shear": 8, "zx": 0.85,
              "zy": 0.85}
    if fill_mode == "wrap":  # ImageDataGenerator's wrap is not periodic
        expected = ref.scipy_affine(
            image, ref.centred(ref.idg_matrix(**params), 32, 32), "wrap")
    else:
        expected = ref.idg_apply(image, params, fill_mode)
    np.testing.assert_allclose(out, expected, atol=0.255, rtol=0)


def test_random_affine_flips_like_image_data_generator(rng):
    image = rng.uniform(0, 255, (20, 20, 3)).astype("float32")
    layer = al.RandomAffine(rotation_range=(30, 30), horizontal_flip=True,
                            vertical_flip=True, seed=1)
    out = np.asarray(layer(np.repeat(image[None], 32, 0), training=True))
    seen = set()
    for o in out:
        for fh in (False, True):
            for fv in (False, True):
                e = ref.idg_apply(image, {"theta": 30, "flip_horizontal": fh,
                                          "flip_vertical": fv})
                if np.abs(o - e).max() < 0.255:
                    seen.add((fh, fv))
    assert len(seen) == 4


def test_augment_exposes_layers_and_round_trips():
    children = fixed_stack() + [al.RandomFlip(), al.RandomChannelShift(10),
                                keras.layers.Rescaling(1 / 255.0)]
    augment = al.Augment(children)
    assert augment.layers == children
    config = augment.get_config()
    rebuilt = al.Augment.from_config(config)
    assert [type(c) for c in rebuilt.layers] == [type(c) for c in children]
    assert rebuilt.get_config() == config


def test_plain_keras_layers_run_at_inference_too(rng):
    x = rng.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    augment = al.Augment([al.RandomRotation(30),
                          keras.layers.Rescaling(1 / 255.0)])
    np.testing.assert_allclose(np.asarray(augment(x)), x / 255.0, rtol=1e-6)


def test_augment_bad_arguments():
    with pytest.raises(ValueError, match="`layers`"):
        al.Augment(al.RandomFlip())
    with pytest.raises(ValueError, match="data_format"):
        al.Augment([al.RandomFlip(data_format="channels_first"),
                    al.RandomShift(0.1, data_format="channels_last")])


@pytest.mark.slow
def test_every_kind_of_child_saves_and_loads_in_safe_mode(rng, tmp_path):
    children = [
        al.RandomRotation(10, seed=1), al.RandomShift(0.1, 0.1, seed=2),
        al.RandomShear(5, seed=3),
        al.RandomZoomAspect(0.1, aspect_range=(0.8, 1.25), seed=4),
        al.RandomFlip(seed=5),
        al.RandomAffine(rotation_range=5, horizontal_flip=True, seed=6),
        al.RandomBrightnessRange(seed=7), al.RandomChannelShift(10, seed=8),
        al.RandomLambda("gamma", {"gamma": (0.8, 1.2)}, seed=9),
        keras.layers.Rescaling(1 / 255.0),
        al.SamplewiseNormalization(center=True),
        al.FeaturewiseNormalization(std_normalization=True),
        al.ZCAWhitening(epsilon=0.1),
    ]
    augment = al.Augment(children)
    x = rng.uniform(0, 255, (8, 12, 12, 3)).astype("float32")
    model = small_cnn([augment], input_shape=(12, 12, 3))
    al.adapt(model, x)
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, np.eye(3)[np.arange(8) % 3], epochs=1, verbose=0)
    out = reload_in_new_process(model, x, tmp_path, atol=1e-6, check="""
        names = [type(c).__name__ for c in model.layers[0].layers]
        print("CHILDREN", names)
    """)
    assert "ZCAWhitening" in out and "RandomLambda" in out


def test_fit_with_jit_compile(rng):
    augment = al.from_image_data_generator(
        rotation_range=20, width_shift_range=0.1, height_shift_range=0.1,
        shear_range=10, zoom_range=0.2, horizontal_flip=True,
        brightness_range=(0.8, 1.2))
    model = small_cnn([augment])
    model.compile("adam", "categorical_crossentropy", jit_compile=True)
    assert model.jit_compile
    x = rng.uniform(0, 255, (16, 24, 24, 3)).astype("float32")
    # One step of 16: PyTorch's compiler specialises on each call's seed
    # and recompiles up to its limit (about 6 s a step here), so more steps
    # would time the compiler, not test the fit.
    history = model.fit(x, np.eye(3)[np.arange(16) % 3], batch_size=16,
                        epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
