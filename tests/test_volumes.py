"""Volumes: the 3-D layers against scipy.ndimage and NumPy.

References: ``scipy.ndimage.affine_transform`` with a 4x4 matrix built here
in NumPy from the documented convention (``augment_layers/ops/volume.py``),
``np.rot90``, ``np.roll``, ``np.flip``, the 2-D ``RandomRotation`` on each
slice, and a sphere measured in physical units. The generic 3-D contract
runs on every entry of ``tests/layer_cases.VOLUME_CASES``.
"""

import math
import re

import keras
import numpy as np
import pytest
import scipy.ndimage as ndi

import augment_layers as al
from augment_layers.ops import resample
from tests.backend import BACKEND
from tests.backend import layer_hlo
from tests.backend import to_numpy
from tests.layer_cases import VOLUME_CASES

SCIPY_MODES = {"nearest": "nearest", "constant": "constant",
               "reflect": "reflect", "wrap": "grid-wrap"}


@pytest.fixture(params=VOLUME_CASES, ids=[c.id for c in VOLUME_CASES])
def volume_case(request):
    return request.param


def _volumes(rng, shape=(2, 8, 10, 12, 2)):
    return rng.uniform(0, 100, shape).astype("float32")


# -- the generic 3-D contract ---------------------------------------------
def test_volume_contract(volume_case, rng):
    layer = volume_case.make(seed=7)
    x = _volumes(rng)
    out = to_numpy(layer(x, training=True))
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and not np.allclose(out, x)
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)
    assert layer.weights == []
    # Config round trip, by class and by registered name; same seed, same
    # output.
    config = layer.get_config()
    rebuilt = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer))
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == config
    np.testing.assert_array_equal(
        to_numpy(layer(x, training=True, seed=3)),
        to_numpy(rebuilt(x, training=True, seed=3)))
    # One volume (rank 4) and channels-first volumes.
    single = to_numpy(layer(x[0], training=True, seed=3))
    np.testing.assert_allclose(single, to_numpy(layer(
        x, training=True, seed=3))[0], atol=1e-4, rtol=0)
    first = type(layer).from_config(dict(config, data_format="channels_first")) \
        if not isinstance(layer, al.Augment3D) else None
    if first is not None:
        got = to_numpy(first(np.moveaxis(x, -1, 1), training=True, seed=3))
        np.testing.assert_allclose(np.moveaxis(got, 1, -1), to_numpy(layer(
            x, training=True, seed=3)), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match=r"\(B, D, H, W, C\)"):
        layer(x[0, 0], training=True)
    # One draw per volume: identical volumes come out different.
    same = np.repeat(x[:1], 16, axis=0)
    out = to_numpy(layer(same, training=True))
    assert len({o.tobytes() for o in out}) >= volume_case.min_distinct
    # Label maps keep their dtype and values (nearest), geometric or not.
    labels = rng.integers(0, 4, x.shape[:-1] + (1,)).astype("int32")
    moved = layer({"images": x, "segmentation_masks": labels},
                  training=True)
    masks = to_numpy(moved["segmentation_masks"])
    assert masks.dtype == np.int32 and set(np.unique(masks)) <= {0, 1, 2, 3}
    if not volume_case.geometric:
        np.testing.assert_array_equal(masks, labels)


def test_3d_and_2d_layers_do_not_mix():
    with pytest.raises(ValueError, match="Augment3D"):
        al.Augment([al.RandomFlip(), al.RandomFlip3D()])
    with pytest.raises(ValueError, match="2-D layer"):
        al.Augment3D([al.RandomFlip3D(), al.RandomFlip()])
    with pytest.raises(ValueError, match="2-D layer"):
        al.Augment3D([al.Augment([al.RandomFlip()])])
    with pytest.raises(ValueError, match="segmentation_masks"):
        al.RandomFlip3D()({"images": np.zeros((1, 4, 4, 4, 1), "float32"),
                           "keypoints": np.zeros((1, 2, 2), "float32")},
                          training=True)


@pytest.mark.parametrize("kwargs, match", [
    ({"rotation_range": (1, 2, 3, 4)}, "three"),
    ({"zoom_range": 1.5}, "above 0"),
    ({"shear_range": 95}, "89"),
    ({"flip_axes": (3,)}, "spatial axes"),
    ({"spacing": (1.0, 0.0, 1.0)}, "spacing"),
    ({"interpolation": "cubic"}, "interpolation")])
def test_affine3d_bad_arguments_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        al.RandomAffine3D(**kwargs)


# -- geometry against scipy.ndimage and NumPy --------------------------------
def _rotation(axis, degrees):
    """The documented turn about ``axis`` (NumPy)."""
    r, k = (axis + 1) % 3, (axis + 2) % 3
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    m = np.eye(4)
    m[r, r], m[r, k], m[k, r], m[k, k] = c, s, -s, c
    return m


def _shear(axis, degrees):
    r, k = (axis + 1) % 3, (axis + 2) % 3
    m = np.eye(4)
    m[k, r] = -math.sin(math.radians(degrees))
    m[r, r] = math.cos(math.radians(degrees))
    return m


def _reference_matrix(rotation, shift, shear, zoom, sizes, spacing):
    """``C S^-1 (R0 R1 R2 T Sh0 Sh1 Sh2 Z) S C^-1`` in NumPy."""
    spacing = np.asarray(spacing, float)
    translation = np.eye(4)
    translation[:3, 3] = -np.asarray(shift) * np.asarray(sizes) * spacing
    a = np.linalg.multi_dot(
        [_rotation(k, rotation[k]) for k in range(3)] + [translation]
        + [_shear(k, shear[k]) for k in range(3)]
        + [np.diag(list(zoom) + [1.0])])
    s = np.diag(list(spacing) + [1.0])
    centre = np.eye(4)
    centre[:3, 3] = (np.asarray(sizes) - 1) / 2.0
    return centre @ np.linalg.inv(s) @ a @ s @ np.linalg.inv(centre)


def _fixed(values):
    return [(v, v) for v in values]


@pytest.mark.sampled(3)
@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect",
                                       "wrap"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine3d_equals_scipy_affine_transform(rng, fill_mode,
                                                interpolation):
    sizes, spacing = (9, 11, 13), (1.5, 1.0, 0.8)
    rotation, shift, shear = (17.0, -9.0, 6.0), (0.1, -0.05, 0.2), (
        5.0, 0.0, -7.0)
    zoom = (0.9, 1.1, 1.05)
    layer = al.RandomAffine3D(
        rotation_range=_fixed(rotation), shift_range=_fixed(shift),
        shear_range=_fixed(shear), zoom_range=_fixed(zoom),
        spacing=spacing, interpolation=interpolation, fill_mode=fill_mode,
        fill_value=-5.0)
    x = _volumes(rng, (2,) + sizes + (2,))
    out = to_numpy(layer(x, training=True))
    matrix = _reference_matrix(rotation, shift, shear, zoom, sizes, spacing)
    want = np.stack([np.stack([ndi.affine_transform(
        x[b, ..., c].astype("float64"), matrix,
        order=1 if interpolation == "bilinear" else 0,
        mode=SCIPY_MODES[fill_mode], cval=-5.0) for c in range(2)], -1)
        for b in range(2)])
    if interpolation == "nearest":
        # A sample point within float32 round-off of a half-voxel may round
        # either way; every other voxel is exact.
        assert np.mean(np.abs(out - want) > 1e-3) < 2e-3
    else:
        np.testing.assert_allclose(out, want, atol=2e-3, rtol=0)


def test_turns_are_rot90_and_the_2d_sense(rng):
    x = _volumes(rng, (2, 10, 10, 10, 1))
    turns = []
    for axis in range(3):
        rotation = [0.0, 0.0, 0.0]
        rotation[axis] = 90.0
        out = to_numpy(al.RandomAffine3D(rotation_range=_fixed(rotation))(
            x, training=True))
        r, c = (axis + 1) % 3 + 1, (axis + 2) % 3 + 1
        ks = [k for k in (1, -1) if np.allclose(
            out, np.rot90(x, k, axes=(r, c)), atol=1e-3)]
        assert len(ks) == 1, axis
        turns.append(ks[0])
        if axis == 0:  # the 2-D layer on every depth slice
            slices = x.reshape((-1, 10, 10, 1))
            flat = to_numpy(al.RandomRotation(rotation_range=(90, 90))(
                slices, training=True))
            np.testing.assert_allclose(out.reshape(flat.shape), flat,
                                       atol=1e-3)
    assert len(set(turns)) == 1  # one sense about every axis


def test_integer_shifts_are_np_roll_inside(rng):
    x = _volumes(rng, (2, 16, 18, 20, 1))
    layer = al.RandomAffine3D(shift_range=_fixed((2 / 16, 0.0, -3 / 20)),
                              fill_mode="wrap")
    out = to_numpy(layer(x, training=True))
    rolled = np.roll(x, (2, -3), axis=(1, 3))
    np.testing.assert_allclose(out, rolled, atol=1e-3)  # wrap: everywhere
    clamped = to_numpy(al.RandomAffine3D(shift_range=_fixed(
        (2 / 16, 0.0, -3 / 20)))(x, training=True))
    np.testing.assert_allclose(clamped[:, 2:, :, :-3],
                               rolled[:, 2:, :, :-3], atol=1e-3)


def test_flip3d_equals_np_flip(rng):
    x = _volumes(rng)
    for axes in [(0,), (1, 2), (0, 1, 2)]:
        out = to_numpy(al.RandomFlip3D(axes, probability=1.0)(
            x, training=True))
        np.testing.assert_array_equal(out, np.flip(x, [a + 1 for a in axes]))


def _sphere(shape, spacing, centre, radius):
    grids = np.meshgrid(*[(np.arange(n) - (n - 1) / 2) * s
                          for n, s in zip(shape, spacing)], indexing="ij")
    distance = np.sqrt(sum((g - c) ** 2 for g, c in zip(grids, centre)))
    return (distance <= radius).astype("float32")


def _extents(mask, spacing):
    """The physical extent of a mask along each axis, and its centre."""
    ext, centre = [], []
    for axis, s in enumerate(spacing):
        other = tuple(a for a in range(3) if a != axis)
        idx = np.nonzero(mask.any(axis=other))[0]
        ext.append((idx[-1] - idx[0] + 1) * s)
        centre.append(((idx[-1] + idx[0]) / 2 - (mask.shape[axis] - 1) / 2)
                      * s)
    return np.array(ext), np.array(centre)


def test_spacing_turns_physical_space():
    """A sphere in voxels of 2.5 x 1 x 1 turned by 90 degrees about the
    width axis stays a sphere, centred where its centre went; without
    ``spacing`` the voxel grid turns and the sphere is squashed."""
    shape, spacing = (24, 48, 40), (2.5, 1.0, 1.0)
    sphere = _sphere(shape, spacing, (0.0, 12.0, 0.0), 9.0)
    before, _ = _extents(sphere > 0.5, spacing)
    x = sphere[None, ..., None]
    turn = _fixed((0.0, 0.0, 90.0))
    out = to_numpy(al.RandomAffine3D(rotation_range=turn, spacing=spacing,
                                     fill_mode="constant")(x, training=True))
    after, centre = _extents(out[0, ..., 0] > 0.5, spacing)
    np.testing.assert_allclose(after, before, atol=2.6)  # a voxel
    # The centre (0, 12, 0) turned a quarter about the width axis.
    np.testing.assert_allclose(np.abs(centre), [12.0, 0.0, 0.0], atol=1.3)
    grid = to_numpy(al.RandomAffine3D(rotation_range=turn,
                                      fill_mode="constant")(x, training=True))
    squashed, _ = _extents(grid[0, ..., 0] > 0.5, spacing)
    assert abs(squashed[0] - squashed[1]) > 5.0


def test_label_maps_follow_the_volume(rng):
    labels = rng.integers(0, 5, (2, 12, 12, 12, 1))
    x = np.concatenate([labels.astype("float32"),
                        _volumes(rng, (2, 12, 12, 12, 1))], axis=-1)
    for layer in (al.RandomAffine3D(rotation_range=30, zoom_range=0.2,
                                    interpolation="nearest", seed=1),
                  al.Augment3D([al.RandomAffine3D(
                      rotation_range=30, interpolation="nearest", seed=2),
                      al.RandomElasticTransform3D(
                          interpolation="nearest", seed=3)])):
        out = layer({"images": x, "segmentation_masks": labels},
                    training=True)
        np.testing.assert_array_equal(
            to_numpy(out["images"])[..., 0],
            to_numpy(out["segmentation_masks"])[..., 0].astype("float32"))
        assert not np.array_equal(to_numpy(out["segmentation_masks"]),
                                  labels)


def test_elastic3d_has_the_2d_layers_displacement(rng):
    """Each component's standard deviation is the 2-D layer's at the same
    alpha and sigma: ``alpha * sigma * sum(w ** 2)`` for the Gaussian
    kernel ``w`` of ``sigma`` (scipy's), Keras's dense field."""
    layer = al.RandomElasticTransform3D(factor=(1.0, 1.0), scale=(0.8, 0.8))
    shape, sizes = (8, 40, 40, 40, 1), (40, 40, 40)
    t = layer.get_random_transformation(shape, seed=4)
    field = to_numpy(layer.field(t, sizes).on_grid(sizes))
    sigma, alpha = 0.05 * 40 * 0.8, 0.1 * 40 * 0.8
    delta = np.zeros(101)
    delta[50] = 1.0
    weights = ndi.gaussian_filter1d(delta, sigma)
    want = alpha * sigma * np.sum(weights ** 2)
    np.testing.assert_allclose(field.reshape(-1, 3).std(axis=0), want,
                               rtol=0.2)
    # Off: a volume is left where it is.
    off = al.RandomElasticTransform3D(factor=(0.0, 0.0))
    x = _volumes(rng)
    np.testing.assert_allclose(to_numpy(off(x, training=True)), x,
                               atol=1e-4)


def test_resample_points_is_the_2d_resample_for_two_axes(rng):
    x = rng.uniform(0, 1, (2, 9, 11, 3)).astype("float32")
    m = np.array([[[0.9, 0.2, 1.0], [-0.1, 1.1, -0.5], [0, 0, 1]],
                  [[1.0, -0.3, 0.2], [0.3, 0.8, 2.0], [0, 0, 1]]],
                 "float32")
    ys, xs = np.meshgrid(np.arange(9), np.arange(11), indexing="ij")
    src_x = m[:, 0, 0, None, None] * xs + m[:, 0, 1, None, None] * ys + m[
        :, 0, 2, None, None]
    src_y = m[:, 1, 0, None, None] * xs + m[:, 1, 1, None, None] * ys + m[
        :, 1, 2, None, None]
    for mode in ("nearest", "constant", "reflect", "wrap"):
        got = to_numpy(resample.resample_points(
            keras.ops.convert_to_tensor(x),
            [keras.ops.convert_to_tensor(src_y.astype("float32")),
             keras.ops.convert_to_tensor(src_x.astype("float32"))],
            "bilinear", mode, 0.5))
        want = to_numpy(resample.affine_transform(x, m, "bilinear", mode,
                                                  0.5))
        np.testing.assert_allclose(got, want, atol=1e-5)


# -- intensity layers against their formulas ---------------------------------
def test_intensity_layers_match_their_formulas(rng):
    x = _volumes(rng, (3, 6, 7, 8, 2))
    cases = [(al.RandomIntensityScale(0.3), lambda v, s: v * s, (0.7, 1.3)),
             (al.RandomIntensityShift(5.0), lambda v, s: v + s, (-5, 5)),
             (al.RandomGamma((0.5, 2.0)), None, (0.5, 2.0))]
    for layer, formula, (lo, hi) in cases:
        value = to_numpy(layer.get_random_transformation(x.shape, seed=8)[
            "value"])
        assert value.shape == (3,) and np.all((value >= lo) & (value <= hi))
        assert len(set(value.tolist())) == 3
        out = to_numpy(layer(x, training=True, seed=8))
        for b in range(3):
            if formula is None:
                low, high = x[b].min(), x[b].max()
                want = ((x[b] - low) / (high - low)) ** value[b] * (
                    high - low) + low
            else:
                want = formula(x[b], value[b])
            np.testing.assert_allclose(out[b], want, rtol=1e-5, atol=1e-3)


# -- fused, compiled, saved ----------------------------------------------------
@pytest.mark.slow
def test_augment3d_is_one_trilinear_resample(rng):
    """Rotation, zoom and flips in one resample: eight gathers; with an
    elastic field, still eight of the volume (five channels tell them from
    the field's own small lookups)."""
    x = _volumes(rng, (2, 8, 10, 12, 5))
    stack = al.Augment3D([al.RandomAffine3D(rotation_range=20, seed=1),
                          al.RandomAffine3D(zoom_range=0.2, seed=2),
                          al.RandomFlip3D(seed=3)])
    assert layer_hlo(stack, x).count(" gather(") == 8
    # (The elastic layer's fill is Keras's "reflect": the run shares it.)
    elastic = al.Augment3D([al.RandomAffine3D(rotation_range=20,
                                              fill_mode="reflect", seed=1),
                            al.RandomElasticTransform3D(seed=2)])
    hlo = layer_hlo(elastic, x)
    volume_gathers = re.findall(r"f32\[[0-9,]*,5\]\S* gather\(", hlo)
    assert len(volume_gathers) == 8, len(volume_gathers)


@pytest.mark.slow
def test_conv3d_model_fits_compiled_and_reloads_safely(rng, tmp_path):
    if BACKEND == "torch":
        pytest.skip("PyTorch has no XLA compilation")
    augment = al.Augment3D([
        al.RandomAffine3D(rotation_range=15, zoom_range=0.1,
                          flip_axes=(2,), fill_mode="reflect", seed=1),
        al.RandomElasticTransform3D(scale=0.5, seed=2),
        al.RandomIntensityScale(0.1, seed=3),
        al.RandomIntensityShift(0.1, seed=4), al.RandomGamma(seed=5)])
    model = keras.Sequential([
        keras.Input((8, 12, 12, 1)), augment,
        keras.layers.Conv3D(4, 3, activation="relu"),
        keras.layers.GlobalAveragePooling3D(),
        keras.layers.Dense(2, activation="softmax")])
    x = rng.uniform(0, 1, (8, 8, 12, 12, 1)).astype("float32")
    y = keras.utils.to_categorical(np.arange(8) % 2, 2)
    model.compile("adam", "categorical_crossentropy", jit_compile=True)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    path = tmp_path / "volumes.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers[0].layers] == [
        type(layer).__name__ for layer in augment.layers]


def test_volumes_in_tf_data(rng):
    """In a ``tf.data`` map on every backend (TensorFlow runs the maths
    there under JAX and PyTorch); each volume draws its own."""
    import tensorflow as tf

    augment = al.Augment3D([al.RandomAffine3D(rotation_range=30, seed=1),
                            al.RandomIntensityScale(0.2, seed=2)])
    x = np.repeat(_volumes(rng, (1, 8, 10, 12, 1)), 4, axis=0)
    labels = rng.integers(0, 3, (4, 8, 10, 12, 1)).astype("int32")
    ds = tf.data.Dataset.from_tensor_slices(
        {"images": x, "segmentation_masks": labels}).batch(2).map(
        lambda d: augment(d, training=True))
    batches = list(ds.as_numpy_iterator())
    out = np.concatenate([b["images"] for b in batches])
    assert out.shape == x.shape
    assert len({o.tobytes() for o in out}) == 4
    assert batches[0]["segmentation_masks"].dtype == np.int32
