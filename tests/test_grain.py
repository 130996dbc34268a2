"""Grain pipelines (Keras 3.15's fit takes Grain datasets): our layers in a
Grain map, on every backend, running on the CPU as Keras's own do."""

import keras
import numpy as np
import pytest

import augment_layers as al
from tests.backend import stored_dtype

grain = pytest.importorskip("grain")


class Augmenting(grain.transforms.Map):
    def __init__(self, layer):
        self.layer = layer

    def map(self, element):
        out = self.layer(element, training=True)
        return keras.tree.map_structure(keras.ops.convert_to_numpy, out)


def test_grain_map_draws_per_image_and_keeps_target_dtypes():
    image = np.random.default_rng(0).uniform(0, 255, (16, 16, 3))
    n = 32
    elements = [{"images": image.astype("float32"),
                 "segmentation_masks": (image[..., :1] > 128).astype("uint8"),
                 "labels": np.int32(i % 3)} for i in range(n)]
    augment = al.Augment([al.RandomRotation(25), al.RandomShift(0.2, 0.2)])
    ds = grain.MapDataset.source(elements).batch(8).map(Augmenting(augment))
    batches = list(ds)
    images = np.concatenate([b["images"] for b in batches])
    assert len({x.tobytes() for x in images}) == n  # every copy differs
    assert all(b["segmentation_masks"].dtype == stored_dtype("uint8")
               for b in batches)
    # The mask moved with its image: it still marks the bright pixels.
    for b in batches:
        bright = b["images"][..., 0] > 160
        dark = b["images"][..., 0] < 96
        mask = b["segmentation_masks"][..., 0]
        assert mask[bright].mean() > 0.9 and mask[dark].mean() < 0.1


def test_grain_dataset_feeds_model_fit():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (32, 16, 16, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[np.arange(32) % 3]
    augment = al.from_image_data_generator(rotation_range=20,
                                           horizontal_flip=True,
                                           rescale=1 / 255.0)

    class Pairs(grain.transforms.Map):
        def map(self, element):
            images, labels = element
            return (keras.ops.convert_to_numpy(
                augment(images, training=True)), labels)

    ds = grain.MapDataset.source(list(zip(x, y))).batch(8).map(Pairs())
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(ds.to_iter_dataset(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
