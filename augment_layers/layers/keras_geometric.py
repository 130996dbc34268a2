"""Keras's geometric layers, as per-image matrices.

``RandomTranslation``, ``RandomZoom``, ``RandomCrop`` and ``CenterCrop``
with Keras 3.15's names, arguments, defaults (``fill_mode="reflect"``) and
meanings. Each is a :class:`GeometricAugmentation`: inside
:class:`augment_layers.Augment` its matrix composes with its geometric
neighbours' into one resample, and masks, boxes and keypoints follow it.
(Keras's own ``RandomRotation`` takes a fraction of a turn; ours takes
degrees: :func:`augment_layers.from_keras` converts.)
"""

import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.layers.random_resized_crop import resize_to_aspect
from augment_layers.layers.random_shift import shift_matrix
from augment_layers.ops import affine
from augment_layers.ops.dispatch import ops


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomTranslation(GeometricAugmentation):
    """Keras's ``RandomTranslation``: each image moves by ``U(height_factor)``
    of its height (positive: down) and ``U(width_factor)`` of its width
    (positive: right).

    Args:
        height_factor: a number ``f`` for ``[-f, f]``, or a pair
            ``(lo, hi)``, fractions of the height within ``[-1, 1]``.
        width_factor: likewise, of the width.
        fill_mode: default ``"reflect"`` (Keras's).
        interpolation, seed, fill_value, data_format, bounding_box_format,
            mask_fill_value: see :class:`GeometricAugmentation`.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation,
                         seed=seed, fill_value=fill_value, **kwargs)
        self.height_factor = v.check_range("height_factor", height_factor,
                                           min_value=-1.0, max_value=1.0)
        self.width_factor = v.check_range("width_factor", width_factor,
                                          min_value=-1.0, max_value=1.0)
        self._config_ranges = {
            "height_factor": v.as_config_range(height_factor),
            "width_factor": v.as_config_range(width_factor)}

    def random_parameters(self, shape, rng):
        return {"dy": rng.uniform(shape[0], *self.height_factor),
                "dx": rng.uniform(shape[0], *self.width_factor)}

    def transformation_matrix(self, t, height, width):
        return shift_matrix(t["dy"], t["dx"], "fraction", height, width)

    def get_config(self):
        return dict(super().get_config(), **self._config_ranges)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomZoom(GeometricAugmentation):
    """Keras's ``RandomZoom``: each image is zoomed about its centre by
    ``1 + U(height_factor)`` vertically and ``1 + U(width_factor)``
    horizontally; a positive factor zooms out, a negative one in.
    ``width_factor=None`` uses the vertical draw for both (the aspect ratio
    is kept).

    Args:
        height_factor: a number ``f`` for ``[-f, f]``, or a pair
            ``(lo, hi)`` with ``lo > -1``.
        width_factor: likewise, or None (default).
        fill_mode: default ``"reflect"`` (Keras's).
        interpolation, seed, fill_value, data_format, bounding_box_format,
            mask_fill_value: see :class:`GeometricAugmentation`.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation,
                         seed=seed, fill_value=fill_value, **kwargs)
        self.height_factor = self._check("height_factor", height_factor)
        self.width_factor = None if width_factor is None else \
            self._check("width_factor", width_factor)
        self._config_ranges = {
            "height_factor": v.as_config_range(height_factor),
            "width_factor": v.as_config_range(width_factor)}

    @staticmethod
    def _check(name, value):
        lo, hi = v.check_range(name, value)
        if lo <= -1.0:
            raise ValueError(
                f"`{name}` must stay > -1 (a zoom of 1 + factor), received "
                f"{name}={value!r}.")
        return lo, hi

    def random_parameters(self, shape, rng):
        zy = 1.0 + rng.uniform(shape[0], *self.height_factor)
        if self.width_factor is None:
            return {"zx": zy, "zy": zy}
        return {"zx": 1.0 + rng.uniform(shape[0], *self.width_factor),
                "zy": zy}

    def transformation_matrix(self, t, height, width):
        return affine.center(affine.zoom(t["zx"], t["zy"]), height, width)

    def get_config(self):
        return dict(super().get_config(), **self._config_ranges)


class _Crop(GeometricAugmentation):
    """A crop to ``(height, width)``: an output size and a matrix."""

    acts_at_inference = True
    # The window lies inside the image: any neighbour's fill and
    # interpolation will do, so a crop fuses with whatever surrounds it.
    resample_options = None

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height = v.check_positive_int("height", height)
        self.width = v.check_positive_int("width", width)

    @property
    def fixed_output_size(self):
        return (self.height, self.width)

    def output_size(self, height, width):
        return self.height, self.width

    def _window(self, shape, offsets):
        """The crop where the input is large enough (``offsets(h_room,
        w_room)`` places it), else Keras's ``smart_resize`` window."""
        b = shape[0]
        h, w = ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")
        fits = ops.logical_and(h >= self.height, w >= self.width)
        y0, x0 = offsets(h - self.height, w - self.width)
        sy0, sx0, sh, sw = affine.aspect_crop(shape[1], shape[2],
                                              self.height, self.width)
        ones = ops.ones((b,), "float32")
        return {"y0": ops.where(fits, y0, sy0) * ones,
                "x0": ops.where(fits, x0, sx0) * ones,
                "crop_height": ops.where(fits, float(self.height), sh) * ones,
                "crop_width": ops.where(fits, float(self.width), sw) * ones}

    def transformation_matrix(self, t, height, width):
        return affine.crop_and_resize(t["x0"], t["y0"], t["crop_width"],
                                      t["crop_height"], self.height,
                                      self.width)

    def get_config(self):
        return dict(super().get_config(), height=self.height,
                    width=self.width)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomCrop(_Crop):
    """Keras's ``RandomCrop``: a ``(height, width)`` window at a whole-pixel
    place drawn per image (Keras 3.15 draws one per batch). An input smaller
    than the window, and every input at inference, goes through
    ``keras.layers.Resizing(height, width, crop_to_aspect_ratio=True)``, as
    Keras documents (Keras 3.15's code cuts a window of the target's size
    from a smaller input and stretches it).

    Args:
        height, width: the output size.
        interpolation (of the resizing), seed, data_format,
            bounding_box_format, mask_fill_value: see
            :class:`GeometricAugmentation`.
    """

    def random_parameters(self, shape, rng):
        b = shape[0]

        def offsets(h_room, w_room):
            y0 = ops.floor(rng.uniform(b, 0.0, 1.0) * (h_room + 1.0))
            x0 = ops.floor(rng.uniform(b, 0.0, 1.0) * (w_room + 1.0))
            return ops.minimum(y0, h_room), ops.minimum(x0, w_room)

        return self._window(shape, offsets)

    def infer(self, data):
        return resize_to_aspect(data, self.height, self.width,
                                self.interpolation, self.mask_fill_value)


@keras.saving.register_keras_serializable(package=PACKAGE)
class CenterCrop(_Crop):
    """Keras's ``CenterCrop``: the central ``(height, width)`` window
    (offsets ``(H - height) // 2``, ``(W - width) // 2``); an input smaller
    than it is resized as by ``Resizing(height, width,
    crop_to_aspect_ratio=True)``. The same at training and inference; in
    :class:`augment_layers.Augment` it fuses with its geometric neighbours.

    Args:
        height, width: the output size.
        interpolation (of the resizing), data_format, bounding_box_format,
            mask_fill_value: see :class:`GeometricAugmentation`.
    """

    def random_parameters(self, shape, rng):
        return self._window(shape, lambda h_room, w_room: (
            ops.floor(h_room / 2.0), ops.floor(w_room / 2.0)))

    def infer(self, data):
        from augment_layers.layers import draws
        from augment_layers.layers.base import geometric_run

        shape = ops.shape(data["images"])
        t = self.random_parameters((shape[0], shape[1], shape[2], shape[3]),
                                   draws.Stream((0, 0)))
        return geometric_run([self], [t], data)
