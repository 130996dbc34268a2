"""The generic contract that every public layer passes (tests/layer_cases.py)."""

import keras
import numpy as np
import pytest

from tests.backend import jit_layer_call
from tests.backend import stored_dtype
from tests.backend import to_numpy
from tests.helpers import FreshInterpreter
from tests.helpers import reload_in_new_process
from tests.helpers import small_cnn
from tests.layer_cases import expected_at_inference


def test_construct_and_call(layer_case, rng):
    layer = layer_case.make(seed=11)
    x = rng.uniform(0, 255, (4, 24, 24, 3)).astype("float32")
    out = layer(x, training=True)
    expected = expected_at_inference(layer, x).shape
    assert tuple(out.shape) == expected
    assert tuple(layer.compute_output_shape(x.shape)) == expected
    spec = layer.compute_output_spec(keras.KerasTensor((None, 24, 24, 3)))
    assert spec.shape == (None,) + expected[1:]
    # Stateless: no weights, trainable or not (the seed state is Keras's
    # SeedGenerator, outside the layer's weights).
    assert layer.weights == [] and layer.trainable_weights == []


def test_config_round_trip(layer_case, rng):
    layer = layer_case.make(seed=11)
    config = layer.get_config()
    rebuilt = type(layer).from_config(config)
    assert rebuilt.get_config() == config
    # Also through Keras's generic (de)serialisation, by registered name.
    generic = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer))
    assert type(generic) is type(layer) and generic.get_config() == config
    x = rng.uniform(0, 255, (4, 24, 24, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(layer(x, training=True)),
                                  np.asarray(rebuilt(x, training=True)))


@pytest.fixture(scope="module")
def fresh_interpreter():
    """One new interpreter loads every layer's file (one start-up, not one
    per layer); it never constructed the layers it loads."""
    interpreter = FreshInterpreter()
    yield interpreter
    interpreter.close()


@pytest.mark.sampled(3)
def test_keras_file_round_trip_in_new_process(layer_case, rng, tmp_path,
                                              fresh_interpreter):
    model = small_cnn([layer_case.make(seed=11)])
    x = rng.uniform(0, 255, (8, 24, 24, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 8), 3)
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    reload_in_new_process(model, x, tmp_path, interpreter=fresh_interpreter,
                          check=f"""
        aug = model.layers[0]
        assert type(aug).__name__ == {type(model.layers[0]).__name__!r}
        out = np.asarray(aug(x, training=True))
        assert out.shape != x.shape or not np.allclose(out, x)
    """)


@pytest.mark.sampled(2)
def test_fit_a_small_cnn(layer_case, rng):
    model = small_cnn([layer_case.make(seed=1)])
    x = rng.uniform(0, 255, (16, 24, 24, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 16), 3)
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))


def test_runs_under_xla(layer_case, rng):
    layer = layer_case.make(seed=1)
    x = rng.uniform(0, 255, (4, 24, 24, 3)).astype("float32")
    first = to_numpy(jit_layer_call(layer, x))
    second = to_numpy(jit_layer_call(layer, x))
    assert first.shape == tuple(layer.compute_output_shape(x.shape))
    assert np.all(np.isfinite(first))
    if not layer_case.deterministic:
        assert not np.array_equal(first, second)  # the seed state moved on
    assert not getattr(layer, "supports_jit", True) is False


@pytest.mark.sampled(2)
def test_clips_draw_once_per_clip(layer_case, rng):
    """A 5-D batch is a batch of clips: frame ``t`` of the clips equals the
    layer on the batch of frames ``t`` under the same call seed (one draw
    per clip, the same transform on each of its frames); identical frames
    stay identical, and identical clips differ from each other."""
    layer = layer_case.make(seed=5)
    clips = rng.uniform(0, 255, (3, 3, 20, 20, 3)).astype("float32")
    clips[:, 2] = clips[:, 1]
    out = to_numpy(layer(clips, training=True, seed=9))
    assert out.shape == tuple(layer.compute_output_shape(clips.shape))
    for t in range(3):
        np.testing.assert_allclose(
            out[:, t], to_numpy(layer(clips[:, t], training=True, seed=9)),
            atol=1e-2, rtol=0)
    np.testing.assert_array_equal(out[:, 2], out[:, 1])
    if layer_case.deterministic:
        return
    same = np.repeat(clips[:1, 1:], 16, axis=0)  # two equal frames
    out = to_numpy(layer(same, training=True, seed=10))
    np.testing.assert_array_equal(out[:, 1], out[:, 0])
    # Clips differ (each image's own draws are test_behaviour's).
    assert len({o.tobytes() for o in out[:, 0]}) >= 2


@pytest.mark.sampled(2)
def test_takes_keras_dict_format(layer_case, rng):
    """Images, masks, boxes and keypoints in; the same structure out, each
    target in its own dtype; at inference every target is unchanged."""
    layer = layer_case.make(seed=11)
    if layer_case.geometric:
        layer.bounding_box_format = "xyxy"
    data = {"images": rng.uniform(0, 255, (3, 20, 28, 3)).astype("float32"),
            "labels": np.arange(3, dtype="int32"),
            "segmentation_masks": rng.integers(0, 4, (3, 20, 28, 1)).astype(
                "uint8"),
            "bounding_boxes": {
                "boxes": np.tile(np.array([[2, 3, 12, 15]], "float32"),
                                 (3, 1, 1)),
                "labels": np.ones((3, 1), "int64")},
            "keypoints": rng.uniform(2, 18, (3, 5, 2)).astype("float32")}
    if not layer_case.takes_targets:
        with pytest.raises(ValueError, match="cannot follow"):
            layer(data, training=True)
        data = {"images": data["images"], "labels": data["labels"]}
    resized = tuple(layer.compute_output_shape(data["images"].shape))
    for training in (True, False):
        out = keras.tree.map_structure(to_numpy, layer(data,
                                                       training=training))
        keras.tree.assert_same_structure(out, data)
        for got, given in zip(keras.tree.flatten(out),
                              keras.tree.flatten(data)):
            if given.shape[1:3] == (20, 28):  # images and masks
                assert got.shape[:3] == resized[:3]
            else:
                assert got.shape == given.shape
        assert out["images"].dtype == np.float32
        if layer_case.takes_targets:
            assert out["segmentation_masks"].dtype == np.uint8
            assert out["bounding_boxes"]["labels"].dtype == stored_dtype(
                "int64")
        np.testing.assert_array_equal(out["labels"], data["labels"])
        if not training and not layer.acts_at_inference:
            for got, given in zip(keras.tree.flatten(out),
                                  keras.tree.flatten(data)):
                np.testing.assert_array_equal(got, given)
    spec = layer.compute_output_spec(keras.tree.map_structure(
        lambda x: keras.KerasTensor(x.shape, x.dtype), data))
    assert spec["images"].shape[:3] == resized[:3]
    if layer_case.takes_targets:
        assert spec["segmentation_masks"].dtype == "uint8"
