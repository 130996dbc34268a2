"""Neighbourhood filters on channels-last batches, with per-image
parameters."""

from augment_layers.ops.dispatch import ops


def _reflect_indices(size, radius):
    """Indices ``-radius .. size + radius - 1`` folded into ``[0, size)`` as
    ``scipy.ndimage``'s ``"reflect"`` (d c b a | a b c d | d c b a), for any
    ``size``, also one smaller than ``radius``."""
    idx = ops.arange(-radius, size + radius, dtype="int32")
    period = 2 * size
    folded = idx - period * ops.floor_divide(idx, period)
    return ops.where(folded >= size, period - 1 - folded, folded)


def gaussian_kernels(size, sigma):
    """``(B, size)`` normalised 1-D Gaussian kernels, one per ``sigma``
    (``(B,)``), centred on the middle tap (Keras's and scipy's)."""
    x = ops.arange(size, dtype="float32") - (size - 1) / 2.0
    sigma = ops.cast(sigma, "float32")[:, None]
    weights = ops.exp(-0.5 * ops.square(x[None, :] / sigma))
    return weights / ops.sum(weights, axis=1, keepdims=True)


def _blur_axis(images, kernels, axis):
    size = kernels.shape[1]
    radius = size // 2
    length = ops.shape(images)[axis]
    padded = ops.take(images, _reflect_indices(length, radius), axis=axis)
    kernels = ops.cast(kernels, images.dtype)
    out = None
    for tap in range(size):
        if axis == 1:
            window = padded[:, tap:tap + length]
            weight = kernels[:, tap][:, None, None, None]
        else:
            window = padded[:, :, tap:tap + length]
            weight = kernels[:, tap][:, None, None, None]
        term = window * weight
        out = term if out is None else out + term
    return out


def gaussian_blur(images, kernel_size, sigma_y, sigma_x):
    """Separable Gaussian blur: ``kernel_size`` ``(height, width)`` taps
    (odd), per-image standard deviations ``sigma_y``, ``sigma_x`` (``(B,)``),
    the border extended by reflection; equal to
    ``scipy.ndimage.gaussian_filter(x, (sy, sx), mode="reflect",
    truncate=radius / sigma)`` on each image."""
    ky, kx = kernel_size
    out = images
    if ky > 1:
        out = _blur_axis(out, gaussian_kernels(ky, sigma_y), 1)
    if kx > 1:
        out = _blur_axis(out, gaussian_kernels(kx, sigma_x), 2)
    return out


def blur_matrices(length, kernels):
    """``(B, length, length)`` matrices that blur an axis of ``length``
    values by per-image ``kernels`` (``(B, size)``, odd size), the border
    extended by reflection: ``out[i] = sum_j m[i, j] * x[j]`` equals
    :func:`gaussian_blur`'s pass along that axis. For short axes (a field's
    grid of nodes) one batched product is faster than a pass per tap."""
    size = kernels.shape[1]
    radius = size // 2
    source = _reflect_indices(length, radius)  # (length + 2 * radius,)
    # Tap t of output i reads padded index i + t, i.e. source[i + t].
    rows = ops.arange(length, dtype="int32")[:, None] + ops.arange(
        size, dtype="int32")[None, :]  # (length, size)
    onehot = ops.cast(ops.equal(ops.take(source, rows)[..., None],
                                ops.arange(length, dtype="int32")),
                      "float32")  # (length, size, length)
    return ops.einsum("bt,itj->bij", ops.cast(kernels, "float32"), onehot)
