"""Displacement fields, and the sampling map that composes them with matrices.

A geometric run maps each output pixel to the source point it samples. With
matrices only, that map is one composed ``(B, 3, 3)`` matrix. A displacement
field (an elastic or grid distortion) is a smooth per-image function, so a run
that holds one keeps its map as a chain (:class:`SamplingMap`): from the
output side, the composed matrix of the layers after the field, the field,
the composed matrix of the layers before it, and so on. The resampler
evaluates the chain at every output pixel and gathers the source image once.

Coordinates here are pixel indices (a pixel's centre at ``(j, i)``), as the
resampler's matrices use; targets convert (:mod:`augment_layers.ops.points`).

- :class:`NodeField`: displacements on a grid of nodes spanning the image,
  bilinear between them (nearest beyond the outer nodes). The elastic field
  is drawn on such a grid, coarser than the pixels (see
  :func:`elastic_nodes`); a grid of one node per pixel is a dense field.
- :class:`SeparableField`: ``x -> gx(x)``, ``y -> gy(y)``, each per-image
  piecewise linear and increasing (the grid distortion).

Keypoints move by the forward map, the inverse of the sampling map:
:meth:`SamplingMap.forward` inverts each matrix exactly and each field by
Newton's method (a separable field exactly).
"""

import math

from augment_layers.ops import affine
from augment_layers.ops import filters
from augment_layers.ops.dispatch import active_backend, computed_once, ops

# Newton steps that invert an elastic field at a point (the residual is
# stated in tests/test_fields.py).
NEWTON_STEPS = 8


def _take(table, index):
    """``table[index]`` along axis 0 for indices known to lie in range."""
    if active_backend() == "jax":
        import jax.numpy as jnp

        return jnp.take(table, index, axis=0, mode="clip")
    return ops.take(table, index, axis=0)


def _per_image(values, like):
    """``(B,)`` ``values`` shaped to broadcast against ``like`` (B, ...)."""
    return ops.reshape(values, (-1,) + (1,) * (len(like.shape) - 1))


def _batch_index(batch, like):
    """Each element's image index, shaped to broadcast against ``like``."""
    return _per_image(ops.arange(batch, dtype="int32"), like)


class NodeField:
    """Per-image displacements ``(dx, dy)`` on a grid of ``ny x nx`` nodes
    whose outer nodes sit on the outer pixel centres of a ``height x width``
    image; bilinear between nodes, the outer nodes' values beyond them.

    Args:
        nodes: ``(B, ny, nx, 2)`` float32 displacements in pixels, ``(dx,
            dy)``, source minus output.
        height, width: the image size (Python ints).
    """

    def __init__(self, nodes, height, width):
        self.nodes = ops.cast(nodes, "float32")
        self.batch, self.ny, self.nx = (ops.shape(nodes)[0],
                                        int(nodes.shape[1]),
                                        int(nodes.shape[2]))
        # Pixels per node step; one node (a size of 1) spans nothing.
        self.step_y = max(height - 1, 1) / max(self.ny - 1, 1)
        self.step_x = max(width - 1, 1) / max(self.nx - 1, 1)
        self._table = computed_once(ops.reshape(self.nodes, (-1, 2)))

    def _corners(self, x, y):
        """The four nodes around each point and the point's place between
        them: ``(flat indices, fx, fy)``."""
        u = ops.clip(x / self.step_x, 0.0, float(self.nx - 1))
        w = ops.clip(y / self.step_y, 0.0, float(self.ny - 1))
        u0, w0 = ops.floor(u), ops.floor(w)
        fx, fy = u - u0, w - w0
        i0 = ops.cast(u0, "int32")
        j0 = ops.cast(w0, "int32")
        i1 = ops.minimum(i0 + 1, self.nx - 1)
        j1 = ops.minimum(j0 + 1, self.ny - 1)
        base = _batch_index(self.batch, x) * (self.ny * self.nx)
        row0, row1 = base + j0 * self.nx, base + j1 * self.nx
        return (row0 + i0, row0 + i1, row1 + i0, row1 + i1), fx, fy

    def displacement(self, x, y, gradient=False):
        """``(dx, dy)`` at points ``(x, y)`` (any shape ``(B, ...)``); with
        ``gradient``, also the Jacobian ``((dxx, dxy), (dyx, dyy))``."""
        (i00, i01, i10, i11), fx, fy = self._corners(x, y)
        d00, d01 = _take(self._table, i00), _take(self._table, i01)
        d10, d11 = _take(self._table, i10), _take(self._table, i11)
        fx1, fy1 = fx[..., None], fy[..., None]
        top = d00 + fx1 * (d01 - d00)
        bottom = d10 + fx1 * (d11 - d10)
        d = top + fy1 * (bottom - top)
        if not gradient:
            return d[..., 0], d[..., 1]
        # Inside a cell the field is bilinear; beyond the outer nodes it is
        # constant along the clipped axis.
        inside_x = ops.cast(ops.logical_and(
            x >= 0.0, x <= (self.nx - 1) * self.step_x), "float32")
        inside_y = ops.cast(ops.logical_and(
            y >= 0.0, y <= (self.ny - 1) * self.step_y), "float32")
        d_dx = ((1.0 - fy1) * (d01 - d00) + fy1 * (d11 - d10)) * (
            inside_x[..., None] / self.step_x)
        d_dy = (bottom - top) * (inside_y[..., None] / self.step_y)
        return (d[..., 0], d[..., 1]), ((d_dx[..., 0], d_dy[..., 0]),
                                        (d_dx[..., 1], d_dy[..., 1]))

    def sample(self, x, y):
        """The source point of each output point: ``p + d(p)``."""
        dx, dy = self.displacement(x, y)
        return x + dx, y + dy

    def invert(self, x, y, steps=NEWTON_STEPS):
        """The output point ``p`` whose source point is ``(x, y)``:
        ``p + d(p) = q``, by Newton's method from ``q - d(q)``. Where the
        field folds (the Jacobian of ``p + d(p)`` has a determinant below
        0.05) a step is the fixed-point step ``p = q - d(p)`` instead; near
        a fold a point has several preimages, or none, and the iteration
        ends near one of them."""
        dx, dy = self.displacement(x, y)
        px, py = x - dx, y - dy
        for _ in range(steps):
            (dx, dy), ((dxx, dxy), (dyx, dyy)) = self.displacement(
                px, py, gradient=True)
            rx, ry = px + dx - x, py + dy - y
            a, b, c, d = 1.0 + dxx, dxy, dyx, 1.0 + dyy
            det = a * d - b * c
            ok = det > 0.05
            safe = ops.where(ok, det, 1.0)
            newton_x = px - (d * rx - b * ry) / safe
            newton_y = py - (a * ry - c * rx) / safe
            # Into buffers: XLA would copy each step's cheap ops into the
            # next step's consumers, compounding (a compile of minutes).
            px = computed_once(ops.where(ok, newton_x, x - dx))
            py = computed_once(ops.where(ok, newton_y, y - dy))
        return px, py


class SeparableField:
    """``(x, y) -> (gx(x), gy(y))``, each per-image piecewise linear through
    knots: output knots shared by the batch (Python floats, increasing),
    source knots per image ``(B, K)`` (increasing). Beyond the outer knots
    the outer pieces continue."""

    def __init__(self, out_x, src_x, out_y, src_y):
        self.axes = (_Piecewise(out_x, src_x), _Piecewise(out_y, src_y))

    def sample(self, x, y):
        return self.axes[0].forward(x), self.axes[1].forward(y)

    def invert(self, x, y, steps=None):
        return self.axes[0].inverse(x), self.axes[1].inverse(y)


class _Piecewise:
    """One axis of a :class:`SeparableField`."""

    def __init__(self, out_knots, src_knots):
        self.out = [float(k) for k in out_knots]
        self.src = ops.cast(src_knots, "float32")  # (B, K)
        self.count = len(self.out)
        self.batch = ops.shape(self.src)[0]
        self._table = computed_once(ops.reshape(self.src, (-1,)))

    def _knot(self, values, index):
        """Per-image knot ``index`` (any shape ``(B, ...)``) of
        ``values`` (a ``(B * K,)`` table)."""
        return _take(values, _batch_index(self.batch, index) * self.count
                     + index)

    def forward(self, x):
        # The piece of each point: the output knots are the same for every
        # image, so it is a count of knots at or below it.
        piece = None
        for knot in self.out[1:-1]:
            step = ops.cast(x >= knot, "int32")
            piece = step if piece is None else piece + step
        if piece is None:
            piece = ops.zeros_like(ops.cast(x, "int32"))
        out = ops.convert_to_tensor(self.out, "float32")
        x0, x1 = ops.take(out, piece), ops.take(out, piece + 1)
        s0, s1 = self._knot(self._table, piece), self._knot(self._table,
                                                            piece + 1)
        return s0 + (x - x0) * (s1 - s0) / (x1 - x0)

    def inverse(self, s):
        # The source knots differ per image: count them against each point
        # (points are few: keypoints and box edges).
        inner = self.src[:, 1:-1]  # (B, K - 2)
        shaped = ops.reshape(inner, (self.batch,) + (1,) * (
            len(s.shape) - 1) + (self.count - 2,))
        piece = ops.sum(ops.cast(s[..., None] >= shaped, "int32"), axis=-1)
        out = ops.convert_to_tensor(self.out, "float32")
        x0, x1 = ops.take(out, piece), ops.take(out, piece + 1)
        s0, s1 = self._knot(self._table, piece), self._knot(self._table,
                                                            piece + 1)
        return x0 + (s - s0) * (x1 - x0) / (s1 - s0)


class SamplingMap:
    """Output pixel -> source pixel through matrices and fields.

    Args:
        steps: from the output side, each a ``(B, 3, 3)`` matrix (output ->
            input of its layers) or a field (:class:`NodeField`,
            :class:`SeparableField`).
        batch: the batch size.
        projective: some matrix is a homography (the divide is applied).
    """

    def __init__(self, steps, batch, projective=False):
        self.steps = tuple(steps)
        self.batch = batch
        self.projective = projective

    def coordinates(self, xs, ys):
        """Source ``(x, y)`` of output points ``xs``, ``ys`` (broadcastable
        against each other; the result has the batch first)."""
        x, y = xs, ys
        shape_like = x + y
        zeros = ops.zeros((self.batch,) + (1,) * (len(shape_like.shape) - 1),
                          "float32")
        x, y = x + zeros, y + zeros
        for step in self.steps:
            if isinstance(step, (NodeField, SeparableField)):
                x, y = step.sample(x, y)
            else:
                x, y = _apply(step, x, y, self.projective)
        return x, y

    def forward(self, x, y):
        """Where source points ``(x, y)`` (``(B, N)`` pixel indices) land in
        the output: the inverse map, step by step from the source side."""
        for step in reversed(self.steps):
            if isinstance(step, (NodeField, SeparableField)):
                x, y = step.invert(x, y)
            else:
                x, y = _apply(affine.invert(step), x, y, True)
        return x, y

    @property
    def has_fields(self):
        return any(isinstance(s, (NodeField, SeparableField))
                   for s in self.steps)


def _apply(matrices, x, y, projective):
    matrices = ops.cast(matrices, "float32")

    def coef(i, j):
        return _per_image(matrices[:, i, j], x)

    nx = coef(0, 0) * x + coef(0, 1) * y + coef(0, 2)
    ny = coef(1, 0) * x + coef(1, 1) * y + coef(1, 2)
    if projective:
        w = coef(2, 0) * x + coef(2, 1) * y + coef(2, 2)
        return nx / w, ny / w
    return nx, ny


def chain_steps(items, is_field, compose):
    """The steps of a sampling map from a run's per-layer ``items`` in
    layer order (matrices and fields): from the output side, consecutive
    matrices composed into one (``compose``, first applied on the left);
    ``is_field(item)`` tells a field from a matrix. Shared by the 2-D map
    (:func:`chain`) and the volumes' (:func:`augment_layers.ops.volume.
    chain`)."""
    steps, pending = [], []
    for item in reversed(items):  # from the output side
        if is_field(item):
            if pending:
                steps.append(compose(*reversed(pending)))
                pending = []
            steps.append(item)
        else:
            pending.append(item)
    if pending:
        steps.append(compose(*reversed(pending)))
    return steps


def chain(items, batch, projective=False):
    """A :class:`SamplingMap` from a run's per-layer ``items`` in layer
    order (each a ``(B, 3, 3)`` matrix or a field): consecutive matrices
    compose into one. ``projective``: some matrix is a homography."""
    return SamplingMap(chain_steps(
        items, lambda item: isinstance(item, (NodeField, SeparableField)),
        affine.compose), batch, projective)


# -- the elastic field ----------------------------------------------------
# The field is drawn on a grid of nodes NODES_PER_SIGMA to the largest sigma
# the layer can draw, and is bilinear between them: measured on a dense
# Gaussian-smoothed field (benchmarks: docs/performance.md), the bilinear
# error is 1.4 % of the field's standard deviation (RMS; 7.5 % at most),
# 0.05 px at Keras's default scale on 128 x 128.
NODES_PER_SIGMA = 3.0
TRUNCATE = 3.0  # the Gaussian kernels reach 3 sigma, as scipy's default


def node_count(size, sigma_max):
    """Nodes along an axis of ``size`` pixels for fields of ``sigma`` up to
    ``sigma_max`` pixels: a step of ``sigma_max / NODES_PER_SIGMA`` or
    finer (at most one node per pixel)."""
    step = max(sigma_max / NODES_PER_SIGMA, 1.0)
    return int(min(size, max(2, math.ceil((size - 1) / step) + 1)))


def kernel_size(sigma_max):
    """Odd tap count of a Gaussian of ``sigma_max`` (in its own units)."""
    return 2 * int(math.ceil(TRUNCATE * sigma_max)) + 1


def _sum_of_squares(size, sigma):
    """Per image ``(B,)``: the sum of squared weights of a normalised
    Gaussian kernel of ``size`` taps and ``sigma`` (the standard deviation
    of white noise of unit variance after the 1-D blur, squared)."""
    weights = filters.gaussian_kernels(size, ops.maximum(sigma, 1e-3))
    return ops.sum(ops.square(weights), axis=1)


def elastic_nodes(noise, alpha, sigma, sigma_max, sizes):
    """The elastic displacement at the nodes of a :class:`NodeField` (2-D)
    or :class:`augment_layers.ops.volume.NodeField3D` (3-D).

    Keras's field is white noise of unit variance at every pixel, times
    ``sigma``, blurred by a Gaussian of ``sigma`` pixels and scaled by
    ``alpha``. Blurring white noise on a grid of step ``s`` by ``sigma / s``
    steps gives values with the same correlation (a Gaussian of ``sigma *
    sqrt(2)`` pixels) at the nodes; each image's values are scaled to the
    standard deviation of Keras's 2-D field at the same ``alpha`` and
    ``sigma`` (computed from the dense kernel), so at the nodes the field
    has Keras's distribution, for every component (Keras draws the same
    noise for ``dx`` and ``dy``, so its displacements all lie on a
    diagonal; here the components are independent). Volumes get the same
    deviation per component: a literal 3-D blur would be smaller by a
    further factor of about ``0.28 / sqrt(sigma)``, a field too faint to
    see.

    Args:
        noise: ``(B, *nodes, k)`` standard normal values, ``k`` components
            (one per spatial axis).
        alpha, sigma: ``(B,)`` per image, in pixels.
        sigma_max: the largest ``sigma`` the layer draws (Python float).
        sizes: the image's ``(height, width)`` or the volume's ``(depth,
            height, width)``.
    """
    counts = [int(n) for n in noise.shape[1:1 + len(sizes)]]
    steps = [max(size - 1, 1) / max(count - 1, 1)
             for size, count in zip(sizes, counts)]
    sigma = ops.cast(sigma, "float32")
    coarse = max(sigma_max / step for step in steps)
    size = kernel_size(coarse)
    # The blur along each axis is one batched product with a (n, n)
    # matrix per image (a short axis: cheaper than a pass per tap).
    letters = "xyzw"[:len(sizes)][::-1]  # the spatial axes' names, in order
    blurred, node_variance = noise, None
    for axis, (count, step) in enumerate(zip(counts, steps)):
        kernels = filters.gaussian_kernels(
            min(size, 2 * count - 1), ops.maximum(sigma / step, 1e-3))
        source = letters[:axis] + "j" + letters[axis + 1:]
        target = letters[:axis] + "i" + letters[axis + 1:]
        blurred = ops.einsum(f"bij,b{source}c->b{target}c",
                             filters.blur_matrices(count, kernels), blurred)
        sum_sq = ops.sum(ops.square(kernels), axis=1)
        node_variance = sum_sq if node_variance is None else \
            node_variance * sum_sq
    dense = kernel_size(sigma_max)
    # Standard deviations after the blur: the dense 2-D field's (the
    # product of two 1-D sums of squares, square-rooted: one sum) and the
    # nodes'.
    dense_std = _sum_of_squares(dense, sigma)
    scale = ops.cast(alpha, "float32") * sigma * dense_std / ops.sqrt(
        node_variance)
    return blurred * ops.reshape(scale, (-1,) + (1,) * (len(noise.shape) - 1))


# -- the grid distortion -----------------------------------------------------
def grid_knots(size, num_steps, steps, normalized):
    """One axis of albumentations's ``GridDistortion`` as knots.

    The axis (continuous coordinates ``[0, size]``) is cut into
    ``num_steps`` cells of ``size // num_steps`` pixels and a last one of
    what remains; cell ``k`` of the output samples a source stretch of
    ``steps[:, k]`` times its length. ``normalized``: the steps are scaled
    (as albumentations does) so that the source spans ``[0, size]``.

    Args:
        size: the axis's length in pixels (Python int).
        steps: ``(B, num_steps + 1)`` per-image stretches.

    Returns:
        ``(out, src)``: the output knots (Python floats, in pixel indices)
        and the per-image source knots ``(B, K)`` (pixel indices).
    """
    cell = size // num_steps
    if cell < 1:
        raise ValueError(
            f"RandomGridDistortion needs at least num_steps={num_steps} "
            f"pixels along each axis, received an axis of {size}.")
    last = size - num_steps * cell
    bounds = [k * cell for k in range(num_steps + 1)]
    lengths = [float(cell)] * num_steps
    if last > 0:
        bounds.append(size)
        lengths.append(float(last))
    count = len(lengths)
    steps = ops.cast(steps[:, :count], "float32")
    lengths_t = ops.convert_to_tensor(lengths, "float32")
    widths = steps * lengths_t[None, :]
    if normalized:
        widths = widths * (float(size) / ops.sum(widths, axis=1,
                                                  keepdims=True))
    src = ops.concatenate([ops.zeros_like(widths[:, :1]),
                           ops.cumsum(widths, axis=1)], axis=1)
    # Continuous coordinates -> pixel indices (centres at integers).
    return [b - 0.5 for b in bounds], src - 0.5
