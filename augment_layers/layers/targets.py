"""Routes Keras 3's dict of dense targets through a layer.

A layer's ``call`` takes a bare image tensor or the dict

    {"images", "labels", "segmentation_masks",
     "bounding_boxes": {"boxes", "labels"}, "keypoints"}

(only ``"images"`` required). This module checks that dict, brings it to the
one internal form the ops work on (channels-last batches, boxes as absolute
``xyxy``), and restores the caller's form afterwards. The maths lives in
:mod:`augment_layers.ops`; nothing here moves a pixel or a point.
"""

import keras
import numpy as np
from keras import backend
from augment_layers.ops.dispatch import array_to_tensor
from augment_layers.ops.dispatch import ops

from augment_layers.ops import boxes as box_ops
from augment_layers.ops.targets import BOXES, KEYPOINTS, MASKS

IMAGES = "images"
LABELS = "labels"
KEYS = (IMAGES, LABELS, MASKS, BOXES, KEYPOINTS)
# What a geometric transform moves (and what enters compiled functions:
# "labels" may be anything, strings included).
MOVING = (IMAGES, MASKS, BOXES, KEYPOINTS)


def is_dict(inputs):
    return isinstance(inputs, dict)


def check_bounding_box_format(value, name="bounding_box_format"):
    """``None`` or one of Keras's box format names."""
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in box_ops.FORMATS:
        raise ValueError(
            f"`{name}` must be None or one of {box_ops.FORMATS}, received "
            f"{name}={value!r}.")
    return value.lower()


def _numeric_array(x):
    if not isinstance(x, (np.ndarray, np.generic)):
        return False
    if x.dtype.kind in "biuf":
        return True
    try:  # bfloat16 and friends (ml_dtypes) are NumPy kind 'V'
        return backend.standardize_dtype(x.dtype) in ("bfloat16", "float16")
    except ValueError:
        return False


def arrays_to_tensors(inputs):
    """NumPy arrays (numeric) -> tensors of their own dtype; anything else
    (tensors, strings, Python objects in "labels") as it is."""
    return keras.tree.map_structure(
        lambda x: array_to_tensor(x) if _numeric_array(x) else x, inputs)


def _tensor(x):
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return array_to_tensor(x)
    return x


def check_dict(inputs, layer_name):
    """Checks keys and shapes of a dict input; returns a shallow copy with
    every array converted to a tensor of its own dtype (images unconverted)."""
    unknown = [k for k in inputs if k not in KEYS]
    if unknown:
        raise ValueError(
            f"{layer_name} received a dict with unknown key(s) {unknown}; "
            f"the keys it takes are {list(KEYS)}.")
    if IMAGES not in inputs:
        raise ValueError(
            f"{layer_name} received a dict without 'images' (keys: "
            f"{sorted(inputs)}); 'images' is required.")
    data = dict(inputs)
    images = data[IMAGES]
    rank = len(images.shape)
    if MASKS in data:
        masks = data[MASKS] = _tensor(data[MASKS])
        if len(masks.shape) != rank:
            raise ValueError(
                f"{layer_name}: 'segmentation_masks' must have the images' "
                f"rank ({rank}: (B, H, W, K) or (H, W, K)), received shape "
                f"{tuple(masks.shape)} for images of shape "
                f"{tuple(images.shape)}.")
    if BOXES in data:
        given = data[BOXES]
        if not isinstance(given, dict) or "boxes" not in given:
            raise ValueError(
                f"{layer_name}: 'bounding_boxes' must be a dict with 'boxes' "
                f"(..., N, 4) and 'labels' (..., N), received {given!r}.")
        extra = [k for k in given if k not in ("boxes", "labels")]
        if extra:
            raise ValueError(
                f"{layer_name}: 'bounding_boxes' takes the keys 'boxes' and "
                f"'labels', received unknown key(s) {extra}.")
        boxes = _tensor(given["boxes"])
        if len(boxes.shape) != rank - 1 or boxes.shape[-1] != 4:
            raise ValueError(
                f"{layer_name}: 'bounding_boxes'['boxes'] must be shaped "
                f"(B, N, 4) for a batch, (N, 4) for one image, received "
                f"shape {tuple(boxes.shape)} for images of shape "
                f"{tuple(images.shape)}.")
        data[BOXES] = {"boxes": boxes}
        if "labels" in given:
            labels = _tensor(given["labels"])
            if tuple(labels.shape) != tuple(boxes.shape[:-1]) and None not in (
                    tuple(labels.shape) + tuple(boxes.shape[:-1])):
                raise ValueError(
                    f"{layer_name}: 'bounding_boxes'['labels'] must be shaped "
                    f"like the boxes without their last axis "
                    f"{tuple(boxes.shape[:-1])}, received shape "
                    f"{tuple(labels.shape)}.")
            data[BOXES]["labels"] = labels
    if KEYPOINTS in data:
        points = data[KEYPOINTS] = _tensor(data[KEYPOINTS])
        if len(points.shape) != rank - 1 or points.shape[-1] != 2:
            raise ValueError(
                f"{layer_name}: 'keypoints' must be shaped (B, N, 2) for a "
                f"batch, (N, 2) for one image, as (x, y), received shape "
                f"{tuple(points.shape)} for images of shape "
                f"{tuple(images.shape)}.")
    return data


def check_mask_size(data, data_format, layer_name):
    """Masks must share the images' height and width (static shapes)."""
    if MASKS not in data:
        return
    axes = (-3, -2) if data_format == "channels_last" else (-2, -1)
    image_hw = [data[IMAGES].shape[a] for a in axes]
    mask_hw = [data[MASKS].shape[a] for a in axes]
    if any(i is not None and m is not None and i != m
           for i, m in zip(image_hw, mask_hw)):
        raise ValueError(
            f"{layer_name}: 'segmentation_masks' must have the images' height "
            f"and width, received masks of shape {tuple(data[MASKS].shape)} "
            f"for images of shape {tuple(data[IMAGES].shape)}.")


def on_channels_last_batch(fn, data, data_format, box_format,
                           single_rank=3):
    """Runs ``fn`` on the internal form of ``data``, then restores its form.

    The internal form: every target batched, images and masks channels-last,
    boxes absolute ``xyxy`` float32 (when ``box_format`` is given; otherwise
    boxes pass as they are and ``fn`` must leave them alone).

    ``single_rank``: the rank of one unbatched item (3: an image ``(H, W,
    C)``; 4: a volume ``(D, H, W, C)``). A batch of clips ``(B, T, H, W,
    C)`` keeps its frames axis (the executor folds it). Channels-first
    inputs (``(B, C, ..., H, W)``) move their channel axis last.
    """
    images = data[IMAGES]
    unbatched = len(images.shape) == single_rank
    if not unbatched and images.shape[0] == 0:
        return data  # an empty batch: nothing to draw or move (see
        # ImageLayer.empty_batch for a layer that resizes)
    work = dict(data)

    def each(fn_, keys=(IMAGES, MASKS)):
        for key in keys:
            if key in work:
                work[key] = fn_(work[key])

    batched_keys = (IMAGES, MASKS, KEYPOINTS)
    if unbatched:
        each(lambda x: ops.expand_dims(x, 0), batched_keys)
        if BOXES in work:
            work[BOXES] = {k: ops.expand_dims(x, 0)
                           for k, x in work[BOXES].items()}
    rank = len(work[IMAGES].shape)
    if data_format == "channels_first":
        each(lambda x: ops.transpose(x, (0,) + tuple(range(2, rank)) + (1,)))
    if BOXES in work and box_format is not None:
        shape = ops.shape(work[IMAGES])
        work[BOXES] = dict(work[BOXES], boxes=box_ops.to_xyxy(
            work[BOXES]["boxes"], box_format, shape[-3], shape[-2]))

    work = fn(work)

    if BOXES in work and box_format is not None:
        shape = ops.shape(work[IMAGES])
        moved = box_ops.from_xyxy(work[BOXES]["boxes"], box_format,
                                  shape[-3], shape[-2])
        work[BOXES] = dict(work[BOXES], boxes=ops.cast(
            moved, data[BOXES]["boxes"].dtype))
    if data_format == "channels_first":
        each(lambda x: ops.transpose(x, (0, rank - 1) + tuple(
            range(1, rank - 1))))
    if unbatched:
        each(lambda x: ops.squeeze(x, 0), batched_keys)
        if BOXES in work:
            work[BOXES] = {k: ops.squeeze(x, 0)
                           for k, x in work[BOXES].items()}
    return work


def output_spec(inputs, compute_dtype):
    """KerasTensors for a dict input: images in the compute dtype, every
    other target in its own."""
    def spec(x):
        return keras.KerasTensor(x.shape, dtype=backend.standardize_dtype(
            x.dtype))

    out = keras.tree.map_structure(spec, inputs)
    out[IMAGES] = keras.KerasTensor(inputs[IMAGES].shape, dtype=compute_dtype)
    return out
