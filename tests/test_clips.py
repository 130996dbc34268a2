"""Clips: a 5-D batch ``(B, frames, H, W, C)`` given to 2-D layers.

Each clip draws once and every frame gets the same transform; the
reference is the same layer on the batch of each frame position under the
same call seed (the draws of image ``b`` depend on the seed and ``b``
only). Every layer passes the generic form of this in
``tests/test_contract.py``; here: targets per frame, whole-clip mixing,
channels-first, XLA, a fit, a safe reload and tf.data.
"""

import keras
import numpy as np
import pytest
from scipy import stats

import augment_layers as al
from tests.backend import BACKEND
from tests.backend import resamples
from tests.backend import layer_hlo
from tests.backend import to_numpy


def _clips(rng, shape=(3, 4, 20, 24, 3)):
    return rng.uniform(0, 255, shape).astype("float32")


def _frame(data, t):
    """Frame ``t`` of every clip in a dict of clips."""
    return keras.tree.map_structure(lambda x: x[:, t], data)


def test_targets_follow_each_frame(rng):
    """Masks, boxes and keypoints given per frame move with their frame:
    equal to the same Augment on each frame position, same call seed."""
    clips = _clips(rng)
    batch, frames = clips.shape[:2]
    data = {"images": clips,
            "segmentation_masks": rng.integers(0, 5, clips.shape[:-1] + (1,)
                                               ).astype("int32"),
            "bounding_boxes": {
                "boxes": np.concatenate([
                    rng.uniform(2, 8, (batch, frames, 2, 2)),
                    rng.uniform(12, 18, (batch, frames, 2, 2))],
                    axis=-1).astype("float32"),
                "labels": rng.integers(0, 3, (batch, frames, 2))},
            "keypoints": rng.uniform(3, 17, (batch, frames, 4, 2)).astype(
                "float32")}
    augment = al.Augment([al.RandomRotation(25), al.RandomShift(0.1, 0.1),
                          al.RandomFlip("horizontal")],
                         bounding_box_format="xyxy")
    out = keras.tree.map_structure(to_numpy, augment(data, training=True,
                                                     seed=21))
    assert out["images"].shape == clips.shape
    for t in range(frames):
        ref = keras.tree.map_structure(to_numpy, augment(
            _frame(data, t), training=True, seed=21))
        for got, want in zip(keras.tree.flatten(_frame(out, t)),
                             keras.tree.flatten(ref)):
            np.testing.assert_allclose(got, want, atol=1e-3, rtol=0)
    # The frames of a clip moved alike: the keypoints of frames holding the
    # same points land at the same places; the clips moved differently.
    same = dict(data, keypoints=np.repeat(data["keypoints"][:, :1], frames,
                                          axis=1))
    moved = to_numpy(augment(same, training=True, seed=5)["keypoints"])
    np.testing.assert_allclose(moved, np.repeat(moved[:, :1], frames, 1),
                               atol=1e-4)
    assert not np.allclose(moved[0], moved[1], atol=1e-2)


def _mixup_partner(clip, mixed, clips):
    """From the pixels alone: the clip ``p`` and the weights ``w`` (one
    per frame) with ``mixed = w * clip + (1 - w) * clips[p]``, by least
    squares against every candidate; ``(None, None)`` where ``mixed`` is
    ``clip`` itself (to within a weight of 1e-3)."""
    if np.allclose(mixed, clip, atol=1e-2, rtol=0):
        return None, None
    d = (clip - clips).astype("float64")  # (B, frames, H, W, C)
    r = (mixed - clips).astype("float64")
    axes = (2, 3, 4)
    dd = np.maximum((d * d).sum(axis=axes), 1e-12)
    w = (r * d).sum(axis=axes) / dd  # (B, frames)
    residual = np.abs(r - w[..., None, None, None] * d).max(axis=(1, 2, 3,
                                                                  4))
    fits = np.flatnonzero(residual < 1e-2)
    assert len(fits) >= 1, "not a mix of this clip and another"
    if len(fits) > 1:  # a weight so near 1 that no partner shows
        assert np.all(w[fits] > 0.999), (fits, w[fits])
        return None, None
    return int(fits[0]), w[fits[0]]


@pytest.mark.parametrize("layer", [al.MixUp(1.0), al.CutMix(1.0)],
                         ids=["MixUp", "CutMix"])
def test_mixing_mixes_whole_clips(rng, layer):
    """Each clip is mixed with one partner clip, by one weight (MixUp) or
    one rectangle (CutMix) on every frame; labels per clip. The partner and
    the weight or rectangle are read from the pixels, against the labels;
    and mixing happened: with alpha = 1 (a uniform weight) and a random
    partner, most clips get a partner and a weight away from 0 and 1."""
    n, frames = 32, 3
    clips = _clips(rng, (n, frames, 8, 10, 3))
    labels = np.eye(n, dtype="float32")
    out = layer({"images": clips, "labels": labels}, training=True, seed=3)
    images, mixed = to_numpy(out["images"]), to_numpy(out["labels"])
    assert images.shape == clips.shape and mixed.shape == (n, n)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-5)
    partners, weights = [], []
    for b in range(n):
        own = mixed[b, b]
        if isinstance(layer, al.MixUp):
            partner, w = _mixup_partner(clips[b], images[b], clips)
            if partner is None:  # no partner, or a weight of 1
                assert own > 1.0 - 1e-3, (b, mixed[b])
                continue
            assert partner != b
            # One weight for every frame, the label's.
            np.testing.assert_allclose(w, w[0], atol=1e-4, rtol=0)
            np.testing.assert_allclose(w[0], own, atol=1e-4)
            share = 1.0 - w[0]
        else:
            changed = np.any(images[b] != clips[b], axis=-1)  # (frames,H,W)
            if not changed.any():
                assert own > 1.0 - 1e-6, (b, mixed[b])
                continue
            # The changed pixels all come from one other clip, unchanged.
            sources = [p for p in range(n) if p != b and np.array_equal(
                images[b][changed], clips[p][changed])]
            assert len(sources) == 1, (b, sources)
            partner = sources[0]
            kept = ~changed
            np.testing.assert_array_equal(images[b][kept], clips[b][kept])
            # One rectangle, the same on every frame.
            for t in range(1, frames):
                np.testing.assert_array_equal(changed[t], changed[0])
            rows = np.flatnonzero(changed[0].any(axis=1))
            cols = np.flatnonzero(changed[0].any(axis=0))
            assert changed[0][rows[0]:rows[-1] + 1,
                              cols[0]:cols[-1] + 1].all()
            assert changed[0].sum() == len(rows) * len(cols)
            share = changed[0].mean()
            np.testing.assert_allclose(own, 1.0 - share, atol=1e-6)
        # The partner's label by the same weight, no other label.
        np.testing.assert_allclose(mixed[b, partner], share, atol=1e-4)
        others = np.delete(mixed[b], [b, partner])
        np.testing.assert_array_equal(others, 0.0)
        partners.append(partner)
        weights.append(share)
    # Mixing happened: a clip is left alone (no partner, or a weight or
    # pasted share within 0.02 of 0 or 1) with a chance near 0.1 (1 / n
    # for a fixed point of the permutation, about 0.04 for the weight);
    # half of the 32 clips left alone has a chance near 1e-8.
    assert len(weights) >= n // 2, weights
    weights = np.asarray(weights)
    assert np.sum((weights > 0.02) & (weights < 0.98)) >= n // 2, weights
    assert len(set(partners)) == len(partners)  # a permutation
    if isinstance(layer, al.MixUp):  # the weight is U(0, 1) (alpha = 1)
        assert stats.kstest(weights, stats.uniform(0, 1).cdf).pvalue > 1e-6


@pytest.mark.slow
def test_channels_first_clips(rng):
    clips = _clips(rng)
    last = al.RandomAffine(20, 0.1, 0.1, zoom_range=0.2, seed=1)
    first = al.RandomAffine(20, 0.1, 0.1, zoom_range=0.2, seed=1,
                            data_format="channels_first")
    a = to_numpy(last(clips, training=True, seed=4))
    b = to_numpy(first(np.transpose(clips, (0, 4, 1, 2, 3)), training=True,
                       seed=4))
    np.testing.assert_array_equal(np.transpose(b, (0, 2, 3, 4, 1)), a)
    assert first.compute_output_shape((2, 3, 4, 20, 24)) == (2, 3, 4, 20, 24)


def test_clip_rank_errors(rng):
    with pytest.raises(ValueError, match=r"clips \(B, frames, H, W, C\)"):
        al.RandomFlip()(np.zeros((1, 2, 2, 8, 8, 3), "float32"),
                        training=True)


def test_clips_resample_once_under_xla(rng):
    """The frames of the clips go through the same one resample as a
    batch of images: four gathers (bilinear) for a stack of geometric
    layers."""
    augment = al.Augment([al.RandomRotation(20), al.RandomShift(0.1, 0.1),
                          al.RandomZoomAspect(0.2),
                          al.RandomBrightnessRange((0.8, 1.2))])
    hlo = layer_hlo(augment, _clips(rng, (2, 4, 16, 16, 3)))
    assert resamples(hlo) == 1


def test_video_model_fits_compiled_and_reloads_safely(rng, tmp_path):
    """A clip classifier with the augmentation in front: fit under
    ``jit_compile``, saved, reloaded in safe mode with equal predictions."""
    if BACKEND == "torch":
        pytest.skip("PyTorch has no XLA compilation")
    model = keras.Sequential([
        keras.Input((4, 16, 16, 3)),
        al.Augment([al.RandomRotation(15), al.RandomFlip("horizontal"),
                    al.RandomContrast(0.3)]),
        keras.layers.Rescaling(1 / 255.0),
        keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3)),
        keras.layers.GlobalAveragePooling3D(),
        keras.layers.Dense(2, activation="softmax")])
    x = _clips(rng, (8, 4, 16, 16, 3))
    y = keras.utils.to_categorical(np.arange(8) % 2, 2)
    model.compile("adam", "categorical_crossentropy", jit_compile=True)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    path = tmp_path / "clips.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.tensorflow_only
def test_clips_in_tf_data(rng):
    import tensorflow as tf

    layer = al.RandomAffine(30, 0.1, 0.1, seed=2)
    clips = _clips(rng, (4, 3, 16, 16, 3))
    clips[:, 1:] = clips[:, :1]  # every frame the same
    ds = tf.data.Dataset.from_tensor_slices(clips).batch(2).map(
        lambda x: layer(x, training=True))
    out = np.concatenate([b.numpy() for b in ds])
    assert out.shape == clips.shape
    np.testing.assert_array_equal(out[:, 1], out[:, 0])
    np.testing.assert_array_equal(out[:, 2], out[:, 0])
    assert not np.allclose(out[0, 0], clips[0, 0])


@pytest.mark.tensorflow_only
def test_an_unknown_frame_count_is_a_clear_error():
    import tensorflow as tf

    layer = al.RandomRotation(10)
    traced = tf.function(lambda x: layer(x, training=True),
                         input_signature=[tf.TensorSpec(
                             (None, None, 16, 16, 3), tf.float32)])
    with pytest.raises(ValueError, match="number of frames known"):
        traced.get_concrete_function()
