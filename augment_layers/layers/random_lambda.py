import keras
from augment_layers.ops.dispatch import ops

from augment_layers import registry
from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, ColorAugmentation


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomLambda(ColorAugmentation):
    """A custom augmentation op with per-image random parameters, saved by name.

    Unlike ``keras.layers.Lambda``, the model file holds the op's registered
    name, so it loads with Keras's default ``safe_mode=True`` once the module
    that registers the op is imported.

    Args:
        op: a function registered with ``@augment_layers.register_op(name)``,
            or that name. Shipped: ``"brightness"``, ``"contrast"``,
            ``"gamma"``, ``"channel_shift"``, ``"saturation"``.
        params: dict mapping each keyword of ``op`` to a range: a number ``r``
            (uniform in ``[-r, r]``) or a pair ``(lo, hi)``. Each is sampled
            per image and passed as a ``(B,)`` tensor.
        probability: chance that an image is augmented at all (default 1).
        value_range: ``(lo, hi)`` of the pixel values, passed to ops that take
            ``value_range``.
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandomLambda("contrast", {"factor": (0.7, 1.3)})
    """

    def __init__(self, op, params=None, *, probability=1.0, **kwargs):
        super().__init__(**kwargs)
        self.op = registry.op_name(op)
        fn = registry.get_op(self.op)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(
                f"`params` must be a dict of keyword -> range, received "
                f"params={params!r}.")
        names, var_kw = registry.op_keywords(fn)
        self.ranges = {}
        for key, value in params.items():
            if not isinstance(key, str) or (key not in names and not var_kw):
                raise ValueError(
                    f"`params` names {key!r}, which op {self.op!r} does not "
                    f"take (its keywords: {sorted(names)}); received "
                    f"params={params!r}.")
            self.ranges[key] = v.check_range(f"params[{key!r}]", value)
        missing = [name for name in registry.required_keywords(fn)
                   if name not in params and name != "value_range"]
        if missing:
            raise ValueError(
                f"`params` must give a range for every argument of op "
                f"{self.op!r} without a default; missing {missing}, received "
                f"params={params!r}.")
        self.params = {k: v.as_config_range(x) for k, x in params.items()}
        self.probability = v.check_probability("probability", probability)
        self._pass_value_range = "value_range" in names

    @property
    def pointwise(self):
        return registry.is_pointwise(self.op)

    def work_identity(self):
        # The function registered now: re-registering a name (a notebook
        # cell run again) compiles the new function.
        return (registry.get_op(self.op),)

    def random_parameters(self, shape, rng):
        draws = {k: rng.uniform(shape[0], lo, hi)
                 for k, (lo, hi) in self.ranges.items()}
        if self.probability < 1.0:
            draws["_apply"] = rng.bernoulli(shape[0], self.probability)
        return draws

    def transform_images(self, images, transformation):
        transformation = dict(transformation)
        apply = transformation.pop("_apply", None)
        kwargs = dict(transformation)
        if self._pass_value_range:
            kwargs["value_range"] = self.value_range
        out = ops.cast(registry.get_op(self.op)(images, **kwargs),
                       images.dtype)
        if apply is not None:
            out = ops.where(apply[:, None, None, None], out, images)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"op": self.op, "params": self.params,
                       "probability": self.probability})
        return config
