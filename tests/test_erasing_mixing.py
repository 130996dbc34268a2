"""RandomErasing, MixUp and CutMix: shares, weights and labels."""

import keras
import numpy as np
import pytest
from scipy import stats

import augment_layers as al
from tests.backend import jit_layer_call, to_numpy


def constant_batch(n, h=20, w=30):
    """Image i is the constant 10 i + 5; its label is class i (one-hot)."""
    values = 10.0 * np.arange(n) + 5.0
    images = np.broadcast_to(values[:, None, None, None], (n, h, w, 3))
    return (np.ascontiguousarray(images, "float32"),
            np.eye(n, dtype="float32"), values)


# -- RandomErasing --------------------------------------------------------------
def test_erased_area_shares_stay_within_area_and_form_one_rectangle(rng):
    images = rng.uniform(1, 255, (400, 24, 32, 3)).astype("float32")
    layer = al.RandomErasing(probability=0.7, area=(0.05, 0.2),
                             ratio=(0.5, 2.0), value=0.0, seed=3)
    out = to_numpy(layer(images, training=True))
    erased = np.all(out == 0, axis=-1)
    shares = erased.mean(axis=(1, 2))
    applied = shares > 0
    # 5 sigma of a share of 400 Bernoulli(0.7) draws: 5 * 0.0229.
    assert abs(applied.mean() - 0.7) < 0.115
    assert np.all(shares[applied] >= 0.05) and np.all(shares[applied] <= 0.2)
    for mask in erased[applied][:50]:
        rows, cols = np.nonzero(mask)
        box = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all()  # one filled rectangle
        ratio = box.shape[0] / box.shape[1]
        assert 0.5 * 0.8 <= ratio <= 2.0 * 1.25  # rounded to whole pixels
    # Pixels outside the rectangle are untouched.
    np.testing.assert_array_equal(out[~erased], images[~erased])


def test_erasing_leaves_masks_and_labels_alone(rng):
    data = {"images": rng.uniform(1, 255, (4, 16, 16, 3)).astype("float32"),
            "segmentation_masks": np.ones((4, 16, 16, 1), "uint8"),
            "labels": np.arange(4)}
    out = al.RandomErasing(1.0, value=0.0, seed=1)(data, training=True)
    np.testing.assert_array_equal(to_numpy(out["segmentation_masks"]), 1)
    assert np.any(to_numpy(out["images"]) == 0)
    same = al.RandomErasing(1.0)(data, training=False)
    np.testing.assert_array_equal(to_numpy(same["images"]), data["images"])


# -- MixUp and CutMix ----------------------------------------------------------
def test_mixup_label_weights_equal_pixel_weights():
    images, labels, values = constant_batch(16)
    out = al.MixUp(alpha=0.4, seed=2)({"images": images, "labels": labels},
                                      training=True)
    mixed, weights = to_numpy(out["images"]), to_numpy(out["labels"])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    # Each pixel is the labels' weighted mix of the images it came from.
    np.testing.assert_allclose(mixed[:, 0, 0, 0], weights @ values,
                               rtol=1e-5, atol=1e-3)
    assert np.all(mixed == mixed[:, :1, :1, :1])  # the whole image alike


@pytest.mark.parametrize("alpha", [0.2, 1.0, 2.5])
def test_mixup_weights_are_beta_distributed(alpha):
    # Built from uniform draws (XLA has no gamma sampler on TensorFlow);
    # against scipy's Beta(alpha, alpha).
    layer = al.MixUp(alpha=alpha, seed=5)
    weights = np.concatenate([to_numpy(layer.get_random_transformation(
        (1000, 4, 4, 3))["weight"]) for _ in range(4)])
    assert np.all((weights >= 0) & (weights <= 1))
    # p > 1e-6: beyond 5 sigma, so a new random stream does not re-roll it.
    assert stats.kstest(weights, stats.beta(alpha, alpha).cdf).pvalue > 1e-6


def test_cutmix_label_weights_equal_pasted_pixel_shares():
    images, labels, values = constant_batch(12)
    out = al.CutMix(alpha=1.0, seed=4)({"images": images, "labels": labels},
                                       training=True)
    pasted, weights = to_numpy(out["images"]), to_numpy(out["labels"])
    for i in range(12):
        own = np.isclose(pasted[i, ..., 0], values[i])
        others = ~own
        np.testing.assert_allclose(weights[i, i], own.mean(), atol=1e-6)
        np.testing.assert_allclose(1.0 - weights[i, i], others.mean(),
                                   atol=1e-6)
        if others.any():  # one rectangle of one partner's pixels
            rows, cols = np.nonzero(others)
            box = others[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
            assert box.all()
            partner = np.argmax(weights[i] * (np.arange(12) != i))
            np.testing.assert_allclose(pasted[i][others], values[partner])


@pytest.mark.parametrize("cls", [al.MixUp, al.CutMix])
def test_mixing_is_identity_at_inference_and_refuses_what_it_cannot_mix(cls):
    images, labels, _ = constant_batch(4)
    layer = cls(seed=1)
    out = layer({"images": images, "labels": labels}, training=False)
    np.testing.assert_array_equal(to_numpy(out["images"]), images)
    np.testing.assert_array_equal(to_numpy(out["labels"]), labels)
    with pytest.raises(ValueError, match="one-hot or soft"):
        layer({"images": images, "labels": np.arange(4)}, training=True)
    with pytest.raises(ValueError, match="segmentation_masks"):
        layer({"images": images, "labels": labels,
               "segmentation_masks": np.zeros((4, 20, 30, 1))},
              training=True)
    with pytest.raises(ValueError, match="needs a batch"):
        layer(images[0], training=True)
    with pytest.raises(ValueError, match="`alpha`"):
        cls(alpha=0)
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config


def test_mixing_inside_augment_mixes_labels_and_compiles():
    images, labels, values = constant_batch(8)
    augment = al.Augment([al.RandomBrightnessRange((1, 1)),
                          al.MixUp(0.5, seed=3)])
    out = augment({"images": images, "labels": labels}, training=True)
    mixed, weights = to_numpy(out["images"]), to_numpy(out["labels"])
    np.testing.assert_allclose(mixed[:, 0, 0, 0], weights @ values,
                               rtol=1e-5, atol=1e-3)
    jitted = jit_layer_call(al.CutMix(seed=2), {"images": images,
                                                "labels": labels})
    assert to_numpy(jitted["labels"]).shape == labels.shape


def test_erasing_config_and_errors():
    layer = al.RandomErasing(0.3, area=(0.1, 0.2), ratio=(0.5, 2), value=9.0)
    config = layer.get_config()
    assert al.RandomErasing.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="`area`"):
        al.RandomErasing(area=(0.5, 2.0))
    with pytest.raises(ValueError, match="`probability`"):
        al.RandomErasing(probability=1.5)
    assert keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)).get_config() == config
