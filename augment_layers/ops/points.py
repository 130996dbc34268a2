"""Points in continuous image coordinates, and how a transform moves them.

The one place that knows the pixel-centre convention. Targets (keypoints,
box corners) use continuous coordinates: the image spans ``[0, W] x [0, H]``
and pixel (row ``i``, column ``j``) covers ``[j, j+1] x [i, i+1]``, its
centre at ``(j + 0.5, i + 0.5)``. The resampler's matrices work on pixel
*indices* (a pixel's centre at ``(j, i)``) and map output -> input; a target
moves input -> output, so it goes through the matrix's inverse, between
shifts of half a pixel.
"""

from augment_layers.ops.dispatch import ops

from augment_layers.ops import affine
from augment_layers.ops import fields

# Continuous coordinate of the centre of the pixel with index 0.
PIXEL_CENTER = 0.5


def transform(points, matrices):
    """Moves ``(B, N, 2)`` points ``(x, y)`` as the resampler moves content.

    Args:
        points: ``(B, N, 2)`` float tensor of ``(x, y)`` in continuous image
            coordinates (see the module docstring).
        matrices: ``(B, 3, 3)`` output -> input pixel-index matrices, as given
            to :func:`augment_layers.ops.resample.affine_transform`; the last
            row may be projective (the divide is applied); or a
            :class:`~augment_layers.ops.fields.SamplingMap`, whose fields
            are inverted (:meth:`~augment_layers.ops.fields.SamplingMap.
            forward`).

    Returns:
        ``(B, N, 2)`` float32 points in the output image's coordinates, not
        clipped.
    """
    p = ops.cast(points, "float32") - PIXEL_CENTER
    x, y = p[..., 0], p[..., 1]
    if isinstance(matrices, fields.SamplingMap):
        nx, ny = matrices.forward(x, y)
        return ops.stack([nx, ny], axis=-1) + PIXEL_CENTER
    forward = affine.invert(matrices)

    def coef(i, j):
        return forward[:, i, j][:, None]

    w = coef(2, 0) * x + coef(2, 1) * y + coef(2, 2)
    nx = (coef(0, 0) * x + coef(0, 1) * y + coef(0, 2)) / w
    ny = (coef(1, 0) * x + coef(1, 1) * y + coef(1, 2)) / w
    return ops.stack([nx, ny], axis=-1) + PIXEL_CENTER
