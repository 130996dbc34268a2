"""Fixed parameters: each layer equals ImageDataGenerator().apply_transform.

The table is API.md's "Fixed parameters" table. Square images, every fill
mode. ImageDataGenerator's "wrap" is scipy's legacy wrap, not periodic, which
we do not copy: for "wrap" the reference is the same matrix through scipy's
periodic "grid-wrap". Non-square images are compared with scipy, since
ImageDataGenerator centres them wrongly.
"""

import numpy as np
import pytest

import augment_layers as al
from tests import reference as ref

RANGE = 255.0
TOL = 1e-3 * RANGE  # 0.1 % of the value range
MODES = ["constant", "nearest", "reflect", "wrap"]

# (id, layer factory, ImageDataGenerator params, (theta, tx, ty, shear, zx, zy))
GEOMETRIC = [
    ("shift", lambda **k: al.RandomShift((3, 3), (-5, -5), units="pixels", **k),
     {"tx": 5, "ty": -3}),
    ("shift_fraction", lambda **k: al.RandomShift((0.25, 0.25), (0.125, 0.125),
                                                  **k),
     {"tx": -4, "ty": -8}),  # 32 px images: 8 rows down, 4 columns right
    ("shear", lambda **k: al.RandomShear((17, 17), **k), {"shear": 17}),
    ("shear_negative", lambda **k: al.RandomShear((-30, -30), **k),
     {"shear": -30}),
    ("zoom", lambda **k: al.RandomZoomAspect((0.8, 0.8), **k),
     {"zx": 0.8, "zy": 0.8}),
    ("rotation", lambda **k: al.RandomRotation((25, 25), **k), {"theta": 25}),
    ("rotation_negative", lambda **k: al.RandomRotation((-60, -60), **k),
     {"theta": -60}),
]


def call_fixed(layer, image):
    out = layer(np.repeat(image[None], 2, axis=0), training=True)
    out = np.asarray(out)
    np.testing.assert_array_equal(out[0], out[1])  # fixed: no randomness left
    return out[0]


def idg_or_periodic(image, params, fill_mode, cval):
    if fill_mode != "wrap":
        return ref.idg_apply(image, params, fill_mode, cval)
    h, w = image.shape[:2]
    m = ref.centred(ref.idg_matrix(**params), h, w)
    return ref.scipy_affine(image, m, "wrap")


@pytest.mark.sampled(3)
@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("name,make,params", GEOMETRIC,
                         ids=[g[0] for g in GEOMETRIC])
def test_geometric_equals_image_data_generator(rng, name, make, params,
                                               fill_mode):
    image = rng.uniform(0, RANGE, (32, 32, 3)).astype("float32")
    layer = make(fill_mode=fill_mode, fill_value=17.0)
    out = call_fixed(layer, image)
    expected = idg_or_periodic(image, params, fill_mode, 17.0)
    np.testing.assert_allclose(out, expected, atol=TOL, rtol=0)


@pytest.mark.sampled(3)
@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("zh,zw", [(0.7, 1.25), (1.3, 0.9)])
def test_zoom_aspect_equals_image_data_generator(rng, zh, zw, fill_mode):
    """Independent height/width zoom, via aspect_range pinned to zh/zw."""
    image = rng.uniform(0, RANGE, (32, 32, 3)).astype("float32")
    z = float(np.sqrt(zh * zw))
    a = zh / zw  # width zoom z / sqrt(a), height zoom z * sqrt(a)
    layer = al.RandomZoomAspect((z, z), aspect_range=(a, a),
                                fill_mode=fill_mode)
    out = call_fixed(layer, image)
    expected = idg_or_periodic(image, {"zx": zw, "zy": zh}, fill_mode, 0.0)
    np.testing.assert_allclose(out, expected, atol=TOL, rtol=0)


def test_brightness_equals_image_data_generator(rng):
    # Integer-valued, as photos are: ImageDataGenerator truncates floats to
    # uint8 before PIL sees them, a second rounding we do not model.
    image = rng.integers(0, 256, (32, 32, 3)).astype("float32")
    for factor in (0.3, 1.0, 1.4):
        out = call_fixed(al.RandomBrightnessRange((factor, factor)), image)
        expected = ref.idg_apply(image, {"brightness": factor})
        # ImageDataGenerator goes through PIL and rounds to uint8.
        np.testing.assert_allclose(out, expected, atol=1.0, rtol=0)


def test_flip_equals_image_data_generator(rng):
    image = rng.uniform(0, 255, (12, 17, 3)).astype("float32")
    batch = np.repeat(image[None], 64, axis=0)
    out = np.asarray(al.RandomFlip("horizontal_and_vertical", seed=3)(
        batch, training=True))
    seen = set()
    for o in out:
        for fh in (False, True):
            for fv in (False, True):
                expected = ref.idg_apply(image, {"flip_horizontal": fh,
                                                 "flip_vertical": fv})
                if np.array_equal(o, expected):
                    seen.add((fh, fv))
    assert seen == {(False, False), (False, True), (True, False), (True, True)}


def test_channel_shift_one_offset_matches_image_data_generator(rng):
    image = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    for shift in (-40.0, 25.0):
        layer = al.RandomChannelShift((shift, shift), per_channel=False)
        out = call_fixed(layer, image)
        expected = ref.idg_apply(image, {"channel_shift_intensity": shift})
        # ImageDataGenerator clips to the image's own min/max; we clip to
        # value_range, so compare where neither clip applies.
        inside = (image + shift > image.min()) & (image + shift < image.max())
        np.testing.assert_allclose(out[inside], expected[inside], atol=1e-3)
        assert out.min() >= 0 and out.max() <= 255


@pytest.mark.sampled(3)
@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("shape", [(24, 40), (37, 21)])
def test_non_square_is_centred(rng, shape, fill_mode):
    """Rotation + shear + zoom about the true centre, checked with scipy."""
    h, w = shape
    image = rng.uniform(0, RANGE, (h, w, 3)).astype("float32")
    stack = [al.RandomRotation((20, 20), fill_mode=fill_mode),
             al.RandomShear((10, 10), fill_mode=fill_mode),
             al.RandomZoomAspect((0.9, 0.9), fill_mode=fill_mode)]
    for layer, params in zip(stack, [{"theta": 20}, {"shear": 10},
                                     {"zx": 0.9, "zy": 0.9}]):
        out = call_fixed(layer, image)
        expected = ref.scipy_affine(
            image, ref.centred(ref.idg_matrix(**params), h, w), fill_mode)
        np.testing.assert_allclose(out, expected, atol=TOL, rtol=0)
    # And the rotation moves the centre pixel nowhere on odd-sized images.
    odd = rng.uniform(0, RANGE, (21, 31, 1)).astype("float32")
    out = call_fixed(al.RandomRotation((90, 90)), odd)
    assert abs(out[10, 15, 0] - odd[10, 15, 0]) < 1e-3


def test_shift_directions():
    image = np.zeros((9, 9, 1), "float32")
    image[4, 4] = 1.0
    out = call_fixed(al.RandomShift((2, 2), (3, 3), units="pixels",
                                    fill_mode="constant"), image)
    assert out[6, 7, 0] == pytest.approx(1.0)  # down 2, right 3
