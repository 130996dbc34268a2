"""Keras's image layers against their references.

PIL (``ImageOps``, ``ImageEnhance``, ``convert("L")``), ``colorsys``,
``scipy.ndimage`` and Keras's own layers where Keras is right; the per-image
choice of RandomChoice/RandomApply against the choices themselves;
AutoAugment and AugMix against PIL and their distributions; ``from_keras``
against the Keras stack it converts. (The generic contract: test_contract.py
and test_behaviour.py, through tests/layer_cases.py.)
"""

import collections
import colorsys

import keras
import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps
from scipy import ndimage, stats

import augment_layers as al
from augment_layers.layers import executor
from tests.backend import to_numpy

pytestmark = pytest.mark.tensorflow_only  # references are backend-free


@pytest.fixture
def pixels(rng):
    """Three 8-bit RGB images, odd sizes."""
    return rng.integers(0, 256, (3, 17, 19, 3)).astype("uint8")


def pil_each(images, fn):
    return np.stack([np.asarray(fn(Image.fromarray(x))) for x in images])


def run(layer, x, seed=None):
    x = np.asarray(x, "float32")
    if seed is None:
        return to_numpy(layer(x, training=True))
    return to_numpy(layer(x, training=True, seed=seed))


def draws(layer, shape, seed):
    """The parameters a call with ``seed`` draws, as NumPy."""
    return keras.tree.map_structure(
        to_numpy, layer.get_random_transformation(shape, seed=seed))


def smooth(shape=(2, 40, 48, 3)):
    """Smooth images (no interpolation surprises), values in 0..255."""
    b, h, w, c = shape
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = np.stack([127 + 100 * np.sin(xx / 7.0 + k) * np.cos(yy / 9.0 - k)
                    for k in range(c)], axis=-1)
    return np.repeat(out[None], b, axis=0).astype("float32")


# -- colour layers at a fixed magnitude: PIL ---------------------------------

@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.75])
def test_solarization_equals_pil(pixels, threshold):
    layer = al.Solarization(threshold_factor=(threshold, threshold))
    expected = pil_each(pixels, lambda im: ImageOps.solarize(
        im, threshold * 255))
    np.testing.assert_array_equal(run(layer, pixels), expected)
    # Scaled to the value range at both ends (Keras scales only the top).
    unit = al.Solarization(threshold_factor=(threshold, threshold),
                           value_range=(0, 1))
    np.testing.assert_allclose(run(unit, pixels / 255.0), expected / 255.0,
                               atol=1e-5)


def test_solarization_addition_is_a_fraction_of_the_range(pixels):
    layer = al.Solarization(addition_factor=(0.2, 0.2),
                            threshold_factor=(0.5, 0.5))
    added = np.clip(pixels.astype("float32") + 51.0, 0, 255)
    expected = np.where(added >= 127.5, 255 - added, added)
    np.testing.assert_allclose(run(layer, pixels), expected, atol=1e-4)


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_posterization_equals_pil(pixels, bits):
    layer = al.RandomPosterization((bits, bits))
    np.testing.assert_array_equal(
        run(layer, pixels),
        pil_each(pixels, lambda im: ImageOps.posterize(im, bits)))


def test_posterization_draws_both_ends():
    """Every bit count in [lo, hi], the top one too (Keras never draws it)."""
    bits = draws(al.RandomPosterization((2, 5)), (4000, 4, 4, 3), 3)["bits"]
    counts = np.bincount(bits.astype(int), minlength=6)[2:]
    assert counts.sum() == 4000
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(4000 * 0.25 * 0.75))


def test_equalization_equals_pil_on_each_image_alone(pixels):
    # Each image on its own histogram: a dark and a light image together.
    batch = pixels.copy()
    batch[0] //= 4
    expected = pil_each(batch, ImageOps.equalize)
    out = run(al.Equalization(), batch)
    np.testing.assert_array_equal(out, expected)
    # The same at inference (as Keras documents).
    np.testing.assert_array_equal(
        to_numpy(al.Equalization()(batch.astype("float32"))), expected)


def test_autocontrast_equals_pil_less_its_rounding(pixels):
    batch = (pixels // 3 + 40).astype("uint8")
    expected = pil_each(batch, ImageOps.autocontrast)
    out = run(al.AutoContrast(), batch)
    assert np.abs(out - expected).max() < 1.0 + 1e-3  # PIL truncates
    assert np.mean(np.floor(out + 1e-3) == expected) > 0.99
    np.testing.assert_allclose(to_numpy(al.AutoContrast()(
        batch.astype("float32"))), out)


@pytest.mark.parametrize("f", [0.0, 0.4, 1.0])
def test_color_degeneration_equals_pil_color(pixels, f):
    layer = al.RandomColorDegeneration((f, f))
    expected = pil_each(pixels, lambda im: ImageEnhance.Color(im).enhance(
        1.0 - f))
    assert np.abs(run(layer, pixels) - expected).max() <= 1.5


@pytest.mark.parametrize("f", [0.0, 0.25, 0.9])
def test_sharpness_equals_pil_sharpness(pixels, f):
    layer = al.RandomSharpness((f, f))
    expected = pil_each(pixels, lambda im: ImageEnhance.Sharpness(
        im).enhance(2.0 * f))
    out = run(layer, pixels)
    assert np.abs(out - expected).max() <= 2.0
    # PIL keeps the one-pixel border (Keras darkens it with zeros).
    np.testing.assert_array_equal(out[:, 0], pixels[:, 0])


def test_grayscale_equals_pil_luma(pixels):
    expected = pil_each(pixels, lambda im: im.convert("L"))
    out = run(al.RandomGrayscale(1.0), pixels)
    for c in range(3):
        assert np.abs(out[..., c] - expected).max() <= 1.0
    np.testing.assert_array_equal(run(al.RandomGrayscale(0.0), pixels),
                                  pixels)


# -- colour layers, random: each image against its own draw ------------------

def _hsv_reference(images, change):
    out = np.empty_like(images)
    for idx in np.ndindex(images.shape[:3]):
        h, s, v = colorsys.rgb_to_hsv(*(images[idx] / 255.0))
        h, s, v = change(idx[0], h, s, v)
        out[idx] = np.asarray(colorsys.hsv_to_rgb(h, s, v)) * 255.0
    return out


def test_hue_equals_colorsys_per_image(pixels):
    layer = al.RandomHue(0.9)
    signs = np.sign(draws(layer, (400, 1, 1, 3), 1)["shift"])
    assert abs(np.mean(signs)) < 5 / np.sqrt(400)  # both ways, evenly
    shift = draws(layer, pixels.shape, 5)["shift"]
    assert len(np.unique(shift)) == len(shift)
    expected = _hsv_reference(pixels.astype("float64"),
                              lambda i, h, s, v: ((h + shift[i]) % 1.0, s, v))
    np.testing.assert_allclose(run(layer, pixels, seed=5), expected,
                               atol=0.05)


def test_saturation_equals_colorsys_and_stays_in_range(pixels):
    layer = al.RandomSaturation((0.85, 0.95))
    factor = draws(layer, pixels.shape, 5)["factor"]
    assert factor.max() > 5  # oversaturating: S must still stop at 1
    expected = _hsv_reference(
        pixels.astype("float64"),
        lambda i, h, s, v: (h, min(s * factor[i], 1.0), v))
    out = run(layer, pixels, seed=5)
    np.testing.assert_allclose(out, expected, atol=0.05)
    assert out.min() >= 0 and out.max() <= 255


def test_contrast_is_tf_adjust_contrast_with_the_documented_range(pixels):
    import tensorflow as tf

    layer = al.RandomContrast(0.5)
    factor = draws(layer, (4000, 2, 2, 3), 2)["factor"]
    # [1 - f, 1 + f], as Keras documents (its code draws [1, 1 + f]).
    assert 0.5 <= factor.min() < 0.52 and 1.48 < factor.max() <= 1.5
    assert stats.kstest(factor, stats.uniform(0.5, 1.0).cdf).pvalue > 1e-6
    factor = draws(layer, pixels.shape, 9)["factor"]
    expected = np.stack([np.clip(tf.image.adjust_contrast(
        x.astype("float32"), f).numpy(), 0, 255)
        for x, f in zip(pixels, factor)])
    np.testing.assert_allclose(run(layer, pixels, seed=9), expected,
                               atol=1e-3)


def test_brightness_equals_keras_fixed(pixels):
    ours = run(al.RandomBrightness((0.2, 0.2)), pixels)
    theirs = to_numpy(keras.layers.RandomBrightness((0.2, 0.2))(
        pixels.astype("float32"), training=True))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    unit = run(al.RandomBrightness((-0.5, -0.5), value_range=(0, 1)),
               pixels / 255.0)
    np.testing.assert_allclose(unit, np.clip(pixels / 255.0 - 0.5, 0, 1),
                               atol=1e-6)


def test_invert_is_the_range_upside_down(pixels):
    np.testing.assert_array_equal(run(al.RandomInvert((1.0, 1.0)), pixels),
                                  255.0 - pixels)
    signed = pixels / 127.5 - 1.0
    np.testing.assert_allclose(
        run(al.RandomInvert((1.0, 1.0), value_range=(-1, 1)), signed),
        -signed, atol=1e-6)
    np.testing.assert_array_equal(run(al.RandomInvert((0.0, 0.0)), pixels),
                                  pixels)


@pytest.mark.parametrize("kernel_size", [3, (5, 7)])
def test_gaussian_blur_equals_scipy_per_image(pixels, kernel_size):
    layer = al.RandomGaussianBlur((1.0, 1.0), kernel_size, (0.3, 2.5))
    t = draws(layer, pixels.shape, 4)
    ky, kx = (kernel_size, kernel_size) if isinstance(kernel_size, int) \
        else kernel_size
    expected = []
    for x, sy, sx in zip(pixels.astype("float64"), t["sigma_y"],
                         t["sigma_x"]):
        x = ndimage.gaussian_filter1d(x, sy, axis=0, mode="reflect",
                                      truncate=(ky // 2) / sy)
        x = ndimage.gaussian_filter1d(x, sx, axis=1, mode="reflect",
                                      truncate=(kx // 2) / sx)
        expected.append(x)
    np.testing.assert_allclose(run(layer, pixels, seed=4),
                               np.stack(expected), atol=2e-3)
    assert len(np.unique(t["sigma_y"])) == 3  # per image


def test_gaussian_noise_has_each_images_drawn_deviation(rng):
    x = np.full((6, 64, 64, 3), 128.0, "float32")
    layer = al.RandomGaussianNoise((0.02, 0.06))
    stddev = draws(layer, x.shape, 8)["stddev"]
    residual = (run(layer, x, seed=8) - x).reshape(6, -1)
    n = residual.shape[1]
    np.testing.assert_allclose(residual.std(axis=1), stddev, rtol=0.03)
    assert np.all(np.abs(residual.mean(axis=1)) < 5 * stddev / np.sqrt(n))
    assert stats.kstest(residual[0] / stddev[0], "norm").pvalue > 1e-6


# -- geometric: crops ---------------------------------------------------------

def test_random_crop_is_a_window_placed_per_image():
    n, h, w, ch, cw = 3000, 9, 11, 5, 6
    # Each pixel holds its own index: a window is known by its corner.
    index = np.arange(h * w, dtype="float32").reshape(1, h, w, 1)
    out = run(al.RandomCrop(ch, cw, seed=3), np.repeat(index, n, axis=0))
    assert out.shape == (n, ch, cw, 1)
    y0, x0 = np.divmod(np.rint(out[:, 0, 0, 0]).astype(int), w)
    assert np.all((y0 >= 0) & (y0 <= h - ch) & (x0 >= 0) & (x0 <= w - cw))
    # The whole window at that place, whole pixels.
    rows = y0[:, None, None] + np.arange(ch)[:, None]
    cols = x0[:, None, None] + np.arange(cw)
    np.testing.assert_allclose(out[..., 0], rows * w + cols, atol=1e-3)
    # Every one of the 5 x 6 whole-pixel places, uniformly, per image:
    # each count within 5 sigma of n / 30 (100 +- 49: never 0), and the
    # counts together by a chi-square test.
    places = y0 * (w - cw + 1) + x0
    k = (h - ch + 1) * (w - cw + 1)
    counts = np.bincount(places, minlength=k)
    assert len(counts) == k
    p = 1.0 / k
    assert np.all(np.abs(counts - n * p) < 5 * np.sqrt(n * p * (1 - p))), \
        counts
    assert stats.chisquare(counts).pvalue > 1e-6, counts


def _keras_resize(x, height, width):
    return to_numpy(keras.layers.Resizing(height, width,
                                          crop_to_aspect_ratio=True)(x))


# Upsampling a window inside a larger image, our one resample reads the
# real pixels just outside the window where Keras's resize of the cut-out
# window repeats its edge: the outer ring of output pixels differs.
RING = (slice(None), slice(1, -1), slice(1, -1))


def test_random_crop_of_a_smaller_input_and_at_inference_is_keras_resize(
        rng):
    # As Keras documents: the largest window of the target's aspect ratio,
    # resized (Keras 3.15's code cuts a target-sized window instead).
    small = rng.uniform(0, 255, (2, 10, 30, 3)).astype("float32")
    np.testing.assert_allclose(run(al.RandomCrop(16, 16), small)[RING],
                               _keras_resize(small, 16, 16)[RING], atol=1e-3)
    big = rng.uniform(0, 255, (2, 40, 30, 3)).astype("float32")
    np.testing.assert_allclose(to_numpy(al.RandomCrop(16, 20)(big)),
                               _keras_resize(big, 16, 20), atol=1e-3)


@pytest.mark.parametrize("shape", [(2, 20, 25, 3), (2, 8, 30, 3)])
def test_center_crop_equals_keras(rng, shape):
    x = rng.uniform(0, 255, shape).astype("float32")
    theirs = to_numpy(keras.layers.CenterCrop(11, 14)(x))
    for training in (True, False):
        ours = to_numpy(al.CenterCrop(11, 14)(x, training=training))
        if shape[1] < 11:  # Keras resizes (see RING)
            ours, theirs_ = ours[RING], theirs[RING]
        else:  # a plain cut: exact
            theirs_ = theirs
        np.testing.assert_allclose(ours, theirs_, atol=1e-3)


def test_crops_fuse_with_their_neighbours_and_move_boxes():
    # Constant fill of 0 everywhere: nothing bright is brought in.
    fill = dict(fill_mode="constant", fill_value=0.0)
    augment = al.Augment([al.RandomTranslation(0.1, 0.1, **fill),
                          al.RandomCrop(20, 24),
                          al.RandomZoom(0.2, **fill)],
                         bounding_box_format="xyxy")
    units = executor.plan_of(augment.layers).stages[0].segments[0]
    assert len(units) == 1 and len(units[0].members) == 3
    # Each box drawn as a block of ones in its own channel: the reference
    # is where that block lands. Every map here is axis-aligned (a shift,
    # a window, a zoom), so a box stays a box and bilinear sampling of the
    # block is a product of a column and a row profile; along a row through
    # the block the value is above 0.5 exactly at the output pixels whose
    # centres map inside the box's columns (and likewise for rows).
    n = 24
    boxes = np.array([[4, 4, 20, 20], [10, 12, 28, 26], [15, 14, 18, 17]],
                     "float32")  # (x0, y0, x1, y1), each meets every window
    images = np.zeros((n, 30, 32, 3), "float32")
    for c, (x0, y0, x1, y1) in enumerate(boxes.astype(int)):
        images[:, y0:y1, x0:x1, c] = 1.0
    data = {"images": images,
            "bounding_boxes": {"boxes": np.repeat(boxes[None], n, axis=0),
                               "labels": np.ones((n, 3), "int32")}}
    out = augment(data, training=True)
    assert tuple(out["images"].shape) == (n, 20, 24, 3)
    moved = to_numpy(out["bounding_boxes"]["boxes"])
    np.testing.assert_array_equal(to_numpy(out["bounding_boxes"]["labels"]),
                                  1)
    assert np.all(moved >= 0)
    assert np.all(moved[..., 2] <= 24) and np.all(moved[..., 3] <= 20)
    blocks = to_numpy(out["images"])
    for i in range(n):
        for c in range(3):
            rows = np.flatnonzero(blocks[i, :, :, c].max(axis=1) > 0.5)
            cols = np.flatnonzero(blocks[i, :, :, c].max(axis=0) > 0.5)
            assert len(rows) and len(cols), (i, c)
            assert np.all(np.diff(rows) == 1) and np.all(np.diff(cols) == 1)
            # The box's edges lie within half a pixel of the block's.
            np.testing.assert_allclose(
                moved[i, c], [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1],
                atol=0.5 + 1e-3, rtol=0, err_msg=f"image {i}, box {c}")
    # The boxes moved differently per image (a window per image).
    assert len(np.unique(moved[:, 1].round(3), axis=0)) > n // 2


# -- RandomChoice and RandomApply: a choice per image ------------------------

def _which(out, references):
    """Each image's index among ``references`` (it must match one)."""
    close = np.stack([np.all(np.isclose(out, r, atol=1e-3), axis=(1, 2, 3))
                      for r in references], axis=1)
    assert np.all(close.sum(axis=1) >= 1), "an output matches no choice"
    return np.argmax(close, axis=1)


def _shares_match(index, weights):
    n = len(index)
    counts = np.bincount(index, minlength=len(weights))
    p = np.asarray(weights, float) / np.sum(weights)
    assert np.all(np.abs(counts - n * p) < 5 * np.sqrt(n * p * (1 - p)))


def test_random_choice_per_image_with_the_weights(rng):
    x = np.repeat(rng.uniform(0, 255, (1, 6, 6, 3)).astype("float32"), 3000,
                  axis=0)
    layer = al.RandomChoice([al.RandomRotation((90, 90)),
                             al.RandomRotation((180, 180)),
                             al.RandomInvert((1.0, 1.0))],
                            weights=[1, 2, 3], seed=4)
    assert not layer.composes_matrices  # a colour choice: run each
    refs = [np.rot90(x, 1, axes=(1, 2)), np.rot90(x, 2, axes=(1, 2)),
            255.0 - x]
    _shares_match(_which(run(layer, x), refs), [1, 2, 3])


def test_geometric_choices_are_one_matrix_fused_into_augment(rng):
    x = np.repeat(rng.uniform(0, 255, (1, 6, 6, 3)).astype("float32"), 2000,
                  axis=0)
    choice = al.RandomChoice([al.RandomRotation((90, 90)),
                              al.RandomRotation((180, 180)),
                              al.RandomZoomAspect((1.0, 1.0))])
    assert choice.composes_matrices
    augment = al.Augment([choice, al.RandomRotation((90, 90))])
    units = executor.plan_of(augment.layers).stages[0].segments[0]
    assert len(units) == 1 and len(units[0].members) == 2  # one resample
    refs = [np.rot90(x, k, axes=(1, 2)) for k in (2, 3, 1)]
    _shares_match(_which(run(augment, x), refs), [1, 1, 1])


def test_random_apply_per_image_leaves_the_rest_untouched(rng):
    x = np.repeat(rng.uniform(0, 255, (1, 5, 5, 3)).astype("float32"), 3000,
                  axis=0)
    colour = al.RandomApply(al.RandomInvert((1.0, 1.0)), 0.3, seed=1)
    _shares_match(_which(run(colour, x), [255.0 - x, x]), [0.3, 0.7])
    turn = al.RandomApply(al.RandomRotation((90, 90)), 0.6, seed=2)
    assert turn.composes_matrices
    _shares_match(_which(run(turn, x), [np.rot90(x, 1, axes=(1, 2)), x]),
                  [0.6, 0.4])


def test_choice_masks_follow_each_images_own_choice(rng):
    masks = rng.integers(0, 5, (400, 6, 6, 1)).astype("int32")
    data = {"images": masks.astype("float32") * 40.0,
            "segmentation_masks": masks}
    layer = al.RandomChoice([al.RandomRotation((90, 90)),
                             al.RandomBrightness((0.1, 0.1))], seed=3)
    out = layer(data, training=True)
    index = _which(to_numpy(out["images"]), [
        np.rot90(data["images"], 1, axes=(1, 2)), data["images"] + 25.5])
    moved = to_numpy(out["segmentation_masks"])
    for i in range(len(masks)):
        expected = np.rot90(masks[i], 1) if index[i] == 0 else masks[i]
        np.testing.assert_array_equal(moved[i], expected)


def test_choice_arguments_are_checked():
    with pytest.raises(ValueError, match="weights"):
        al.RandomChoice([al.RandomHue(0.1)], weights=[1, 2])
    with pytest.raises(ValueError, match="weights"):
        al.RandomChoice([al.RandomHue(0.1), al.RandomInvert()],
                        weights=[-1, 2])
    with pytest.raises(ValueError, match="one size"):
        al.RandomChoice([al.RandomCrop(4, 4), al.RandomHue(0.1)])
    with pytest.raises(ValueError, match="from_keras"):
        al.RandomApply(keras.layers.RandomFlip())
    with pytest.raises(ValueError, match="probability"):
        al.RandomApply(al.RandomHue(0.1), 1.5)


# -- AutoAugment: torchvision's ImageNet policy -------------------------------

# The published ImageNet policy (Cubuk et al., 2019, as torchvision's
# ``AutoAugmentPolicy.IMAGENET`` lists it): 25 sub-policies of two steps,
# each (op, probability, magnitude bin of 10; None: the op has none).
PUBLISHED_IMAGENET_POLICY = (
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
    (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
    (("Color", 0.4, 0), ("Equalize", 0.6, None)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
)
# torchvision's signed ops (a random sign on the magnitude).
_SIGNED_OPS = {"ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate",
               "Brightness", "Color", "Contrast", "Sharpness"}


def _pil_op(image, name, bin_, sign):
    """torchvision's magnitudes (10 bins) through PIL."""
    unit = bin_ / 9.0
    if name == "Posterize":
        return ImageOps.posterize(image, int(8 - round(bin_ / 2.25)))
    if name == "Solarize":  # linspace(255, 0, 10): 170 and 85 exactly
        return ImageOps.solarize(image, 255.0 * (9 - bin_) / 9.0)
    if name == "AutoContrast":
        return ImageOps.autocontrast(image)
    if name == "Equalize":
        return ImageOps.equalize(image)
    if name == "Invert":
        return ImageOps.invert(image)
    factor = 1.0 + sign * 0.9 * unit
    enhance = {"Color": ImageEnhance.Color, "Contrast": ImageEnhance.Contrast,
               "Sharpness": ImageEnhance.Sharpness}[name]
    return enhance(image).enhance(factor)


def test_auto_augment_colour_steps_equal_pil(rng):
    x = rng.integers(0, 256, (48, 12, 14, 3)).astype("uint8")
    layer = al.AutoAugment()
    t = draws(layer, x.shape, 6)
    out = run(layer, x, seed=6)
    names = al.AutoAugment.op_names
    checked = 0
    for i in range(len(x)):
        steps = [names[k] for k in t["op"][i]]
        if any(s in ("Rotate", "ShearX") for s in steps):
            continue
        image = Image.fromarray(x[i])
        for slot, name in enumerate(steps):
            if name != "Identity":
                image = _pil_op(image, name, t["bin"][i, slot],
                                t["sign"][i, slot])
        # PIL rounds to 8 bits after each step; we round only where the
        # op does (posterize, equalize).
        assert np.abs(out[i] - np.asarray(image)).max() <= 3.0, steps
        checked += 1
    assert checked > 20


def _step_outcome(name, bin_):
    """What a step did: ``("Identity", None)`` where it did not act, else
    its op and, where the op has one, its magnitude bin."""
    if name == "Identity":
        return ("Identity", None)
    magnitude_free = {"AutoContrast", "Equalize", "Invert"}
    return (name, None if name in magnitude_free else int(bin_))


def test_auto_augment_draws_the_policy():
    """Every step of every sub-policy: the joint outcome of an image's two
    steps (each its op and bin, or Identity where it did not act) has the
    chance the published table gives it, sub-policies equally likely."""
    # 200,000 draws: an outcome that several sub-policies give (Identity
    # then Equalize, about 0.14) moves by 0.008 when one step's chance
    # moves by 0.2, 10 sigma here.
    n = 200_000
    t = draws(al.AutoAugment(), (n, 4, 4, 3), 1)
    names = al.AutoAugment.op_names
    assert t["op"].shape == (n, 2) and np.all(t["bin"] < 10)
    expected = collections.Counter()
    for sub in PUBLISHED_IMAGENET_POLICY:
        (a, pa, ma), (b, pb, mb) = sub
        for first, p1 in ((_step_outcome(a, ma), pa),
                          (("Identity", None), 1.0 - pa)):
            for second, p2 in ((_step_outcome(b, mb), pb),
                               (("Identity", None), 1.0 - pb)):
                expected[first, second] += p1 * p2 / len(
                    PUBLISHED_IMAGENET_POLICY)
    drawn = collections.Counter()
    for (o0, b0, o1, b1), count in collections.Counter(zip(
            *(t[k][:, slot].tolist() for slot in (0, 1)
              for k in ("op", "bin")))).items():
        drawn[_step_outcome(names[o0], b0),
              _step_outcome(names[o1], b1)] += count
    # Nothing the table cannot give (another op, bin, slot or pairing).
    impossible = {k: c for k, c in drawn.items() if expected[k] == 0}
    assert not impossible, impossible
    # Each outcome's count within 5 sigma of its chance, and all of them
    # together by a chi-square test.
    keys = [k for k, p in expected.items() if p > 0]
    p = np.array([expected[k] for k in keys])
    counts = np.array([drawn[k] for k in keys])
    bad = {k: (c, round(n * q)) for k, c, q in zip(keys, counts, p)
           if abs(c - n * q) >= 5 * np.sqrt(n * q * (1 - q))}
    assert not bad, bad  # outcome: (drawn, expected)
    assert stats.chisquare(counts, n * p / p.sum()).pvalue > 1e-6
    # The signed ops act in both directions, evenly.
    for slot in range(2):
        acting = np.isin(t["op"][:, slot], [names.index(k)
                                            for k in _SIGNED_OPS
                                            if k in names])
        signs = t["sign"][acting, slot]
        assert set(np.unique(signs)) == {-1.0, 1.0}
        assert abs(signs.mean()) < 5 / np.sqrt(len(signs))


# -- AugMix -------------------------------------------------------------------

def test_augmix_draws_its_distributions():
    layer = al.AugMix(num_chains=3, chain_depth=3, alpha=0.7,
                      factor=(0.1, 0.6))
    t = draws(layer, (5000, 4, 4, 3), 2)
    assert stats.kstest(t["blend"], stats.beta(0.7, 0.7).cdf).pvalue > 1e-6
    assert stats.kstest(t["weights"][:, 0],
                        stats.beta(0.7, 1.4).cdf).pvalue > 1e-6
    np.testing.assert_allclose(t["weights"].sum(axis=1), 1.0, atol=1e-5)
    depth = (t["op"] != 0).sum(axis=2).ravel()
    _shares_match(depth - 1, [1, 1, 1])
    ops_drawn = t["op"][t["op"] != 0]
    _shares_match(ops_drawn - 1, [1] * (len(layer.op_names) - 1))
    assert t["unit"].min() >= 0.1 and t["unit"].max() <= 0.6


def test_augmix_one_chain_one_op_is_the_blend_of_pil_and_the_image(rng):
    x = rng.integers(0, 256, (40, 12, 14, 3)).astype("uint8")
    layer = al.AugMix(num_chains=1, chain_depth=1, factor=(0.0, 0.0),
                      all_ops=False)
    t = draws(layer, x.shape, 3)
    out = run(layer, x, seed=3)
    for i in range(len(x)):
        name = layer.op_names[t["op"][i, 0, 0]]
        image = Image.fromarray(x[i])
        chain = {"AutoContrast": ImageOps.autocontrast,
                 "Equalize": ImageOps.equalize,
                 "Posterize": lambda im: ImageOps.posterize(im, 4),
                 "Solarize": lambda im: ImageOps.solarize(im, 255)}.get(
            name, lambda im: im)(image)  # geometric at magnitude 0
        m = t["blend"][i]
        expected = m * x[i] + (1 - m) * np.asarray(chain, "float32")
        # (PIL's autocontrast truncates in double precision, ours in
        # float32: a rare value lands a level apart.)
        assert np.mean(np.abs(out[i] - expected) > 1e-2) < 0.01, name
        np.testing.assert_allclose(out[i], expected, atol=1.0, err_msg=name)


# -- from_keras ---------------------------------------------------------------

FIXED = [
    (keras.layers.RandomRotation((0.05, 0.05)), 1.0),
    (keras.layers.RandomTranslation((0.1, 0.1), (-0.05, -0.05)), 1.0),
    (keras.layers.RandomZoom((0.2, 0.2), (-0.1, -0.1)), 1.0),
    (keras.layers.RandomZoom((-0.2, -0.2)), 1.0),
    (keras.layers.RandomBrightness((0.1, 0.1)), 1.0),
    # (Keras draws additions and thresholds from [lo, hi * 255]: only 0 is
    # fixed there.)
    (keras.layers.Solarization(0.0, 0.0), 1.0),
    (keras.layers.RandomPosterization((3, 3)), 1.0),
    (keras.layers.RandomInvert((1.0, 1.0)), 1.0),
    (keras.layers.RandomGrayscale(1.0), 1.0),
    (keras.layers.RandomColorDegeneration((0.5, 0.5)), 1.0),
    (keras.layers.RandomSharpness((0.8, 0.8)), 1.0),
    (keras.layers.RandomGaussianBlur((1.0, 1.0), 3, (0.8, 0.8)), 1.0),
    (keras.layers.CenterCrop(30, 36), 1.0),
    (keras.layers.AutoContrast(), 1.0),
    (keras.layers.RandomSaturation((0.7, 0.7), value_range=(0, 1)), 1 / 255),
]


@pytest.mark.parametrize("layer,scale", FIXED,
                         ids=[type(k).__name__ for k, _ in FIXED])
def test_each_converted_layer_equals_keras_with_fixed_ranges(layer, scale):
    x = smooth() * scale
    theirs = to_numpy(layer(x, training=True))
    converted = al.from_keras([layer])
    ours = to_numpy(converted(x, training=True))
    assert ours.shape == theirs.shape
    # The interior: Keras and we differ at borders by design (reflection
    # against zero padding) and sample a pixel's edge a hair apart.
    interior = (slice(None), slice(4, -4), slice(4, -4))
    np.testing.assert_allclose(ours[interior], theirs[interior],
                               atol=0.5 * scale)


DISTRIBUTIONS = [
    (keras.layers.RandomRotation(0.1), lambda t: t["angle"],
     lambda t: t["theta"]),
    (keras.layers.RandomTranslation(0.1, (-0.2, 0.05)),
     lambda t: t["translations"][:, 1] / 16.0, lambda t: t["dy"]),
    (keras.layers.RandomTranslation(0.1, (-0.2, 0.05)),
     lambda t: t["translations"][:, 0] / 16.0, lambda t: t["dx"]),
    (keras.layers.RandomZoom(0.2, 0.1), lambda t: t["width_zoom"][:, 0],
     lambda t: t["zx"]),
    (keras.layers.RandomZoom(0.2, 0.1), lambda t: t["height_zoom"][:, 0],
     lambda t: t["zy"]),
    (keras.layers.RandomContrast(0.3), lambda t: t["contrast_factor"].ravel(),
     lambda t: t["factor"]),
    (keras.layers.RandomBrightness(0.2), lambda t: t["rgb_delta"].ravel(),
     lambda t: t["delta"]),
    (keras.layers.RandomHue(0.4), lambda t: t["factor"],
     lambda t: t["shift"]),
    (keras.layers.RandomSaturation((0.1, 0.8)),
     lambda t: np.minimum(t["factor"], 50), lambda t: np.minimum(
         t["factor"], 50)),
]
DISTRIBUTION_IDS = ["RandomRotation", "RandomTranslation-height",
                    "RandomTranslation-width", "RandomZoom-width",
                    "RandomZoom-height", "RandomContrast", "RandomBrightness",
                    "RandomHue", "RandomSaturation"]


def _compare_draws(theirs, ours):
    """A two-sample KS test's p-value, and how far ``ours``'s ends lie from
    ``theirs``'s, as a share of ``theirs``'s range."""
    lo, hi = theirs.min(), theirs.max()
    ends = np.abs([ours.min() - lo, ours.max() - hi]) / (hi - lo)
    return stats.ks_2samp(theirs, ours).pvalue, ends.max()


@pytest.mark.parametrize("layer,theirs,ours", DISTRIBUTIONS,
                         ids=DISTRIBUTION_IDS)
def test_a_converted_layer_draws_from_kerass_distribution(layer, theirs,
                                                          ours):
    """KS at p > 1e-6 and both ends of the range within 1% of its width.
    With 20,000 draws each the KS threshold is a distance of about 0.027,
    and the draws come within a few 1e-4 of their range's ends (for any
    density not near 0 there): a range 14% too wide (a KS distance of 0.06
    or more, ends 7% or 14% out) fails both, as the end asserts."""
    x = np.zeros((20000, 16, 16, 3), "float32")
    a = np.asarray(theirs(keras.tree.map_structure(
        lambda v: to_numpy(v) if hasattr(v, "shape") else v,
        layer.get_random_transformation(x, training=True))), float).ravel()
    converted = al.from_keras([layer]).layers[0]
    b = np.asarray(ours(draws(converted, x.shape, 7)), float).ravel()
    assert len(a) == len(b) == len(x)
    p, ends = _compare_draws(a, b)
    assert p > 1e-6, f"KS p = {p:.3g}"
    assert ends < 0.01, (f"range [{b.min():.4g}, {b.max():.4g}] against "
                         f"Keras's [{a.min():.4g}, {a.max():.4g}]")
    # The test's power: the same draws over a range 14% wider, about its
    # middle or beyond one end, fail each check.
    mid = (a.min() + a.max()) / 2.0
    for fixed in (mid, a.min(), a.max()):
        p, ends = _compare_draws(a, fixed + 1.14 * (b - fixed))
        assert p < 1e-6 and ends > 0.05, (fixed, p, ends)


def test_a_keras_stack_converts_whole_and_fuses(rng):
    stack = keras.Sequential([
        keras.Input((32, 32, 3)), keras.layers.Rescaling(1.0),
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(0.05), keras.layers.RandomTranslation(
            0.1, 0.1), keras.layers.RandomZoom(0.1),
        keras.layers.Pipeline([keras.layers.RandomContrast(0.2),
                               keras.layers.RandomErasing()])])
    augment = al.from_keras(stack)
    kinds = [type(layer).__name__ for layer in augment.layers]
    assert kinds == ["Rescaling", "RandomFlip", "RandomRotation",
                     "RandomTranslation", "RandomZoom", "RandomContrast",
                     "RandomErasing"]
    assert augment.layers[2].rotation_range == (-18.0, 18.0)
    stage = executor.plan_of(augment.layers).stages[1]
    assert len(stage.segments[0][0].members) == 4  # one resample
    x = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    out = to_numpy(augment(x, training=True))
    assert out.shape == x.shape and not np.allclose(out, x)
    np.testing.assert_array_equal(to_numpy(augment(x)), x)


def test_keras_erasing_converts_to_its_own_rectangle():
    layer = al.from_keras([keras.layers.RandomErasing(
        factor=0.8, scale=(0.1, 0.4), fill_value=7.0)]).layers[0]
    t = draws(layer, (20000, 10, 10, 3), 5)
    assert abs(t["apply"].mean() - 0.4) < 5 * np.sqrt(0.24 / 20000)
    side = t["width"] / 10.0
    assert stats.kstest(side ** 2, stats.uniform(0.1, 0.3).cdf).pvalue > 1e-6


def test_what_cannot_be_converted_is_named():
    with pytest.raises(ValueError, match="'shear'.*RandomShear"):
        al.from_keras([keras.layers.RandomFlip(), keras.layers.RandomShear(
            0.2, name="shear")])
    with pytest.raises(ValueError, match="per-channel"):
        al.from_keras([keras.layers.RandomErasing(fill_value=[1, 2, 3])])
    with pytest.raises(ValueError, match="no layers"):
        al.from_keras([])


@pytest.mark.parametrize("batch", [7, 32])
def test_costly_ops_on_the_chosen_images_only_are_the_same_bits(rng, batch):
    """AugMix's histogram and neighbourhood ops run on the images that drew
    them, gathered a few at a time: the same values as on the batch."""
    from augment_layers.ops import policy

    x = rng.uniform(0, 255, (batch, 9, 10, 3)).astype("float32")
    m = rng.uniform(-0.9, 0.9, (batch,)).astype("float32")
    for share in (0.0, 0.2, 1.0):
        chosen = rng.uniform(size=batch) < share
        for name in ("Equalize", "Sharpness", "AutoContrast"):
            everyone = to_numpy(policy.colour_op(name, x, m))
            expected = np.where(chosen[:, None, None, None], everyone, x)
            got = to_numpy(policy.on_chosen(
                keras.ops.convert_to_tensor(x),
                keras.ops.convert_to_tensor(chosen),
                lambda sub, idx: policy.colour_op(name, sub,
                                                  keras.ops.take(m, idx)),
                2))
            np.testing.assert_array_equal(got, expected, err_msg=name)
