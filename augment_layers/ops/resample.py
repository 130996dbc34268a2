"""The one resampler: a batch of images, a batch of affine matrices, one pass.

Pure ``keras.ops``: vectorised over the batch (one gather per bilinear corner
over the flattened batch, every channel of a pixel fetched by one index), no
Python loop, no ``map_fn``, no host callback, so it compiles under XLA on every
backend. On PyTorch, run op by op, a batch of finite float images is
resampled bilinearly by ``grid_sample`` instead (see
:func:`_torch_grid_sample`), tested against this formulation.

Boundary handling follows ``scipy.ndimage.affine_transform``: the integer
neighbours of each sample point are mapped into the image by the fill mode
before interpolation, which reproduces scipy's ``nearest``, ``reflect``
(d c b a | a b c d | d c b a) and ``grid-wrap`` (truly periodic) modes exactly.
``constant`` follows scipy's ``constant``: a sample point beyond the outermost
pixel centres gets ``fill_value`` exactly.
"""

import collections

from keras import backend

from augment_layers.ops import color, fields, native
from augment_layers.ops.compile import compiled
from augment_layers.ops.dispatch import active_backend, computed_once, ops

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


def _take_rows(flat, index):
    """``flat[index]``: whole rows (every channel of a pixel) at indices
    known to lie in range.

    ``keras.ops.take`` on PyTorch first widens the indices to int64 and
    wraps negative ones (three more full-size passes per corner, run op by
    op); the indices here are already mapped into the image, so PyTorch
    selects the rows directly. On JAX, ``take``'s default fills
    out-of-range rows with NaN, a compare and select per value in the
    compiled loop; clipping (a no-op here) is cheaper (measured: the
    resample alone 18 % faster on a CPU, the same pixels).
    """
    backend_name = active_backend()
    if backend_name == "torch":
        import torch

        out = torch.index_select(flat, 0, index.reshape(-1))
        return out.reshape(*index.shape, flat.shape[-1])
    if backend_name == "jax":
        import jax.numpy as jnp

        return jnp.take(flat, index, axis=0, mode="clip")
    return ops.take(flat, index, axis=0)


def _blend(a, b, weight):
    """``a + weight * (b - a)``: linear interpolation between neighbours.

    PyTorch runs the three ops as three passes over the band; its ``lerp``
    is one (the same value up to the last bit: for weights of 1/2 or more
    it computes ``b - (b - a) * (1 - weight)``). Compilers fuse the three
    ops elsewhere.
    """
    if active_backend() == "torch" and a.is_floating_point():
        import torch

        return torch.lerp(a, b, weight)
    return a + weight * (b - a)


# Op by op (PyTorch) a batch is resampled a band of rows at a time: 2 MiB
# bands on a CPU (a core's L2), 8 MiB on a GPU (docs/performance.md).
_EAGER_BAND_VALUES = 1 << 19
_EAGER_BAND_VALUES_GPU = 1 << 21


def affine_transform_impl(images, matrices, interpolation="bilinear",
                          fill_mode="nearest", fill_value=0.0,
                          output_size=None, projective=False,
                          slanted_reads=False, value_steps=()):
    """:func:`affine_transform` without the compiled wrapper (for fusing).

    ``slanted_reads``: the caller's hint that the matrices may turn rows
    (a rotation, a perspective) over a source of 4-byte values or wider;
    under XLA on a CPU the output is then written in column strips (see
    :func:`strip_width`).

    ``value_steps``: per-image colour steps applied to the output
    (:func:`augment_layers.ops.color.apply_steps`): by the native kernel to
    each row it writes, else by XLA fused into the resample's writes; the
    same float ops either way.
    """
    value_steps = tuple(value_steps)
    formulation = choose_formulation(images, matrices, output_size,
                                     slanted_reads, interpolation)
    if formulation == "native":
        height, width = output_size or (images.shape[1], images.shape[2])
        fused = native.fusable_steps(value_steps)
        out = native.resample(images, ops.cast(matrices, "float32"),
                              interpolation, fill_mode, fill_value, height,
                              width, projective,
                              value_steps if fused else ())
        return out if fused else color.apply_steps(out, value_steps)
    return color.apply_steps(_general(
        images, matrices, interpolation, fill_mode, fill_value, output_size,
        projective, slanted_reads), value_steps)


def _general(images, matrices, interpolation, fill_mode, fill_value,
             output_size, projective, slanted_reads):
    """The general formulation (XLA's gathers; PyTorch's grid_sample)."""
    if not isinstance(matrices, fields.SamplingMap) and \
            _torch_grid_sample_applies(images, interpolation, fill_mode):
        return _torch_grid_sample(images, matrices, fill_mode, fill_value,
                                  output_size, projective)
    if active_backend() == "torch" and None not in images.shape:
        batch, height, width, channels = images.shape
        out_height, out_width = output_size or (height, width)
        device = getattr(getattr(images, "device", None), "type", "cpu")
        band = (_EAGER_BAND_VALUES if device == "cpu"
                else _EAGER_BAND_VALUES_GPU)
        rows = max(1, band // max(1, batch * out_width * channels))
        if rows < out_height:
            return _resample_in_bands(images, matrices, interpolation,
                                      fill_mode, fill_value, rows,
                                      (out_height, out_width), projective)
    strips = strip_width(images, output_size) if slanted_reads else 0
    return _resample_rows(images, matrices, interpolation, fill_mode,
                          fill_value, 0, None, output_size, projective,
                          strips)


def choose_formulation(images, matrices, output_size=None,
                       slanted_reads=False, interpolation="bilinear"):
    """Which formulation resamples this plan: ``"native"`` or ``"general"``.

    Decided by static properties only (never by call history or batch
    size): TensorFlow with no GPU, float32 images of static height, width
    and channels (a batch given as uint8 and cast in the same graph counts:
    the kernel reads its bytes), matrices (not a chain with displacement
    fields), an output of :data:`NATIVE_MIN_PIXELS` or more, and either a
    bilinear blend of three or four channels (which the kernel does a whole
    pixel at a time) or reads that slant (``slanted_reads``: a rotation or
    a perspective over a batch given as 4-byte values, as for column
    strips) take the native CPU kernel (:mod:`augment_layers.ops.native`)
    where it could be built here. Both give the same bits
    (``tests/test_native.py``), so the choice is one of speed alone. Under
    JAX on a CPU the same kernel runs as an FFI custom call. Under PyTorch
    the kernel, a custom op on CPU tensors, is the formulation of these
    plans at every size (PyTorch's own, ``grid_sample``, computes other
    coordinates: taking the kernel from a size on would give two results
    for one plan); it computes what TensorFlow and JAX compute from the
    same matrices (``test_native_jax.py``, ``test_native_torch.py``)."""
    formulation = "general"
    framework = active_backend()
    if (framework in ("tensorflow", "jax", "torch")
            and not isinstance(matrices, fields.SamplingMap)
            and backend.standardize_dtype(images.dtype) == "float32"
            and len(images.shape) == 4
            and None not in tuple(images.shape)[1:]
            and len(matrices.shape) == 3 and tuple(matrices.shape)[1:] in (
                (2, 3), (3, 3))
            and (slanted_reads or _blends_by_pixels(images, interpolation))
            and (framework == "torch" or _large(images, output_size))
            and _no_gpu(framework, images)
            and native.available(framework)):
        formulation = "native"
    _FORMULATIONS_TAKEN.append(formulation)
    return formulation


def _blends_by_pixels(images, interpolation):
    """Bilinear over three or four channels: the kernel reads each
    neighbour's channels together and blends two pixels at a time."""
    return interpolation == "bilinear" and images.shape[-1] in (3, 4)


# Where the kernel pays, measured (docs/performance.md): from this many
# output pixels per image. With the kernel's pixel blend (three or four
# channels), the IDG pipeline's float32 tensor path measured slower native
# at 32² and 64² (the general formulation fuses with its neighbours),
# 0.85-1.39x at 128² and 160² (noisy); three-channel plans without rotation
# 1.0-1.16x native at 224² and 1024², uint8 batches 1.1-2x. One channel
# stays general on rows that stay rows (0.9x native at 1024²).
NATIVE_MIN_PIXELS = 224 * 224


def _large(images, output_size):
    height, width = output_size or tuple(images.shape)[1:3]
    return height * width >= NATIVE_MIN_PIXELS


# The last formulations chosen, as each plan is traced (the tests' spy).
_FORMULATIONS_TAKEN = collections.deque(maxlen=256)


def formulations_taken():
    """The formulations chosen since the last call (cleared by it)."""
    taken = list(_FORMULATIONS_TAKEN)
    _FORMULATIONS_TAKEN.clear()
    return taken


def _no_gpu(framework="tensorflow", images=None):
    if framework == "torch":
        return getattr(getattr(images, "device", None), "type", "cpu") == "cpu"
    if framework == "jax":
        import jax

        return jax.default_backend() == "cpu"
    import tensorflow as tf

    return not tf.config.list_logical_devices("GPU")


# Rotated float32 batches are written in column strips of this width under
# XLA on a CPU, so that their slanted reads stream (docs/performance.md).
_STRIP_WIDTH = 32


def strip_width(images, output_size=None):
    """The column-strip width for resampling ``images`` to ``output_size``
    here, or 0 (row order): nonzero only under XLA on a CPU (TensorFlow
    tracing a function) and for a static output width that is a multiple
    of :data:`_STRIP_WIDTH` (two strips or more)."""
    width = (output_size or (None, images.shape[2]))[1]
    if (not isinstance(width, int) or width % _STRIP_WIDTH
            or width <= _STRIP_WIDTH or not _xla_on_cpu()):
        return 0
    return _STRIP_WIDTH


def _xla_on_cpu():
    """TensorFlow (the backend, or a tf.data map's scope) tracing a graph
    with no GPU to place it on. JAX's CPU resample, written in strips the
    same way, measured no faster (0.97-1.05x), so it keeps rows."""
    if active_backend() != "tensorflow":
        return False
    import tensorflow as tf

    if tf.executing_eagerly():
        return False  # op by op: the strips would only add a transpose
    return _no_gpu()


def _materialized(x, anchor):
    """``x``, computed into a buffer of its own: the two branches of the
    conditional are the same, so the value is ``x`` whatever ``anchor``
    (a scalar known only at run time) holds."""
    import tensorflow as tf

    return tf.cond(tf.math.is_nan(anchor), lambda: tf.identity(x),
                   lambda: tf.identity(x))


# On PyTorch, a finite float batch is resampled bilinearly by grid_sample,
# one native kernel (docs/performance.md); the rest keeps the reference path.
# It takes coordinates normalised to [-1, 1] (an exact pixel centre may come
# back 1e-5 px off), and a neighbour of weight zero still enters the sum (a
# batch holding a NaN or inf takes the reference path).
_GRID_SAMPLE_MODES = {"nearest": "border", "reflect": "reflection",
                      "constant": "border"}
_GRID_SAMPLE_DTYPES = ("float32", "float64")


def _torch_grid_sample_applies(images, interpolation, fill_mode):
    if not (active_backend() == "torch" and interpolation == "bilinear"
            and fill_mode in _GRID_SAMPLE_MODES
            and None not in tuple(images.shape)
            and backend.standardize_dtype(images.dtype)
            in _GRID_SAMPLE_DTYPES):
        return False
    import torch

    if torch.compiler.is_compiling():
        return False  # torch.compile fuses the reference ops itself
    # A NaN or inf pixel must reach only the output pixels that sample it
    # (grid_sample also sums it with a weight of zero). The sum of the
    # batch is finite exactly when every value is, unless finite values
    # overflow it (then the reference path runs: slower, never wrong). One
    # read of the batch (isfinite().all() is four passes: 15 ms of 52 here).
    return bool(torch.isfinite(ops.convert_to_tensor(images).sum()))


def _torch_grid_sample(images, matrices, fill_mode, fill_value, output_size,
                       projective):
    import torch

    images = ops.convert_to_tensor(images)
    batch, height, width, _ = images.shape
    out_height, out_width = output_size or (height, width)
    matrices = ops.convert_to_tensor(matrices)
    # grid_sample takes pixel centres normalised to [-1, 1]
    # (align_corners=False): x -> x * 2 / W + 1 / W - 1. Folded into the
    # matrices (in float64, tiny), the grid is written in one pass.
    scale = torch.tensor([2.0 / width, 2.0 / height], dtype=torch.float64,
                         device=matrices.device)
    shift = torch.tensor([1.0 / width - 1.0, 1.0 / height - 1.0],
                         dtype=torch.float64, device=matrices.device)
    wide = matrices.to(torch.float64)
    last = wide[:, 2:3] if projective else torch.tensor(
        [[[0.0, 0.0, 1.0]]], dtype=torch.float64, device=matrices.device)
    normalised = wide[:, :2] * scale[:, None] + shift[:, None] * last
    normalised = normalised.to(device=images.device, dtype=images.dtype)
    last = last.to(device=images.device, dtype=images.dtype)
    xs = torch.arange(out_width, dtype=images.dtype,
                      device=images.device)[None, None, :]
    ys = torch.arange(out_height, dtype=images.dtype,
                      device=images.device)[None, :, None]

    def coordinate(row, out=None):
        """``row`` (B, 3) of a matrix at every output pixel, written into
        ``out`` (a strided view of the grid: no stacking pass)."""
        def coef(j):
            return row[:, j][:, None, None]
        return torch.addcmul(coef(2) + coef(1) * ys, coef(0), xs, out=out)

    grid = torch.empty((batch, out_height, out_width, 2), dtype=images.dtype,
                       device=images.device)
    grid_x = coordinate(normalised[:, 0], out=grid[..., 0])
    grid_y = coordinate(normalised[:, 1], out=grid[..., 1])
    if projective:  # a homography: the projective divide
        w = coordinate(last[:, 0])
        grid_x.div_(w)
        grid_y.div_(w)
        del w
    inside = None
    if fill_mode == "constant":  # _inside's bounds, normalised likewise
        def within(coord, size):
            low = -_EDGE_TOLERANCE * 2.0 / size + 1.0 / size - 1.0
            high = (size - 1.0 + _EDGE_TOLERANCE) * 2.0 / size + (
                1.0 / size - 1.0)
            return torch.logical_and(coord >= low, coord <= high)
        inside = torch.logical_and(within(grid_x, width),
                                   within(grid_y, height))
    out = torch.nn.functional.grid_sample(
        images.permute(0, 3, 1, 2), grid, mode="bilinear",
        padding_mode=_GRID_SAMPLE_MODES[fill_mode], align_corners=False)
    out = out.permute(0, 2, 3, 1)
    if inside is not None:
        out = torch.where(inside[..., None], out, torch.tensor(
            fill_value, dtype=out.dtype, device=out.device))
    if (out_height, out_width) == (height, width):
        # An image left where it is (a flip not drawn, a RandAugment op
        # not applied) comes back exactly, not blended by 1e-5.
        rows = 3 if projective else 2
        eye = torch.eye(3, dtype=matrices.dtype, device=matrices.device)
        kept = (matrices[:, :rows] == eye[:rows]).all(dim=(1, 2))
        if bool(kept.any()):
            out = torch.where(kept[:, None, None, None], images, out)
    return out


def _resample_in_bands(images, matrices, interpolation, fill_mode, fill_value,
                       rows, output_size, projective):
    """PyTorch only: writes bands of output rows into one preallocated output.

    A loop over bands of rows, not over the batch: each band is vectorised
    over every image. Writing in place (``keras.ops.slice_update`` copies the
    whole output on PyTorch, and a final ``concatenate`` would hold every band
    and the result at once) keeps the peak at the output plus one band.
    """
    import torch

    images = ops.convert_to_tensor(images)
    out_height, out_width = output_size
    out = torch.empty((images.shape[0], out_height, out_width,
                       images.shape[3]), dtype=images.dtype,
                      device=images.device)
    for start in range(0, out_height, rows):
        count = min(rows, out_height - start)
        out[:, start:start + count] = _resample_rows(
            images, matrices, interpolation, fill_mode, fill_value,
            start, count, output_size, projective)
    return out


def _resample_rows(images, matrices, interpolation, fill_mode, fill_value,
                   row_start, row_count, output_size=None, projective=False,
                   strips=0):
    """Output rows ``[row_start, row_start + row_count)`` (None: all) of an
    output of ``output_size`` (None: the input's size); with ``strips``, all
    rows, computed in column strips of that width (see :func:`strip_width`).

    Every per-pixel array below is ``(B, H, W)``, or ``(B, W / strips, H,
    strips)`` in strips: the same values, in the order they are written.
    """
    shape = ops.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    out_height, out_width = output_size or (height, width)
    chained = isinstance(matrices, fields.SamplingMap)
    if not chained:
        matrices = ops.cast(matrices, "float32")

    columns = ops.cast(ops.arange(out_width), "float32")
    if strips:
        xs = ops.reshape(columns, (1, out_width // strips, 1, strips))
        ys = ops.cast(ops.arange(out_height), "float32")[None, None, :, None]
    elif row_count is None:
        xs = columns[None, None, :]
        ys = ops.cast(ops.arange(out_height), "float32")[None, :, None]
    else:
        xs = columns[None, None, :]
        ys = ops.cast(ops.arange(row_start, row_start + row_count),
                      "float32")[None, :, None]
    per_image = (-1, 1, 1, 1) if strips else (-1, 1, 1)

    def coef(i, j):
        return ops.reshape(matrices[:, i, j], per_image)

    # Source coordinates of every output pixel: (B, H, W).
    if chained:  # matrices and displacement fields (ops.fields)
        # Computed once into buffers: fused into the image's four
        # gathers, the field's lookups and blend ran four times (measured:
        # rotation + elastic + shift 1.45x the elastic layer alone, 1.06x
        # with the buffers; docs/performance.md).
        src_x, src_y = matrices.coordinates(xs, ys)
        src_x, src_y = computed_once(src_x), computed_once(src_y)
        anchor = src_x[(0,) * len(src_x.shape)]
    else:
        src_x = coef(0, 0) * xs + coef(0, 1) * ys + coef(0, 2)
        src_y = coef(1, 0) * xs + coef(1, 1) * ys + coef(1, 2)
        if projective:  # a homography: the projective divide
            w = coef(2, 0) * xs + coef(2, 1) * ys + coef(2, 2)
            src_x, src_y = src_x / w, src_y / w
            del w
        anchor = matrices[0, 2, 2] if strips else None

    inside = None
    if fill_mode == "constant":
        inside = ops.logical_and(_inside(src_x, width), _inside(src_y, height))

    flat = ops.reshape(images, (-1, channels))
    base = ops.reshape(ops.arange(batch, dtype="int32") * (height * width),
                       per_image)

    def rows(iy):
        """Flat index of the first pixel of each (mapped) source row."""
        return base + _map_index(iy, height, fill_mode) * width

    def gather(row_start, ix):
        """Pixels at mapped columns ``ix`` of rows starting at ``row_start``."""
        return _take_rows(flat, row_start + ix)

    # Where a backend runs op by op (PyTorch, or the compiled path switched
    # off), every name below holds a full-size tensor until it is dropped:
    # the `del`s and the row-by-row blend keep at most two gathered corners
    # alive at once.
    if interpolation == "nearest":
        ix = _map_index(ops.cast(ops.floor(src_x + 0.5), "int32"), width,
                        fill_mode)
        del src_x
        row_start = rows(ops.cast(ops.floor(src_y + 0.5), "int32"))
        del src_y
        out = gather(row_start, ix)
        del ix, row_start
    else:
        work_dtype = "float32" if backend.standardize_dtype(images.dtype) in (
            "float16", "bfloat16") else images.dtype
        # The far neighbours are ceil(), not floor() + 1: on an exact pixel
        # centre (weight 0) both neighbours are the same pixel, so a NaN or
        # inf next door never leaks in through a weight of zero.
        x0f = ops.floor(src_x)
        wx = ops.cast((src_x - x0f)[..., None], work_dtype)
        # Each neighbour index is mapped by the fill mode once, and each
        # source row's offset computed once, for the four corners.
        x0 = _map_index(ops.cast(x0f, "int32"), width, fill_mode)
        x1 = _map_index(ops.cast(ops.ceil(src_x), "int32"), width, fill_mode)
        del src_x, x0f
        y0f = ops.floor(src_y)
        wy = ops.cast((src_y - y0f)[..., None], work_dtype)
        row0, row1 = rows(ops.cast(y0f, "int32")), rows(
            ops.cast(ops.ceil(src_y), "int32"))
        del src_y, y0f

        def row(row_start):
            """One row of neighbours, blended along x."""
            return _blend(ops.cast(gather(row_start, x0), work_dtype),
                          ops.cast(gather(row_start, x1), work_dtype), wx)

        out = _blend(row(row0), row(row1), wy)

    if inside is not None:
        fill = ops.cast(fill_value, out.dtype)
        out = ops.where(inside[..., None], out, fill)
    out = ops.cast(out, images.dtype)
    if strips:
        out = ops.transpose(_materialized(out, anchor),
                            (0, 2, 1, 3, 4))
        out = ops.reshape(out, (-1, out_height, out_width, channels))
    return out


def affine_transform(images, matrices, interpolation="bilinear",
                     fill_mode="nearest", fill_value=0.0, output_size=None,
                     projective=False):
    """Resamples ``images`` by per-image affine ``matrices``, once.

    Args:
        images: ``(B, H, W, C)`` tensor, channels last, any float dtype.
        matrices: ``(B, 3, 3)`` or ``(B, 2, 3)`` float tensor mapping each
            output pixel ``(x, y, 1)`` (x = column, y = row) to the input
            coordinate it samples; or an
            :class:`augment_layers.ops.fields.SamplingMap` (matrices and
            displacement fields, evaluated at every output pixel).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        fill_value: the value of ``"constant"`` fill.
        output_size: ``(height, width)`` of the output (None: the input's);
            the matrices map output pixels of that size to input pixels.
        projective: True where the matrices' last row is not ``(0, 0, 1)``
            (perspective): each source point is divided by its third
            coordinate.

    Returns:
        A tensor of the dtype of ``images``, ``(B, *output_size, C)``.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    if output_size is not None:
        output_size = (int(output_size[0]), int(output_size[1]))
    return _compiled_impl(images, matrices, interpolation, fill_mode,
                          float(fill_value), output_size, bool(projective))


_compiled_impl = compiled(affine_transform_impl,
                          static_argnums=(2, 3, 4, 5, 6))


def resample_points(images, coordinates, interpolation="bilinear",
                    fill_mode="nearest", fill_value=0.0):
    """Samples ``images`` at per-element source points, any number of
    spatial axes: the resampler with the dimension as a parameter.

    The 2-D path above (:func:`affine_transform_impl`) is this with ``n =
    2`` plus its speed-ups (column strips, PyTorch's ``grid_sample``,
    bands); the volumes' trilinear resample
    (:mod:`augment_layers.ops.volume`) is this with ``n = 3``. Both share
    the fill modes (:func:`_map_index`, scipy's conventions), the
    ``constant`` bounds (:func:`_inside`), the row gather
    (:func:`_take_rows`) and the blend (:func:`_blend`), and blend the
    last axis first: the 2-D path's order, so ``n = 2`` gives its values.

    Args:
        images: ``(B, *sizes, C)``, channels last, ``n = len(sizes)``.
        coordinates: ``n`` float32 tensors of one shape ``(B, *out)``,
            the source index of every output element along each spatial
            axis, in axis order (voxel centres at integers).
        interpolation: ``"bilinear"`` (linear along every axis: trilinear
            for volumes, ``2 ** n`` gathers) or ``"nearest"`` (one).
        fill_mode, fill_value: as :func:`affine_transform`.

    Returns:
        ``(B, *out, C)`` of the dtype of ``images``.
    """
    count = len(coordinates)
    shape = ops.shape(images)
    sizes = tuple(shape[1:1 + count])
    channels = shape[-1]
    per_element = (-1,) + (1,) * (len(coordinates[0].shape) - 1)
    # Element strides of the spatial axes in the flattened batch.
    strides, stride = [], 1
    for size in reversed(sizes):
        strides.insert(0, stride)
        stride = stride * size
    base = ops.reshape(ops.arange(shape[0], dtype="int32") * stride,
                       per_element)
    flat = ops.reshape(images, (-1, channels))
    inside = None
    if fill_mode == "constant":
        for coord, size in zip(coordinates, sizes):
            within = _inside(coord, size)
            inside = within if inside is None else ops.logical_and(
                inside, within)

    def offset(index, axis):
        return _map_index(index, sizes[axis], fill_mode) * strides[axis]

    if interpolation == "nearest":
        index = base
        for axis, coord in enumerate(coordinates):
            index = index + offset(
                ops.cast(ops.floor(coord + 0.5), "int32"), axis)
        out = _take_rows(flat, index)
    else:
        work_dtype = "float32" if backend.standardize_dtype(images.dtype) in (
            "float16", "bfloat16") else images.dtype
        near, far, weights = [], [], []
        for axis, coord in enumerate(coordinates):
            floor = ops.floor(coord)
            weights.append(ops.cast((coord - floor)[..., None], work_dtype))
            # ceil(), not floor() + 1: on an exact centre both neighbours
            # are the same element (see _resample_rows).
            near.append(offset(ops.cast(floor, "int32"), axis))
            far.append(offset(ops.cast(ops.ceil(coord), "int32"), axis))

        def corner(axis, start):
            """Blends along ``axis`` and every axis after it."""
            if axis == count:
                return ops.cast(_take_rows(flat, start), work_dtype)
            return _blend(corner(axis + 1, start + near[axis]),
                          corner(axis + 1, start + far[axis]),
                          weights[axis])

        out = corner(0, base)
    if inside is not None:
        out = ops.where(inside[..., None], out, ops.cast(fill_value,
                                                         out.dtype))
    return ops.cast(out, images.dtype)
