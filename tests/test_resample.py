"""The pure resampler against scipy.ndimage.affine_transform."""

import numpy as np
import pytest

from augment_layers.ops import affine
from augment_layers.ops import resample
from tests import backend
from tests import reference as ref

MODES = ["constant", "nearest", "reflect", "wrap"]


def random_matrices(rng, batch, height, width):
    params = dict(theta=rng.uniform(-40, 40, batch),
                  tx=rng.uniform(-4, 4, batch), ty=rng.uniform(-4, 4, batch),
                  shear_degrees=rng.uniform(-20, 20, batch),
                  zx=rng.uniform(0.7, 1.3, batch),
                  zy=rng.uniform(0.7, 1.3, batch))
    return np.asarray(affine.center(affine.image_data_generator_matrix(
        **params), height, width))


@pytest.mark.parametrize("interpolation,order", [("bilinear", 1),
                                                 ("nearest", 0)])
@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("jit", [False, True])
def test_matches_scipy(rng, interpolation, order, fill_mode, jit):
    batch, height, width = 3, 19, 26  # non-square on purpose
    images = rng.uniform(0, 255, (batch, height, width, 2)).astype("float32")
    mats = random_matrices(rng, batch, height, width)
    fn = resample.affine_transform_impl
    if jit:
        fn = backend.jit(fn, static_argnums=(2, 3, 4))
    out = backend.to_numpy(fn(images, mats, interpolation, fill_mode, 9.0))
    for b in range(batch):
        expected = ref.scipy_affine(images[b], mats[b], fill_mode, 9.0, order)
        if order:  # bilinear: within 1e-5 of the range
            np.testing.assert_allclose(out[b], expected, atol=255 * 1e-5,
                                       rtol=0)
        else:  # nearest: the very pixels scipy picks
            np.testing.assert_array_equal(out[b], expected.astype("float32"))


@pytest.mark.parametrize("fill_mode", MODES)
def test_bands_of_rows_match_scipy(rng, monkeypatch, fill_mode):
    """PyTorch resamples large batches a band of rows at a time: bands of
    2 rows here (elsewhere the setting changes nothing)."""
    batch, height, width = 2, 11, 7
    monkeypatch.setattr(resample, "_EAGER_BAND_VALUES", 2 * batch * width * 2)
    images = rng.uniform(0, 255, (batch, height, width, 2)).astype("float32")
    mats = random_matrices(rng, batch, height, width)
    out = backend.to_numpy(resample.affine_transform_impl(
        images, mats, "bilinear", fill_mode, 9.0))
    for b in range(batch):
        expected = ref.scipy_affine(images[b], mats[b], fill_mode, 9.0, 1)
        np.testing.assert_allclose(out[b], expected, atol=255 * 1e-5, rtol=0)


@pytest.mark.skipif(backend.BACKEND == "tensorflow",
                    reason="TensorFlow runs the keras.ops formulation itself")
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", MODES)
def test_fast_paths_equal_the_keras_ops_reference(
        rng, monkeypatch, interpolation, fill_mode, general_formulation):
    """On PyTorch the resampler (for a batch with a NaN, or wrap, or
    nearest: grid_sample's cases are below) selects rows directly, blends
    with ``torch.lerp`` and works in bands of rows; on JAX it gathers with
    clipped (not NaN-filled) indices. With the backend hidden from it, the
    same function runs the plain ``keras.ops`` formulation in one piece.
    Both give the same pixels (to float32 rounding), also with a NaN in
    the image (it reaches the same output pixels)."""
    batch, height, width = 3, 23, 17
    images = rng.uniform(0, 255, (batch, height, width, 3)).astype("float32")
    images[1, 5, 6, 0] = np.nan
    mats = random_matrices(rng, batch, height, width)
    monkeypatch.setattr(resample, "_EAGER_BAND_VALUES", 3 * batch * width * 3)

    def run():
        # A new function each time: JAX traces it afresh (compiled, as the
        # layers run it); PyTorch runs it op by op.
        def fn(images, mats):
            return resample.affine_transform_impl(images, mats, interpolation,
                                                  fill_mode, 9.0)
        if backend.BACKEND == "jax":
            fn = backend.jit(fn)
        return backend.to_numpy(fn(images, mats))

    fast = run()
    monkeypatch.setattr(resample, "active_backend", lambda: "reference")
    plain = run()
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(plain))
    assert np.isnan(plain).any()
    np.testing.assert_allclose(fast, plain, atol=255 * 1e-6, rtol=0)


@pytest.mark.skipif(backend.BACKEND != "torch",
                    reason="PyTorch's own resampler, grid_sample")
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect"])
@pytest.mark.parametrize("case", ["affine", "projective", "resized",
                                  "float64"])
def test_torch_grid_sample_equals_the_keras_ops_reference(
        rng, monkeypatch, fill_mode, case, general_formulation):
    """On PyTorch, finite float images resample bilinearly through
    ``grid_sample``: the same pixels as the keras.ops formulation up to
    the float32 rounding of its normalised coordinates (the first image's
    matrix is the identity, and it comes back exactly). A batch with a NaN
    takes the reference path whole, and wrap never takes it."""
    import torch

    calls = []
    real = torch.nn.functional.grid_sample

    def spy(*args, **kwargs):
        calls.append(kwargs["padding_mode"])
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "grid_sample", spy)
    batch, height, width = 4, 23, 17
    dtype = "float64" if case == "float64" else "float32"
    images = rng.uniform(0, 255, (batch, height, width, 3)).astype(dtype)
    mats = random_matrices(rng, batch, height, width)
    mats[0] = np.eye(3)
    kwargs = {}
    if case == "projective":
        mats[1:, 2, :2] = rng.uniform(-2e-3, 2e-3, (batch - 1, 2))
        kwargs["projective"] = True
    if case == "resized":
        kwargs["output_size"] = (15, 29)

    def run(x):
        return backend.to_numpy(resample.affine_transform_impl(
            x, mats, "bilinear", fill_mode, 9.0, **kwargs))

    fast = run(images)
    assert calls == [{"constant": "border", "nearest": "border",
                      "reflect": "reflection"}[fill_mode]]
    assert fast.dtype == images.dtype
    if case != "resized":
        np.testing.assert_array_equal(fast[0], images[0])
    bad = images.copy()
    bad[2, 4, 5, 1] = np.nan
    with_nan = run(bad)
    assert len(calls) == 1  # not taken: the NaN reaches only its samplers
    monkeypatch.setattr(resample, "active_backend", lambda: "reference")
    np.testing.assert_allclose(fast, run(images), atol=255 * 1e-5, rtol=0)
    plain_nan = run(bad)  # (torch.lerp: the last bit may differ)
    np.testing.assert_array_equal(np.isnan(with_nan), np.isnan(plain_nan))
    np.testing.assert_allclose(with_nan, plain_nan, atol=255 * 1e-6, rtol=0)


@pytest.mark.skipif(backend.BACKEND != "torch",
                    reason="PyTorch's own resampler, grid_sample")
def test_torch_grid_sample_is_not_taken_for_wrap_or_nearest(rng, monkeypatch):
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("grid_sample called")

    monkeypatch.setattr(torch.nn.functional, "grid_sample", refuse)
    images = rng.uniform(0, 255, (2, 9, 13, 3)).astype("float32")
    mats = random_matrices(rng, 2, 9, 13)
    for interpolation, mode in [("bilinear", "wrap"), ("nearest", "reflect"),
                                ("nearest", "constant")]:
        out = backend.to_numpy(resample.affine_transform_impl(
            images, mats, interpolation, mode, 9.0))
        assert np.isfinite(out).all()
    uint8 = resample.affine_transform_impl(images.astype("uint8"), mats,
                                           "bilinear", "nearest")
    assert backend.to_numpy(uint8).dtype == np.uint8


def _spy_strips(monkeypatch):
    """Counts the resamples traced in column strips (their output shapes)."""
    traced = []
    real = resample._materialized

    def spy(x, anchor):
        traced.append(tuple(x.shape))
        return real(x, anchor)

    monkeypatch.setattr(resample, "_materialized", spy)
    return traced


@backend.tensorflow_only
@pytest.mark.sampled(3)
@pytest.mark.parametrize("interpolation,order", [("bilinear", 1),
                                                 ("nearest", 0)])
@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("case", ["affine", "projective", "resized",
                                  "float64"])
def test_column_strips_equal_row_order_and_scipy(
        rng, monkeypatch, interpolation, order, fill_mode, case,
        general_formulation):
    """Under XLA on a CPU, a resample told its reads slant writes its
    output in column strips of 32: the same values as row order, bit for
    bit (every pixel is computed by the same ops), and scipy's."""
    import tensorflow as tf

    traced = _spy_strips(monkeypatch)
    batch, height, width = 3, 21, 64  # two strips
    dtype = "float64" if case == "float64" else "float32"
    images = rng.uniform(0, 255, (batch, height, width, 3)).astype(dtype)
    mats = random_matrices(rng, batch, height, width).copy()
    projective = case == "projective"
    if projective:
        mats[:, 2, :2] = rng.uniform(-2e-3, 2e-3, (batch, 2))
    output_size = (17, 96) if case == "resized" else None

    def run(slanted):
        fn = tf.function(lambda x, m: resample.affine_transform_impl(
            x, m, interpolation, fill_mode, 9.0, output_size, projective,
            slanted), jit_compile=True)
        return fn(images, mats).numpy()

    rows = run(False)
    assert traced == []
    strips = run(True)
    out_height, out_width = output_size or (height, width)
    assert traced == [(batch, out_width // 32, out_height, 32, 3)]
    assert strips.dtype == images.dtype
    np.testing.assert_array_equal(strips, rows)
    if case in ("affine", "float64"):
        for b in range(batch):
            expected = ref.scipy_affine(images[b], mats[b], fill_mode, 9.0,
                                        order)
            np.testing.assert_allclose(strips[b], expected, atol=255 * 1e-5,
                                       rtol=0)


@pytest.mark.slow
@backend.tensorflow_only
def test_column_strips_are_taken_only_where_they_pay(rng, monkeypatch,
                                                    general_formulation):
    """Strips for a rotation over float32 in a traced function on a CPU;
    rows for uint8 input (the cast to float32 inside must not hide it),
    for pipelines that keep rows rows, for widths 32 does not divide, and
    for eager op-by-op calls. Each case traces afresh (new layers, a new
    compiled warp, a shape of its own)."""
    import tensorflow as tf

    import augment_layers as al

    traced = _spy_strips(monkeypatch)

    def strips_traced(layer, shape, dtype="float32", jit=True):
        traced.clear()
        images = rng.uniform(0, 255, shape).astype(dtype)
        if jit:
            tf.function(lambda x: layer(x, training=True))(images)
        else:
            layer(images, training=True)
        return len(traced)

    rotate = dict(rotation_range=20, width_shift_range=0.1,
                  brightness_range=(0.8, 1.2))
    assert strips_traced(al.from_image_data_generator(**rotate),
                         (2, 19, 64, 3)) == 1
    assert strips_traced(al.RandomRotation(15), (3, 19, 64, 3)) == 1
    assert strips_traced(al.RandomPerspective(0.2), (2, 20, 64, 3)) == 1
    assert strips_traced(al.Augment([al.RandomShift(0.1),
                                     al.RandomRotation(10)]),
                         (2, 21, 64, 3)) == 1
    assert strips_traced(al.from_image_data_generator(**rotate),
                         (2, 22, 64, 3), dtype="uint8") == 0
    assert strips_traced(al.from_image_data_generator(
        width_shift_range=0.1, shear_range=10, zoom_range=0.2,
        horizontal_flip=True), (2, 23, 64, 3)) == 0
    assert strips_traced(al.RandomRotation(15), (2, 24, 48, 3)) == 0
    al.set_jit_augment(False)
    try:
        assert strips_traced(al.RandomRotation(15), (2, 25, 64, 3),
                             jit=False) == 0
    finally:
        al.set_jit_augment(True)


@pytest.mark.parametrize("dx,dy", [(5, 0), (0, 7), (-3, 11), (26, -19)])
def test_wrap_is_periodic(rng, dx, dy):
    image = rng.uniform(0, 1, (1, 19, 26, 3)).astype("float32")
    mats = np.asarray(affine.translation([-dx], [-dy]))
    out = np.asarray(resample.affine_transform(image, mats, "bilinear",
                                               "wrap"))
    np.testing.assert_allclose(out, np.roll(image, (dy, dx), axis=(1, 2)),
                               atol=1e-6)


def test_reflect_is_half_sample_symmetric():
    row = np.arange(4, dtype="float32")  # a b c d
    image = np.tile(row, (1, 1, 1))[..., None]  # (1, 1, 4, 1)
    mats = np.asarray(affine.translation([-4.0], [0.0]))  # content right by 4
    out = np.asarray(resample.affine_transform(image, mats, "nearest",
                                               "reflect"))
    np.testing.assert_array_equal(out[0, 0, :, 0], [3, 2, 1, 0])  # d c b a


def test_identity_is_exact_in_every_mode(rng):
    images = rng.uniform(0, 255, (2, 9, 13, 3)).astype("float32")
    for mode in MODES:
        for interpolation in resample.INTERPOLATIONS:
            out = resample.affine_transform(images, np.asarray(
                affine.identity(2)), interpolation, mode, -1.0)
            np.testing.assert_array_equal(np.asarray(out), images)


def test_constant_fills_exactly_outside(rng):
    images = rng.uniform(0, 255, (1, 10, 10, 3)).astype("float32")
    mats = np.asarray(affine.translation([-3.5], [0.0]))  # right by 3.5 px
    out = np.asarray(resample.affine_transform(images, mats, "bilinear",
                                               "constant", 42.0))
    assert np.all(out[0, :, :3] == 42.0)
    assert not np.any(out[0, :, 4:] == 42.0)


def test_rejects_unknown_options(rng):
    images = np.zeros((1, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match="fill_mode"):
        resample.affine_transform(images, np.eye(3)[None], "bilinear", "mirror")
    with pytest.raises(ValueError, match="interpolation"):
        resample.affine_transform(images, np.eye(3)[None], "bicubic", "nearest")


@backend.tensorflow_only
def test_column_strips_survive_other_sizes_in_the_process(
        rng, monkeypatch, general_formulation):
    """A layer's resample is traced into the layer's compiled call, not as
    a function of its own shared by every layer: after a notebook has
    previewed rotations at a few sizes, a new rotation layer still knows
    its width and writes in strips."""
    traced = _spy_strips(monkeypatch)
    import augment_layers as al

    for k in range(4):
        al.RandomRotation(9)(rng.uniform(0, 255, (2, 30 + 3 * k, 64 + 32 * k,
                                                  3)).astype("float32"),
                             training=True)
    traced.clear()
    layer = al.RandomRotation(11)
    x = rng.uniform(0, 255, (24, 45, 96, 3)).astype("float32")
    layer(x, training=True)
    layer(x, training=True)
    assert traced and set(traced) == {(24, 3, 45, 32, 3)}
