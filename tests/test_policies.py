"""RandAugment and TrivialAugmentWide: each op at a fixed magnitude against
its reference definition (PIL, which torchvision's PIL path calls), and the
layers' per-image choice, fusion and compilation."""

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

import augment_layers as al
from augment_layers.ops import policy
from augment_layers.ops import resample
from tests import reference as ref
from tests.backend import layer_hlo, to_numpy
from tests.backend import resamples


@pytest.fixture
def photo(rng):
    """A smooth uint8 RGB image (28 x 36) and its float batch of one."""
    image = ref.smooth_image(rng, 28, 36).round().astype("uint8")
    return image, image[None].astype("float32")


def away_from_fill(ours, theirs):
    """Pixels two or more away from either side's fill: PIL fills beyond
    the image's edge, we (and scipy) beyond the outermost pixel centres."""
    import scipy.ndimage as ndi

    fill = np.all(ours == 0, axis=-1) | np.all(theirs == 0, axis=-1)
    return ~ndi.binary_dilation(fill, iterations=2)


@pytest.mark.parametrize("op,pil_data", [
    ("ShearX", lambda m: (1, m, 0, 0, 1, 0)),
    ("ShearY", lambda m: (1, 0, 0, m, 1, 0)),
    ("TranslateX", lambda m: (1, 0, -m, 0, 1, 0)),
    ("TranslateY", lambda m: (1, 0, 0, 0, 1, -m))])
@pytest.mark.parametrize("m", [-0.25, 0.2, 5.0])
def test_geometric_ops_equal_pils_affine_transform(photo, op, pil_data, m):
    image, batch = photo
    if op.startswith("Shear") and abs(m) > 1:
        pytest.skip("shears are fractions")
    matrix = policy.geometric_matrix(op, np.array([m], "float32"), 28, 36)
    ours = to_numpy(resample.affine_transform(batch, matrix, "bilinear",
                                              "constant", 0.0))[0]
    theirs = np.asarray(Image.fromarray(image).transform(
        (36, 28), Image.Transform.AFFINE, pil_data(m),
        resample=Image.Resampling.BILINEAR), "float32")
    np.testing.assert_allclose(ours[away_from_fill(ours, theirs)],
                               theirs[away_from_fill(ours, theirs)],
                               atol=1.5)


@pytest.mark.parametrize("degrees", [-30.0, 12.0])
def test_rotate_equals_pils_rotate(photo, degrees):
    image, batch = photo
    matrix = policy.geometric_matrix("Rotate", np.array([degrees], "float32"),
                                     28, 36)
    ours = to_numpy(resample.affine_transform(batch, matrix, "bilinear",
                                              "constant", 0.0))[0]
    theirs = np.asarray(Image.fromarray(image).rotate(
        degrees, resample=Image.Resampling.BILINEAR), "float32")
    keep = away_from_fill(ours, theirs)
    assert keep.mean() > 0.5
    np.testing.assert_allclose(ours[keep], theirs[keep], atol=1.5)


@pytest.mark.parametrize("op,enhancer", [
    ("Brightness", ImageEnhance.Brightness), ("Color", ImageEnhance.Color),
    ("Contrast", ImageEnhance.Contrast),
    ("Sharpness", ImageEnhance.Sharpness)])
@pytest.mark.parametrize("m", [-0.6, 0.3, 0.9])
def test_enhancements_equal_pils_image_enhance(photo, op, enhancer, m):
    image, batch = photo
    ours = to_numpy(policy.colour_op(op, batch, np.array([m], "float32")))[0]
    theirs = np.asarray(enhancer(Image.fromarray(image)).enhance(1.0 + m),
                        "float32")
    # PIL rounds to 8 bits (and Contrast rounds its mean first).
    np.testing.assert_allclose(ours, theirs, atol=1.51)


@pytest.mark.parametrize("bits", [4, 6, 8])
def test_posterize_equals_pil(photo, bits):
    image, batch = photo
    ours = to_numpy(policy.colour_op("Posterize", batch,
                                     np.array([bits], "float32")))[0]
    np.testing.assert_array_equal(
        ours, np.asarray(ImageOps.posterize(Image.fromarray(image), bits)))


@pytest.mark.parametrize("threshold", [0.0, 128.0, 200.0, 255.0])
def test_solarize_equals_pil(photo, threshold):
    image, batch = photo
    ours = to_numpy(policy.colour_op("Solarize", batch,
                                     np.array([threshold], "float32")))[0]
    np.testing.assert_array_equal(ours, np.asarray(ImageOps.solarize(
        Image.fromarray(image), threshold)))


def test_autocontrast_and_equalize_equal_pil(photo, rng):
    image, batch = photo
    low_contrast = (image * 0.4 + 60).astype("uint8")
    for source in (image, low_contrast):
        x = source[None].astype("float32")
        ours = to_numpy(policy.colour_op("AutoContrast", x, np.zeros(1)))[0]
        theirs = np.asarray(ImageOps.autocontrast(Image.fromarray(source)),
                            "float32")
        np.testing.assert_allclose(ours, theirs, atol=1.0)
        ours = to_numpy(policy.colour_op("Equalize", x, np.zeros(1)))[0]
        theirs = np.asarray(ImageOps.equalize(Image.fromarray(source)))
        np.testing.assert_array_equal(ours, theirs)


def test_magnitudes_follow_torchvision():
    bins = np.array([0, 9, 30])
    assert np.allclose(to_numpy(policy.magnitude("Rotate", bins, 31, 8, 8)),
                       [0, 9, 30])
    assert np.allclose(to_numpy(policy.magnitude("Posterize", bins, 31, 8,
                                                 8)), [8, 7, 4])
    assert np.allclose(to_numpy(policy.magnitude("Solarize", bins, 31, 8, 8)),
                       [255, 255 * 21 / 30, 0])
    assert np.allclose(to_numpy(policy.magnitude(
        "TranslateX", bins, 31, 100, 331)), [0, 45, 150])
    wide = to_numpy(policy.magnitude("Posterize", bins, 31, 8, 8, wide=True))
    assert np.allclose(wide, [8, 6, 2])
    assert np.allclose(to_numpy(policy.magnitude("ShearX", bins, 31, 8, 8,
                                                 wide=True)),
                       [0, 0.99 * 9 / 30, 0.99])


@pytest.mark.parametrize("cls", [al.RandAugment, al.TrivialAugmentWide])
def test_per_image_choice_one_resample_and_identity_at_inference(rng, cls):
    x = np.repeat(rng.uniform(0, 255, (1, 24, 24, 3)).astype("float32"), 64,
                  axis=0)
    layer = cls(seed=3)
    out = to_numpy(layer(x, training=True))
    assert len({image.tobytes() for image in out}) > 20  # per-image choice
    assert out.min() >= 0 and out.max() <= 255
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)
    t = layer.get_random_transformation((4000, 24, 24, 3))
    counts = np.bincount(to_numpy(t["op"]).ravel(), minlength=len(policy.OPS))
    assert counts.min() > 0.6 * counts.mean()  # every op drawn, uniformly
    bilinear = cls(interpolation="bilinear")
    hlo = layer_hlo(bilinear, x[:2])
    # One bilinear resample for all of an image's geometric ops, plus
    # Equalize's two lookups (its top bin, its table), once: the slots run
    # as one loop.
    assert resamples(hlo, other_gathers=2) == 1
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config


def test_rand_augment_arguments_are_checked():
    with pytest.raises(ValueError, match="`magnitude`"):
        al.RandAugment(magnitude=31)
    with pytest.raises(ValueError, match="`num_ops`"):
        al.RandAugment(num_ops=0)
    with pytest.raises(ValueError, match="`interpolation`"):
        al.TrivialAugmentWide(interpolation="cubic")


@pytest.mark.parametrize("cls", [al.RandAugment, al.TrivialAugmentWide])
def test_masks_follow_the_geometric_ops_of_the_policy(rng, cls):
    # A mask equal to an image channel: after the policy, the mask equals
    # the channel wherever no colour op touched it. With only geometric ops
    # available (through Identity and the layer's draw), check images whose
    # ops were all geometric or identity.
    images = rng.integers(1, 256, (64, 20, 24, 3)).astype("float32")
    masks = images[..., :1].astype("int32")
    layer = cls(seed=7, bounding_box_format="xyxy")
    t = layer.get_random_transformation((64, 20, 24, 3))
    again = cls.from_config(layer.get_config())  # the same first draw
    out = again({"images": images, "segmentation_masks": masks,
                 "keypoints": np.full((64, 1, 2), 10.0, "float32")},
                training=True)
    ops_drawn = to_numpy(t["op"])
    geometric = np.isin(ops_drawn, [policy.index_of(n) for n in
                                    ("Identity",) + policy.GEOMETRIC]).all(1)
    assert geometric.sum() >= 5
    got = to_numpy(out["segmentation_masks"])[geometric, ..., 0]
    want = to_numpy(out["images"])[geometric, ..., 0].astype("int32")
    # Nearest sampling: a sample point within float32 round-off of a
    # half-pixel boundary may round one way for the image and the other for
    # the mask (XLA fuses the two coordinate computations differently); a
    # clean run hit 4 such pixels of 12,960. Anything more is a mask that
    # does not follow.
    assert np.mean(got != want) <= 1e-3
    moved = to_numpy(out["keypoints"])[geometric]
    assert np.any(np.abs(moved - 10.0) > 0.5)  # some keypoints moved
