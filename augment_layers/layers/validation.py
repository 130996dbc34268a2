"""Argument checks shared by every layer: one wording for every error."""

import math
import numbers


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_finite(name, value, received):
    if not math.isfinite(float(value)):
        raise ValueError(
            f"`{name}` must be finite, received {name}={received!r}.")


def check_range(name, value, *, symmetric_around=0.0, min_value=None,
                max_value=None, number_meaning=None):
    """Validates a range argument and returns it as a ``(lo, hi)`` float pair.

    A number ``r`` means ``[symmetric_around - r, symmetric_around + r]`` and
    must be >= 0; a pair ``(lo, hi)`` needs ``lo <= hi``. Bounds, where given,
    apply to the resulting interval.
    """
    meaning = number_meaning or f"[{symmetric_around:g} - r, {symmetric_around:g} + r]"
    if _is_number(value):
        _check_finite(name, value, value)
        if value < 0:
            raise ValueError(
                f"`{name}` given as a number r means {meaning} and must be "
                f">= 0, received {name}={value!r}.")
        lo, hi = symmetric_around - float(value), symmetric_around + float(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            _is_number(v) for v in value):
        for v in value:
            _check_finite(name, v, value)
        lo, hi = float(value[0]), float(value[1])
        if lo > hi:
            raise ValueError(
                f"`{name}` given as a pair (lo, hi) needs lo <= hi, received "
                f"{name}={value!r}.")
    else:
        raise ValueError(
            f"`{name}` must be a number r >= 0 or a pair (lo, hi) of numbers, "
            f"received {name}={value!r} of type {type(value).__name__}.")
    if min_value is not None and lo < min_value:
        raise ValueError(
            f"`{name}` must stay >= {min_value:g}, received {name}={value!r} "
            f"(interval [{lo:g}, {hi:g}]).")
    if max_value is not None and hi > max_value:
        raise ValueError(
            f"`{name}` must stay <= {max_value:g}, received {name}={value!r} "
            f"(interval [{lo:g}, {hi:g}]).")
    return lo, hi


def _finite_pair(name, value, example=""):
    """A pair ``(lo, hi)`` of finite numbers, as floats (order unchecked)."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2
            and all(_is_number(v) for v in value)):
        raise ValueError(
            f"`{name}` must be a pair (lo, hi) of numbers{example}, received "
            f"{name}={value!r} of type {type(value).__name__}.")
    for v in value:
        _check_finite(name, v, value)
    return float(value[0]), float(value[1])


def check_positive_pair(name, value):
    """A pair ``(lo, hi)`` of finite numbers with ``0 < lo <= hi``."""
    lo, hi = _finite_pair(name, value)
    if lo > hi or lo <= 0:
        raise ValueError(
            f"`{name}` needs 0 < lo <= hi, received {name}={value!r}.")
    return lo, hi


def check_value_range(value):
    name = "value_range"
    lo, hi = _finite_pair(name, value, " such as (0, 255) or (0, 1)")
    if lo >= hi:
        raise ValueError(f"`{name}` needs lo < hi, received {name}={value!r}.")
    return lo, hi


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(c) for c in choices)}, "
            f"received {name}={value!r}.")
    return value


def check_number(name, value):
    if not _is_number(value):
        raise ValueError(
            f"`{name}` must be a number, received {name}={value!r} of type "
            f"{type(value).__name__}.")
    _check_finite(name, value, value)
    return float(value)


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer, received {name}={value!r}.")
    return value


def check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(
            f"`{name}` must be True or False, received {name}={value!r}.")
    return value


def check_probability(name, value):
    value = check_number(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"`{name}` must be in [0, 1], received {name}={value!r}.")
    return value


def check_seed(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"`seed` must be None or an integer, received seed={value!r}.")
    if value < 0:
        raise ValueError(f"`seed` must be >= 0, received seed={value!r}.")
    return int(value)


def check_data_format(value):
    if value is None:
        import keras

        return keras.config.image_data_format()
    return check_choice("data_format", value, ("channels_last", "channels_first"))


def as_config_range(value):
    """Ranges go into configs as given: a number or a list pair (JSON-safe)."""
    if isinstance(value, (tuple, list)):
        return [float(v) for v in value]
    return value


def check_common_config(class_name, config):
    """The keys of a layer config that Keras itself reads."""
    if not isinstance(config, dict):
        raise ValueError(
            f"{class_name}'s config must be a dict, received {config!r}.")
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(
            f"{class_name}'s config: `name` must be a string, received "
            f"name={name!r}.")
    if isinstance(name, str) and ("." in name or "/" in name):
        # PyTorch cannot name a layer's weights through a dotted path, and
        # Keras refuses "/": a file meant for every backend has neither.
        raise ValueError(
            f"{class_name}'s config: `name` must not contain '.' or '/', "
            f"received name={name!r}.")
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ValueError(
            f"{class_name}'s config: `trainable` must be True or False, "
            f"received trainable={trainable!r}.")
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        module, kind = dtype.get("module"), dtype.get("class_name")
        if not (isinstance(module, str) and module.startswith("keras")
                and isinstance(kind, str) and kind.endswith("DTypePolicy")):
            raise ValueError(
                f"{class_name}'s config: `dtype` must be a dtype name or a "
                f"Keras DTypePolicy, received dtype={dtype!r}.")
    elif dtype is not None and not isinstance(dtype, str):
        raise ValueError(
            f"{class_name}'s config: `dtype` must be a dtype name or a Keras "
            f"DTypePolicy, received dtype={dtype!r}.")


def check_factor(name, value, bounds=(0.0, 1.0)):
    """Keras's ``factor`` convention: a number ``f >= 0`` means
    ``(max(-f, low), f)``: ``(0, f)`` where the bounds start at 0, ``(-f,
    f)`` where they are ``(-1, 1)``; a pair ``(lo, hi)`` with ``lo <= hi``.
    Both ends within ``bounds``."""
    low, high = bounds
    if _is_number(value):
        _check_finite(name, value, value)
        if value < 0:
            raise ValueError(
                f"`{name}` given as a number f means ({low:g} or -f, f) and "
                f"must be >= 0, received {name}={value!r}.")
        lo, hi = max(-float(value), low), float(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            _is_number(v) for v in value):
        for v in value:
            _check_finite(name, v, value)
        lo, hi = float(value[0]), float(value[1])
        if lo > hi:
            raise ValueError(
                f"`{name}` given as a pair (lo, hi) needs lo <= hi, received "
                f"{name}={value!r}.")
    else:
        raise ValueError(
            f"`{name}` must be a number or a pair (lo, hi) of numbers, "
            f"received {name}={value!r} of type {type(value).__name__}.")
    if lo < low or hi > high:
        raise ValueError(
            f"`{name}` must stay within [{low:g}, {high:g}], received "
            f"{name}={value!r}.")
    return lo, hi


def check_odd_size(name, value):
    """A kernel size: an odd positive int, or a pair ``(height, width)`` of
    them; returned as a pair."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(k, bool) or not isinstance(
            k, numbers.Integral) or k < 1 or k % 2 == 0 for k in pair):
        raise ValueError(
            f"`{name}` must be an odd positive integer or a pair (height, "
            f"width) of them, received {name}={value!r}.")
    return int(pair[0]), int(pair[1])
