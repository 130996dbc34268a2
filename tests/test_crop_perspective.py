"""RandomResizedCrop and RandomPerspective: against scipy, Keras's Resizing,
and as one fused resample with the affine layers."""

import keras
import numpy as np
import pytest
import scipy.ndimage as ndi
from scipy import stats

import augment_layers as al
from tests import reference as ref
from tests.backend import layer_hlo, to_numpy
from tests.backend import resamples
from tests.helpers import plan_units, reload_in_new_process, small_cnn


def scipy_sample(image, rows, cols, mode="nearest", order=1):
    """``image`` (H, W, C) sampled at pixel-index coordinates, bilinear."""
    return np.stack([ndi.map_coordinates(image[..., c].astype("float64"),
                                         [rows, cols], order=order, mode=mode)
                     for c in range(image.shape[-1])], -1)


# -- RandomResizedCrop -------------------------------------------------------
def test_a_fixed_crop_equals_scipys_resample_of_it(rng):
    h, w, oh, ow = 40, 56, 24, 30
    images = np.stack([ref.smooth_image(rng, h, w) for _ in range(3)])
    layer = al.RandomResizedCrop(oh, ow)
    t = {"x0": np.array([3.0, 10.5, 0.0], "float32"),
         "y0": np.array([2.0, 7.25, 0.0], "float32"),
         "crop_width": np.array([30.0, 41.0, 56.0], "float32"),
         "crop_height": np.array([20.0, 30.5, 40.0], "float32")}
    out = to_numpy(layer.transform_images(images, t))
    assert out.shape == (3, oh, ow, 3)
    for i in range(3):
        # Pixel centres to pixel centres: output pixel j's centre j + 0.5
        # maps to x0 + (j + 0.5) * crop_width / ow, i.e. index - 0.5.
        cols = t["x0"][i] + (np.arange(ow) + 0.5) * t["crop_width"][i] / ow
        rows = t["y0"][i] + (np.arange(oh) + 0.5) * t["crop_height"][i] / oh
        rr, cc = np.meshgrid(rows - 0.5, cols - 0.5, indexing="ij")
        np.testing.assert_allclose(out[i], scipy_sample(images[i], rr, cc),
                                   atol=0.05)


@pytest.mark.parametrize("shape", [(40, 56), (56, 40), (33, 33)])
def test_inference_equals_keras_resizing_with_crop_to_aspect_ratio(rng,
                                                                   shape):
    images = np.stack([ref.smooth_image(rng, *shape) for _ in range(2)])
    layer = al.RandomResizedCrop(24, 30)
    ours = to_numpy(layer(images, training=False))
    theirs = to_numpy(keras.layers.Resizing(
        24, 30, crop_to_aspect_ratio=True)(images))
    np.testing.assert_allclose(ours, theirs, atol=0.05)


def torchvision_crop_windows(rng, n, height, width, scale, ratio):
    """torchvision's ``RandomResizedCrop.get_params``, the reference, written
    out in NumPy for ``n`` images and without its rounding to whole pixels:
    up to 10 candidates one after another (area ``U(scale)`` of the image,
    log-uniform ratio), the first that fits, else a centre crop of the
    nearest allowed ratio; the window placed uniformly."""
    crop_w, crop_h = np.full(n, np.nan), np.full(n, np.nan)
    done = np.zeros(n, bool)
    for _ in range(10):
        target = height * width * rng.uniform(*scale, n)
        r = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1]), n))
        cw, ch = np.sqrt(target * r), np.sqrt(target / r)
        take = ~done & (cw <= width) & (ch <= height)
        crop_w[take], crop_h[take] = cw[take], ch[take]
        done |= take
    in_ratio = width / height
    fw = width if in_ratio <= ratio[1] else height * ratio[1]
    fh = height if in_ratio >= ratio[0] else width / ratio[0]
    crop_w[~done], crop_h[~done] = fw, fh
    ux = np.where(done, rng.uniform(size=n), 0.5)
    uy = np.where(done, rng.uniform(size=n), 0.5)
    return {"x0": ux * (width - crop_w), "y0": uy * (height - crop_h),
            "crop_width": crop_w, "crop_height": crop_h}


def test_crops_draw_area_and_ratio_within_their_ranges():
    h, w, n = 60, 80, 4000
    scale, ratio = (0.2, 0.6), (0.5, 2.0)
    layer = al.RandomResizedCrop(16, 16, scale=scale, ratio=ratio, seed=4)
    t = keras.tree.map_structure(to_numpy, layer.get_random_transformation(
        (n, h, w, 3)))
    share = t["crop_width"] * t["crop_height"] / (h * w)
    ratio_ = t["crop_width"] / t["crop_height"]
    assert np.all((share >= 0.2 - 1e-4) & (share <= 0.6 + 1e-4))
    assert np.all((ratio_ >= 0.5 - 1e-4) & (ratio_ <= 2.0 + 1e-4))
    # Every window inside the image, on both sides.
    assert np.all(t["x0"] >= 0) and np.all(t["x0"] + t["crop_width"]
                                           <= w + 1e-3)
    assert np.all(t["y0"] >= 0) and np.all(t["y0"] + t["crop_height"]
                                           <= h + 1e-3)
    # The distributions, against torchvision's loop (a large sample of it):
    # the area share, the log ratio (some large crops of extreme ratio do
    # not fit: the accepted ones are not uniform) and the place, uniform
    # over the room left (each at p > 1e-6, beyond 5 sigma).
    ref_t = torchvision_crop_windows(np.random.default_rng(0), 200_000, h, w,
                                     scale, ratio)
    ref_share = ref_t["crop_width"] * ref_t["crop_height"] / (h * w)
    ref_ratio = ref_t["crop_width"] / ref_t["crop_height"]
    assert stats.ks_2samp(share, ref_share).pvalue > 1e-6
    assert stats.ks_2samp(np.log(ratio_), np.log(ref_ratio)).pvalue > 1e-6
    for start, size, room in (("x0", "crop_width", w),
                              ("y0", "crop_height", h)):
        place = t[start] / (room - t[size])
        assert stats.kstest(place, stats.uniform(0, 1).cdf).pvalue > 1e-6
        assert place.min() < 0.01 and place.max() > 0.99  # both ends


def test_no_fitting_candidate_falls_back_to_a_centre_crop():
    # A 10x100 strip cannot hold a crop of ratio near 1 and area >= 0.9.
    layer = al.RandomResizedCrop(8, 8, scale=(0.9, 1.0), ratio=(0.9, 1.1),
                                 seed=1)
    t = keras.tree.map_structure(to_numpy, layer.get_random_transformation(
        (16, 10, 100, 3)))
    np.testing.assert_allclose(t["crop_height"], 10.0)
    np.testing.assert_allclose(t["crop_width"], 11.0, rtol=1e-5)
    np.testing.assert_allclose(t["x0"], (100 - 11) / 2, rtol=1e-5)


def test_crop_rotation_flip_shear_fuse_into_one_resample():
    augment = al.Augment([al.RandomResizedCrop(16, 20), al.RandomRotation(20),
                          al.RandomFlip(), al.RandomShear(10),
                          al.RandomPerspective(0.5, 0.2)])
    assert plan_units(augment) == [("geometric", 5)]
    x = np.zeros((2, 30, 40, 3), "float32")
    assert tuple(augment(x, training=True).shape) == (2, 16, 20, 3)
    assert augment.compute_output_shape((None, 30, 40, 3)) == (None, 16, 20,
                                                               3)
    hlo = layer_hlo(augment, x)
    assert resamples(hlo) == 1


def test_fused_crop_equals_the_layers_one_by_one(rng):
    # Fixed crop then fixed rotation: one resample equals scipy's resample
    # by the composed matrix, at the output size.
    image = ref.smooth_image(rng, 40, 50)
    # The same fill mode, so that the two fuse.
    crop = al.RandomResizedCrop(20, 24, scale=(0.5, 0.5), ratio=(1.2, 1.2),
                                seed=3, fill_mode="reflect")
    augment = al.Augment([crop, al.RandomRotation((15, 15),
                                                  fill_mode="reflect")],
                         data_format="channels_last")
    assert plan_units(augment) == [("geometric", 2)]
    # A fresh layer with the same seed draws what the call draws.
    crop_again = al.RandomResizedCrop.from_config(crop.get_config())
    t = keras.tree.map_structure(to_numpy, crop_again.get_random_transformation(
        (1, 40, 50, 3)))
    out = to_numpy(augment(image[None], training=True))[0]
    # The crop window (x0, y0, width, height) resized to 24 x 20, written
    # out here: output pixel centre j + 0.5 samples x0 + (j + 0.5) * cw / 24.
    x0, y0 = float(t["x0"][0]), float(t["y0"][0])
    cw, ch = float(t["crop_width"][0]), float(t["crop_height"][0])
    m_crop = np.array([[cw / 24, 0, x0 + 0.5 * cw / 24 - 0.5],
                       [0, ch / 20, y0 + 0.5 * ch / 20 - 0.5],
                       [0, 0, 1]])
    m_rot = ref.centred(ref.idg_matrix(theta=15), 20, 24)
    full = m_crop @ m_rot
    rows, cols = np.mgrid[:20, :24].astype("float64")
    src = full @ np.stack([cols.ravel(), rows.ravel(), np.ones(480)])
    expected = scipy_sample(image, src[1].reshape(20, 24),
                            src[0].reshape(20, 24), mode="reflect")
    np.testing.assert_allclose(out, expected, atol=0.3)


@pytest.mark.slow
def test_crop_config_and_safe_mode_file_round_trip(rng, tmp_path):
    layer = al.RandomResizedCrop(24, 24, scale=(0.3, 0.9), ratio=(0.8, 1.25),
                                 seed=2, bounding_box_format="xyxy")
    config = layer.get_config()
    assert al.RandomResizedCrop.from_config(config).get_config() == config
    model = small_cnn([layer], input_shape=(32, 40, 3))
    x = rng.uniform(0, 255, (4, 32, 40, 3)).astype("float32")
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, np.eye(3)[np.arange(4) % 3], verbose=0)
    reload_in_new_process(model, x, tmp_path, atol=1e-5)


@pytest.mark.parametrize("bad", [dict(height=0, width=4),
                                 dict(height=4, width=4, scale=(0.5, 1.5)),
                                 dict(height=4, width=4, scale=0.5),
                                 dict(height=4, width=4, ratio=(2, 1))],
                         ids=str)
def test_crop_bad_arguments_are_named(bad):
    with pytest.raises(ValueError) as info:
        al.RandomResizedCrop(**bad)
    assert any(f"`{name}`" in str(info.value) for name in bad)


# -- RandomPerspective -------------------------------------------------------
def homography(src, dst):
    """The 3x3 H with H @ src_i ~ dst_i (numpy DLT, the reference)."""
    a = []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(a, "float64"))
    return vt[-1].reshape(3, 3) / vt[-1, -1]


@pytest.mark.parametrize("fill_mode", ["nearest", "constant"])
def test_fixed_corners_equal_a_reference_homography_warp(rng, fill_mode):
    h, w = 36, 48
    image = ref.smooth_image(rng, h, w)
    shift = np.array([[[0.1, 0.05], [-0.15, 0.1], [0.05, -0.2],
                       [0.12, -0.08]]], "float32")
    layer = al.RandomPerspective(fill_mode=fill_mode)
    out = to_numpy(layer.transform_images(image[None],
                                          {"corner_shift": shift}))[0]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]],
                       "float64")
    moved = corners + shift[0] * [w, h]
    m = homography(corners, moved)  # output pixel -> input pixel
    rows, cols = np.mgrid[:h, :w].astype("float64")
    src = m @ np.stack([cols.ravel(), rows.ravel(), np.ones(h * w)])
    sx, sy = (src[0] / src[2]).reshape(h, w), (src[1] / src[2]).reshape(h, w)
    expected = scipy_sample(image, sy, sx, mode=ref.SCIPY_MODE[fill_mode])
    keep = np.ones((h, w), bool)
    if fill_mode == "constant":
        inside = (sx > 0.5) & (sx < w - 1.5) & (sy > 0.5) & (sy < h - 1.5)
        keep = inside
    np.testing.assert_allclose(out[keep], expected[keep], atol=0.05)
    # The corners sample exactly the moved points.
    for (x, y), (mx, my) in zip(corners.astype(int), moved):
        if fill_mode == "nearest":
            np.testing.assert_allclose(
                out[y, x], scipy_sample(image, np.array([my]),
                                        np.array([mx]))[0], atol=0.05)


def test_perspective_factor_is_the_chance_of_a_warp():
    layer = al.RandomPerspective(factor=0.3, scale=0.5, seed=5)
    t = to_numpy(layer.get_random_transformation((4000, 8, 8, 3))[
        "corner_shift"])
    warped = np.any(t != 0, axis=(1, 2))
    # 5 sigma of a share of 4,000 Bernoulli(0.3) draws: 5 * 0.0072.
    assert abs(warped.mean() - 0.3) < 0.037
    assert np.abs(t).max() <= 0.25 + 1e-6


def test_perspective_config_round_trips():
    layer = al.RandomPerspective(factor=(0.2, 0.8), scale=0.4,
                                 interpolation="nearest",
                                 bounding_box_format="rel_xyxy")
    config = layer.get_config()
    assert al.RandomPerspective.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="`scale`"):
        al.RandomPerspective(scale=1.5)
    with pytest.raises(ValueError, match="`factor`"):
        al.RandomPerspective(factor=2)
