"""Elastic and grid distortion: displacement fields inside the one resample.

References: ``scipy.ndimage.map_coordinates`` for a known field, the
composition of matrices and field computed in NumPy, Keras's own
``RandomElasticTransform`` (its field's statistics), albumentations's
``GridDistortion`` map, and, for targets, the sampling map itself: an image
whose channels hold each pixel's own coordinates, resampled, gives the
source point of every output pixel, inverted densely in NumPy.
"""

import re

import keras
import numpy as np
import pytest
import scipy.ndimage as ndi

import augment_layers as al
from augment_layers.layers import draws
from augment_layers.ops import fields, resample
from tests import reference as ref
from tests.backend import BACKEND, layer_hlo

MODES = ["constant", "nearest", "reflect", "wrap"]


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def grid_xy(batch, h, w):
    yy, xx = np.mgrid[:h, :w].astype("float32")
    return (np.broadcast_to(xx, (batch, h, w)).copy(),
            np.broadcast_to(yy, (batch, h, w)).copy())


def coordinate_image(batch, h, w):
    """Channels: each pixel's x, y and a 1 (which marks sampled pixels)."""
    xx, yy = grid_xy(1, h, w)
    image = np.stack([xx[0], yy[0], np.ones((h, w), "float32")], -1)
    return np.repeat(image[None], batch, 0)


def scipy_sample(image, src_x, src_y, fill_mode, cval=0.0, order=1):
    return np.stack([ndi.map_coordinates(
        image[..., c].astype("float64"), [src_y, src_x], order=order,
        mode=ref.SCIPY_MODE[fill_mode], cval=cval)
        for c in range(image.shape[-1])], -1)


def node_field_numpy(nodes, h, w, x, y):
    """A NodeField in NumPy: bilinear between nodes, nearest beyond."""
    ny, nx = nodes.shape[:2]
    u = x / ((w - 1) / (nx - 1))
    v = y / ((h - 1) / (ny - 1))
    return [ndi.map_coordinates(nodes[..., k].astype("float64"), [v, u],
                                order=1, mode="nearest") for k in (0, 1)]


def smooth_nodes(rng, batch, ny, nx, amplitude):
    noise = rng.standard_normal((batch, ny, nx, 2))
    return (amplitude * ndi.gaussian_filter(noise, (0, 2, 2, 0))
            / 0.14).astype("float32")


# -- the resample of a known field -------------------------------------------
@pytest.mark.parametrize("fill_mode", MODES)
def test_known_field_equals_map_coordinates(rng, fill_mode):
    b, h, w = 2, 23, 31
    image = rng.uniform(0, 255, (b, h, w, 3)).astype("float32")
    nodes = smooth_nodes(rng, b, 9, 12, 3.0)
    field = fields.NodeField(keras.ops.convert_to_tensor(nodes), h, w)
    out = numpy(resample.affine_transform_impl(
        keras.ops.convert_to_tensor(image), fields.SamplingMap([field], b),
        "bilinear", fill_mode, 7.0))
    xx, yy = grid_xy(1, h, w)
    for i in range(b):
        dx, dy = node_field_numpy(nodes[i], h, w, xx[0], yy[0])
        expected = scipy_sample(image[i], xx[0] + dx, yy[0] + dy, fill_mode,
                                cval=7.0)
        np.testing.assert_allclose(out[i], expected, atol=0.02, rtol=0)


def test_dense_field_nearest_equals_map_coordinates(rng):
    b, h, w = 2, 17, 19
    image = rng.uniform(0, 255, (b, h, w, 2)).astype("float32")
    nodes = smooth_nodes(rng, b, h, w, 2.0)  # one node per pixel
    field = fields.NodeField(keras.ops.convert_to_tensor(nodes), h, w)
    out = numpy(resample.affine_transform_impl(
        keras.ops.convert_to_tensor(image), fields.SamplingMap([field], b),
        "nearest", "reflect", 0.0))
    xx, yy = grid_xy(1, h, w)
    for i in range(b):
        sx, sy = xx[0] + nodes[i, ..., 0], yy[0] + nodes[i, ..., 1]
        # Away from exact half-pixel ties, nearest is unambiguous.
        tie = (np.abs(sx % 1 - 0.5) < 1e-3) | (np.abs(sy % 1 - 0.5) < 1e-3)
        expected = scipy_sample(image[i], sx, sy, "reflect", order=0)
        np.testing.assert_array_equal(out[i][~tie], expected[~tie])


def test_fused_grid_equals_the_numpy_composition(rng):
    """Augment(rotation, elastic, shift): one sampling map, equal to the
    source point computed in NumPy from each layer's own draws, and an
    image equal to scipy's sampling at those points."""
    b, h, w, seed = 3, 26, 34, 11
    k = {"fill_mode": "reflect"}
    layers = [al.RandomRotation(25, **k),
              al.RandomElasticTransform(factor=(1, 1), scale=(0.6, 1.0)),
              al.RandomShift(0.15, 0.1, **k)]
    image = ref.smooth_image(rng, h, w)[None].repeat(b, 0)
    out = numpy(al.Augment(layers)(image, training=True, seed=seed))
    # The draws of that call: every member draws from the call seed
    # (seed, 0) and its position in the Augment.
    call = keras.ops.convert_to_tensor(np.array([seed, 0], "int32"))
    shape = (b, h, w, 3)
    t = [layer.random_parameters(shape, draws.Stream(call, i))
         for i, layer in enumerate(layers)]
    rot = numpy(layers[0].transformation_matrix(t[0], h, w))
    shift = numpy(layers[2].transformation_matrix(t[2], h, w))
    nodes = numpy(layers[1].field(t[1], h, w).nodes)
    xx, yy = grid_xy(1, h, w)
    for i in range(b):
        # Output -> shift's input -> field -> rotation's input (the source).
        p = np.stack([xx[0], yy[0], np.ones((h, w))], -1) @ shift[i].T
        dx, dy = node_field_numpy(nodes[i], h, w, p[..., 0], p[..., 1])
        q = np.stack([p[..., 0] + dx, p[..., 1] + dy, np.ones((h, w))], -1)
        src = q @ rot[i].T
        expected = scipy_sample(image[i], src[..., 0], src[..., 1],
                                "reflect")
        np.testing.assert_allclose(out[i], expected, atol=0.3, rtol=0)


def test_zero_magnitude_and_no_probability_are_the_identity(rng):
    x = rng.uniform(0, 255, (4, 20, 24, 3)).astype("float32")
    for layer in [al.RandomElasticTransform(factor=(1, 1), scale=0.0),
                  al.RandomElasticTransform(factor=0.0),
                  al.RandomGridDistortion(distort_limit=0.0)]:
        out = numpy(layer(x, training=True))
        np.testing.assert_allclose(out, x, atol=1e-3, rtol=0)


def test_elastic_draws_an_image_with_probability_factor(rng):
    x = rng.uniform(0, 255, (400, 8, 8, 1)).astype("float32")
    for factor, share in [((0.3, 0.3), 0.3), (1.0, 0.5)]:
        out = numpy(al.RandomElasticTransform(factor=factor, scale=(1, 1),
                                              seed=3)(x, training=True))
        moved = np.abs(out - x).reshape(400, -1).max(1) > 1e-3
        sd = np.sqrt(share * (1 - share) / 400)
        assert abs(moved.mean() - share) < 5 * sd, (factor, moved.mean())


# -- Keras's field, and albumentations's grid ---------------------------------
def test_elastic_field_has_keras_statistics():
    """Keras's RandomElasticTransform on a coordinate image shows its
    displacement field; ours has the same standard deviation per
    component and the same correlation at a few lags."""
    b, h, w, scale = 12, 96, 96, 0.8
    coords = coordinate_image(b, h, w)
    theirs = numpy(keras.layers.RandomElasticTransform(
        factor=(1, 1), scale=(scale, scale), seed=5)(coords, training=True))
    ours = numpy(al.RandomElasticTransform(
        factor=(1, 1), scale=(scale, scale), seed=5)(coords, training=True))
    inner = (slice(None), slice(16, -16), slice(16, -16))
    d_theirs = (theirs[..., :2] - coords[..., :2])[inner]
    d_ours = (ours[..., :2] - coords[..., :2])[inner]
    std_theirs, std_ours = d_theirs.std(), d_ours.std()
    assert abs(std_ours / std_theirs - 1) < 0.15, (std_ours, std_theirs)

    def correlation(d, lag):
        a = d - d.mean()
        return (a[:, :, lag:] * a[:, :, :-lag]).mean() / a.var()

    for lag in (2, 4, 8):  # sigma is 3.84 px
        assert abs(correlation(d_ours, lag) - correlation(d_theirs, lag)) \
            < 0.1, lag
    # Keras draws one noise for both components (all along a diagonal);
    # ours are independent.
    assert abs(np.corrcoef(d_ours[..., 0].ravel(),
                           d_ours[..., 1].ravel())[0, 1]) < 0.15


def knots_numpy(size, num_steps, steps, normalized):
    """The documented grid map of one axis as knots (continuous
    coordinates): output cell bounds, and the source positions they map
    to."""
    cell = size // num_steps
    bounds = [k * cell for k in range(num_steps + 1)]
    lengths = [cell] * num_steps
    if size > bounds[-1]:
        bounds.append(size)
        lengths.append(size - num_steps * cell)
    widths = np.asarray(steps[:len(lengths)]) * lengths
    if normalized:
        widths = widths * size / widths.sum()
    return np.array(bounds, "float64"), np.concatenate(
        [[0.0], np.cumsum(widths)])


def piecewise_numpy(size, num_steps, steps, normalized):
    """The grid map of one axis at the pixel centres, as pixel indices."""
    bounds, src = knots_numpy(size, num_steps, steps, normalized)
    return np.interp(np.arange(size) + 0.5, bounds, src) - 0.5


@pytest.mark.parametrize("normalized", [True, False])
def test_grid_distortion_equals_its_map(rng, normalized):
    b, h, w, steps = 2, 27, 33, 4
    image = rng.uniform(0, 255, (b, h, w, 3)).astype("float32")
    layer = al.RandomGridDistortion(num_steps=steps, distort_limit=0.4,
                                    normalized=normalized)
    t = {"steps_x": rng.uniform(0.6, 1.4, (b, steps + 1)).astype("float32"),
         "steps_y": rng.uniform(0.6, 1.4, (b, steps + 1)).astype("float32")}
    field = layer.field({k: keras.ops.convert_to_tensor(v)
                         for k, v in t.items()}, h, w)
    out = numpy(resample.affine_transform_impl(
        keras.ops.convert_to_tensor(image), fields.SamplingMap([field], b),
        "bilinear", "reflect", 0.0))
    for i in range(b):
        sx = piecewise_numpy(w, steps, t["steps_x"][i], normalized)
        sy = piecewise_numpy(h, steps, t["steps_y"][i], normalized)
        yy, xx = np.meshgrid(sy, sx, indexing="ij")
        expected = scipy_sample(image[i], xx, yy, "reflect")
        np.testing.assert_allclose(out[i], expected, atol=0.02, rtol=0)
        if normalized:  # the source spans the image, edge to edge
            knots = numpy(field.axes[0].src)[i]
            np.testing.assert_allclose([knots[0], knots[-1]],
                                       [-0.5, w - 0.5], atol=1e-3)


def test_grid_distortion_follows_albumentations_map():
    """albumentations's own map for the same steps: the same within a
    pixel (it repeats a pixel at each cell boundary; ours is continuous)."""
    # (albumentations is in the dev extra: this comparison runs in CI.)
    import albumentations.augmentations.geometric.functional as F

    h, w, steps = 60, 75, 5
    rng = np.random.default_rng(0)
    sx = list(1 + rng.uniform(-0.3, 0.3, steps + 1))
    sy = list(1 + rng.uniform(-0.3, 0.3, steps + 1))
    norm = F.normalize_grid_distortion_steps((h, w), steps, list(sx),
                                             list(sy))
    map_x, map_y = F.generate_grid((h, w), norm["steps_x"], norm["steps_y"],
                                   steps)
    layer = al.RandomGridDistortion(num_steps=steps)
    t = {"steps_x": np.array([sx], "float32"),
         "steps_y": np.array([sy], "float32")}
    out = numpy(resample.affine_transform_impl(
        keras.ops.convert_to_tensor(coordinate_image(1, h, w)),
        fields.SamplingMap([layer.field(
            {k: keras.ops.convert_to_tensor(v) for k, v in t.items()},
            h, w)], 1), "bilinear", "nearest", 0.0))[0]
    for ours, theirs in ((out[..., 0], map_x), (out[..., 1], map_y)):
        gap = np.abs(ours - theirs)
        # (albumentations maps its last pixel to the image's edge, a
        # pixel further than ours.)
        assert (gap < 1.0).mean() > 0.9 and gap.max() < 1.5, gap.max()
        assert gap.mean() < 0.6


# -- targets -------------------------------------------------------------------
def dense_inverse(sampled, q, min_det=0.3):
    """The output point whose source point is ``q`` (x, y): the nearest
    sampled pixel, refined by one Newton step on the sampled map; and the
    Jacobian's determinant there (small or negative: a fold)."""
    s, valid = sampled[..., :2].astype("float64"), sampled[..., 2] == 1
    h, w = valid.shape
    dist = np.linalg.norm(s - q, axis=-1)
    dist[~valid] = np.inf
    i, j = np.unravel_index(np.argmin(dist), dist.shape)
    if not (0 < i < h - 1 and 0 < j < w - 1) or not valid[
            i - 1:i + 2, j - 1:j + 2].all():
        return None, 0.0
    jac = np.stack([(s[i, j + 1] - s[i, j - 1]) / 2,
                    (s[i + 1, j] - s[i - 1, j]) / 2], -1)
    det = np.linalg.det(jac)
    if det < min_det:
        return None, det
    p = np.array([j, i], "float64") + np.linalg.solve(jac, q - s[i, j])
    return p, det


def rotation_elastic_shift(scale, boxes=None):
    k = {"fill_mode": "constant", "bounding_box_format": boxes}
    return al.Augment([
        al.RandomRotation(20, **k),
        al.RandomElasticTransform(factor=(1, 1), scale=scale, **k),
        al.RandomShift(0.1, 0.1, **k)])


def test_keypoints_land_where_their_content_went(rng):
    b, h, w, n = 4, 80, 88, 60
    keypoints = rng.uniform(12, 68, (b, n, 2)).astype("float32")
    out = rotation_elastic_shift((0.8, 1.0))(
        {"images": coordinate_image(b, h, w), "keypoints": keypoints},
        training=True, seed=4)
    sampled, moved = numpy(out["images"]), numpy(out["keypoints"]) - 0.5
    errors, residuals = [], []
    for i in range(b):
        for q, p_hat in zip(keypoints[i] - 0.5, moved[i]):
            p, _ = dense_inverse(sampled[i], q, min_det=0.5)
            if p is None:
                continue  # near a fold, or beyond the output
            errors.append(np.linalg.norm(p_hat - p))
            back = [ndi.map_coordinates(sampled[i][..., c], [[p_hat[1]], [
                p_hat[0]]], order=1)[0] for c in (0, 1)]
            residuals.append(np.linalg.norm(np.array(back) - q))
    errors = np.array(errors)
    assert len(errors) > 0.5 * b * n
    assert (errors < 1.0).mean() > 0.98, np.sort(errors)[-10:]
    # The source point of the keypoint's new place is the keypoint, to
    # within the bilinear reading of the sampled coordinates.
    assert np.median(residuals) < 0.05, np.median(residuals)


def test_field_inverse_residual(rng):
    """Newton's inverse of a field against the field evaluated in NumPy:
    away from folds, the residual is a few thousandths of a pixel."""
    b, h, w = 3, 64, 72
    nodes = smooth_nodes(rng, b, 17, 19, 2.0)
    field = fields.NodeField(keras.ops.convert_to_tensor(nodes), h, w)
    q = rng.uniform(0, 63, (b, 200, 2)).astype("float32")
    px, py = field.invert(keras.ops.convert_to_tensor(q[..., 0]),
                          keras.ops.convert_to_tensor(q[..., 1]))
    px, py = numpy(px), numpy(py)
    for i in range(b):
        dx, dy = node_field_numpy(nodes[i], h, w, px[i], py[i])
        residual = np.hypot(px[i] + dx - q[i, :, 0], py[i] + dy - q[i, :, 1])
        assert residual.max() < 5e-3, residual.max()


def box_of_moved_edges(sampled, box, per_edge=100, min_det=0.5):
    x1, y1, x2, y2 = box
    t = np.linspace(0, 1, per_edge)
    edges = np.concatenate([
        np.stack([x1 + t * (x2 - x1), np.full_like(t, y1)], -1),
        np.stack([x1 + t * (x2 - x1), np.full_like(t, y2)], -1),
        np.stack([np.full_like(t, x1), y1 + t * (y2 - y1)], -1),
        np.stack([np.full_like(t, x2), y1 + t * (y2 - y1)], -1)])
    moved = []
    for q in edges - 0.5:
        p, _ = dense_inverse(sampled, q, min_det)
        if p is None:
            return None  # an edge near a fold
        moved.append(p + 0.5)
    moved = np.array(moved)
    h, w = sampled.shape[:2]
    return np.array([np.clip(moved[:, 0].min(), 0, w),
                     np.clip(moved[:, 1].min(), 0, h),
                     np.clip(moved[:, 0].max(), 0, w),
                     np.clip(moved[:, 1].max(), 0, h)])


@pytest.mark.sampled(2)
@pytest.mark.parametrize("distortion", ["elastic", "grid"])
def test_boxes_follow_their_edges_and_their_masks(rng, distortion):
    b, h, w, n = 4, 72, 80, 8
    corner = rng.uniform(14, 50, (b, n, 2))
    size = rng.uniform(5, 12, (b, n, 2))
    boxes = np.concatenate([corner, corner + size], -1).astype("float32")
    masks = np.zeros((b, h, w, n), "int32")
    for i in range(b):
        for k in range(n):
            x1, y1, x2, y2 = np.round(boxes[i, k]).astype(int)
            boxes[i, k] = [x1, y1, x2, y2]
            masks[i, y1:y2, x1:x2, k] = 1
    data = {"images": coordinate_image(b, h, w), "segmentation_masks": masks,
            "bounding_boxes": {"boxes": boxes,
                               "labels": np.ones((b, n), "int32")}}
    # Keras's elastic field folds at every scale (its gradient does not
    # shrink with it): boxes whose edges pass near a fold are left out.
    # The grid distortion is gentle everywhere.
    layer = rotation_elastic_shift((0.3, 0.4), "xyxy") if \
        distortion == "elastic" else al.Augment([
            al.RandomRotation(15, bounding_box_format="xyxy"),
            al.RandomGridDistortion(distort_limit=0.4,
                                    bounding_box_format="xyxy",
                                    fill_mode="nearest")])
    out = layer(data, training=True, seed=2)
    sampled = numpy(out["images"])
    moved = numpy(out["bounding_boxes"]["boxes"])
    moved_masks = numpy(out["segmentation_masks"])
    checked = 0
    for i in range(b):
        for k in range(n):
            expected = box_of_moved_edges(sampled[i], boxes[i, k],
                                          per_edge=40, min_det=0.3)
            if expected is None:
                continue
            checked += 1
            np.testing.assert_allclose(moved[i, k], expected, atol=0.5)
            rows = np.flatnonzero(moved_masks[i, ..., k].any(1))
            cols = np.flatnonzero(moved_masks[i, ..., k].any(0))
            tight = [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]
            np.testing.assert_allclose(moved[i, k], tight, atol=2.0)
    assert checked >= (b * n // 5 if distortion == "elastic" else b * n)


def test_grid_distortion_keypoints_invert_exactly(rng):
    """A grid distortion's map is monotone and piecewise linear: its
    inverse, in NumPy from the same draws, is exact."""
    b, h, w, steps, seed = 3, 40, 50, 4, 1
    keypoints = rng.uniform(0, 40, (b, 30, 2)).astype("float32")
    layer = al.RandomGridDistortion(num_steps=steps, distort_limit=0.5)
    out = layer({"images": np.zeros((b, h, w, 1), "float32"),
                 "keypoints": keypoints}, training=True, seed=seed)
    moved = numpy(out["keypoints"])
    call = keras.ops.convert_to_tensor(np.array([seed, 0], "int32"))
    t = {k: numpy(v) for k, v in layer.random_parameters(
        (b, h, w, 1), draws.Stream(call, 0)).items()}
    for i in range(b):
        for axis, size, key in ((0, w, "steps_x"), (1, h, "steps_y")):
            bounds, src = knots_numpy(size, steps, t[key][i], True)
            # Continuous coordinates: the knots map the same way.
            expected = np.interp(keypoints[i, :, axis], src, bounds)
            inside = keypoints[i, :, axis] < size
            np.testing.assert_allclose(moved[i, inside, axis],
                                       expected[inside], atol=1e-3)


def test_masks_equal_to_a_channel_stay_equal(rng):
    b, h, w = 3, 30, 36
    labels = rng.integers(0, 5, (b, h, w, 1))
    image = np.concatenate([labels.astype("float32"),
                            rng.uniform(0, 9, (b, h, w, 2))], -1)
    for layer in [
            al.RandomElasticTransform(factor=(1, 1), interpolation="nearest",
                                      fill_mode="constant", fill_value=0.0),
            al.Augment([al.RandomRotation(30, interpolation="nearest",
                                          fill_mode="constant"),
                        al.RandomGridDistortion(interpolation="nearest",
                                                fill_mode="constant")])]:
        out = layer({"images": image, "segmentation_masks": labels},
                    training=True)
        np.testing.assert_array_equal(
            numpy(out["images"])[..., 0],
            numpy(out["segmentation_masks"])[..., 0].astype("float32"))


# -- one resample ----------------------------------------------------------------
def test_rotation_elastic_shift_hold_one_resample():
    k = {"fill_mode": "reflect"}
    augment = al.Augment([al.RandomRotation(20, **k),
                          al.RandomElasticTransform(**k),
                          al.RandomShift(0.1, 0.1, **k)])
    hlo = layer_hlo(augment, np.zeros((2, 16, 16, 5), "float32"))
    # Five channels tell the image's gathers from the field's (two).
    image_gathers = re.findall(r"f32\[[0-9,]*,5\]\S* gather\(", hlo)
    assert len(image_gathers) == 4, len(image_gathers)


def test_unknown_size_is_refused_clearly():
    if BACKEND != "tensorflow":
        pytest.skip("a dynamic image size: a TensorFlow trace")
    import tensorflow as tf

    layer = al.RandomElasticTransform()
    fn = tf.function(lambda x: layer(x, training=True),
                     input_signature=[tf.TensorSpec((None, None, None, 3))])
    with pytest.raises(ValueError, match="size"):
        fn.get_concrete_function()


def test_from_keras_keeps_the_elastic_arguments():
    theirs = keras.layers.RandomElasticTransform(
        factor=(0.2, 0.7), scale=0.4, fill_mode="constant", fill_value=3.0)
    ours = al.from_keras([theirs]).layers[0]
    assert isinstance(ours, al.RandomElasticTransform)
    assert (ours.factor, ours.scale) == ((0.2, 0.7), (0.0, 0.4))
    assert (ours.fill_mode, ours.fill_value) == ("constant", 3.0)
