"""Elastic and grid distortion: displacement fields inside the one resample.

``RandomElasticTransform`` has Keras 3.15's name, arguments, defaults and
meaning; ``RandomGridDistortion`` is albumentations's ``GridDistortion``.
Both are :class:`~augment_layers.layers.base.FieldAugmentation` layers:
inside :class:`augment_layers.Augment`, the matrices of the geometric layers
around them and their field compose into one sampling map, so the image is
gathered once (:mod:`augment_layers.ops.fields`). Masks follow the image
(nearest); keypoints and points along box edges move by the inverse map.
"""

import math

import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, FieldAugmentation
from augment_layers.ops import fields
from augment_layers.ops.dispatch import ops


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomElasticTransform(FieldAugmentation):
    """Keras's ``RandomElasticTransform``, per image and fused.

    Each image is displaced by a random field: white noise blurred by a
    Gaussian of ``sigma = 0.05 * s * min(H, W)`` pixels and scaled so that
    the displacement is Keras's, ``alpha = 0.1 * s * max(H, W)`` times the
    blurred noise times ``sigma`` (a displacement of about ``0.28 * alpha``
    pixels, standard deviation), with ``s`` drawn from ``scale`` per image.
    An image is distorted with probability ``p``, itself drawn per image
    from ``factor`` (Keras's meaning: the default ``factor=1.0``, i.e.
    ``(0, 1)``, distorts half of the images).

    Where Keras differs (each named here): Keras draws ``s`` once per
    batch, and draws the same noise for both components, so its
    displacements all point along one diagonal; here ``s`` is drawn per
    image and the two components are independent. The field is drawn on a
    grid of nodes three to the largest sigma and is bilinear between them
    (:data:`augment_layers.ops.fields.NODES_PER_SIGMA`): at the nodes it
    has the distribution of Keras's dense field; between them it differs
    from a dense field by 1.4 % of its standard deviation (RMS). Keras
    clips the output to ``value_range``; a bilinear or nearest resample
    never leaves the input's range, so ``value_range`` only documents it
    (a constant ``fill_value`` is written as given).

    Args:
        factor: the probability of distorting an image: a number ``f`` for
            ``U(0, f)``, or a pair within ``[0, 1]``. Default 1.0.
        scale: the magnitude ``s``: a number for ``U(0, s)``, or a pair
            within ``[0, 1]``. Default 1.0.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: default ``"reflect"`` (Keras's).
        fill_value: the value of ``"constant"`` fill.
        value_range: accepted, as Keras's (see above).
        seed, data_format, bounding_box_format, mask_fill_value: see
            :class:`~augment_layers.layers.base.GeometricAugmentation`.
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(fill_mode=fill_mode, fill_value=fill_value,
                         interpolation=interpolation, seed=seed, **kwargs)
        self.factor = v.check_factor("factor", factor)
        self.scale = v.check_factor("scale", scale)
        self.value_range = v.check_value_range(value_range)
        self._config_ranges = {"factor": v.as_config_range(factor),
                               "scale": v.as_config_range(scale)}

    def _sigma_alpha(self, s, height, width):
        return (0.05 * min(height, width) * s,
                0.1 * max(height, width) * s)

    def random_parameters(self, shape, rng):
        batch = shape[0]
        height, width = self.static_size(shape)
        sigma_max = self._sigma_alpha(self.scale[1], height, width)[0]
        ny = fields.node_count(height, sigma_max)
        nx = fields.node_count(width, sigma_max)
        probability = rng.uniform(batch, *self.factor)
        apply = rng.uniform(batch, 0.0, 1.0) < probability
        s = ops.where(apply, rng.uniform(batch, *self.scale), 0.0)
        # Box-Muller's pair: two independent standard normals per node.
        radius = ops.sqrt(-2.0 * ops.log(ops.maximum(
            rng.uniform(batch, 0.0, 1.0, (ny, nx)), 1e-12)))
        angle = rng.uniform(batch, 0.0, 2.0 * math.pi, (ny, nx))
        noise = ops.stack([radius * ops.cos(angle), radius * ops.sin(angle)],
                          axis=-1)
        return {"scale": s, "noise": noise}

    def field(self, t, height, width):
        sigma, alpha = self._sigma_alpha(t["scale"], height, width)
        sigma_max = self._sigma_alpha(self.scale[1], height, width)[0]
        nodes = fields.elastic_nodes(t["noise"], alpha, sigma, sigma_max,
                                     (height, width))
        return fields.NodeField(nodes, height, width)

    def get_config(self):
        return dict(super().get_config(), value_range=list(self.value_range),
                    **self._config_ranges)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomGridDistortion(FieldAugmentation):
    """albumentations's ``GridDistortion``, per image and fused.

    Each axis is cut into ``num_steps`` cells of ``size // num_steps``
    pixels (and a last cell of what remains); each cell of the output
    samples a source stretch of ``1 + U(distort_limit)`` times its length,
    drawn per cell and per image, so the image is stretched and squeezed
    band by band (x depends only on x, y only on y). ``normalized`` (the
    default, as albumentations's) scales the stretches so that the source
    spans the whole image: nothing leaves it, nothing is filled.

    Where albumentations differs: its map repeats a pixel at each cell
    boundary (``np.linspace`` with the end point included), and without
    ``normalized`` it stretches the short last cell as a full one; here the
    map is continuous and piecewise linear, and every cell's stretch is
    relative to its own length.

    Args:
        num_steps: cells along each axis (default 5).
        distort_limit: a number ``d`` for ``U(-d, d)``, or a pair within
            ``(-1, 1]`` (default 0.3).
        normalized: keep the source within the image (default True).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: default ``"reflect"``.
        fill_value, seed, data_format, bounding_box_format,
            mask_fill_value: see
            :class:`~augment_layers.layers.base.GeometricAugmentation`.
    """

    def __init__(self, num_steps=5, distort_limit=0.3, normalized=True,
                 interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, seed=None, **kwargs):
        super().__init__(fill_mode=fill_mode, fill_value=fill_value,
                         interpolation=interpolation, seed=seed, **kwargs)
        self.num_steps = v.check_positive_int("num_steps", num_steps)
        self.distort_limit = v.check_range("distort_limit", distort_limit,
                                           min_value=-1.0, max_value=1.0)
        if self.distort_limit[0] <= -1.0:
            raise ValueError(
                "`distort_limit` must stay above -1 (a cell of no width), "
                f"received distort_limit={distort_limit!r}.")
        self.normalized = v.check_bool("normalized", normalized)
        self._config_ranges = {
            "distort_limit": v.as_config_range(distort_limit)}

    def random_parameters(self, shape, rng):
        batch = shape[0]
        self.static_size(shape)
        lo, hi = self.distort_limit
        count = self.num_steps + 1
        return {"steps_x": rng.uniform(batch, 1.0 + lo, 1.0 + hi, (count,)),
                "steps_y": rng.uniform(batch, 1.0 + lo, 1.0 + hi, (count,))}

    def field(self, t, height, width):
        out_x, src_x = fields.grid_knots(width, self.num_steps, t["steps_x"],
                                         self.normalized)
        out_y, src_y = fields.grid_knots(height, self.num_steps,
                                         t["steps_y"], self.normalized)
        return fields.SeparableField(out_x, src_x, out_y, src_y)

    def get_config(self):
        return dict(super().get_config(), num_steps=self.num_steps,
                    normalized=self.normalized, **self._config_ranges)
