"""tf.data maps, on every backend, compiled, with dicts.

Under JAX and PyTorch a layer called inside ``Dataset.map`` runs the same
pure functions on TensorFlow (augment_layers.ops.dispatch); on every backend
the resample inside the map is an XLA-compiled function.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import augment_layers as al
from augment_layers.ops import boxes as box_ops
from tests.backend import stored_dtype, to_numpy


def _dataset_run(seed, parallel, n=256, batch=8):
    image = np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 3))
    x = np.repeat(image.astype("float32"), n, axis=0)
    augment = al.Augment([al.RandomShift(0.3, 0.3, seed=seed),
                          al.RandomRotation(20, seed=seed + 1),
                          al.RandomBrightnessRange((0.5, 1.5), seed=seed + 2)])
    ds = tf.data.Dataset.from_tensor_slices((x, np.zeros(n))).batch(batch)
    ds = ds.map(lambda images, labels: (augment(images, training=True),
                                        labels),
                num_parallel_calls=tf.data.AUTOTUNE if parallel else None)
    return np.concatenate([images for images, _ in ds.as_numpy_iterator()])


def test_parallel_map_gives_every_image_its_own_parameters():
    out = _dataset_run(seed=1, parallel=True)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    # 256 copies of one image: every output differs from every other, so no
    # two parallel map calls drew the same parameters.
    assert len({image.tobytes() for image in out}) == len(out)


def test_sequential_map_is_deterministic_by_seed():
    first = _dataset_run(seed=1, parallel=False)
    np.testing.assert_array_equal(first, _dataset_run(seed=1, parallel=False))
    assert not np.array_equal(first, _dataset_run(seed=5, parallel=False))
    assert len({image.tobytes() for image in first}) == len(first)


def test_a_parallel_pipeline_feeds_model_fit():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 255, (32, 16, 16, 3)).astype("float32")
    y = np.eye(3)[np.arange(32) % 3]
    augment = al.from_image_data_generator(
        rotation_range=20, width_shift_range=0.1, height_shift_range=2,
        shear_range=8, zoom_range=0.2, horizontal_flip=True,
        brightness_range=(0.7, 1.3), channel_shift_range=10, rescale=1 / 255)
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(32).batch(8)
          .map(lambda a, b: (augment(a, training=True), b),
               num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def _detection_data(rng, n=16, h=30, w=44):
    return {"images": rng.uniform(0, 255, (n, h, w, 3)).astype("float32"),
            "labels": np.arange(n, dtype="int32"),
            "segmentation_masks": rng.integers(0, 5, (n, h, w, 1)).astype(
                "uint8"),
            "bounding_boxes": {
                "boxes": np.tile(np.array([[3, 4, 20, 22], [10, 2, 40, 12]],
                                          "float32"), (n, 1, 1)),
                "labels": np.tile(np.array([1, 2], "int32"), (n, 1))},
            "keypoints": rng.uniform(0, 30, (n, 3, 2)).astype("float32")}


def test_dicts_keep_integer_dtypes_and_targets_follow(rng):
    # Keras 3.15 returns integer masks as float32 inside tf.data.
    data = _detection_data(rng)
    augment = al.Augment([al.RandomRotation(20), al.RandomFlip(),
                          al.RandomShift(0.1, 0.1, fill_mode="constant"),
                          al.RandomBrightnessRange()],
                         bounding_box_format="xyxy")
    ds = tf.data.Dataset.from_tensor_slices(data).batch(4).map(
        lambda d: augment(d, training=True),
        num_parallel_calls=tf.data.AUTOTUNE)
    count = 0
    for batch in ds.as_numpy_iterator():
        assert batch["segmentation_masks"].dtype == np.uint8
        assert batch["labels"].dtype == np.int32
        assert batch["bounding_boxes"]["labels"].dtype == np.int32
        assert batch["keypoints"].dtype == np.float32
        assert batch["images"].shape == (4, 30, 44, 3)
        assert set(np.unique(batch["segmentation_masks"])) <= set(range(5))
        count += 1
    assert count == 4


def _fixed_pipeline(fmt="rel_xywh"):
    return al.Augment([
        al.RandomRotation((17, 17)), al.RandomShift((2, 2), (-3, -3),
                                                    units="pixels"),
        al.RandomZoomAspect((0.9, 0.9), aspect_range=(1.2, 1.2)),
        al.RandomBrightnessRange((1.1, 1.1)),
        al.RandomLambda("contrast", {"factor": (0.8, 0.8)}),
        al.RandomShear((8, 8), interpolation="nearest")],
        bounding_box_format=fmt)


def test_map_equals_the_direct_call_for_fixed_parameters(rng):
    data = _detection_data(rng, n=8)
    data["bounding_boxes"]["boxes"] = box_ops.convert(
        data["bounding_boxes"]["boxes"], "xyxy", "rel_xywh", 30, 44)
    data["bounding_boxes"]["boxes"] = to_numpy(data["bounding_boxes"]["boxes"])
    direct = keras.tree.map_structure(
        to_numpy, _fixed_pipeline()(data, training=True))
    augment = _fixed_pipeline()
    ds = tf.data.Dataset.from_tensor_slices(data).batch(8).map(
        lambda d: augment(d, training=True))
    mapped = next(iter(ds.as_numpy_iterator()))
    np.testing.assert_allclose(mapped["images"], direct["images"], atol=0.05)
    np.testing.assert_array_equal(mapped["segmentation_masks"],
                                  direct["segmentation_masks"])
    np.testing.assert_allclose(mapped["bounding_boxes"]["boxes"],
                               direct["bounding_boxes"]["boxes"], atol=1e-4)
    np.testing.assert_array_equal(mapped["bounding_boxes"]["labels"],
                                  direct["bounding_boxes"]["labels"])
    np.testing.assert_allclose(mapped["keypoints"], direct["keypoints"],
                               atol=1e-3)


def _map_graph_defs(layer, x):
    """The GraphDefs tf.data traced for ``map(layer)`` (with their
    function libraries; tf.data may trace more than once): what the map
    runs, without running it."""
    graphs = []

    def fn(t):
        graphs.append(tf.compat.v1.get_default_graph())
        return layer(t, training=True)

    tf.data.Dataset.from_tensor_slices(x).batch(2).map(fn)
    assert graphs, "tf.data did not trace the map function"
    return [g.as_graph_def() for g in graphs]


def _xla_calls(graph_def):
    """Function calls marked for XLA compilation in ``graph_def``."""
    nodes = list(graph_def.node)
    for fn in graph_def.library.function:
        nodes += list(fn.node_def)
    return [n for n in nodes if "_XlaMustCompile" in n.attr
            and n.attr["_XlaMustCompile"].b]


@pytest.mark.parametrize("layer", [
    al.RandomRotation(20),
    al.Augment([al.RandomRotation(20), al.RandomShift(0.1, 0.1),
                al.RandomBrightnessRange()])],
    ids=["RandomRotation", "Augment"])
def test_the_map_runs_the_compiled_function(layer):
    x = np.zeros((4, 16, 16, 3), "float32")
    graph_defs = _map_graph_defs(layer, x)
    assert all(_xla_calls(g) for g in graph_defs), "the resample inside tf.data is not compiled"
    # And with the switch off, the same check sees no XLA call: it can fail.
    al.set_jit_augment(False)
    try:
        plain = _map_graph_defs(layer, x)
    finally:
        al.set_jit_augment(True)
    assert not any(_xla_calls(g) for g in plain)


def test_standardisation_and_custom_ops_run_in_the_map(rng):
    x = rng.uniform(0, 255, (8, 12, 12, 3)).astype("float32")
    front = al.Augment([al.RandomLambda("gamma", {"gamma": (0.8, 1.2)}),
                        keras.layers.Rescaling(1 / 255.0)])
    samplewise = al.SamplewiseNormalization(std_normalization=True)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4).map(
        lambda t: samplewise(front(t, training=True)))
    out = np.concatenate(list(ds.as_numpy_iterator()))
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1, atol=1e-3)
    assert out.dtype == stored_dtype("float32")
