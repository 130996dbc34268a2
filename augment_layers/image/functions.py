"""tf_keras's module-level image helpers, drop-in.

``from tf_keras.preprocessing import image`` -> ``from augment_layers import
image``: ``random_rotation``, ``random_shift``, ``random_shear``,
``random_zoom``, ``random_channel_shift``, ``apply_channel_shift``,
``random_brightness``, ``apply_brightness_shift``, ``apply_affine_transform``
and ``flip_axis`` keep their signatures (one image; axes given by
``row_axis``, ``col_axis``, ``channel_axis``, channels first by default),
their draws from NumPy's global generator in the same order, and their
meanings, with the classes' two differences: height is height
(``random_shift``'s ``hrg`` moves rows), and rotations, shears and zooms turn
about the true centre of a non-square image. The geometry goes through the
package's resampler (``scipy.ndimage`` is not needed). ``load_img``,
``img_to_array``, ``array_to_img`` and ``save_img`` are Keras 3's
(``keras.utils``).

Adapted from tf_keras's ``tf_keras/src/preprocessing/image.py`` (Copyright
2015 The TensorFlow Authors, Apache License 2.0).
"""

import numpy as np
from keras.utils import array_to_img
from keras.utils import img_to_array
from keras.utils import load_img
from keras.utils import save_img

from augment_layers.migration import ORDER_TO_INTERPOLATION

__all__ = ["random_rotation", "random_shift", "random_shear", "random_zoom",
           "random_channel_shift", "apply_channel_shift",
           "random_brightness", "apply_brightness_shift",
           "apply_affine_transform", "flip_axis", "load_img", "img_to_array",
           "array_to_img", "save_img"]


def flip_axis(x, axis):
    """``x`` reversed along ``axis``."""
    x = np.asarray(x).swapaxes(axis, 0)
    x = x[::-1, ...]
    return x.swapaxes(0, axis)


def _check_axes(x, row_axis, col_axis, channel_axis):
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(
            f"Expected one image of rank 3, received an input of shape "
            f"{x.shape}.")
    axes = [a % 3 for a in (row_axis, col_axis, channel_axis)]
    if sorted(axes) != [0, 1, 2]:
        raise ValueError(
            f"row_axis, col_axis and channel_axis must be three different "
            f"axes of a rank-3 image, received {row_axis}, {col_axis}, "
            f"{channel_axis}.")
    return x, axes


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1,
                           row_axis=1, col_axis=2, channel_axis=0,
                           fill_mode="nearest", cval=0.0, order=1):
    """Applies an affine transformation to one image, as tf_keras's.

    Args:
        x: one image (rank 3).
        theta: rotation angle in degrees (counter-clockwise).
        tx: shift along columns (the output samples column ``x + tx``).
        ty: shift along rows.
        shear: shear angle in degrees.
        zx, zy: zoom of the columns and of the rows.
        row_axis, col_axis, channel_axis: the image's axes.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or
            ``"wrap"`` (truly periodic).
        cval: the ``"constant"`` fill.
        order: interpolation order, 0 (nearest) or 1 (bilinear).

    Returns:
        The transformed image, float, in ``x``'s layout.
    """
    import keras

    from augment_layers.ops import affine
    from augment_layers.ops import resample

    if order not in ORDER_TO_INTERPOLATION:
        raise ValueError(
            f"`order` must be 0 (nearest) or 1 (bilinear), received "
            f"order={order!r}.")
    x, axes = _check_axes(x, row_axis, col_axis, channel_axis)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype("float32")
    image = np.moveaxis(x, axes, [0, 1, 2]).astype("float32")
    height, width = image.shape[0], image.shape[1]
    matrix = affine.center(affine.image_data_generator_matrix(
        theta=[theta], tx=[tx], ty=[ty], shear_degrees=[shear], zx=[zx],
        zy=[zy]), height, width)
    out = keras.ops.convert_to_numpy(resample.affine_transform(
        image[None], matrix, ORDER_TO_INTERPOLATION[order], fill_mode,
        cval))[0]
    return np.moveaxis(out, [0, 1, 2], axes).astype(dtype)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0,
                    fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Rotates one image by ``U(-rg, rg)`` degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(
        x, theta=theta, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Shifts one image by ``U(-hrg, hrg)`` of its height (rows) and
    ``U(-wrg, wrg)`` of its width (columns); tf_keras's moved the rows by
    the width range and the columns by the height range."""
    x, axes = _check_axes(x, row_axis, col_axis, channel_axis)
    h, w = x.shape[row_axis], x.shape[col_axis]
    ty = np.random.uniform(-hrg, hrg) * h  # drawn first, as in tf_keras
    tx = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(
        x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Shears one image by ``U(-intensity, intensity)`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(
        x, shear=shear, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0,
                fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Zooms one image by ``zx, zy ~ U(zoom_range)`` (below 1 magnifies)."""
    if len(zoom_range) != 2:
        raise ValueError(
            "`zoom_range` should be a tuple or list of two floats. "
            f"Received: {zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(
        x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds ``intensity`` to every channel, clipped to the image's own
    minimum and maximum (tf_keras's)."""
    x = np.rollaxis(np.asarray(x), channel_axis, 0)
    min_x, max_x = np.min(x), np.max(x)
    channel_images = [np.clip(x_channel + intensity, min_x, max_x)
                      for x_channel in x]
    x = np.stack(channel_images, axis=0)
    return np.rollaxis(x, 0, channel_axis + 1)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """:func:`apply_channel_shift` by ``U(-intensity_range,
    intensity_range)``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """PIL's ``ImageEnhance.Brightness(brightness)`` on one image, through
    8 bits, as tf_keras's."""
    from PIL import ImageEnhance

    x = np.asarray(x)
    x_min, x_max = np.min(x), np.max(x)
    local_scale = (x_min < 0) or (x_max > 255)
    image = array_to_img(x, scale=local_scale or scale)
    image = ImageEnhance.Brightness(image).enhance(brightness)
    x = img_to_array(image)
    if not scale and local_scale:
        x = x / 255 * (x_max - x_min) + x_min
    return x


def random_brightness(x, brightness_range, scale=True):
    """:func:`apply_brightness_shift` by ``U(*brightness_range)``."""
    if len(brightness_range) != 2:
        raise ValueError(
            "`brightness_range should be tuple or list of two floats. "
            f"Received: {brightness_range}")
    u = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale)
