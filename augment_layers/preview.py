"""``preview``: a grid of augmented versions of one image (the tutorials' 3x3)."""

import math

import numpy as np


def _with_options(layer, seed, bounding_box_format):
    """The layer rebuilt with ``seed`` and the boxes' format, where it has
    those arguments (Augment's format governs its children)."""
    config = layer.get_config()
    changed = False
    if seed is not None and "seed" in config:
        config["seed"] = seed
        changed = True
    if bounding_box_format and "bounding_box_format" in config:
        config["bounding_box_format"] = bounding_box_format
        changed = True
    if seed is not None and "seed" not in config:
        import keras

        keras.utils.set_random_seed(seed)
    return type(layer).from_config(config) if changed else layer


def _draw_targets(ax, mask, boxes, labels):
    """A mask as a translucent overlay, boxes as rectangles (label -1: gone)."""
    from matplotlib.patches import Rectangle

    if mask is not None:
        shown = np.ma.masked_equal(mask, 0)
        ax.imshow(shown, cmap="tab10", alpha=0.45, vmin=0, vmax=9,
                  interpolation="nearest")
    if boxes is not None:
        for (x1, y1, x2, y2), label in zip(boxes, labels):
            if label == -1:
                continue
            # Continuous coordinates: pixel j covers [j, j+1]; imshow puts
            # its centre at j, hence the half-pixel shift.
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1,
                                   fill=False, edgecolor="yellow",
                                   linewidth=1.5))


def preview(layer, image, n=9, seed=None, value_range=None, mask=None,
            boxes=None, bounding_box_format="xyxy"):
    """Returns a matplotlib Figure of ``n`` augmented versions of ``image``.

    With ``mask`` and/or ``boxes`` the same augmentation is applied to them
    (Keras's dict format) and they are drawn on each version: the mask as a
    coloured overlay, the boxes as rectangles.

    Args:
        layer: any augmentation layer or ``Augment``.
        image: one image ``(H, W, C)``, array-like, uint8 or float.
        n: how many versions (a near-square grid).
        seed: seed for a repeatable grid (the layer is rebuilt with it).
        value_range: ``(lo, hi)`` of the pixels for display; by default
            ``(0, 255)`` unless the image's values lie within ``[0, 1]``.
        mask: optional ``(H, W)`` or ``(H, W, 1)`` integer mask (class ids,
            0 = background) of the image.
        boxes: optional ``(N, 4)`` boxes of the image, in
            ``bounding_box_format`` (default ``"xyxy"``, pixels).
    """
    import keras
    from matplotlib.figure import Figure  # no pyplot: works headless

    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(
            f"preview needs one image (H, W, C), received shape {image.shape}.")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive integer, received n={n!r}.")
    layer = _with_options(layer, seed,
                          bounding_box_format if boxes is not None else None)
    batch = np.repeat(image[None].astype("float32"), n, axis=0)
    masks = shown_boxes = shown_labels = None
    if mask is None and boxes is None:
        out = layer(batch, training=True)
    else:
        data = {"images": batch}
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == 2:
                mask = mask[..., None]
            if mask.shape[:2] != image.shape[:2]:
                raise ValueError(
                    f"`mask` must have the image's height and width "
                    f"{image.shape[:2]}, received shape {mask.shape}.")
            data["segmentation_masks"] = np.repeat(mask[None], n, axis=0)
        if boxes is not None:
            boxes = np.asarray(boxes, dtype="float32").reshape(-1, 4)
            data["bounding_boxes"] = {
                "boxes": np.repeat(boxes[None], n, axis=0),
                "labels": np.zeros((n, len(boxes)), "int32")}
        result = layer(data, training=True)
        out = result["images"]
        if mask is not None:
            masks = keras.ops.convert_to_numpy(
                result["segmentation_masks"])[..., 0]
        if boxes is not None:
            from augment_layers.ops import boxes as box_ops

            shown_boxes = keras.ops.convert_to_numpy(box_ops.convert(
                result["bounding_boxes"]["boxes"], bounding_box_format,
                "xyxy", image.shape[0], image.shape[1]))
            shown_labels = keras.ops.convert_to_numpy(
                result["bounding_boxes"]["labels"])
    out = keras.ops.convert_to_numpy(out).astype("float32")
    if value_range is None:
        value_range = (0.0, 1.0) if image.max() <= 1.0 else (0.0, 255.0)
    lo, hi = value_range
    out = np.clip((out - lo) / (hi - lo), 0.0, 1.0)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(2.4 * cols, 2.4 * rows))
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.axis("off")
        if i < n:
            shown = out[i]
            if shown.shape[-1] == 1:
                ax.imshow(shown[..., 0], cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(shown[..., :3])
            _draw_targets(
                ax, None if masks is None else masks[i],
                None if shown_boxes is None else shown_boxes[i],
                None if shown_labels is None else shown_labels[i])
    fig.suptitle(getattr(layer, "name", type(layer).__name__))
    fig.tight_layout()
    return fig
