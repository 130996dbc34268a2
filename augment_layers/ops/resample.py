"""The one resampler: a batch of images, a batch of affine matrices, one pass.

Pure ``keras.ops``: vectorised over the batch (one gather per bilinear corner
over the flattened batch, every channel of a pixel fetched by one index), no
Python loop, no ``map_fn``, no host callback, so it compiles under XLA on every
backend.

Boundary handling follows ``scipy.ndimage.affine_transform``: the integer
neighbours of each sample point are mapped into the image by the fill mode
before interpolation, which reproduces scipy's ``nearest``, ``reflect``
(d c b a | a b c d | d c b a) and ``grid-wrap`` (truly periodic) modes exactly.
``constant`` follows scipy's ``constant``: a sample point beyond the outermost
pixel centres gets ``fill_value`` exactly.
"""

from keras import backend
from keras import ops

from augment_layers.ops.compile import compiled

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
INTERPOLATIONS = ("bilinear", "nearest")

# Sample points within this many pixels of the outermost pixel centres count
# as inside, so float32 round-off in the matrix cannot turn an exact identity
# transform into a fill at the border.
_EDGE_TOLERANCE = 1e-3


def _map_index(index, size, fill_mode):
    """Maps integer indices (any range) into ``[0, size)`` by the fill mode."""
    if fill_mode == "wrap":
        return ops.mod(index, size)
    if fill_mode == "reflect":
        period = 2 * size
        index = ops.mod(index, period)
        return ops.where(index >= size, period - 1 - index, index)
    # "nearest" and "constant" (whose outside points are masked afterwards).
    return ops.clip(index, 0, size - 1)


def _inside(coord, size):
    upper = ops.cast(size, "float32") - 1.0 + _EDGE_TOLERANCE
    return ops.logical_and(coord >= -_EDGE_TOLERANCE, coord <= upper)


def affine_transform_impl(images, matrices, interpolation="bilinear",
                          fill_mode="nearest", fill_value=0.0):
    shape = ops.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    matrices = ops.cast(matrices, "float32")

    xs = ops.cast(ops.arange(width), "float32")[None, None, :]
    ys = ops.cast(ops.arange(height), "float32")[None, :, None]

    def coef(i, j):
        return matrices[:, i, j][:, None, None]

    # Source coordinates of every output pixel: (B, H, W).
    src_x = coef(0, 0) * xs + coef(0, 1) * ys + coef(0, 2)
    src_y = coef(1, 0) * xs + coef(1, 1) * ys + coef(1, 2)

    flat = ops.reshape(images, (-1, channels))
    base = ops.reshape(ops.arange(batch, dtype="int32") * (height * width),
                       (-1, 1, 1))

    def gather(iy, ix):
        ix = _map_index(ix, width, fill_mode)
        iy = _map_index(iy, height, fill_mode)
        return ops.take(flat, base + iy * width + ix, axis=0)

    if interpolation == "nearest":
        ix = ops.cast(ops.floor(src_x + 0.5), "int32")
        iy = ops.cast(ops.floor(src_y + 0.5), "int32")
        out = gather(iy, ix)
    else:
        x0f = ops.floor(src_x)
        y0f = ops.floor(src_y)
        wx = (src_x - x0f)[..., None]
        wy = (src_y - y0f)[..., None]
        x0 = ops.cast(x0f, "int32")
        y0 = ops.cast(y0f, "int32")
        work_dtype = "float32" if backend.standardize_dtype(images.dtype) in (
            "float16", "bfloat16") else images.dtype

        def corner(iy, ix):
            return ops.cast(gather(iy, ix), work_dtype)

        wx = ops.cast(wx, work_dtype)
        wy = ops.cast(wy, work_dtype)
        top_left, top_right = corner(y0, x0), corner(y0, x0 + 1)
        bottom_left, bottom_right = corner(y0 + 1, x0), corner(y0 + 1, x0 + 1)
        top = top_left + wx * (top_right - top_left)
        bottom = bottom_left + wx * (bottom_right - bottom_left)
        out = top + wy * (bottom - top)

    if fill_mode == "constant":
        inside = ops.logical_and(_inside(src_x, width), _inside(src_y, height))
        fill = ops.cast(fill_value, out.dtype)
        out = ops.where(inside[..., None], out, fill)
    return ops.cast(out, images.dtype)


def affine_transform(images, matrices, interpolation="bilinear",
                     fill_mode="nearest", fill_value=0.0):
    """Resamples ``images`` by per-image affine ``matrices``, once.

    Args:
        images: ``(B, H, W, C)`` tensor, channels last, any float dtype.
        matrices: ``(B, 3, 3)`` or ``(B, 2, 3)`` float tensor mapping each
            output pixel ``(x, y, 1)`` (x = column, y = row) to the input
            coordinate it samples.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        fill_value: the value of ``"constant"`` fill.

    Returns:
        A tensor of the shape and dtype of ``images``.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    return _compiled_impl(images, matrices, interpolation, fill_mode,
                          float(fill_value))


_compiled_impl = compiled(affine_transform_impl)
