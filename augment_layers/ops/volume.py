"""Volumes: per-volume 4x4 matrices, 3-D displacement fields, one resample.

Pure tensor functions for the 3-D layers (:mod:`augment_layers.layers.
volume`). Conventions (``../shared/API.md``, "Clips and volumes"):

- a volume is ``(B, D, H, W, C)``; spatial axes are numbered 0 = depth,
  1 = height, 2 = width, and every point, matrix row and per-axis argument
  lists them in that order;
- a matrix maps an *output* voxel ``(z, y, x, 1)`` to the *input* point it
  samples (as the 2-D matrices and ``scipy.ndimage.affine_transform`` do);
  voxel centres are at integer indices (``i + 0.5`` in continuous
  coordinates), and everything turns about the volume centre
  ``((D - 1) / 2, (H - 1) / 2, (W - 1) / 2)``;
- a turn about axis ``k`` acts on the plane of axes ``(k + 1) % 3`` (its
  "rows") and ``(k + 2) % 3`` (its "columns") as the 2-D
  :func:`augment_layers.ops.affine.rotation` acts on rows and columns, so
  a turn about the depth axis is the 2-D ``RandomRotation`` on every depth
  slice; shears likewise;
- ``spacing`` ``(dz, dy, dx)``: the physical size of a voxel. Rotations and
  shears are built in physical space (``S^-1 A S``), so a rotation of an
  anisotropic volume turns the body it shows, not its voxel grid.
"""

import math

import numpy as np

from augment_layers.ops import affine
from augment_layers.ops import fields
from augment_layers.ops import resample
from augment_layers.ops.dispatch import computed_once, ops


def _as_float(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


def matrix(entries, like):
    """``(B, 4, 4)`` matrices: the identity with ``entries`` (a dict
    ``(row, column) -> (B,)`` tensor or number) written in; ``like``: a
    ``(B,)`` tensor that gives the batch."""
    zeros = ops.zeros_like(_as_float(like))
    rows = []
    for i in range(4):
        for j in range(4):
            value = entries.get((i, j), 1.0 if i == j else 0.0)
            rows.append(_as_float(value) + zeros)
    return ops.reshape(ops.stack(rows, axis=-1), (-1, 4, 4))


def _plane(axis):
    """The (rows, columns) axes of a turn about ``axis``."""
    return (axis + 1) % 3, (axis + 2) % 3


def rotation(axis, degrees):
    """A turn about ``axis`` by ``degrees`` (``(B,)``), the 2-D rotation's
    sense on the plane of :func:`_plane`."""
    theta = _as_float(degrees) * (math.pi / 180.0)
    c, s = ops.cos(theta), ops.sin(theta)
    r, k = _plane(axis)
    # 2-D: src_x = c x - s y, src_y = s x + c y (x the column, y the row).
    return matrix({(r, r): c, (r, k): s, (k, r): -s, (k, k): c}, theta)


def shear(axis, degrees):
    """ImageDataGenerator's shear on the plane of :func:`_plane`."""
    angle = _as_float(degrees) * (math.pi / 180.0)
    r, k = _plane(axis)
    # 2-D: src_x = x - sin(a) y, src_y = cos(a) y.
    return matrix({(k, r): -ops.sin(angle), (r, r): ops.cos(angle)}, angle)


def translation(offsets):
    """The output samples ``p + offsets`` (three ``(B,)`` tensors, voxels)."""
    return matrix({(axis, 3): _as_float(o)
                   for axis, o in enumerate(offsets)}, offsets[0])


def scaling(factors):
    """``diag(factors)`` (three ``(B,)`` tensors): ImageDataGenerator's
    zoom, below 1 magnifies."""
    return matrix({(axis, axis): f for axis, f in enumerate(factors)},
                  factors[0])


def flip(flags):
    """Mirrors each axis whose ``(B,)`` boolean flag is true."""
    return matrix({(axis, axis): 1.0 - 2.0 * _as_float(f)
                   for axis, f in enumerate(flags)}, flags[0])


def compose(*matrices):
    """``compose(A, B) = A @ B``: A is applied to the volume first."""
    return affine.compose(*matrices)


def physical(matrices, spacing):
    """``S^-1 @ M @ S``: a matrix built in physical (centred) coordinates,
    expressed in voxel indices; ``spacing`` ``(dz, dy, dx)`` Python
    floats (all ones: unchanged)."""
    if spacing is None or all(s == 1.0 for s in spacing):
        return matrices
    to_physical = np.diag(list(spacing) + [1.0]).astype("float32")
    to_voxels = np.diag([1.0 / s for s in spacing] + [1.0]).astype("float32")
    return ops.matmul(ops.matmul(ops.convert_to_tensor(to_voxels),
                                 matrices), ops.convert_to_tensor(to_physical))


def center(matrices, sizes):
    """Centred-coordinate matrices -> voxel-index matrices (``C M C^-1``,
    ``C`` the translation to the centre of a volume of ``sizes``)."""
    middle = np.array([(s - 1) / 2.0 for s in sizes] + [1.0], "float32")
    to_centre = np.eye(4, dtype="float32")
    to_centre[:3, 3] = -middle[:3]
    back = np.eye(4, dtype="float32")
    back[:3, 3] = middle[:3]
    return ops.matmul(ops.matmul(ops.convert_to_tensor(back), matrices),
                      ops.convert_to_tensor(to_centre))


def invert(matrices):
    """Inverses of affine ``(B, 4, 4)`` matrices (last row ``0 0 0 1``),
    written out (no LAPACK call: compiles everywhere)."""
    m = ops.cast(matrices, "float32")
    a = [[m[:, i, j] for j in range(3)] for i in range(3)]
    co = [[a[(i + 1) % 3][(j + 1) % 3] * a[(i + 2) % 3][(j + 2) % 3]
           - a[(i + 1) % 3][(j + 2) % 3] * a[(i + 2) % 3][(j + 1) % 3]
           for j in range(3)] for i in range(3)]
    det = a[0][0] * co[0][0] + a[0][1] * co[0][1] + a[0][2] * co[0][2]
    inv = [[co[j][i] / det for j in range(3)] for i in range(3)]
    t = [m[:, i, 3] for i in range(3)]
    entries = {(i, j): inv[i][j] for i in range(3) for j in range(3)}
    for i in range(3):
        entries[(i, 3)] = -(inv[i][0] * t[0] + inv[i][1] * t[1]
                            + inv[i][2] * t[2])
    return matrix(entries, det)


# -- 3-D displacement fields -------------------------------------------------
class NodeField3D:
    """Per-volume displacements ``(dz, dy, dx)`` on a grid of ``nz x ny x
    nx`` nodes whose outer nodes sit on the outer voxel centres; trilinear
    between nodes, the outer nodes' values beyond them (the 3-D
    :class:`augment_layers.ops.fields.NodeField`).

    Args:
        nodes: ``(B, nz, ny, nx, 3)`` float32 displacements in voxels.
        sizes: the volume's ``(D, H, W)`` (Python ints).
    """

    def __init__(self, nodes, sizes):
        self.nodes = ops.cast(nodes, "float32")
        self.counts = tuple(int(n) for n in nodes.shape[1:4])
        self.sizes = tuple(sizes)
        self.steps = tuple(max(s - 1, 1) / max(n - 1, 1)
                           for s, n in zip(self.sizes, self.counts))

    def on_grid(self, out_sizes):
        """The displacement at every voxel of an output of ``out_sizes``
        (the field's own grid): ``(B, D, H, W, 3)``, by three products with
        constant interpolation matrices (no gather)."""
        field = self.nodes
        for axis, letter in enumerate("zyx"):
            if self.counts[axis] == out_sizes[axis] == self.sizes[axis]:
                continue  # a node per voxel: the identity
            weights = _linear_weights(out_sizes[axis], self.counts[axis],
                                      self.steps[axis])
            spec = {"z": "dn,bnyxc->bdyxc", "y": "dn,bznxc->bzdxc",
                    "x": "dn,bzync->bzydc"}[letter]
            field = ops.einsum(spec, ops.convert_to_tensor(weights), field)
        return field

    def displacement(self, points):
        """``(dz, dy, dx)`` at arbitrary ``points`` (three tensors of one
        shape ``(B, ...)``), by eight lookups in the node table."""
        batch = ops.shape(self.nodes)[0]
        table = computed_once(ops.reshape(self.nodes, (-1, 3)))
        near, weights = [], []
        strides = (self.counts[1] * self.counts[2], self.counts[2], 1)
        for axis, p in enumerate(points):
            u = ops.clip(p / self.steps[axis], 0.0,
                         float(self.counts[axis] - 1))
            u0 = ops.floor(u)
            weights.append((u - u0)[..., None])
            i0 = ops.cast(u0, "int32")
            near.append((i0 * strides[axis], ops.minimum(
                i0 + 1, self.counts[axis] - 1) * strides[axis]))
        base = ops.reshape(ops.arange(batch, dtype="int32")
                           * int(np.prod(self.counts)),
                           (-1,) + (1,) * (len(points[0].shape) - 1))

        def corner(axis, start):
            if axis == 3:
                return fields._take(table, start)
            a = corner(axis + 1, start + near[axis][0])
            b = corner(axis + 1, start + near[axis][1])
            return a + weights[axis] * (b - a)

        d = corner(0, base)
        return d[..., 0], d[..., 1], d[..., 2]


def _linear_weights(size, count, step):
    """``(size, count)`` weights of linear interpolation between ``count``
    nodes ``step`` voxels apart, at voxels ``0 .. size - 1`` (clamped to
    the outer nodes)."""
    u = np.clip(np.arange(size, dtype="float64") / step, 0.0, count - 1.0)
    u0 = np.floor(u).astype(int)
    u1 = np.minimum(u0 + 1, count - 1)
    frac = u - u0
    weights = np.zeros((size, count), "float64")
    weights[np.arange(size), u0] += 1.0 - frac
    weights[np.arange(size), u1] += frac
    return weights.astype("float32")


# -- the sampling map and the resample -----------------------------------
def grid(sizes):
    """The output voxels' indices along each axis, shaped to broadcast:
    ``(1, D, 1, 1)``, ``(1, 1, H, 1)``, ``(1, 1, 1, W)``."""
    out = []
    for axis, size in enumerate(sizes):
        shape = [1, 1, 1, 1]
        shape[axis + 1] = size
        out.append(ops.reshape(ops.cast(ops.arange(size), "float32"), shape))
    return out


def _apply(matrices, points):
    m = ops.cast(matrices, "float32")
    rank = len(points[0].shape)

    def coef(i, j):
        return ops.reshape(m[:, i, j], (-1,) + (1,) * (rank - 1))

    return [coef(i, 0) * points[0] + coef(i, 1) * points[1]
            + coef(i, 2) * points[2] + coef(i, 3) for i in range(3)]


def chain(items):
    """From the per-layer ``items`` in layer order (each a ``(B, 4, 4)``
    matrix or a :class:`NodeField3D`), the steps from the output side,
    consecutive matrices composed into one."""
    return fields.chain_steps(
        items, lambda item: isinstance(item, NodeField3D), compose)


def coordinates(steps, batch, sizes):
    """The source point of every output voxel: three ``(B, D, H, W)``
    float32 tensors. A field met first (on the output grid) is expanded
    from its nodes by products; a field after a matrix is looked up."""
    points = grid(sizes)
    zeros = ops.zeros((batch, 1, 1, 1), "float32")
    points = [p + zeros for p in points]
    on_grid = True
    for step in steps:
        if isinstance(step, NodeField3D):
            if on_grid:
                field = step.on_grid(sizes)
                displacement = [field[..., axis] for axis in range(3)]
            else:
                displacement = step.displacement(points)
            points = [p + d for p, d in zip(points, displacement)]
        else:
            points = _apply(step, points)
        on_grid = False
    return [computed_once(p) for p in points] if any(
        isinstance(s, NodeField3D) for s in steps) else points


def transform(volumes, items, interpolation="bilinear", fill_mode="nearest",
              fill_value=0.0):
    """Resamples ``volumes`` ``(B, D, H, W, C)`` once through ``items`` (in
    layer order: ``(B, 4, 4)`` matrices and fields)."""
    shape = ops.shape(volumes)
    sizes = tuple(volumes.shape[1:4])
    points = coordinates(chain(items), shape[0], sizes)
    return resample.resample_points(volumes, points, interpolation,
                                    fill_mode, fill_value)


def affine_transform(volumes, matrices, interpolation="bilinear",
                     fill_mode="nearest", fill_value=0.0):
    """Resamples ``volumes`` by per-volume ``(B, 4, 4)`` matrices (output
    voxel -> input point), once: ``scipy.ndimage.affine_transform``'s
    convention, per channel."""
    return transform(volumes, [matrices], interpolation, fill_mode,
                     fill_value)
