"""One transform, every target: images, masks, boxes and keypoints.

``data`` is the package's internal form of Keras's dict: channels-last
batches, boxes as absolute ``xyxy`` (see :mod:`augment_layers.ops.boxes`).
Keys other than the ones moved here (``"labels"``) pass through.
"""

from augment_layers.ops.dispatch import ops

from augment_layers.ops import boxes as box_ops
from augment_layers.ops import points
from augment_layers.ops import resample
from augment_layers.ops.compile import compiled

MASKS = "segmentation_masks"
BOXES = "bounding_boxes"
KEYPOINTS = "keypoints"


def warp_targets(data, matrices, fill_mode="nearest", mask_fill_value=0,
                 output_size=None, projective=False):
    """Moves masks, boxes and keypoints of ``data`` by ``matrices``.

    The images are left as they are (their resample is the caller's, so a
    flip can stay exact); the image size is read from them.

    Args:
        data: dict with ``"images"`` ``(B, H, W, C)`` and any of
            ``"segmentation_masks"`` ``(B, H, W, K)``, ``"bounding_boxes"``
            ``{"boxes": (B, N, 4) xyxy, "labels": (B, N)}`` and
            ``"keypoints"`` ``(B, N, 2)``.
        matrices: ``(B, 3, 3)`` output -> input pixel-index matrices.
        fill_mode: the images' fill mode, used for the masks too.
        mask_fill_value: what ``"constant"`` writes into masks.
        output_size: ``(height, width)`` of the output (None: the images').
        projective: the matrices are homographies (see the resampler).

    Returns:
        A new dict: masks resampled by nearest neighbour in their own dtype,
        boxes moved and clipped (labels -1 where no area is left), keypoints
        moved in their own dtype and not clipped.
    """
    out = dict(data)
    if MASKS in data:
        out[MASKS] = resample.affine_transform_impl(
            data[MASKS], matrices, "nearest", fill_mode, mask_fill_value,
            output_size, projective)
    if BOXES in data or KEYPOINTS in data:
        shape = ops.shape(data["images"])
        height, width = output_size or (shape[1], shape[2])
    if BOXES in data:
        moved, labels = box_ops.transform(
            data[BOXES]["boxes"], data[BOXES].get("labels"), matrices,
            height, width)
        out[BOXES] = dict(data[BOXES], boxes=moved)
        if labels is not None:
            out[BOXES]["labels"] = labels
    if KEYPOINTS in data:
        out[KEYPOINTS] = ops.cast(points.transform(data[KEYPOINTS], matrices),
                                  data[KEYPOINTS].dtype)
    return out


def warp_impl(data, matrices, interpolation="bilinear", fill_mode="nearest",
              fill_value=0.0, mask_fill_value=0, output_size=None,
              projective=False, slanted_reads=False, value_steps=()):
    """Resamples the images once and moves every target with them.

    ``slanted_reads``, ``value_steps``: see
    :func:`resample.affine_transform_impl` (the images only; masks are a
    byte or two a value and keep row order).
    """
    out = warp_targets(data, matrices, fill_mode, mask_fill_value,
                       output_size, projective)
    out["images"] = resample.affine_transform_impl(
        data["images"], matrices, interpolation, fill_mode, fill_value,
        output_size, projective, slanted_reads, value_steps)
    return out


warp = compiled(warp_impl, static_argnums=(2, 3, 4, 5, 6, 7, 8))
warp_targets_compiled = compiled(warp_targets, static_argnums=(2, 3, 4, 5))
