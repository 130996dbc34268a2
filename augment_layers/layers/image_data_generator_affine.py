import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE
from augment_layers.layers.random_affine import RandomAffine
from augment_layers.ops.dispatch import ops


def check_shift_rule(name, value):
    """ImageDataGenerator's shift argument -> ``(kind, values, fraction)``.

    ``kind`` is ``"none"``, ``"uniform"`` (a float: ``[-r, r]``) or
    ``"choice"`` (an int ``n``: one of ``0 .. n-1``; a list: one of its
    values; either times a random sign). ``fraction``: below 1 the values
    are fractions of the image's size, as ImageDataGenerator decides by the
    largest value.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(
            f"`{name}` must be a float, an int or a list of numbers, "
            f"received {name}={value!r}.")
    if isinstance(value, (list, tuple)):
        if not value or not all(v._is_number(x) for x in value):
            raise ValueError(
                f"`{name}` given as a list is a choice among its values and "
                f"needs numbers, received {name}={value!r}.")
        values = tuple(float(x) for x in value)
        return ("choice", values, max(values) < 1)
    if not v._is_number(value):
        raise ValueError(
            f"`{name}` must be a float, an int or a list of numbers, "
            f"received {name}={value!r}.")
    if value == 0:
        return ("none", (0.0,), False)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"`{name}` must be >= 0, received "
                             f"{name}={value!r}.")
        return ("choice", tuple(float(i) for i in range(value)), value < 1)
    v.check_range(name, float(value))
    return ("uniform", (float(value),), value < 1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ImageDataGeneratorAffine(RandomAffine):
    """``RandomAffine`` with ImageDataGenerator's shift arguments as they were.

    ``height_shift_range`` / ``width_shift_range`` take what
    ImageDataGenerator took: a float ``r`` (uniform in ``[-r, r]``), an int
    ``n`` (one of ``0 .. n-1`` times a random sign) or a list (one of its
    values times a random sign); below 1 they are fractions of the height /
    width, from 1 on pixels. Unlike ImageDataGenerator, height moves content
    vertically. Everything else is :class:`RandomAffine`.

    Args:
        height_shift_range, width_shift_range: as in ImageDataGenerator.
        **kwargs: :class:`RandomAffine`'s other arguments.
    """

    def __init__(self, height_shift_range=0.0, width_shift_range=0.0,
                 **kwargs):
        kwargs.pop("units", None)
        super().__init__(units="pixels", **kwargs)
        self.height_shift_range = height_shift_range
        self.width_shift_range = width_shift_range
        self._rules = {
            "dy": check_shift_rule("height_shift_range", height_shift_range),
            "dx": check_shift_rule("width_shift_range", width_shift_range)}

    def _draw_shift(self, rule, batch_size, rng):
        kind, values, _ = rule
        if kind == "none":
            return ops.zeros((batch_size,), "float32")
        if kind == "uniform":
            return rng.uniform(batch_size, -values[0], values[0])
        n = len(values)
        index = ops.minimum(ops.cast(ops.floor(
            rng.uniform(batch_size, 0.0, float(n))), "int32"), n - 1)
        chosen = ops.take(ops.convert_to_tensor(values, "float32"), index)
        sign = ops.where(rng.bernoulli(batch_size), 1.0, -1.0)
        return chosen * sign

    def random_parameters(self, shape, rng):
        t = super().random_parameters(shape, rng)
        for key in ("dy", "dx"):  # height first, as ImageDataGenerator drew
            t[key] = self._draw_shift(self._rules[key], shape[0], rng)
        return t

    def transformation_matrix(self, t, height, width):
        t = dict(t)
        for key, size in (("dy", height), ("dx", width)):
            if self._rules[key][2]:  # fractions of the size
                t[key] = t[key] * ops.cast(size, "float32")
        return super().transformation_matrix(t, height, width)

    def get_config(self):
        config = super().get_config()
        for key in ("height_range", "width_range", "units"):
            config.pop(key, None)
        for key in ("height_shift_range", "width_shift_range"):
            value = getattr(self, key)
            config[key] = (list(value) if isinstance(value, (list, tuple))
                           else value)
        return config
