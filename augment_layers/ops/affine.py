"""Per-image 3x3 affine matrices, built the way ImageDataGenerator builds them.

Every matrix here maps an *output* pixel coordinate ``(x, y, 1)`` (``x`` the
column, ``y`` the row) to the *input* coordinate it samples from, which is what
the resampler takes. Builders take ``(B,)`` tensors and return ``(B, 3, 3)``
float32 tensors, in coordinates centred on the image (see :func:`center`).

Composition: applying layer ``A`` then layer ``B`` samples the input at
``M_A @ M_B @ p``, so the first layer's matrix goes on the left
(:func:`compose`).
"""

import math

from augment_layers.ops.dispatch import ops


def _as_float(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


def _stack_rows(a00, a01, a02, a10, a11, a12):
    """Builds ``(B, 3, 3)`` from six ``(B,)`` coefficients (scalars broadcast)."""
    coefs = [_as_float(a) for a in (a00, a01, a02, a10, a11, a12)]
    zeros = sum(ops.zeros_like(a) for a in coefs)
    coefs = [a + zeros for a in coefs]
    ones = zeros + 1.0
    rows = coefs + [zeros, zeros, ones]
    return ops.reshape(ops.stack(rows, axis=-1), (-1, 3, 3))


def identity(batch_size):
    ones = ops.ones((batch_size,), "float32")
    zeros = ops.zeros((batch_size,), "float32")
    return _stack_rows(ones, zeros, zeros, zeros, ones, zeros)


def rotation(theta_degrees):
    """ImageDataGenerator's ``theta``: positive is counter-clockwise as shown."""
    theta = _as_float(theta_degrees) * (math.pi / 180.0)
    c, s = ops.cos(theta), ops.sin(theta)
    zeros = ops.zeros_like(theta)
    return _stack_rows(c, -s, zeros, s, c, zeros)


def translation(tx, ty):
    """ImageDataGenerator's ``tx``/``ty``: the output samples ``x + tx``.

    Content therefore moves by ``-tx`` columns and ``-ty`` rows.
    """
    tx, ty = _as_float(tx), _as_float(ty)
    ones, zeros = ops.ones_like(tx), ops.zeros_like(tx)
    return _stack_rows(ones, zeros, tx, zeros, ones, ty)


def shear(shear_degrees):
    """ImageDataGenerator's ``shear`` (degrees)."""
    angle = _as_float(shear_degrees) * (math.pi / 180.0)
    ones, zeros = ops.ones_like(angle), ops.zeros_like(angle)
    return _stack_rows(ones, -ops.sin(angle), zeros, zeros, ops.cos(angle), zeros)


def zoom(zx, zy):
    """ImageDataGenerator's ``zx`` (width) and ``zy`` (height); < 1 magnifies."""
    zx, zy = _as_float(zx), _as_float(zy)
    zeros = ops.zeros_like(zx)
    return _stack_rows(zx, zeros, zeros, zeros, zy, zeros)


def flip(horizontal, vertical):
    """Mirrors about the centre; ``horizontal``/``vertical`` are (B,) booleans."""
    sx = 1.0 - 2.0 * _as_float(horizontal)
    sy = 1.0 - 2.0 * _as_float(vertical)
    zeros = ops.zeros_like(sx)
    return _stack_rows(sx, zeros, zeros, zeros, sy, zeros)


def compose(*matrices):
    """``compose(A, B, C) = A @ B @ C``: A is applied to the image first."""
    out = matrices[0]
    for m in matrices[1:]:
        out = ops.matmul(out, m)
    return out


def center(matrices, height, width):
    """Moves centred-coordinate matrices to pixel coordinates.

    The centre is ``((W - 1) / 2, (H - 1) / 2)``: the middle of the pixel grid
    on both axes. (ImageDataGenerator uses ``(H - 1) / 2`` for the column
    centre too, which is off-centre on non-square images; we do not copy that.)
    """
    cx = (_as_float(width) - 1.0) / 2.0
    cy = (_as_float(height) - 1.0) / 2.0
    a = matrices
    # C @ M @ C^-1 with C = translation(cx, cy), written out.
    a02 = a[:, 0, 2] + cx - a[:, 0, 0] * cx - a[:, 0, 1] * cy
    a12 = a[:, 1, 2] + cy - a[:, 1, 0] * cx - a[:, 1, 1] * cy
    return _stack_rows(a[:, 0, 0], a[:, 0, 1], a02, a[:, 1, 0], a[:, 1, 1], a12)


def image_data_generator_matrix(theta=0.0, tx=0.0, ty=0.0, shear_degrees=0.0,
                                zx=1.0, zy=1.0):
    """``R(theta) @ T(tx, ty) @ Sh(shear) @ Z(zx, zy)``, ImageDataGenerator's order."""
    return compose(rotation(theta), translation(tx, ty), shear(shear_degrees),
                   zoom(zx, zy))


def invert(matrices):
    """Inverses of ``(B, 3, 3)`` matrices (general, projective too).

    Written out with the adjugate, so it compiles everywhere (no LAPACK call)
    and costs a few dozen element-wise ops on ``(B,)`` tensors. The resampler
    takes output -> input matrices; targets (points, box corners) move the
    other way, input -> output, through the inverse.
    """
    m = ops.cast(matrices, "float32")
    a, b, c = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    d, e, f = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    g, h, i = m[:, 2, 0], m[:, 2, 1], m[:, 2, 2]
    co = [e * i - f * h, -(d * i - f * g), d * h - e * g,
          -(b * i - c * h), a * i - c * g, -(a * h - b * g),
          b * f - c * e, -(a * f - c * d), a * e - b * d]
    det = a * co[0] + b * co[1] + c * co[2]
    # adj = cofactor matrix transposed.
    adj = [co[0], co[3], co[6], co[1], co[4], co[7], co[2], co[5], co[8]]
    inv = ops.stack([x / det for x in adj], axis=-1)
    return ops.reshape(inv, (-1, 3, 3))


def square_to_quad(corners):
    """Homographies taking the unit square to quadrilaterals, in closed form.

    ``corners``: ``(B, 4, 2)`` points ``(x, y)`` that the square's corners
    ``(0, 0), (1, 0), (1, 1), (0, 1)`` go to, in that order. Returns
    ``(B, 3, 3)`` matrices mapping ``(u, v, 1)`` to homogeneous points
    (Heckbert, "Fundamentals of Texture Mapping and Image Warping", 1989,
    section 2.2.3): no linear solve, so it compiles everywhere.
    """
    c = ops.cast(corners, "float32")
    x0, x1, x2, x3 = (c[:, i, 0] for i in range(4))
    y0, y1, y2, y3 = (c[:, i, 1] for i in range(4))
    sx, sy = x0 - x1 + x2 - x3, y0 - y1 + y2 - y3
    dx1, dx2, dy1, dy2 = x1 - x2, x3 - x2, y1 - y2, y3 - y2
    det = dx1 * dy2 - dx2 * dy1
    g = (sx * dy2 - dx2 * sy) / det
    h = (dx1 * sy - sx * dy1) / det
    rows = [x1 - x0 + g * x1, x3 - x0 + h * x3, x0,
            y1 - y0 + g * y1, y3 - y0 + h * y3, y0,
            g, h, ops.ones_like(g)]
    return ops.reshape(ops.stack(rows, axis=-1), (-1, 3, 3))


def perspective(corners, height, width):
    """Output -> input pixel matrices of a perspective warp.

    ``corners``: ``(B, 4, 2)`` input pixel coordinates that the output's
    corner pixels ``(0, 0), (W-1, 0), (W-1, H-1), (0, H-1)`` sample.
    """
    # (A one-pixel side spans one pixel, not zero: no division by zero.)
    w = ops.maximum(_as_float(width) - 1.0, 1.0)
    h = ops.maximum(_as_float(height) - 1.0, 1.0)
    to_unit = zoom(ops.ones_like(corners[:, 0, 0]) / w,
                   ops.ones_like(corners[:, 0, 0]) / h)
    return compose(square_to_quad(corners), to_unit)


def crop_and_resize(x0, y0, crop_width, crop_height, out_height, out_width):
    """Output -> input pixel matrices that resize the crop
    ``[x0, x0 + crop_width] x [y0, y0 + crop_height]`` (continuous
    coordinates, ``(B,)`` each) to ``out_height x out_width`` pixels, pixel
    centres to pixel centres (as ``keras.layers.Resizing`` does)."""
    sx = _as_float(crop_width) / _as_float(out_width)
    sy = _as_float(crop_height) / _as_float(out_height)
    zeros = ops.zeros_like(sx)
    return _stack_rows(sx, zeros, _as_float(x0) + 0.5 * sx - 0.5,
                       zeros, sy, _as_float(y0) + 0.5 * sy - 0.5)


def aspect_crop(height, width, out_height, out_width):
    """Keras's ``smart_resize`` window: the largest centred crop of the
    output's aspect ratio, in whole pixels: ``(y0, x0, crop_height,
    crop_width)`` as float32 scalars (``height``/``width`` may be
    tensors)."""
    hf, wf = _as_float(height), _as_float(width)
    crop_h = ops.maximum(ops.minimum(
        hf, ops.floor(wf * out_height / out_width)), 1.0)
    crop_w = ops.maximum(ops.minimum(
        wf, ops.floor(hf * out_width / out_height)), 1.0)
    return (ops.floor((hf - crop_h) / 2.0), ops.floor((wf - crop_w) / 2.0),
            crop_h, crop_w)
