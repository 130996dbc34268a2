"""The drop-in ImageDataGenerator against tf_keras's, wherever tf_keras is
right; and the seeds' code, run with only the import changed."""

import os
import threading

import keras
import numpy as np
import pytest

import augment_layers as al
from augment_layers import image as drop
from tests.backend import tensorflow_only


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three classes of small JPEG and PNG images, sizes varying, a stray
    text file, and a nested folder (followed only with follow_links)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c, name in enumerate(["cats", "dogs", "owls"]):
        os.makedirs(root / name)
        for i in range(7 + c):
            size = (20 + 3 * i, 16 + 2 * c)
            pixels = rng.integers(0, 256, (size[1], size[0], 3), "uint8")
            ext = "jpg" if i % 2 else "png"
            Image.fromarray(pixels).save(root / name / f"{name}_{i}.{ext}")
        (root / name / "notes.txt").write_text("not an image")
    return root


def tf_keras_idg(**kwargs):
    from tf_keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(**kwargs)


def batches(iterator, n=None):
    return [iterator[i] for i in range(n or len(iterator))]


def assert_same_batches(ours, theirs, atol=0.0):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, tuple):
            assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a if isinstance(a, (tuple, list)) else [a],
                        b if isinstance(b, (tuple, list)) else [b]):
            if isinstance(y, list):
                for xx, yy in zip(x, y):
                    np.testing.assert_allclose(xx, yy, atol=atol)
                continue
            x, y = np.asarray(x), np.asarray(y)
            assert x.shape == y.shape and x.dtype == y.dtype
            np.testing.assert_allclose(x, y, atol=atol)


# -- flow --------------------------------------------------------------------
@tensorflow_only
@pytest.mark.parametrize("subset", [None, "training", "validation"])
def test_flow_gives_tf_keras_samples_labels_and_weights(rng, subset):
    x = rng.uniform(0, 255, (23, 12, 14, 3)).astype("float32")
    y = np.arange(23) % 3
    weights = rng.uniform(0, 1, 23)
    misc = rng.uniform(0, 1, (23, 5))
    kwargs = dict(rescale=1 / 255.0, validation_split=0.3)
    flow = dict(batch_size=5, shuffle=False, sample_weight=weights,
                subset=subset)
    ours = al.ImageDataGenerator(**kwargs).flow((x, misc), y, **flow)
    theirs = tf_keras_idg(**kwargs).flow((x, misc), y, **flow)
    assert ours.n == theirs.n and len(ours) == len(theirs)
    assert_same_batches(batches(ours), batches(theirs), atol=1e-6)
    # Shuffled: the same samples per epoch, in some order.
    shuffled = al.ImageDataGenerator(**kwargs).flow(x, y, batch_size=5,
                                                     seed=3, subset=subset)
    labels = np.concatenate([b[1] for b in batches(shuffled)])
    assert sorted(labels) == sorted(np.concatenate(
        [b[1] for b in batches(theirs)]))


@tensorflow_only
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_flow_dtypes_and_shapes(rng, dtype):
    x = rng.integers(0, 255, (6, 8, 9, 1)).astype("uint8")
    ours = al.ImageDataGenerator(dtype=dtype).flow(x, batch_size=4,
                                                    shuffle=False)
    theirs = tf_keras_idg(dtype=dtype).flow(x, batch_size=4, shuffle=False)
    assert_same_batches(batches(ours), batches(theirs))


# -- flow_from_directory and flow_from_dataframe -----------------------------
@tensorflow_only
@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse",
                                        "input", None])
@pytest.mark.parametrize("subset", [None, "validation"])
def test_flow_from_directory_matches_tf_keras(folder, class_mode, subset):
    classes = ["cats", "dogs"] if class_mode == "binary" else None
    kwargs = dict(target_size=(15, 17), batch_size=4, shuffle=False,
                  class_mode=class_mode, classes=classes, subset=subset,
                  interpolation="bilinear")
    ours = al.ImageDataGenerator(rescale=1 / 255.0, validation_split=0.25)\
        .flow_from_directory(str(folder), **kwargs)
    theirs = tf_keras_idg(rescale=1 / 255.0, validation_split=0.25)\
        .flow_from_directory(str(folder), **kwargs)
    for name in ("samples", "class_indices", "filenames", "filepaths",
                 "num_classes", "image_shape"):
        assert getattr(ours, name) == getattr(theirs, name), name
    np.testing.assert_array_equal(ours.classes, theirs.classes)
    assert_same_batches(batches(ours), batches(theirs), atol=1e-6)


@tensorflow_only
@pytest.mark.parametrize("color_mode", ["grayscale", "rgba"])
def test_flow_from_directory_colour_modes_and_keep_aspect(folder, color_mode):
    kwargs = dict(target_size=(10, 12), batch_size=8, shuffle=False,
                  color_mode=color_mode, keep_aspect_ratio=True)
    ours = al.ImageDataGenerator().flow_from_directory(str(folder), **kwargs)
    theirs = tf_keras_idg().flow_from_directory(str(folder), **kwargs)
    assert_same_batches(batches(ours), batches(theirs))


@tensorflow_only
@pytest.mark.parametrize("class_mode", ["categorical", "sparse", "raw",
                                        "binary", "multi_output"])
def test_flow_from_dataframe_matches_tf_keras(folder, class_mode):
    pd = pytest.importorskip("pandas")
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.*"))
    frame = pd.DataFrame({
        "filename": files,
        "class": [f.split(os.sep)[0] for f in files],
        "score": np.linspace(0, 1, len(files)),
        "other": np.arange(len(files), dtype="float64"),
        "weight": np.linspace(0.5, 1.5, len(files))})
    if class_mode == "binary":
        frame = frame[frame["class"] != "owls"]
    y_col = {"raw": "score", "multi_output": ["score", "other"]}.get(
        class_mode, "class")
    kwargs = dict(directory=str(folder), y_col=y_col, class_mode=class_mode,
                  target_size=(9, 11), batch_size=5, shuffle=False,
                  weight_col="weight", validate_filenames=True)
    ours = al.ImageDataGenerator().flow_from_dataframe(frame, **kwargs)
    theirs = tf_keras_idg().flow_from_dataframe(frame, **kwargs)
    assert ours.filenames == theirs.filenames
    assert ours.samples == theirs.samples  # the .txt files are dropped
    assert getattr(ours, "class_indices", None) == getattr(
        theirs, "class_indices", None)
    assert_same_batches(batches(ours), batches(theirs))


# -- errors ------------------------------------------------------------------
def same_message(ours, theirs):
    """Equal messages; a set printed in them may list its items in any
    order (string hashing differs between processes)."""
    import re

    def norm(text):
        return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(
            sorted(m.group(1).split(", "))) + "}", text)

    assert norm(str(ours)) == norm(str(theirs))


BAD_GENERATORS = [dict(data_format="channels_middle"),
                  dict(validation_split=1.5), dict(zoom_range=(1, 2, 3)),
                  dict(zoom_range="big"), dict(brightness_range=0.5)]


@tensorflow_only
@pytest.mark.parametrize("kwargs", BAD_GENERATORS, ids=str)
def test_bad_generator_arguments_raise_as_tf_keras(kwargs):
    with pytest.raises(Exception) as theirs:
        tf_keras_idg(**kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        al.ImageDataGenerator(**kwargs)
    same_message(ours.value, theirs.value)


@tensorflow_only
def test_bad_data_raises_as_tf_keras(rng, folder):
    x = rng.uniform(0, 1, (6, 8, 8, 3))
    cases = [
        lambda g: g.flow(x, np.arange(5)),
        lambda g: g.flow(x, np.arange(6), sample_weight=np.ones(4)),
        lambda g: g.flow(x[..., 0]),
        lambda g: g.flow(x, subset="testing"),
        lambda g: g.flow((x, np.ones(3))),
        lambda g: g.flow(x, np.array([0, 0, 0, 1, 1, 1]),
                         subset="training"),
        lambda g: g.flow_from_directory(str(folder), class_mode="fuzzy"),
        lambda g: g.flow_from_directory(str(folder), color_mode="cmyk"),
        lambda g: g.fit(x[0]),
    ]
    for make in cases:
        with pytest.raises(Exception) as theirs:
            make(tf_keras_idg(validation_split=0.5))
        with pytest.raises(type(theirs.value)) as ours:
            make(al.ImageDataGenerator(validation_split=0.5))
        same_message(ours.value, theirs.value)


def test_a_misspelt_argument_names_the_closest():
    with pytest.raises(TypeError, match="'rotation_rang'.*Did you mean "
                       "'rotation_range'") as info:
        al.ImageDataGenerator(rotation_rang=20)
    assert "width_shift_range" in str(info.value)
    with pytest.raises(ValueError, match="did you mean 'rotation_range'"):
        al.from_image_data_generator(rotation_rang=20)


def test_flow_from_dataframe_without_pandas_says_so(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        al.ImageDataGenerator().flow_from_dataframe(object())


# -- fit, standardize, apply_transform ---------------------------------------
@tensorflow_only
@pytest.mark.parametrize("kwargs", [
    dict(featurewise_center=True, featurewise_std_normalization=True),
    dict(zca_whitening=True, zca_epsilon=1e-3),
    dict(samplewise_center=True, samplewise_std_normalization=True,
         rescale=0.5)], ids=["featurewise", "zca", "samplewise"])
def test_fit_and_standardize_statistics_agree(rng, kwargs):
    x = rng.uniform(0, 255, (40, 6, 5, 3)).astype("float32")
    ours, theirs = al.ImageDataGenerator(**kwargs), tf_keras_idg(**kwargs)
    ours.fit(x)
    theirs.fit(x)
    for name in ("mean", "std", "zca_whitening_matrix"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(ours.standardize(np.copy(x[0])),
                               theirs.standardize(np.copy(x[0])), atol=1e-4)
    # Batches through flow: each image standardised as tf_keras does.
    mine = np.concatenate(batches(ours.flow(x, batch_size=16, shuffle=False)))
    want = np.stack([theirs.standardize(np.copy(img)) for img in x])
    np.testing.assert_allclose(mine, want, atol=1e-3)


@tensorflow_only
@pytest.mark.parametrize("params", [
    {"theta": 17}, {"tx": 3, "ty": -2}, {"shear": 12}, {"zx": 0.8, "zy": 1.2},
    {"flip_horizontal": True, "flip_vertical": True},
    {"channel_shift_intensity": 30},
    {"theta": -25, "tx": 2, "ty": 1, "shear": 5, "zx": 1.1, "zy": 0.9,
     "flip_horizontal": True}], ids=str)
@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "constant"])
def test_apply_transform_agrees_on_square_images(rng, params, fill_mode):
    from tests import reference as ref

    image = ref.smooth_image(rng, 24, 24)
    ours = al.ImageDataGenerator(fill_mode=fill_mode).apply_transform(
        image, params)
    theirs = tf_keras_idg(fill_mode=fill_mode).apply_transform(
        image.astype("float64"), params)
    keep = np.ones(image.shape[:2], bool)
    if fill_mode == "constant":
        keep = ref.away_from_fill_border(np.all(theirs == 0, axis=-1))
    np.testing.assert_allclose(ours[keep], theirs[keep], atol=0.255)


@tensorflow_only
def test_brightness_within_one_of_tf_keras(rng):
    # Integer-valued pixels, as loaded from files: tf_keras goes through a
    # uint8 PIL image (truncating any fraction first), we multiply in float.
    image = rng.integers(0, 256, (10, 12, 3)).astype("float32")
    ours = al.ImageDataGenerator().apply_transform(image, {"brightness": 1.3})
    theirs = tf_keras_idg().apply_transform(image, {"brightness": 1.3})
    np.testing.assert_allclose(ours, theirs, atol=1.0)


@tensorflow_only
def test_get_random_transform_height_is_height():
    # The same draws as tf_keras (same seed), the height draw moving rows.
    kwargs = dict(height_shift_range=0.3, rotation_range=10, zoom_range=0.1)
    ours = al.ImageDataGenerator(**kwargs).get_random_transform(
        (40, 60, 3), seed=5)
    theirs = tf_keras_idg(**kwargs).get_random_transform((40, 60, 3), seed=5)
    assert ours["tx"] == 0 and theirs["ty"] == 0
    # tf_keras scaled the height draw by the rows and called it tx.
    assert ours["ty"] == pytest.approx(theirs["tx"])
    for name in ("theta", "zx", "zy"):
        assert ours[name] == pytest.approx(theirs[name])


def test_random_flow_moves_height_vertically(rng):
    # A horizontal bar moved only by height_shift_range stays horizontal.
    image = np.zeros((1, 20, 30, 1), "float32")
    image[0, 8:12] = 255.0
    gen = al.ImageDataGenerator(height_shift_range=[5], fill_mode="constant")
    out = gen.flow(np.repeat(image, 8, 0), batch_size=8, seed=1).next()
    for shifted in out:
        rows = np.nonzero(shifted[:, 15, 0] > 128)[0]
        assert set(rows) in ({3, 4, 5, 6}, {13, 14, 15, 16})
        np.testing.assert_array_equal(shifted[:, 0, 0], shifted[:, 29, 0])


def test_shift_lists_and_ints_are_choices(rng):
    layer = al.ImageDataGeneratorAffine(width_shift_range=3, seed=2,
                                        fill_mode="constant")
    t = layer.get_random_transformation((400, 8, 8, 1))
    values = set(np.round(keras.ops.convert_to_numpy(t["dx"]), 5))
    assert values == {-2.0, -1.0, 0.0, 1.0, 2.0}
    layer = al.ImageDataGeneratorAffine(height_shift_range=[0.25, 0.5],
                                        seed=3)
    t = layer.get_random_transformation((400, 8, 8, 1))
    assert set(np.round(keras.ops.convert_to_numpy(t["dy"]), 5)) == {
        -0.5, -0.25, 0.25, 0.5}
    config = layer.get_config()
    assert config["height_shift_range"] == [0.25, 0.5]
    assert type(layer).from_config(config).get_config() == config


# -- alignment, workers, the seeds' code --------------------------------------
def test_image_and_mask_generators_stay_aligned_with_workers(rng):
    x = rng.uniform(0, 255, (30, 16, 16, 3)).astype("float32")
    masks = (x[..., :1] > 128).astype("float32")
    args = dict(rotation_range=30, width_shift_range=0.2,
                height_shift_range=[-2, 2], zoom_range=0.2, shear_range=10,
                horizontal_flip=True, interpolation_order=0)
    images = al.ImageDataGenerator(**args).flow(x, batch_size=8, seed=7,
                                                workers=2)
    labels = al.ImageDataGenerator(**args).flow(masks, batch_size=8, seed=7,
                                                workers=2)
    for epoch in range(3):
        order = list(range(len(images)))[::-1]  # any order, any thread
        got = {}

        def fetch(i):
            got[i] = images[i]

        threads = [threading.Thread(target=fetch, args=(i,)) for i in order]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(len(labels)):
            moved_mask = labels[i][..., 0]
            np.testing.assert_array_equal(moved_mask,
                                          (got[i][..., 0] > 128) * 1.0)
        images.on_epoch_end()
        labels.on_epoch_end()
    # The old zip(...) pattern with next(), over several epochs.
    a = al.ImageDataGenerator(**args).flow(x, batch_size=7, seed=1)
    b = al.ImageDataGenerator(**args).flow(masks, batch_size=7, seed=1)
    for _, (xa, mb) in zip(range(13), zip(a, b)):
        np.testing.assert_array_equal(mb[..., 0], (xa[..., 0] > 128) * 1.0)


def test_model_fit_takes_the_iterators(rng, folder):
    x = rng.uniform(0, 255, (24, 16, 16, 3)).astype("float32")
    y = keras.utils.to_categorical(np.arange(24) % 3, 3)
    gen = al.ImageDataGenerator(rotation_range=20, width_shift_range=0.1,
                                height_shift_range=0.1, rescale=1 / 255.0,
                                horizontal_flip=True, validation_split=0.25)
    model = keras.Sequential([keras.Input((16, 16, 3)),
                              keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(gen.flow(x, y, batch_size=6, subset="training"),
                        validation_data=gen.flow(x, y, subset="validation"),
                        epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    it = gen.flow_from_directory(str(folder), target_size=(16, 16),
                                 batch_size=4, subset="training")
    model.fit(it, epochs=1, verbose=0)
    assert isinstance(it, keras.utils.PyDataset)


def test_as_layer_serves_the_same_standardisation(rng, tmp_path):
    x = rng.uniform(0, 255, (20, 8, 8, 3)).astype("float32")
    gen = al.ImageDataGenerator(rotation_range=10, rescale=1 / 255.0,
                                featurewise_center=True,
                                featurewise_std_normalization=True)
    gen.fit(x)
    layer = gen.as_layer()
    served = keras.ops.convert_to_numpy(layer(x, training=False))
    want = gen._standardize_batch(np.copy(x))
    np.testing.assert_allclose(served, want, atol=1e-4)
    model = keras.Sequential([keras.Input((8, 8, 3)), layer])
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), want, atol=1e-4)


def test_save_to_dir_writes_the_batch(rng, tmp_path):
    x = rng.uniform(0, 255, (5, 8, 8, 3)).astype("float32")
    it = al.ImageDataGenerator(rotation_range=10).flow(
        x, batch_size=5, save_to_dir=str(tmp_path), save_prefix="aug",
        save_format="png")
    it.next()
    assert len(list(tmp_path.glob("aug_*.png"))) == 5


SEED_SNIPPETS = {
    # 000: flow on arrays, then fit with steps_per_epoch.
    "000_flow": """
datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
    height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
    horizontal_flip=True, fill_mode='nearest')
train_generator = datagen.flow(x_train, y_train, batch_size=32)
model.fit(train_generator, epochs=1, steps_per_epoch=len(x_train) // 32)
""",
    # 000 / 001 / 002: flow_from_directory with a validation subset.
    "000_directory": """
datagen = ImageDataGenerator(rescale=1./255, validation_split=0.2,
    rotation_range=20, zoom_range=0.2, horizontal_flip=True)
train_generator = datagen.flow_from_directory(folder, target_size=(32, 32),
    batch_size=4, class_mode='categorical', subset='training')
validation_generator = datagen.flow_from_directory(folder,
    target_size=(32, 32), batch_size=4, class_mode='categorical',
    subset='validation')
model.fit(train_generator, steps_per_epoch=train_generator.samples // 4,
    validation_data=validation_generator,
    validation_steps=max(1, validation_generator.samples // 4), epochs=1)
""",
    # 003: a preview loop with it.next() and brightness/zoom/shift lists.
    "003_preview": """
samples = np.expand_dims(x_train[0], 0)
for kwargs in (dict(width_shift_range=[-8, 8]), dict(height_shift_range=0.5),
               dict(horizontal_flip=True), dict(rotation_range=90),
               dict(brightness_range=[0.2, 1.0]), dict(zoom_range=[0.5, 1.0])):
    it = ImageDataGenerator(**kwargs).flow(samples, batch_size=1)
    for i in range(9):
        batch = it.next()
        image = batch[0].astype('uint8')
        assert image.shape == samples.shape[1:]
""",
}


@pytest.mark.parametrize("name", sorted(SEED_SNIPPETS))
def test_the_tutorials_code_runs_with_the_import_changed(rng, folder, name):
    from augment_layers.image import ImageDataGenerator

    x_train = rng.uniform(0, 255, (64, 32, 32, 3)).astype("float32")
    y_train = keras.utils.to_categorical(np.arange(64) % 3, 3)
    model = keras.Sequential([keras.Input((32, 32, 3)),
                              keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    exec(SEED_SNIPPETS[name], {
        "ImageDataGenerator": ImageDataGenerator, "np": np, "model": model,
        "x_train": x_train, "y_train": y_train, "folder": str(folder)})


def test_module_exports():
    assert al.ImageDataGenerator is drop.ImageDataGenerator
    for name in ("ImageDataGenerator", "Iterator", "NumpyArrayIterator",
                 "DirectoryIterator", "DataFrameIterator", "random_rotation",
                 "random_shift", "random_shear", "random_zoom",
                 "random_channel_shift", "apply_channel_shift",
                 "random_brightness", "apply_brightness_shift",
                 "apply_affine_transform", "flip_axis", "load_img",
                 "img_to_array", "array_to_img", "save_img"):
        assert hasattr(drop, name) and name in drop.__all__


# -- tf_keras's module-level helpers -------------------------------------------

def _tf_keras_image():
    from tf_keras.preprocessing import image

    return image


AXES = {"channels_first": dict(row_axis=1, col_axis=2, channel_axis=0),
        "channels_last": dict(row_axis=0, col_axis=1, channel_axis=2)}


@tensorflow_only
@pytest.mark.parametrize("layout", sorted(AXES))
@pytest.mark.parametrize("params", [
    {"theta": 17}, {"tx": 3, "ty": -2}, {"shear": 12}, {"zx": 0.8, "zy": 1.2},
    {"theta": -25, "tx": 2, "ty": 1, "shear": 5, "zx": 1.1, "zy": 0.9}],
    ids=str)
def test_apply_affine_transform_agrees_on_square_images(rng, layout, params):
    from tests import reference as ref

    image = ref.smooth_image(rng, 24, 24)
    if layout == "channels_first":
        image = np.moveaxis(image, -1, 0)
    ours = drop.apply_affine_transform(image, **params, **AXES[layout])
    theirs = _tf_keras_image().apply_affine_transform(
        image.astype("float64"), **params, **AXES[layout])
    assert ours.shape == image.shape
    np.testing.assert_allclose(ours, theirs, atol=0.255)


@tensorflow_only
@pytest.mark.parametrize("name,args", [
    ("random_rotation", (30,)), ("random_shear", (20,)),
    ("random_zoom", ((0.7, 1.3),))], ids=lambda v: str(v))
def test_random_helpers_draw_as_tf_keras(rng, name, args):
    """The same NumPy draws in the same order: the same transform."""
    from tests import reference as ref

    image = np.moveaxis(ref.smooth_image(rng, 20, 20), -1, 0)
    np.random.seed(3)
    ours = getattr(drop, name)(image, *args)
    np.random.seed(3)
    theirs = getattr(_tf_keras_image(), name)(image.astype("float64"), *args)
    np.testing.assert_allclose(ours, theirs, atol=0.255)


@tensorflow_only
def test_random_shift_height_is_height(rng):
    from tests import reference as ref

    image = ref.smooth_image(rng, 20, 20)
    np.random.seed(4)
    ours = drop.random_shift(image, 0.0, 0.3, **AXES["channels_last"])
    np.random.seed(4)
    rows = np.random.uniform(-0.3, 0.3) * 20
    # tf_keras's own helper moved the columns by the height draw; ours moves
    # the rows, as its apply_affine_transform(ty=...) does.
    theirs = _tf_keras_image().apply_affine_transform(
        image.astype("float64"), ty=rows, **AXES["channels_last"])
    np.testing.assert_allclose(ours, theirs, atol=0.255)
    assert not np.allclose(ours, image)


@tensorflow_only
def test_channel_shift_and_brightness_equal_tf_keras(rng):
    theirs_module = _tf_keras_image()
    image = rng.integers(0, 256, (10, 12, 3)).astype("float32")
    for name, args in [("apply_channel_shift", (40.0, 2)),
                       ("random_channel_shift", (50.0, 2)),
                       ("apply_brightness_shift", (1.4,)),
                       ("random_brightness", ((0.5, 1.5),))]:
        np.random.seed(7)
        ours = getattr(drop, name)(image, *args)
        np.random.seed(7)
        theirs = getattr(theirs_module, name)(image, *args)
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_image_file_helpers_are_keras_utils(tmp_path, rng):
    assert drop.load_img is keras.utils.load_img
    image = rng.integers(0, 256, (6, 7, 3)).astype("float32")
    path = str(tmp_path / "x.png")
    drop.save_img(path, image, scale=False)
    back = drop.img_to_array(drop.load_img(path))
    np.testing.assert_array_equal(back, image)
    assert drop.array_to_img(image).size == (7, 6)
    np.testing.assert_array_equal(drop.flip_axis(image, 1), image[:, ::-1])
