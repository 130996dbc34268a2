"""Behaviour every layer promises in API.md's "Common to every layer"."""

import math

import keras
import numpy as np
import pytest

import augment_layers as al
from tests.backend import BACKEND, to_numpy
from tests.layer_cases import expected_at_inference

GEOMETRIC_CLASSES = [al.RandomShift, al.RandomShear, al.RandomZoomAspect,
                     al.RandomRotation, al.RandomFlip]
ALL_CLASSES = GEOMETRIC_CLASSES + [al.RandomBrightnessRange,
                                   al.RandomChannelShift]


def images(rng, shape=(6, 20, 24, 3)):
    return rng.uniform(0, 255, shape).astype("float32")


@pytest.mark.sampled(3)
def test_identity_at_inference(layer_case, rng):
    layer = layer_case.make(seed=1)
    x = images(rng)
    # The input itself; for the layers that act at inference, what they do
    # then (a crop, AutoContrast, Equalization).
    expected = expected_at_inference(layer, x)
    for training in (False, None):
        np.testing.assert_allclose(np.asarray(layer(x, training=training)),
                                   expected, atol=1e-3, rtol=0)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, atol=1e-3,
                               rtol=0)
    model = keras.Sequential([keras.Input((20, 24, 3)), layer])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected,
                               atol=1e-3, rtol=0)
    out = np.asarray(layer(x, training=True))
    assert out.shape != x.shape or not np.allclose(out, x)


@pytest.mark.sampled(3)
def test_each_image_gets_its_own_parameters(layer_case, rng):
    if layer_case.deterministic:
        pytest.skip("no randomness: every image gets the same")
    layer = layer_case.make(seed=7)
    # Large enough that two nearest-neighbour rotations a fraction of a
    # degree apart still differ somewhere.
    x = np.repeat(images(rng, (1, 40, 48, 3)), 16, axis=0)
    out = np.asarray(layer(x, training=True))
    distinct = {out[i].tobytes() for i in range(16)}
    # A flip has only 4 outcomes; a policy draws among 14 ops, several
    # without a magnitude (Identity, AutoContrast, Equalize), so two images
    # may legitimately match; everything else is continuous.
    if layer_case.min_distinct < 16:
        assert len(distinct) >= layer_case.min_distinct
    elif "Flip" in layer_case.id:
        assert len(distinct) >= 3
    elif "Augment" in layer_case.id:
        assert len(distinct) >= 8
    elif getattr(layer, "interpolation", None) == "nearest":
        # Two angles a fraction of a degree apart can round every pixel the
        # same way (a clean PyTorch run drew such a pair): the draws
        # themselves must differ, the outputs nearly all.
        assert len(distinct) >= 14
        again = layer_case.make(seed=7)
        t = again.get_random_transformation((16, 40, 48, 3))
        for value in t.values():
            value = to_numpy(value).reshape(16, -1)
            assert len({row.tobytes() for row in value}) == 16
    else:
        assert len(distinct) == 16


@pytest.mark.sampled(2)
def test_same_seed_same_output(layer_case, rng):
    x = images(rng)
    a, b = layer_case.make(seed=42), layer_case.make(seed=42)
    for _ in range(2):  # the same call sequence, twice
        np.testing.assert_array_equal(np.asarray(a(x, training=True)),
                                      np.asarray(b(x, training=True)))
    if layer_case.deterministic:
        return
    c = layer_case.make(seed=43)
    assert not np.array_equal(np.asarray(a(x, training=True)),
                              np.asarray(c(x, training=True)))


@pytest.mark.parametrize("rank_shape", [(8, 8), (2, 2, 2, 8, 8, 3)])
def test_wrong_rank_is_a_clear_error(layer_case, rank_shape):
    layer = layer_case.make()
    with pytest.raises(ValueError, match=r"\(B, H, W, C\).*rank"):
        layer(np.zeros(rank_shape, "float32"), training=True)


@pytest.mark.sampled(3)
def test_single_image(layer_case, rng):
    layer = layer_case.make(seed=3)
    x = images(rng, (20, 24, 3))
    out = layer(x, training=True)
    expected = expected_at_inference(layer, x[None])[0]
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(np.asarray(layer(x, training=False)),
                               expected, atol=1e-3, rtol=0)


@pytest.mark.sampled(7)
@pytest.mark.parametrize("dtype", ["uint8", "int32", "float16", "bfloat16",
                                   "float32", "float64"])
def test_input_dtypes(layer_case, rng, dtype):
    layer = layer_case.make(seed=3)
    x = images(rng).astype("float32")
    xt = keras.ops.cast(np.round(x) if "int" in dtype else x, dtype)
    out = layer(xt, training=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    out = np.asarray(out)
    as_float = np.asarray(keras.ops.cast(xt, "float32"))
    expected = expected_at_inference(layer, as_float)
    assert out.shape == expected.shape and np.all(np.isfinite(out))
    inference = layer(xt, training=False)
    np.testing.assert_allclose(np.asarray(inference), expected, atol=1e-3,
                               rtol=0)


@pytest.mark.sampled(6)
def test_mixed_float16_policy(layer_case, rng):
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = layer_case.make(seed=3)
        x = images(rng)
        out = layer(x, training=True)
        assert keras.backend.standardize_dtype(out.dtype) == "float16"
        assert np.all(np.isfinite(np.asarray(out, dtype="float32")))
        model = keras.Sequential([keras.Input((20, 24, 3)), layer,
                                  keras.layers.Conv2D(2, 3),
                                  keras.layers.GlobalAveragePooling2D(),
                                  keras.layers.Dense(2, dtype="float32")])
        model.compile("sgd", "mse")
        model.fit(x, np.zeros((6, 2)), epochs=1, verbose=0)
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.sampled(3)
def test_channels_first_equals_channels_last(layer_case, rng):
    x = images(rng)
    last = layer_case.make(seed=5)
    first = layer_case.make(seed=5)
    first.data_format = "channels_first"
    out_last = np.asarray(last(x, training=True))
    out_first = np.asarray(first(np.transpose(x, (0, 3, 1, 2)), training=True))
    # (1e-2 of 255: a first small call runs op by op, a later one compiled; XLA's
    # fused arithmetic rounds differently in the last float32 bits.)
    np.testing.assert_allclose(np.transpose(out_first, (0, 2, 3, 1)), out_last,
                               atol=1e-2)
    config = layer_case.make(seed=5).get_config()
    config["data_format"] = "channels_first"
    rebuilt = type(last).from_config(config)
    assert rebuilt.data_format == "channels_first"


@pytest.mark.sampled(6)
def test_unknown_height_width_batch(layer_case, rng):
    layer = layer_case.make(seed=2)
    model = keras.Sequential([keras.Input((None, None, 3)), layer,
                              keras.layers.Conv2D(4, 3, padding="same"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2)])
    model.compile("adam", "mse")
    for shape in [(4, 16, 16, 3), (3, 21, 30, 3)]:
        x = images(rng, shape)
        if layer_case.static_size and shape[1] == 21 and \
                keras.backend.backend() == "tensorflow":
            # Keras retraces its train step for a second size with the
            # size unknown: a field's grid needs it, and says so.
            with pytest.raises(ValueError, match="fixed size"):
                model.fit(x, np.zeros((shape[0], 2)), epochs=1, verbose=0)
            return
        model.fit(x, np.zeros((shape[0], 2)), batch_size=shape[0], epochs=1,
                  verbose=0)
        assert model.predict(x, verbose=0).shape == (shape[0], 2)


# -- bad arguments: ValueError at construction, naming the argument ---------

NAN = math.nan
COMMON_BAD = [("seed", -1), ("seed", "abc"), ("seed", 1.5),
              ("data_format", "nhwc")]
GEOMETRIC_BAD = [("fill_mode", "mirror"), ("fill_mode", None),
                 ("fill_value", "zero"), ("fill_value", NAN),
                 ("interpolation", "bicubic"),
                 ("bounding_box_format", "xyzw"), ("bounding_box_format", 4),
                 ("mask_fill_value", "zero"), ("mask_fill_value", NAN)]
RANGE_BAD = [-1.0, (3.0, 1.0), "wide", NAN, (0.0, math.inf), (1, 2, 3), True]

SPECIFIC_BAD = {
    al.RandomShift: [("height_range", v) for v in RANGE_BAD]
    + [("width_range", v) for v in RANGE_BAD] + [("units", "inches")],
    al.RandomShear: [("shear_range", v) for v in RANGE_BAD]
    + [("shear_range", 95)],
    al.RandomZoomAspect: [("zoom_range", v) for v in RANGE_BAD]
    + [("zoom_range", 1.5), ("zoom_range", (0.0, 1.0)),
       ("aspect_range", (0.0, 1.0)), ("aspect_range", (2.0, 1.0)),
       ("aspect_range", 3), ("aspect_range", (1.0, NAN))],
    al.RandomRotation: [("rotation_range", v) for v in RANGE_BAD],
    al.RandomFlip: [("mode", "diagonal"), ("mode", 1),
                    ("bounding_box_format", "xyzw")],
    al.RandomBrightnessRange: [("brightness_range", v) for v in RANGE_BAD]
    + [("brightness_range", (-0.5, 1.0)), ("value_range", (255, 0)),
       ("value_range", (1, 1)), ("value_range", "0-255")],
    al.RandomChannelShift: [("channel_shift_range", v) for v in RANGE_BAD]
    + [("value_range", (1, 0)), ("per_channel", "yes")],
}


def bad_cases():
    for cls in ALL_CLASSES:
        bad = COMMON_BAD + SPECIFIC_BAD[cls]
        if cls in GEOMETRIC_CLASSES and cls is not al.RandomFlip:
            bad = bad + GEOMETRIC_BAD
        for name, value in bad:
            yield pytest.param(cls, name, value,
                               id=f"{cls.__name__}-{name}-{value!r}")


@pytest.mark.parametrize("cls,name,value", bad_cases())
def test_bad_argument_is_named(cls, name, value):
    with pytest.raises(ValueError) as info:
        cls(**{name: value})
    message = str(info.value)
    assert f"`{name}`" in message
    assert repr(value) in message or str(value) in message


def test_every_constructor_argument_is_covered():
    """The bad-argument table names every argument of every layer."""
    import inspect

    for cls in ALL_CLASSES:
        names = set()
        for klass in cls.__mro__:
            if klass.__module__.startswith("augment_layers") and (
                    "__init__" in vars(klass)):
                names |= set(inspect.signature(klass.__init__).parameters)
        names -= {"self", "kwargs"}
        if cls is al.RandomFlip:
            names -= {"fill_mode", "fill_value", "interpolation",
                      "mask_fill_value"}
        covered = {n for n, _ in COMMON_BAD + SPECIFIC_BAD[cls]}
        if cls in GEOMETRIC_CLASSES and cls is not al.RandomFlip:
            covered |= {n for n, _ in GEOMETRIC_BAD}
        assert names <= covered, (cls.__name__, names - covered)


@pytest.mark.parametrize("layer", [al.RandomShift(0.1),
                                   al.Augment([al.RandomShift(0.1)])])
def test_string_and_bool_images_are_refused(layer):
    for bad in (np.array([[["a"]]]), np.zeros((1, 4, 4, 3), bool)):
        with pytest.raises(ValueError, match="numeric"):
            layer(bad, training=True)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with pytest.raises(ValueError, match="numeric"):
            layer(tf.constant([[["a"]]]), training=True)
