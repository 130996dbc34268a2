"""``preview``: a grid of augmented versions of one image (the tutorials' 3x3)."""

import math

import numpy as np


def _with_seed(layer, seed):
    if seed is None:
        return layer
    config = layer.get_config()
    if "seed" in config:
        config["seed"] = seed
        return type(layer).from_config(config)
    import keras

    keras.utils.set_random_seed(seed)
    return layer


def preview(layer, image, n=9, seed=None, value_range=None):
    """Returns a matplotlib Figure of ``n`` augmented versions of ``image``.

    Args:
        layer: any augmentation layer or ``Augment``.
        image: one image ``(H, W, C)``, array-like, uint8 or float.
        n: how many versions (a near-square grid).
        seed: seed for a repeatable grid (the layer is rebuilt with it).
        value_range: ``(lo, hi)`` of the pixels for display; by default
            ``(0, 255)`` unless the image's values lie within ``[0, 1]``.
    """
    import keras
    from matplotlib.figure import Figure  # no pyplot: works headless

    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(
            f"preview needs one image (H, W, C), received shape {image.shape}.")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive integer, received n={n!r}.")
    layer = _with_seed(layer, seed)
    batch = np.repeat(image[None].astype("float32"), n, axis=0)
    out = keras.ops.convert_to_numpy(layer(batch, training=True)).astype("float32")
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
    fig.suptitle(getattr(layer, "name", type(layer).__name__))
    fig.tight_layout()
    return fig
