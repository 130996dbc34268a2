"""Named custom ops: what lets a model holding custom augmentation load safely.

A model file stores an op's registered *name*, never its code. Loading looks
the name up here; a name that is not registered is an error, and nothing
named in a file is ever imported or executed.
"""

import inspect

_OPS = {}


def register_op(name, pointwise=False):
    """Registers ``fn(images, **params)`` as a custom op under ``name``.

    ``pointwise=True`` declares that each output pixel depends only on the
    same input pixel (no mean, histogram or neighbourhood): the op may then
    share one compiled function with a resample before it. Leave it False
    if unsure; that costs only one more compiled call.

    ``images`` is a channels-last ``(B, H, W, C)`` batch in the layer's compute
    dtype; each parameter arrives as a ``(B,)`` tensor, one value per image;
    an op that declares ``value_range`` also receives the layer's
    ``(lo, hi)``. Use ``keras.ops`` so the op runs on every backend and under
    XLA.

    Example:
    >>> @register_op("my_contrast")
    ... def my_contrast(images, factor, value_range=(0, 255)):
    ...     mean = keras.ops.mean(images, axis=(1, 2, 3), keepdims=True)
    ...     return mean + (images - mean) * factor[:, None, None, None]
    """
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"register_op needs a non-empty string name, received {name!r}.")

    def decorator(fn):
        if not callable(fn):
            raise ValueError(f"register_op({name!r}) decorates a function, "
                             f"received {fn!r}.")
        current = _OPS.get(name)
        if current is not None and _qualname(current) != _qualname(fn):
            raise ValueError(
                f"An op named {name!r} is already registered "
                f"({_qualname(current)}); choose another name.")
        _OPS[name] = fn
        fn.augment_op_name = name
        fn.augment_op_pointwise = bool(pointwise)
        return fn

    return decorator


def _qualname(fn):
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"


def is_pointwise(name):
    """True where the op ``name`` was registered ``pointwise=True``."""
    return getattr(get_op(name), "augment_op_pointwise", False)


def registered_ops():
    """The sorted names of every registered op."""
    return sorted(_OPS)


def get_op(name):
    if not isinstance(name, str):
        raise ValueError(f"An op name must be a string, received {name!r}.")
    try:
        return _OPS[name]
    except KeyError:
        raise ValueError(
            f"No augmentation op is registered under the name {name!r}. "
            f"Registered ops: {', '.join(registered_ops()) or '(none)'}. "
            "Import the module that defines it before loading the model, or "
            "register one with:\n"
            "    @augment_layers.register_op(\"" + name + "\")\n"
            "    def op(images, **params): ...\n"
            "(Model files store op names only; augment_layers never imports "
            "or runs code named in a file.)") from None


def op_name(op):
    """The registered name of ``op`` (a name or a registered function)."""
    if isinstance(op, str):
        get_op(op)
        return op
    name = getattr(op, "augment_op_name", None)
    if callable(op) and name is not None and _OPS.get(name) is op:
        return name
    raise ValueError(
        f"`op` must be a function registered with @augment_layers.register_op"
        f"(name), or such a name, received op={op!r}. A plain Python function "
        "or lambda cannot be saved safely (Keras would store its bytecode and "
        "refuse to load it in safe mode). Register it:\n"
        "    @augment_layers.register_op(\"my_op\")\n"
        "    def my_op(images, factor): ...\n"
        "and pass op=\"my_op\".")


def op_keywords(op):
    """(names of keyword parameters, whether it takes **kwargs)."""
    params = list(inspect.signature(op).parameters.values())[1:]
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    names = {p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, var_kw


def required_keywords(op):
    """Names of the parameters after ``images`` that have no default."""
    params = list(inspect.signature(op).parameters.values())[1:]
    return [p.name for p in params
            if p.default is p.empty and p.kind in (
                p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)]
