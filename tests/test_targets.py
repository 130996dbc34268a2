"""Masks, boxes and keypoints follow the image (Keras 3's dict format).

References: a mask equal to an image channel must come back equal to that
channel of the nearest-resampled image; a box must agree with the tight box
around its rasterised mask, moved as a mask; a keypoint must stay on the
centroid of a blob drawn around it. The Keras 3.15 bugs listed in the issue
are each a named test here.
"""

import keras
import numpy as np
import pytest

import augment_layers as al
from augment_layers.ops import boxes as box_ops
from tests.backend import jit_layer_call, stored_dtype, to_numpy

MODES = ["constant", "nearest", "reflect", "wrap"]
H, W = 36, 52  # non-square on purpose


def geometric_layers(**k):
    """Every geometric layer, RandomAffine and a fused Augment, with ``k``."""
    return {
        "RandomShift": al.RandomShift(0.2, 0.25, seed=1, **k),
        "RandomShift_pixels": al.RandomShift(5, 7, units="pixels", seed=2,
                                             **k),
        "RandomShear": al.RandomShear(25, seed=3, **k),
        "RandomZoomAspect": al.RandomZoomAspect(0.3, seed=4, **k),
        "RandomZoomAspect_aspect": al.RandomZoomAspect(
            (0.8, 1.2), aspect_range=(0.6, 1.6), seed=5, **k),
        "RandomRotation": al.RandomRotation(40, seed=6, **k),
        "RandomFlip": al.RandomFlip("horizontal_and_vertical", seed=7, **k),
        "RandomAffine": al.RandomAffine(
            rotation_range=30, height_range=0.1, width_range=0.15,
            shear_range=15, zoom_range=0.2, horizontal_flip=True,
            vertical_flip=True, seed=8, **k),
        "Augment": al.Augment([
            al.RandomRotation(30, seed=9, **k),
            al.RandomShift(0.1, 0.1, seed=10, **k),
            al.RandomShear(10, seed=12, **k),
            al.RandomZoomAspect(0.2, seed=13, **k),
            al.RandomFlip(seed=14, **k)]),
    }


NAMES = list(geometric_layers())


def resizing_layers(**k):
    """Layers whose output differs in size or is projective."""
    return {
        "RandomResizedCrop": al.RandomResizedCrop(30, 40, scale=(0.3, 1.0),
                                                  seed=15, **k),
        "RandomPerspective": al.RandomPerspective(0.9, 0.4, seed=16, **k),
        "Augment_crop_rotation_perspective": al.Augment([
            al.RandomResizedCrop(30, 40, scale=(0.4, 1.0), seed=17, **k),
            al.RandomRotation(20, seed=18, **k),
            al.RandomPerspective(0.9, 0.3, seed=19, **k)]),
    }


def any_layer(name, **k):
    layers = geometric_layers(**k)
    layers.update(resizing_layers(**k))
    return layers[name]


EVERY = NAMES + list(resizing_layers())


def call(layer, data, training=True):
    out = layer(data, training=training)
    return keras.tree.map_structure(to_numpy, out)


# -- masks -------------------------------------------------------------------
@pytest.mark.sampled(5, spread=("name",))
@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("name", EVERY)
def test_mask_equal_to_a_channel_follows_the_nearest_resampled_image(
        rng, name, fill_mode):
    # Nearest interpolation for the images; masks are always nearest. With
    # mask_fill_value equal to fill_value, "constant" fills both alike.
    # (This is also Keras 3.15's RandomElasticTransform bug: it draws twice,
    # so its masks and images are warped differently.)
    layer = any_layer(name, fill_mode=fill_mode, fill_value=7.0,
                      interpolation="nearest", mask_fill_value=7)
    images = rng.integers(0, 256, (6, H, W, 3)).astype("float32")
    masks = images[..., 1:2].astype("int32")
    out = call(layer, {"images": images, "segmentation_masks": masks})
    assert out["segmentation_masks"].dtype == np.int32
    assert out["images"].shape != images.shape or not np.array_equal(
        out["images"], images)  # it did move
    np.testing.assert_array_equal(out["segmentation_masks"][..., 0],
                                  out["images"][..., 1].astype("int32"))


@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32", "bool"])
def test_masks_keep_their_dtype_and_use_nearest(rng, dtype):
    # Bilinear images; the masks still only hold values they held before.
    masks = rng.integers(0, 2, (3, H, W, 2)).astype(dtype)
    images = rng.uniform(0, 255, (3, H, W, 3)).astype("float32")
    out = call(al.RandomRotation(30, seed=1, fill_mode="constant",
                                 mask_fill_value=0),
               {"images": images, "segmentation_masks": masks})
    assert out["segmentation_masks"].dtype == stored_dtype(dtype)
    assert set(np.unique(out["segmentation_masks"]).tolist()) <= {0, 1}


# -- boxes -------------------------------------------------------------------
def rasterise(box):
    """A mask (H, W) of the pixels inside an integer xyxy box."""
    x1, y1, x2, y2 = box.astype(int)
    mask = np.zeros((H, W), "int32")
    mask[y1:y2, x1:x2] = 1
    return mask


def tight_box(mask):
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1],
                    "float32")


def random_boxes(rng, batch, n):
    """Integer boxes well inside the image."""
    x1 = rng.integers(6, W // 2, (batch, n))
    y1 = rng.integers(6, H // 2, (batch, n))
    x2 = x1 + rng.integers(4, W // 2 - 6, (batch, n))
    y2 = y1 + rng.integers(4, H // 2 - 6, (batch, n))
    return np.stack([x1, y1, x2, y2], -1).astype("float32")


BOX_CASES = ["RandomRotation", "RandomShear", "RandomZoomAspect_aspect",
             "RandomShift", "RandomShift_pixels", "RandomFlip",
             "RandomAffine", "Augment", *resizing_layers()]


@pytest.mark.sampled(2, spread=("name",))
@pytest.mark.parametrize("name", BOX_CASES)
def test_boxes_agree_with_the_tight_box_of_their_moved_mask(rng, name):
    batch, n = 6, 3
    boxes = random_boxes(rng, batch, n)
    # One mask channel per box: the box's pixels.
    masks = np.stack([np.stack([rasterise(b) for b in image_boxes], -1)
                      for image_boxes in boxes])
    layer = any_layer(name, fill_mode="constant", interpolation="nearest",
                      bounding_box_format="xyxy")
    labels = np.arange(batch * n, dtype="int32").reshape(batch, n)
    out = call(layer, {
        "images": np.zeros((batch, H, W, 1), "float32"),
        "segmentation_masks": masks,
        "bounding_boxes": {"boxes": boxes, "labels": labels}})
    moved = out["bounding_boxes"]["boxes"]
    checked = 0
    for i in range(batch):
        for j in range(n):
            moved_mask = out["segmentation_masks"][i, ..., j]
            expected = tight_box(moved_mask)
            if expected is None or (expected[2] - expected[0] < 3
                                    or expected[3] - expected[1] < 3):
                continue  # pushed (almost) out: label checked elsewhere
            if (moved_mask[0].any() or moved_mask[-1].any()
                    or moved_mask[:, 0].any() or moved_mask[:, -1].any()):
                # Cut by the border: the clipped box of the whole moved box
                # is larger than the box of what is left inside.
                continue
            np.testing.assert_allclose(moved[i, j], expected, atol=1.5,
                                       err_msg=f"image {i} box {j}")
            assert out["bounding_boxes"]["labels"][i, j] == labels[i, j]
            checked += 1
    # Enough boxes stayed whole inside the image to check (a clean JAX run
    # drew perspective + crop that pushed 11 of 18 out or onto the border).
    assert checked >= batch * n // 3


# Every other format against xyxy, whose boxes the rasterised-mask tests
# hold to a reference.
@pytest.mark.sampled(4)
@pytest.mark.parametrize("fmt", [f for f in box_ops.FORMATS if f != "xyxy"])
def test_every_box_format_gives_the_same_boxes(rng, fmt):
    # Also Keras 3.15's RandomRotation bug: it read xywh boxes as given but
    # returned xyxy ([4, 8, 8, 8] came back as [8, 23, 0, 4]).
    boxes = random_boxes(rng, 4, 3)
    images = rng.uniform(0, 255, (4, H, W, 3)).astype("float32")
    labels = np.ones((4, 3), "int32")

    def run(fmt_):
        given = box_ops.convert(boxes, "xyxy", fmt_, H, W)
        layer = al.RandomAffine(rotation_range=30, shear_range=10,
                                zoom_range=0.2, width_range=0.1,
                                horizontal_flip=True, seed=3,
                                bounding_box_format=fmt_)
        out = call(layer, {"images": images, "bounding_boxes": {
            "boxes": given, "labels": labels}})
        return to_numpy(box_ops.convert(out["bounding_boxes"]["boxes"], fmt_,
                                        "xyxy", H, W))

    np.testing.assert_allclose(run(fmt), run("xyxy"), atol=1e-3)


def test_keras_rotation_xywh_bug_identity_keeps_the_format():
    layer = al.RandomRotation((0, 0), bounding_box_format="xywh")
    out = call(layer, {"images": np.zeros((1, 32, 32, 3), "float32"),
                       "bounding_boxes": {"boxes": np.array([[[4, 8, 8, 8]]],
                                                            "float32"),
                                          "labels": np.array([[1]])}})
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"],
                               [[[4, 8, 8, 8]]], atol=1e-4)


def test_box_formats_convert_as_keras_defines_them():
    xyxy = np.array([[10.0, 20.0, 30.0, 60.0]])
    expected = {
        "xyxy": [10, 20, 30, 60], "yxyx": [20, 10, 60, 30],
        "xywh": [10, 20, 20, 40], "center_xywh": [20, 40, 20, 40],
        "center_yxhw": [40, 20, 40, 20],
        "rel_xyxy": [10 / 50, 20 / 80, 30 / 50, 60 / 80],
        "rel_yxyx": [20 / 80, 10 / 50, 60 / 80, 30 / 50],
        "rel_xywh": [10 / 50, 20 / 80, 20 / 50, 40 / 80],
        "rel_center_xywh": [20 / 50, 40 / 80, 20 / 50, 40 / 80]}
    for fmt, want in expected.items():
        got = to_numpy(box_ops.convert(xyxy, "xyxy", fmt, 80, 50))
        np.testing.assert_allclose(got[0], want, rtol=1e-6, err_msg=fmt)
        # Keras's own converter agrees (where the backend ships it).
        back = to_numpy(box_ops.convert(got, fmt, "xyxy", 80, 50))
        np.testing.assert_allclose(back, xyxy, rtol=1e-5, err_msg=fmt)
    keras_convert = keras.utils.bounding_boxes.convert_format
    for fmt in expected:
        theirs = to_numpy(keras_convert(xyxy.astype("float32"), "xyxy", fmt,
                                        height=80, width=50))
        np.testing.assert_allclose(theirs[0], expected[fmt], rtol=1e-5,
                                   err_msg=fmt)


def test_keras_shear_bug_boxes_shear_in_pixels_on_non_square_images(rng):
    # Keras 3.15 shears boxes in relative coordinates: wrong when H != W.
    # A fixed shear of the box's mask is the reference.
    boxes = np.array([[[8, 6, 20, 14], [30, 20, 44, 30]]], "float32")
    masks = np.stack([rasterise(b) for b in boxes[0]], -1)[None]
    layer = al.RandomShear((30, 30), fill_mode="constant",
                           interpolation="nearest",
                           bounding_box_format="rel_xyxy")
    rel = box_ops.convert(boxes, "xyxy", "rel_xyxy", H, W)
    out = call(layer, {"images": np.zeros((1, H, W, 1), "float32"),
                       "segmentation_masks": masks,
                       "bounding_boxes": {"boxes": rel,
                                          "labels": np.ones((1, 2))}})
    moved = to_numpy(box_ops.convert(out["bounding_boxes"]["boxes"],
                                     "rel_xyxy", "xyxy", H, W))
    for j in range(2):
        np.testing.assert_allclose(
            moved[0, j], tight_box(out["segmentation_masks"][0, ..., j]),
            atol=1.5)


def test_keras_crop_bug_shift_moves_boxes_along_the_right_axes():
    # Keras 3.15's RandomCrop swaps the x and y offsets of boxes
    # (keras-team/keras#23518). A fixed shift of 3 rows down and 11 columns
    # right moves a box by exactly (+11, +3).
    layer = al.RandomShift((3, 3), (11, 11), units="pixels",
                           bounding_box_format="xyxy")
    out = call(layer, {"images": np.zeros((1, H, W, 3), "float32"),
                       "bounding_boxes": {
                           "boxes": np.array([[[4, 5, 10, 9]]], "float32"),
                           "labels": np.array([[2]])}})
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"],
                               [[[15, 8, 21, 12]]], atol=1e-4)


def test_a_box_pushed_out_gets_label_minus_one_and_padding_stays():
    layer = al.RandomShift((0, 0), (30, 30), units="pixels",
                           bounding_box_format="xyxy")
    boxes = np.array([[[30, 5, 40, 9], [2, 2, 10, 10], [1, 2, 3, 4]]],
                     "float32")
    labels = np.array([[3, 4, -1]], "int64")
    out = call(layer, {"images": np.zeros((1, H, W, 3), "float32"),
                       "bounding_boxes": {"boxes": boxes, "labels": labels}})
    got = out["bounding_boxes"]
    assert got["labels"].dtype == stored_dtype("int64")
    np.testing.assert_array_equal(got["labels"], [[-1, 4, -1]])
    np.testing.assert_allclose(got["boxes"][0, 1], [32, 2, 40, 10])
    # Clipped to the image: [60, 70] x ... becomes an empty box at W.
    assert got["boxes"][0, 0, 0] == got["boxes"][0, 0, 2] == W
    np.testing.assert_array_equal(got["boxes"][0, 2], boxes[0, 2])


def test_boxes_are_clipped_to_the_image():
    layer = al.RandomShift((0, 0), (-6, -6), units="pixels",
                           bounding_box_format="xyxy")
    out = call(layer, {"images": np.zeros((1, H, W, 3), "float32"),
                       "bounding_boxes": {
                           "boxes": np.array([[[2, 3, 20, 30]]], "float32"),
                           "labels": np.array([[1]])}})
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"],
                               [[[0, 3, 14, 30]]], atol=1e-4)
    assert out["bounding_boxes"]["labels"][0, 0] == 1


# -- keypoints -----------------------------------------------------------------
@pytest.mark.sampled(4, spread=("name",))
@pytest.mark.parametrize("name", EVERY)
def test_keypoint_stays_on_its_blobs_centroid(rng, name):
    batch = 6
    centres = np.stack([rng.uniform(16, W - 16, batch),
                        rng.uniform(12, H - 12, batch)], -1)
    cols, rows = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    blobs = np.stack([(cols - cx) ** 2 + (rows - cy) ** 2 <= 16
                      for cx, cy in centres]).astype("int32")[..., None]
    # The blob's own centroid is the reference: exact on the pixel grid.
    start = [(cols[b[..., 0] > 0].mean(), rows[b[..., 0] > 0].mean())
             for b in blobs]
    points = np.asarray(start, "float32")[:, None, :]
    layer = any_layer(name, fill_mode="constant", interpolation="nearest")
    out = call(layer, {"images": np.zeros((batch, H, W, 1), "float32"),
                       "segmentation_masks": blobs, "keypoints": points})
    oh, ow = out["segmentation_masks"].shape[1:3]
    cols, rows = np.meshgrid(np.arange(ow) + 0.5, np.arange(oh) + 0.5)
    for i in range(batch):
        moved = out["segmentation_masks"][i, ..., 0] > 0
        if moved.sum() < 20 or moved[0].any() or moved[-1].any() or (
                moved[:, 0].any() or moved[:, -1].any()):
            continue  # cut by the border: its centroid moves
        centroid = (cols[moved].mean(), rows[moved].mean())
        np.testing.assert_allclose(out["keypoints"][i, 0], centroid,
                                   atol=1.0, err_msg=f"image {i}")


def test_keypoints_are_not_clipped_and_keep_their_dtype():
    layer = al.RandomShift((0, 0), (10, 10), units="pixels")
    points = np.array([[[W - 2.0, 3.0], [1.0, 1.0]]], "float64")
    out = call(layer, {"images": np.zeros((1, H, W, 3), "float32"),
                       "keypoints": points})
    assert out["keypoints"].dtype == stored_dtype("float64")
    np.testing.assert_allclose(out["keypoints"], [[[W + 8.0, 3.0],
                                                   [11.0, 1.0]]], atol=1e-4)


def test_keypoint_on_a_pixel_centre_follows_that_pixel():
    # A flip is exact: the keypoint at pixel (row 3, col 5)'s centre lands on
    # the centre of the pixel that pixel went to.
    image = np.zeros((1, H, W, 1), "float32")
    image[0, 3, 5] = 1
    layer = al.RandomFlip("horizontal_and_vertical", seed=0)
    for _ in range(4):
        out = call(layer, {"images": image,
                           "keypoints": np.array([[[5.5, 3.5]]], "float32")})
        row, col = np.argwhere(out["images"][0, ..., 0] == 1)[0]
        np.testing.assert_allclose(out["keypoints"][0, 0],
                                   [col + 0.5, row + 0.5], atol=1e-5)


# -- the dict itself -----------------------------------------------------------
def full_dict(rng, batch=2):
    return {"images": rng.uniform(0, 255, (batch, H, W, 3)).astype("float32"),
            "labels": np.arange(batch, dtype="int32"),
            "segmentation_masks": rng.integers(0, 5, (batch, H, W, 1)).astype(
                "uint8"),
            "bounding_boxes": {"boxes": random_boxes(rng, batch, 2),
                               "labels": np.ones((batch, 2), "int32")},
            "keypoints": rng.uniform(0, 30, (batch, 4, 2)).astype("float32")}


def assert_same_structure(out, data):
    assert set(out) == set(data)
    assert set(out["bounding_boxes"]) == set(data["bounding_boxes"])
    for key in ("segmentation_masks", "keypoints", "labels"):
        assert out[key].shape == data[key].shape, key
        assert out[key].dtype == data[key].dtype, key
    for key in ("boxes", "labels"):
        got, given = out["bounding_boxes"][key], data["bounding_boxes"][key]
        assert got.shape == given.shape and got.dtype == given.dtype, key


@pytest.mark.parametrize("layer", [
    al.RandomBrightnessRange((0.5, 1.5)), al.RandomChannelShift(30),
    al.RandomLambda("contrast", {"factor": (0.5, 1.5)}),
    al.SamplewiseNormalization(std_normalization=True)],
    ids=lambda layer: type(layer).__name__)
def test_colour_layers_ops_and_standardisation_pass_targets_through(
        rng, layer):
    data = full_dict(rng)
    out = call(layer, data)
    assert_same_structure(out, data)
    assert not np.allclose(out["images"], data["images"])
    for key in ("segmentation_masks", "keypoints", "labels"):
        np.testing.assert_array_equal(out[key], data[key])
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"],
                                  data["bounding_boxes"]["boxes"])


@pytest.mark.sampled(2, spread=("name",))
@pytest.mark.parametrize("name", NAMES)
def test_geometric_dict_keeps_structure_and_inference_is_identity(rng, name):
    data = full_dict(rng)
    layer = geometric_layers(bounding_box_format="xyxy")[name]
    out = call(layer, data)
    assert_same_structure(out, data)
    assert out["images"].dtype == np.float32
    np.testing.assert_array_equal(out["labels"], data["labels"])
    same = call(layer, data, training=False)
    assert_same_structure(same, data)
    for key in ("images", "segmentation_masks", "keypoints"):
        np.testing.assert_array_equal(same[key], data[key])
    np.testing.assert_array_equal(same["bounding_boxes"]["boxes"],
                                  data["bounding_boxes"]["boxes"])


def test_single_image_dict_and_channels_first(rng):
    data = full_dict(rng, batch=1)
    single = {"images": data["images"][0],
              "segmentation_masks": data["segmentation_masks"][0],
              "bounding_boxes": {k: x[0] for k, x in
                                 data["bounding_boxes"].items()},
              "keypoints": data["keypoints"][0]}
    batched = call(al.RandomRotation(30, seed=3, bounding_box_format="xyxy"),
                   data)
    one = call(al.RandomRotation(30, seed=3, bounding_box_format="xyxy"),
               single)
    # (1e-2 of 255: one call ran op by op, the other compiled.)
    np.testing.assert_allclose(one["images"], batched["images"][0], atol=1e-2)
    np.testing.assert_array_equal(one["segmentation_masks"],
                                  batched["segmentation_masks"][0])
    np.testing.assert_allclose(one["keypoints"], batched["keypoints"][0],
                               atol=1e-4)
    first = {"images": np.transpose(data["images"], (0, 3, 1, 2)),
             "segmentation_masks": np.transpose(data["segmentation_masks"],
                                                (0, 3, 1, 2)),
             "keypoints": data["keypoints"]}
    out = call(al.RandomRotation(30, seed=3, data_format="channels_first"),
               first)
    np.testing.assert_array_equal(
        np.transpose(out["segmentation_masks"], (0, 2, 3, 1)),
        batched["segmentation_masks"])
    np.testing.assert_allclose(out["keypoints"], batched["keypoints"],
                               atol=1e-4)


def test_fused_augment_moves_targets_as_its_layers_in_sequence(rng):
    # Fixed parameters: Augment's one matrix equals the layers one by one
    # for points and boxes (for masks, one resample vs several differ only
    # by nearest-neighbour rounding, so compare points).
    stack = [al.RandomRotation((25, 25)), al.RandomShift((0.1, 0.1), (-0.2, -0.2)),
             al.RandomZoomAspect((0.8, 0.8), aspect_range=(1.3, 1.3))]
    data = {"images": np.zeros((1, H, W, 1), "float32"),
            "keypoints": rng.uniform(5, 30, (1, 5, 2)).astype("float32")}
    fused = call(al.Augment(stack), data)
    step = data
    for layer in stack:
        step = call(layer, step)
    np.testing.assert_allclose(fused["keypoints"], step["keypoints"],
                               atol=1e-3)


def test_get_config_round_trips_the_new_arguments():
    layer = al.RandomRotation(10, bounding_box_format="rel_xywh",
                              mask_fill_value=255)
    config = layer.get_config()
    assert config["bounding_box_format"] == "rel_xywh"
    assert config["mask_fill_value"] == 255
    again = al.RandomRotation.from_config(config)
    assert again.get_config() == config
    augment = al.Augment([al.RandomShift(0.1, bounding_box_format="yxyx")])
    assert augment.bounding_box_format == "yxyx"
    config = augment.get_config()
    assert al.Augment.from_config(config).get_config() == config


# -- bad input -----------------------------------------------------------------
def test_bad_input_is_a_value_error_naming_it(rng):
    data = full_dict(rng)
    layer = al.RandomRotation(10)
    with pytest.raises(ValueError, match="bounding_box_format"):
        layer(data, training=True)
    with pytest.raises(ValueError, match="bounding_box_format.*'xyzw'"):
        al.RandomRotation(10, bounding_box_format="xyzw")
    with pytest.raises(ValueError, match="segmentation_masks.*height"):
        layer({"images": data["images"],
               "segmentation_masks": data["segmentation_masks"][:, :-1]},
              training=True)
    with pytest.raises(ValueError, match=r"boxes.*\(B, N, 4\)"):
        al.RandomRotation(10, bounding_box_format="xyxy")(
            {"images": data["images"],
             "bounding_boxes": {"boxes": np.zeros((2, 3, 5), "float32"),
                                "labels": np.zeros((2, 3))}}, training=True)
    with pytest.raises(ValueError, match="'masks'"):
        layer({"images": data["images"], "masks": data["images"]})
    with pytest.raises(ValueError, match="'images'"):
        layer({"segmentation_masks": data["segmentation_masks"]})
    with pytest.raises(ValueError, match="keypoints"):
        layer({"images": data["images"],
               "keypoints": np.zeros((2, 3, 3), "float32")}, training=True)
    with pytest.raises(ValueError, match="bounding_box_format"):
        al.Augment([al.RandomRotation(10)])(data, training=True)


# -- everywhere it must run ------------------------------------------------------
def test_dicts_under_xla(rng):
    data = full_dict(rng)
    del data["labels"]
    layer = al.Augment([al.RandomRotation(20), al.RandomShift(0.1, 0.1),
                        al.RandomBrightnessRange()],
                       bounding_box_format="xyxy")
    out = keras.tree.map_structure(to_numpy, jit_layer_call(layer, data))
    assert_same_structure(dict(out, labels=np.arange(2, dtype="int32")),
                          dict(data, labels=np.arange(2, dtype="int32")))
    single = jit_layer_call(al.RandomRotation(20, bounding_box_format="xyxy"),
                            data)
    assert to_numpy(single["segmentation_masks"]).dtype == np.uint8


def test_an_empty_batch_comes_back_as_it_is(rng):
    data = full_dict(rng, batch=0)
    out = call(al.RandomRotation(20, bounding_box_format="xyxy"), data)
    assert_same_structure(out, data)
