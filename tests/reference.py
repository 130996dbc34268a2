"""References the tests compare against: tf_keras's ImageDataGenerator and scipy."""

import numpy as np
import scipy.ndimage as ndi

SCIPY_MODE = {"nearest": "nearest", "reflect": "reflect",
              "wrap": "grid-wrap", "constant": "constant"}


def idg_apply(image, params, fill_mode="nearest", cval=0.0, order=1):
    """tf_keras ``ImageDataGenerator().apply_transform`` on one HWC image."""
    from tf_keras.preprocessing.image import ImageDataGenerator

    gen = ImageDataGenerator(fill_mode=fill_mode, cval=cval,
                             interpolation_order=order)
    return gen.apply_transform(np.array(image, dtype="float64"), params)


def idg_matrix(theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0):
    """ImageDataGenerator's R @ T @ Sh @ Z in (x=col, y=row), uncentred."""
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0],
                    [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    sh = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    zoom = np.diag([zx, zy, 1.0])
    return rot @ shift @ sh @ zoom


def centred(matrix, height, width):
    cx, cy = (width - 1) / 2, (height - 1) / 2
    c = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1.0]])
    return c @ matrix @ np.linalg.inv(c)


def scipy_affine(image, matrix_xy, fill_mode="nearest", cval=0.0, order=1):
    """``scipy.ndimage.affine_transform`` of an HWC image by an (x, y) matrix."""
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1.0]])
    m = swap @ matrix_xy @ swap  # to (row, col)
    image = np.asarray(image, dtype="float64")
    return np.stack([
        ndi.affine_transform(image[..., c], m[:2, :2], m[:2, 2], order=order,
                             mode=SCIPY_MODE[fill_mode], cval=cval)
        for c in range(image.shape[-1])], axis=-1)


def smooth_image(rng, height, width, channels=3, scale=255.0):
    """A smooth random image: bilinear references agree tightly on it."""
    small = rng.uniform(0, scale, (max(2, height // 4), max(2, width // 4),
                                   channels))
    zoom = (height / small.shape[0], width / small.shape[1], 1)
    img = ndi.zoom(small, zoom, order=1, mode="nearest")[:height, :width]
    return np.clip(img, 0, scale).astype("float32")


def away_from_fill_border(fill_mask):
    """Pixels not on the edge of a constant-fill region (API: 'away from the
    border'), where float round-off decides between fill and image."""
    edge = ndi.binary_dilation(fill_mask) & ~ndi.binary_erosion(fill_mask)
    return ~edge
