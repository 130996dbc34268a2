"""3-D layers: volumes ``(B, D, H, W, C)``, moved and fused in one resample.

Thin layers over :mod:`augment_layers.ops.volume`. The geometric ones
(:class:`RandomAffine3D`, :class:`RandomFlip3D`,
:class:`RandomElasticTransform3D`) give per-volume ``(B, 4, 4)`` matrices or
a displacement field; the executor composes a run of them into one sampling
map and resamples the volume once (trilinear: eight gathers), its
segmentation masks once more (nearest). :class:`Augment3D` holds them with
the intensity layers. Everything else is the 2-D machinery: one random path
(per-volume ``(B,)`` draws), one compiled call, saved in safe mode.
"""

import math
import numbers

import keras

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.augment import Augment
from augment_layers.layers.base import PACKAGE, BaseAugmentation
from augment_layers.ops import fields
from augment_layers.ops import resample
from augment_layers.ops import volume
from augment_layers.ops.dispatch import ops

AXES = (0, 1, 2)


class VolumeAugmentation(BaseAugmentation):
    """Base of the 3-D layers: a 5-D batch is a batch of volumes (a 4-D
    input, one volume); ``random_parameters`` receives ``(B, D, H, W,
    C)``."""

    spatial_rank = 3


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def per_axis_ranges(name, value, symmetric_around=0.0, **bounds):
    """``(ranges, per_axis)``: three ``(lo, hi)`` ranges, one per spatial
    axis, from a number or pair (the same range for every axis) or a
    sequence of three numbers or pairs (one per axis)."""
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return tuple(v.check_range(f"{name}[{axis}]", item,
                                   symmetric_around=symmetric_around,
                                   **bounds)
                     for axis, item in enumerate(value)), True
    if _is_number(value) or (isinstance(value, (tuple, list))
                             and len(value) == 2):
        single = v.check_range(name, value,
                               symmetric_around=symmetric_around, **bounds)
        return (single,) * 3, False
    raise ValueError(
        f"`{name}` must be a number, a pair (lo, hi), or a sequence of three "
        f"of them (depth, height, width), received {name}={value!r}.")


def _config_value(value):
    if isinstance(value, (tuple, list)):
        return [_config_value(item) for item in value]
    return float(value) if _is_number(value) else value


def check_spacing(spacing):
    if spacing is None:
        return None
    if not (isinstance(spacing, (tuple, list)) and len(spacing) == 3
            and all(_is_number(s) and math.isfinite(s) and s > 0
                    for s in spacing)):
        raise ValueError(
            "`spacing` must be None or three positive numbers (dz, dy, dx), "
            f"the voxel size along depth, height and width; received "
            f"spacing={spacing!r}.")
    return tuple(float(s) for s in spacing)


def check_axes(name, axes):
    if not (isinstance(axes, (tuple, list)) and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool)
            and a in AXES for a in axes) and len(set(axes)) == len(axes)):
        raise ValueError(
            f"`{name}` must list distinct spatial axes among 0 (depth), 1 "
            f"(height) and 2 (width), received {name}={axes!r}.")
    return tuple(int(a) for a in axes)


def _static_sizes(layer, shape):
    sizes = tuple(shape[1:4])
    if not all(isinstance(s, int) for s in sizes):
        raise ValueError(
            f"{layer.name} needs the volume's depth, height and width known "
            f"when traced; received volumes of shape {tuple(shape)}.")
    return sizes


class GeometricAugmentation3D(VolumeAugmentation):
    """Base of the 3-D layers that move voxels: per-volume ``(B, 4, 4)``
    matrices (:meth:`transformation_matrix`, output voxel -> input point),
    composed with their neighbours' into one resample.

    Args:
        interpolation: ``"bilinear"`` (trilinear, the default) or
            ``"nearest"``.
        fill_mode: ``"nearest"`` (default), ``"constant"``, ``"reflect"``
            or ``"wrap"`` (scipy's ``nearest``, ``constant``, ``reflect``,
            ``grid-wrap``).
        fill_value: the value of ``"constant"`` fill.
        mask_fill_value: what ``"constant"`` fill writes into
            ``"segmentation_masks"`` (default 0); label maps always use
            nearest sampling.
        spacing: ``(dz, dy, dx)``, the voxel size (default isotropic):
            rotations and shears turn physical space.
        seed, data_format: see :class:`BaseAugmentation`.
    """

    resamples = True
    composes_matrices = True
    may_rotate = True

    def __init__(self, interpolation="bilinear", fill_mode="nearest",
                 fill_value=0.0, mask_fill_value=0, spacing=None, **kwargs):
        super().__init__(**kwargs)
        self.interpolation = v.check_choice("interpolation", interpolation,
                                            resample.INTERPOLATIONS)
        self.fill_mode = v.check_choice("fill_mode", fill_mode,
                                        resample.FILL_MODES)
        self.fill_value = v.check_number("fill_value", fill_value)
        self.mask_fill_value = v.check_number("mask_fill_value",
                                              mask_fill_value)
        self.spacing = check_spacing(spacing)

    @property
    def resample_options(self):
        return (self.interpolation, self.fill_mode, self.fill_value,
                self.mask_fill_value)

    def transformation_matrix(self, transformation, sizes):
        """Per-volume ``(B, 4, 4)`` matrices for a volume of ``sizes``."""
        raise NotImplementedError

    def transform_data(self, data, transformation):
        return self.geometric_run([self], [transformation], data)

    def transform_images(self, images, transformation):
        return self.transform_data({targets.IMAGES: images},
                                   transformation)[targets.IMAGES]

    @staticmethod
    def geometric_run(layers, transformations, data, wide_source=False):
        """Moves ``data`` by a run of 3-D geometric ``layers``: their
        matrices and fields in one sampling map, one resample of the
        volumes, one (nearest) of the masks."""
        for key in (targets.BOXES, targets.KEYPOINTS):
            if key in data:
                raise ValueError(
                    f"The 3-D layers move volumes and their "
                    f"'segmentation_masks'; they do not take {key!r}.")
        images = data[targets.IMAGES]
        sizes = _static_sizes(layers[0], images.shape)
        items = [layer.field(t, sizes) if layer.displaces
                 else layer.transformation_matrix(t, sizes)
                 for layer, t in zip(layers, transformations)]
        first = layers[0]
        points = volume.coordinates(volume.chain(items),
                                    ops.shape(images)[0], sizes)
        out = dict(data)
        out[targets.IMAGES] = resample.resample_points(
            images, points, first.interpolation, first.fill_mode,
            first.fill_value)
        if targets.MASKS in data:
            out[targets.MASKS] = resample.resample_points(
                data[targets.MASKS], points, "nearest", first.fill_mode,
                first.mask_fill_value)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"interpolation": self.interpolation,
                       "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value,
                       "mask_fill_value": self.mask_fill_value,
                       "spacing": None if self.spacing is None
                       else list(self.spacing)})
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomAffine3D(GeometricAugmentation3D):
    """Random 3-D rotations, shifts, zooms, shears and flips of volumes,
    one ``(B, 4, 4)`` matrix per volume, about the volume centre.

    Per-axis arguments list the spatial axes in order (0 = depth, 1 =
    height, 2 = width): a number or pair is one range for every axis (drawn
    independently per axis), a sequence of three gives one per axis.

    The matrix (output -> input, in physical centred coordinates) is
    ``R0 R1 R2 T Sh0 Sh1 Sh2 Z F``, as the 2-D ``RandomAffine`` composes:
    ``Rk`` turns about axis ``k`` (a turn about the depth axis is the 2-D
    ``RandomRotation``'s on every depth slice), ``T`` shifts, ``Shk``
    shears the plane about axis ``k``, ``Z`` zooms, ``F`` flips.

    Args:
        rotation_range: degrees; a number ``r`` means ``U(-r, r)``.
        shift_range: fractions of each axis; positive moves content to
            higher indices.
        zoom_range: ImageDataGenerator's convention (below 1 magnifies); a
            number ``z`` means ``U(1 - z, 1 + z)``. A number or pair draws
            one zoom per volume for every axis (isotropic); three give one
            draw per axis.
        shear_range: degrees, within ``(-89, 89)``.
        flip_axes: the axes each flipped with probability 1/2 per volume.
        interpolation, fill_mode, fill_value, mask_fill_value, spacing,
            seed, data_format: see :class:`GeometricAugmentation3D`.

    Example:
    >>> layer = RandomAffine3D(rotation_range=(10, 0, 0), zoom_range=0.1,
    ...                        spacing=(2.5, 1.0, 1.0))
    """

    def __init__(self, rotation_range=0.0, shift_range=0.0, zoom_range=0.0,
                 shear_range=0.0, flip_axes=(), **kwargs):
        super().__init__(**kwargs)
        self.rotation_range, _ = per_axis_ranges("rotation_range",
                                                 rotation_range)
        self.shift_range, _ = per_axis_ranges("shift_range", shift_range)
        self.zoom_range, self.zoom_per_axis = per_axis_ranges(
            "zoom_range", zoom_range, symmetric_around=1.0)
        for lo, _hi in self.zoom_range:
            if lo <= 0:
                raise ValueError(
                    "`zoom_range` must stay above 0, received "
                    f"zoom_range={zoom_range!r}.")
        self.shear_range, _ = per_axis_ranges(
            "shear_range", shear_range, min_value=-89.0, max_value=89.0)
        self.flip_axes = check_axes("flip_axes", flip_axes)
        self._config_ranges = {
            "rotation_range": _config_value(rotation_range),
            "shift_range": _config_value(shift_range),
            "zoom_range": _config_value(zoom_range),
            "shear_range": _config_value(shear_range)}

    def random_parameters(self, shape, rng):
        b = shape[0]
        t = {f"rotation{k}": rng.uniform(b, *self.rotation_range[k])
             for k in AXES}
        t.update({f"shift{k}": rng.uniform(b, *self.shift_range[k])
                  for k in AXES})
        t.update({f"shear{k}": rng.uniform(b, *self.shear_range[k])
                  for k in AXES})
        if self.zoom_per_axis:
            t.update({f"zoom{k}": rng.uniform(b, *self.zoom_range[k])
                      for k in AXES})
        else:
            zoom = rng.uniform(b, *self.zoom_range[0])
            t.update({f"zoom{k}": zoom for k in AXES})
        no = ops.zeros((b,), "bool")
        t.update({f"flip{k}": rng.bernoulli(b) if k in self.flip_axes
                  else no for k in AXES})
        return t

    def transformation_matrix(self, t, sizes):
        spacing = self.spacing or (1.0, 1.0, 1.0)
        # Content moves by +shift: the output samples p - shift (physical).
        offsets = [-t[f"shift{k}"] * (sizes[k] * spacing[k]) for k in AXES]
        centred = volume.compose(
            *[volume.rotation(k, t[f"rotation{k}"]) for k in AXES],
            volume.translation(offsets),
            *[volume.shear(k, t[f"shear{k}"]) for k in AXES],
            volume.scaling([t[f"zoom{k}"] for k in AXES]),
            volume.flip([t[f"flip{k}"] for k in AXES]))
        return volume.center(volume.physical(centred, self.spacing), sizes)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_ranges)
        config["flip_axes"] = list(self.flip_axes)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomFlip3D(GeometricAugmentation3D):
    """Flips each listed axis of a volume with ``probability``, per volume
    and per axis; exact (voxel centres land on voxel centres).

    Args:
        axes: spatial axes to flip (0 = depth, 1 = height, 2 = width);
            default all three.
        probability: of each flip (default 0.5).
        interpolation, fill_mode, fill_value, mask_fill_value, spacing,
            seed, data_format: see :class:`GeometricAugmentation3D` (they
            matter only where the flip fuses with other layers).
    """

    may_rotate = False

    def __init__(self, axes=AXES, probability=0.5, **kwargs):
        super().__init__(**kwargs)
        self.axes = check_axes("axes", axes)
        if not (_is_number(probability) and 0.0 <= probability <= 1.0):
            raise ValueError(
                "`probability` must be a number within [0, 1], received "
                f"probability={probability!r}.")
        self.probability = float(probability)

    def random_parameters(self, shape, rng):
        b = shape[0]
        no = ops.zeros((b,), "bool")
        return {f"flip{k}": rng.bernoulli(b, self.probability)
                if k in self.axes else no for k in AXES}

    def transformation_matrix(self, t, sizes):
        return volume.center(volume.flip([t[f"flip{k}"] for k in AXES]),
                             sizes)

    def get_config(self):
        config = super().get_config()
        config.update({"axes": list(self.axes),
                       "probability": self.probability})
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomElasticTransform3D(GeometricAugmentation3D):
    """The 2-D :class:`~augment_layers.RandomElasticTransform` in three
    dimensions, per volume and fused.

    Each volume is displaced by a random field: white noise on a grid of
    nodes, blurred by a Gaussian of ``sigma = 0.05 * s * min(D, H, W)``
    voxels, each of the three components scaled so that it has the 2-D
    layer's standard deviation at the same ``alpha = 0.1 * s * max(D, H,
    W)`` (about ``0.28 * alpha`` voxels), with ``s`` drawn from ``scale``
    per volume; trilinear between nodes three to the largest sigma. A
    volume is distorted with probability ``p``, itself drawn per volume
    from ``factor`` (Keras's meaning). The field is in voxels (``spacing``
    does not stretch it).

    Args:
        factor, scale, value_range: the 2-D layer's (Keras's).
        interpolation: ``"bilinear"`` (trilinear, default) or ``"nearest"``.
        fill_mode: default ``"reflect"`` (Keras's).
        fill_value, mask_fill_value, seed, data_format: see
            :class:`GeometricAugmentation3D`.
    """

    displaces = True

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, value_range=(0, 255),
                 **kwargs):
        if kwargs.pop("spacing", None) is not None:
            raise ValueError(
                "RandomElasticTransform3D's field is drawn in voxels; it "
                "takes no `spacing`.")
        super().__init__(interpolation=interpolation, fill_mode=fill_mode,
                         fill_value=fill_value, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self.scale = v.check_factor("scale", scale)
        self.value_range = v.check_value_range(value_range)
        self._config_ranges = {"factor": v.as_config_range(factor),
                               "scale": v.as_config_range(scale)}

    def _sigma_alpha(self, s, sizes):
        return 0.05 * min(sizes) * s, 0.1 * max(sizes) * s

    def random_parameters(self, shape, rng):
        batch = shape[0]
        sizes = _static_sizes(self, shape)
        sigma_max = self._sigma_alpha(self.scale[1], sizes)[0]
        counts = tuple(fields.node_count(size, sigma_max) for size in sizes)
        probability = rng.uniform(batch, *self.factor)
        apply = rng.uniform(batch, 0.0, 1.0) < probability
        s = ops.where(apply, rng.uniform(batch, *self.scale), 0.0)
        # Box-Muller: two standard normals per (radius, angle) pair; three
        # per node, so 1.5 pairs a node (the draws cost more than the blur).
        nodes = counts[0] * counts[1] * counts[2]
        pairs = (3 * nodes + 1) // 2
        radius = ops.sqrt(-2.0 * ops.log(ops.maximum(
            rng.uniform(batch, 0.0, 1.0, (pairs,)), 1e-12)))
        angle = rng.uniform(batch, 0.0, 2.0 * math.pi, (pairs,))
        normals = ops.concatenate([radius * ops.cos(angle),
                                   radius * ops.sin(angle)], axis=-1)
        normals = ops.reshape(normals[:, :3 * nodes], (-1,) + counts + (3,))
        return {"scale": s, "noise": normals}

    def field(self, t, sizes):
        sigma, alpha = self._sigma_alpha(t["scale"], sizes)
        sigma_max = self._sigma_alpha(self.scale[1], sizes)[0]
        nodes = fields.elastic_nodes(t["noise"], alpha, sigma, sigma_max,
                                     sizes)
        return volume.NodeField3D(nodes, sizes)

    def get_config(self):
        config = dict(super().get_config(),
                      value_range=list(self.value_range),
                      **self._config_ranges)
        config.pop("spacing", None)
        return config


class _Intensity(VolumeAugmentation):
    """One random value per volume, drawn from ``value_range``-free
    ``(lo, hi)`` ranges."""

    def __init__(self, factor_range, **kwargs):
        super().__init__(**kwargs)
        self._config_range = v.as_config_range(factor_range)

    def random_parameters(self, shape, rng):
        return {"value": rng.uniform(shape[0], *self.range)}

    def transform_images(self, images, t):
        value = ops.reshape(ops.cast(t["value"], images.dtype),
                            (-1,) + (1,) * (len(images.shape) - 1))
        return self.apply(images, value)

    def get_config(self):
        config = super().get_config()
        config[self.argument] = self._config_range
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomIntensityScale(_Intensity):
    """Multiplies each volume by a factor drawn per volume (MONAI's
    ``RandScaleIntensity`` with the factor as the multiplier).

    Args:
        factor_range: a number ``f`` for ``U(1 - f, 1 + f)``, or a pair
            ``(lo, hi)`` of multipliers.
        seed, data_format: see :class:`BaseAugmentation`.
    """

    argument = "factor_range"

    def __init__(self, factor_range=0.1, **kwargs):
        super().__init__(factor_range, **kwargs)
        self.range = v.check_range("factor_range", factor_range,
                                   symmetric_around=1.0)

    def apply(self, images, value):
        return images * value


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomIntensityShift(_Intensity):
    """Adds an offset drawn per volume (MONAI's ``RandShiftIntensity``).

    Args:
        offset_range: a number ``o`` for ``U(-o, o)``, or a pair.
        seed, data_format: see :class:`BaseAugmentation`.
    """

    argument = "offset_range"

    def __init__(self, offset_range=0.1, **kwargs):
        super().__init__(offset_range, **kwargs)
        self.range = v.check_range("offset_range", offset_range)

    def apply(self, images, value):
        return images + value


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomGamma(_Intensity):
    """A gamma curve per volume, within the volume's own range (MONAI's
    ``RandAdjustContrast``): ``x -> ((x - min) / (max - min)) ** gamma *
    (max - min) + min``, ``min`` and ``max`` over the whole volume.

    Args:
        gamma_range: a number ``g`` for ``U(1 - g, 1 + g)`` (``g < 1``), or
            a pair ``(lo, hi)`` of positive exponents.
        seed, data_format: see :class:`BaseAugmentation`.
    """

    argument = "gamma_range"
    pointwise = False  # reads the volume's minimum and maximum

    def __init__(self, gamma_range=(0.7, 1.5), **kwargs):
        super().__init__(gamma_range, **kwargs)
        self.range = v.check_range("gamma_range", gamma_range,
                                   symmetric_around=1.0)
        if self.range[0] <= 0:
            raise ValueError(
                "`gamma_range` must stay above 0, received "
                f"gamma_range={gamma_range!r}.")

    def apply(self, images, gamma):
        axes = tuple(range(1, len(images.shape)))
        low = ops.min(images, axis=axes, keepdims=True)
        span = ops.max(images, axis=axes, keepdims=True) - low
        safe = ops.where(span > 0, span, ops.ones_like(span))
        unit = ops.clip((images - low) / safe, 0.0, 1.0)
        return ops.power(unit, gamma) * span + low


@keras.saving.register_keras_serializable(package=PACKAGE)
class Augment3D(Augment):
    """:class:`~augment_layers.Augment` for volumes: its 3-D geometric
    layers (consecutive, sharing interpolation and fill) compose into one
    sampling map and one trilinear resample; intensity layers run in the
    same compiled call. Segmentation masks follow (nearest). Neighbours
    that ask for different ``interpolation`` or ``fill_mode`` resample
    apart (the elastic layer's default fill is Keras's ``"reflect"``).

    Example:
    >>> augment = Augment3D([RandomAffine3D(rotation_range=15,
    ...                                     zoom_range=0.1,
    ...                                     fill_mode="reflect"),
    ...                      RandomElasticTransform3D(scale=0.5),
    ...                      RandomIntensityScale(0.1)])
    """

    spatial_rank = 3
