"""Bounding boxes: Keras's formats, and how a transform moves a box.

Every function here works on ``(..., 4)`` tensors. Internally a box is
``xyxy`` in absolute continuous coordinates (``[0, W] x [0, H]``, see
:mod:`augment_layers.ops.points`); :func:`to_xyxy` and :func:`from_xyxy`
convert from and to Keras's named formats.
"""

from augment_layers.ops.dispatch import ops

from augment_layers.ops import fields
from augment_layers.ops import points

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
           "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh")

# Box labels that mark a row as padding, or a box left with no area.
INVALID_LABEL = -1

# Points along each edge (corners included) that a displacement field moves.
EDGE_POINTS = 16


def _split(boxes):
    return [boxes[..., i] for i in range(4)]


def to_xyxy(boxes, source, height, width):
    """``(..., 4)`` boxes in ``source`` format -> absolute ``xyxy`` float32."""
    boxes = ops.cast(boxes, "float32")
    a, b, c, d = _split(boxes)
    fmt = source
    if fmt.startswith("rel_"):
        h, w = ops.cast(height, "float32"), ops.cast(width, "float32")
        fmt = fmt[len("rel_"):]
        # Scale x-like and y-like entries back to pixels.
        if fmt in ("xyxy", "xywh", "center_xywh"):
            a, b, c, d = a * w, b * h, c * w, d * h
        else:  # yxyx
            a, b, c, d = a * h, b * w, c * h, d * w
    if fmt == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif fmt == "yxyx":
        y1, x1, y2, x2 = a, b, c, d
    elif fmt == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif fmt == "center_xywh":
        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    elif fmt == "center_yxhw":
        x1, y1, x2, y2 = b - d / 2, a - c / 2, b + d / 2, a + c / 2
    else:
        raise ValueError(f"Unknown bounding_box_format {source!r}; expected "
                         f"one of {FORMATS}.")
    return ops.stack([x1, y1, x2, y2], axis=-1)


def from_xyxy(boxes, target, height, width):
    """Absolute ``xyxy`` boxes -> ``target`` format (float32)."""
    x1, y1, x2, y2 = _split(ops.cast(boxes, "float32"))
    fmt = target[len("rel_"):] if target.startswith("rel_") else target
    if fmt == "xyxy":
        out = [x1, y1, x2, y2]
    elif fmt == "yxyx":
        out = [y1, x1, y2, x2]
    elif fmt == "xywh":
        out = [x1, y1, x2 - x1, y2 - y1]
    elif fmt == "center_xywh":
        out = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
    elif fmt == "center_yxhw":
        out = [(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1]
    else:
        raise ValueError(f"Unknown bounding_box_format {target!r}; expected "
                         f"one of {FORMATS}.")
    if target.startswith("rel_"):
        h, w = ops.cast(height, "float32"), ops.cast(width, "float32")
        scale = [w, h, w, h] if fmt != "yxyx" else [h, w, h, w]
        out = [o / s for o, s in zip(out, scale)]
    return ops.stack(out, axis=-1)


def convert(boxes, source, target, height, width):
    """Converts ``(..., 4)`` boxes between any two of :data:`FORMATS`."""
    return from_xyxy(to_xyxy(boxes, source, height, width), target, height,
                     width)


def transform(boxes, labels, matrices, height, width):
    """Moves absolute ``xyxy`` boxes as the resampler moves content.

    The four corners go through the transform (under a displacement
    field, :data:`EDGE_POINTS` points along each edge); the new box is
    their min/max, clipped to the output image ``[0, width] x [0, height]``. A box left with
    no area gets label -1. Rows whose label is already -1 (padding) are
    returned as they were.

    Args:
        boxes: ``(B, N, 4)`` absolute ``xyxy``.
        labels: ``(B, N)`` integer or float labels, or None.
        matrices: ``(B, 3, 3)`` output -> input pixel-index matrices, or a
            :class:`~augment_layers.ops.fields.SamplingMap`.
        height, width: the output image's size.

    Returns:
        ``(boxes, labels)``: float32 boxes, labels in their own dtype (None
        if None was given).
    """
    boxes = ops.cast(boxes, "float32")
    x1, y1, x2, y2 = _split(boxes)
    if isinstance(matrices, fields.SamplingMap) and matrices.has_fields:
        # A field bends edges: points along them, not only the corners.
        t = ops.convert_to_tensor(
            [i / (EDGE_POINTS - 1) for i in range(EDGE_POINTS)], "float32")
        xs = x1[..., None] + t * (x2 - x1)[..., None]
        ys = y1[..., None] + t * (y2 - y1)[..., None]

        def side(x, y):
            return ops.stack([x + 0.0 * y, y + 0.0 * x], -1)

        corners = ops.concatenate([
            side(xs, y1[..., None]), side(xs, y2[..., None]),
            side(x1[..., None], ys), side(x2[..., None], ys)], axis=-2)
    else:
        corners = ops.stack(
            [ops.stack([x1, y1], -1), ops.stack([x2, y1], -1),
             ops.stack([x1, y2], -1), ops.stack([x2, y2], -1)],
            axis=-2)  # (B, N, 4, 2)
    shape = ops.shape(corners)
    moved = points.transform(ops.reshape(corners, (shape[0], -1, 2)),
                             matrices)
    moved = ops.reshape(moved, shape)
    w, h = ops.cast(width, "float32"), ops.cast(height, "float32")
    lo, hi = ops.min(moved, axis=-2), ops.max(moved, axis=-2)
    nx1, nx2 = ops.clip(lo[..., 0], 0.0, w), ops.clip(hi[..., 0], 0.0, w)
    ny1, ny2 = ops.clip(lo[..., 1], 0.0, h), ops.clip(hi[..., 1], 0.0, h)
    out = ops.stack([nx1, ny1, nx2, ny2], axis=-1)
    if labels is None:
        return out, None
    padding = ops.equal(labels, ops.cast(INVALID_LABEL, labels.dtype))
    out = ops.where(padding[..., None], boxes, out)
    empty = ops.logical_or(nx2 <= nx1, ny2 <= ny1)
    labels = ops.where(empty, ops.cast(INVALID_LABEL, labels.dtype), labels)
    return out, labels
