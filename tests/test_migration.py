"""from_image_data_generator against tf_keras's ImageDataGenerator."""

import keras
import numpy as np
import pytest
from scipy import stats

import augment_layers as al
from tests import reference as ref

# Configurations from the seed tutorials and the Keras docs.
CONFIGS = [
    dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
         shear_range=0.2, zoom_range=0.2, horizontal_flip=True,
         fill_mode="nearest"),
    dict(rotation_range=20, width_shift_range=0.1, height_shift_range=0.15,
         zoom_range=[0.8, 1.1], horizontal_flip=True, vertical_flip=True,
         fill_mode="reflect"),
    dict(shear_range=30, zoom_range=0.3, fill_mode="constant", cval=40.0),
    dict(width_shift_range=6, height_shift_range=4, rotation_range=90,
         fill_mode="wrap"),
    dict(rotation_range=15, interpolation_order=0, fill_mode="nearest"),
]


def affine_of(augment):
    layer = augment.layers[0]
    assert isinstance(layer, al.ImageDataGeneratorAffine)
    return layer


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_fixed_draws_match_apply_transform_with_axes_corrected(config):
    from tf_keras.preprocessing.image import ImageDataGenerator

    rng = np.random.default_rng(5)
    h = w = 28
    image = rng.uniform(0, 255, (h, w, 3)).astype("float32")
    gen = ImageDataGenerator(**config)
    layer = affine_of(al.from_image_data_generator(**config))
    for seed in range(3):
        p = gen.get_random_transform((h, w, 3), seed=seed)
        # ImageDataGenerator draws `tx` from height_shift_range (scaled by
        # rows) and uses it to move columns: the swapped-axes defect. The
        # intended transform moves rows by it.
        intended = dict(p, tx=p["ty"], ty=p["tx"])
        # Below 1 a fraction of the size, from 1 on pixels.
        scale_h = h if config.get("height_shift_range", 0) < 1 else 1
        scale_w = w if config.get("width_shift_range", 0) < 1 else 1
        t = {"theta": [p["theta"]], "dy": [-intended["ty"] / scale_h],
             "dx": [-intended["tx"] / scale_w], "shear": [p["shear"]],
             "zx": [p["zx"]], "zy": [p["zy"]],
             "horizontal": [bool(p["flip_horizontal"])],
             "vertical": [bool(p["flip_vertical"])]}
        t = {k: keras.ops.convert_to_tensor(np.asarray(
            v, "bool" if k in ("horizontal", "vertical") else "float32"))
             for k, v in t.items()}
        out = np.asarray(layer.transform_images(image[None], t))[0]
        if config.get("fill_mode") == "wrap":
            expected = ref.scipy_affine(
                image, ref.centred(ref.idg_matrix(
                    p["theta"], intended["tx"], intended["ty"], p["shear"],
                    p["zx"], p["zy"]), h, w), "wrap",
                order=config.get("interpolation_order", 1))
        else:
            expected = gen.apply_transform(image.astype("float64"), intended)
        keep = np.ones(out.shape[:2], bool)
        if config.get("fill_mode") == "constant":
            other = ImageDataGenerator(**dict(config, cval=-1000.0))
            fill = (other.apply_transform(image.astype("float64"), intended)
                    != expected).any(-1)
            keep = ref.away_from_fill_border(fill)
        np.testing.assert_allclose(out[keep], expected[keep], atol=0.255,
                                   rtol=0)


def test_parameter_distributions_match(rng):
    from tf_keras.preprocessing.image import ImageDataGenerator

    config = dict(rotation_range=30, width_shift_range=0.2,
                  height_shift_range=0.1, shear_range=15, zoom_range=0.25,
                  channel_shift_range=20, brightness_range=(0.7, 1.3))
    h, w, n = 40, 60, 10000
    gen = ImageDataGenerator(**config)
    np.random.seed(0)
    idg = [gen.get_random_transform((h, w, 3)) for _ in range(n)]
    # Seeded, and each KS test at p > 1e-6 (beyond 5 sigma): a change of
    # random stream does not re-roll the suite.
    keras.utils.set_random_seed(1)
    augment = al.from_image_data_generator(**config)
    affine, shift, bright = augment.layers
    # The draws of a call (get_random_transformation is the call's path).
    ours = affine.get_random_transformation((n, h, w, 3))
    ours = {k: np.asarray(v) for k, v in ours.items()}
    channel = np.asarray(shift.get_random_transformation(
        (n, h, w, 3))["intensity"])
    bright = np.asarray(bright.get_random_transformation(
        (n, h, w, 3))["factor"])
    pairs = {
        "theta": (ours["theta"], [p["theta"] for p in idg]),
        "shear": (ours["shear"], [p["shear"] for p in idg]),
        "zx": (ours["zx"], [p["zx"] for p in idg]),
        "zy": (ours["zy"], [p["zy"] for p in idg]),
        # Height shift in rows: ImageDataGenerator stores it in `tx`.
        "height": (ours["dy"] * h, [p["tx"] for p in idg]),
        "width": (ours["dx"] * w, [p["ty"] for p in idg]),
        "channel": (channel, [p["channel_shift_intensity"] for p in idg]),
        "brightness": (bright, [p["brightness"] for p in idg]),
    }
    # Every parameter here is uniform over its range: 10,000 draws each
    # come within a few 1e-4 of its ends, and the KS threshold is a
    # distance of about 0.038. A range 14% too wide or narrow (ends 7% or
    # 14% out, a KS distance of 0.06 or more) fails both checks, as the
    # last lines assert on our draws stretched by 1.14.
    for name, (a, b) in pairs.items():
        a = np.asarray(a, dtype="float64")
        b = np.asarray(b, dtype="float64")
        result = stats.ks_2samp(a, b)
        assert result.pvalue > 1e-6, (name, result)
        span = b.max() - b.min()
        ends = np.abs([a.min() - b.min(), a.max() - b.max()]) / span
        assert ends.max() < 0.01, (name, a.min(), a.max(), b.min(), b.max())
        for fixed in ((b.min() + b.max()) / 2, b.min(), b.max()):
            wide = fixed + 1.14 * (a - fixed)
            assert stats.ks_2samp(wide, b).pvalue < 1e-6, (name, fixed)
            assert max(abs(wide.min() - b.min()),
                       abs(wide.max() - b.max())) > 0.05 * span, name
    # And the axes really differ: height 0.1 * 40 rows vs width 0.2 * 60 cols.
    assert np.abs(ours["dy"] * h).max() <= 4.0 + 1e-4
    assert np.abs(ours["dx"] * w).max() > 8.0


def test_height_shift_only_moves_images_vertically():
    image = np.zeros((1, 21, 21, 1), "float32")
    image[0, 10, 10] = 255.0
    augment = al.from_image_data_generator(height_shift_range=0.3,
                                           fill_mode="constant")
    out = np.asarray(augment(np.repeat(image, 16, 0), training=True))
    rows = [np.argmax(o[..., 0].max(axis=1)) for o in out]
    cols = [np.argmax(o[..., 0].max(axis=0)) for o in out]
    assert set(cols) == {10}
    assert len(set(rows)) > 4


def test_standardize_layers_follow_augmentation():
    augment = al.from_image_data_generator(
        rotation_range=10, brightness_range=(0.9, 1.1), rescale=1 / 255.0,
        samplewise_center=True, featurewise_std_normalization=True)
    kinds = [type(layer).__name__ for layer in augment.layers]
    assert kinds == ["ImageDataGeneratorAffine", "RandomBrightnessRange",
                     "Rescaling",
                     "SamplewiseNormalization", "FeaturewiseNormalization"]


def test_zca_matches_image_data_generator(rng):
    from tf_keras.preprocessing.image import ImageDataGenerator

    x = rng.uniform(0, 255, (64, 6, 6, 3)).astype("float32")
    gen = ImageDataGenerator(zca_whitening=True, rescale=1 / 255.0)
    gen.fit(x.copy())
    expected = np.stack([gen.standardize(xi.astype("float64").copy())
                         for xi in x[:8]])
    augment = al.from_image_data_generator(zca_whitening=True,
                                           rescale=1 / 255.0)
    al.adapt(augment, x)
    out = np.asarray(augment(x[:8]))
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_featurewise_and_samplewise_match_image_data_generator(rng):
    from tf_keras.preprocessing.image import ImageDataGenerator

    x = rng.uniform(0, 1, (32, 5, 7, 3)).astype("float32")
    for config in [dict(featurewise_center=True),
                   dict(featurewise_center=True,
                        featurewise_std_normalization=True),
                   dict(samplewise_center=True,
                        samplewise_std_normalization=True)]:
        gen = ImageDataGenerator(**config)
        gen.fit(x.copy())
        expected = np.stack([gen.standardize(xi.astype("float64").copy())
                             for xi in x[:4]])
        augment = al.adapt(al.from_image_data_generator(**config), x)
        np.testing.assert_allclose(np.asarray(augment(x[:4])), expected,
                                   atol=1e-4, err_msg=str(config))


def test_preprocessing_function_by_registered_name(rng):
    augment = al.from_image_data_generator(
        preprocessing_function="invert_for_test")
    x = rng.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(augment(x)), 255.0 - x, atol=1e-4)
    with pytest.raises(ValueError, match="register_op"):
        al.from_image_data_generator(preprocessing_function=lambda x: x)


@al.register_op("invert_for_test")
def _invert(images):
    return 255.0 - images


@pytest.mark.parametrize("kwargs,name", [
    (dict(interpolation_order=3), "interpolation_order"),
    (dict(brightnes_range=(0.5, 1.0)), "brightnes_range"),
    (dict(zoom_range=(1, 2, 3)), "zoom_range"),
    (dict(width_shift_range="wide"), "width_shift_range"),
])
def test_unmappable_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        al.from_image_data_generator(**kwargs)


def test_pipeline_arguments_are_taken_and_map_to_no_layer():
    augment = al.from_image_data_generator(rotation_range=10,
                                           validation_split=0.2,
                                           dtype="float16")
    assert [type(layer).__name__ for layer in augment.layers] == [
        "ImageDataGeneratorAffine"]


def test_a_list_of_shifts_is_a_choice_among_its_values(rng):
    """ImageDataGenerator's meaning: one of the listed pixel shifts, with
    a random sign, drawn per image (an impulse's displacement shows it)."""
    image = np.zeros((64, 21, 21, 1), "float32")
    image[:, 10, 10] = 255.0
    augment = al.from_image_data_generator(width_shift_range=[2, 5],
                                           fill_mode="constant")
    out = np.asarray(augment(image, training=True))
    cols = {int(np.argmax(o[..., 0].max(axis=0))) - 10 for o in out}
    assert cols == {-5, -2, 2, 5}


SWEEP = [
    {}, dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
             shear_range=0.2, zoom_range=0.2, horizontal_flip=True),
    dict(width_shift_range=[-3, 0, 3], height_shift_range=[1, 2]),
    dict(width_shift_range=4, height_shift_range=0.5, zoom_range=[0.8, 1.1]),
    dict(zoom_range=(0.5, 1.5), vertical_flip=True, fill_mode="constant",
         cval=10.0, interpolation_order=0),
    dict(channel_shift_range=30, brightness_range=(0.5, 1.5)),
    dict(rotation_range=-20, shear_range=-10, channel_shift_range=-5),
    dict(rescale=1 / 255.0, samplewise_center=True,
         samplewise_std_normalization=True),
    dict(featurewise_center=True, featurewise_std_normalization=True),
    dict(zca_whitening=True, zca_epsilon=1e-5),
    dict(preprocessing_function="invert_for_test", validation_split=0.1,
         data_format="channels_first"),
]


def _structure(layer):
    config = keras.saving.serialize_keras_object(layer)

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "name"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(config)


@pytest.mark.parametrize("kwargs", SWEEP, ids=range(len(SWEEP)))
def test_both_builders_are_one(kwargs):
    """from_image_data_generator(**kw) and ImageDataGenerator(**kw)
    .as_layer() build the same layers, lists of shifts and zooms included."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ImageDataGenerator's own notes
        built = al.from_image_data_generator(**kwargs)
        dropped_in = al.ImageDataGenerator(**kwargs).as_layer()
    assert _structure(built) == _structure(dropped_in)
