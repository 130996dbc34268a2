"""``from_keras``: a Keras preprocessing stack, moved over whole.

Each Keras image-augmentation layer becomes this package's layer with the
same distribution (its parameters drawn per image), and the result is one
:class:`augment_layers.Augment`, whose geometric layers resample once.
Deterministic Keras layers that are not augmentations (``Rescaling``,
``Resizing``, ``Normalization``) are kept as they are; an augmentation layer
without a counterpart is named in a ``ValueError``.
"""

import keras

from augment_layers import layers as al

# The Keras layers whose class name, arguments and meaning are ours too:
# their config (less Keras's bookkeeping) builds ours.
_SAME = ("RandomTranslation", "RandomZoom", "RandomCrop", "CenterCrop",
         "RandomColorJitter", "RandomHue", "RandomSaturation",
         "RandomContrast", "RandomBrightness", "RandomGrayscale",
         "RandomInvert", "RandomSharpness", "RandomPosterization",
         "Solarization", "Equalization", "AutoContrast",
         "RandomColorDegeneration", "RandomGaussianBlur", "AugMix",
         "RandomElasticTransform")

# Deterministic, no randomness: kept as Keras's own layer (it runs at
# training and inference, inside the Augment).
_KEPT = ("Rescaling", "Resizing", "Normalization")

_BOOKKEEPING = ("name", "trainable", "dtype", "autocast")


def _config(layer):
    config = dict(layer.get_config())
    for key in _BOOKKEEPING:
        config.pop(key, None)
    return config


def _pair(value):
    if isinstance(value, (tuple, list)):
        return [float(value[0]), float(value[1])]
    return float(value)


def _symmetric(value):
    """Keras's "a number f means [-f, f]" as a pair."""
    if isinstance(value, (tuple, list)):
        return [float(value[0]), float(value[1])]
    return [-abs(float(value)), abs(float(value))]


def _rotation(layer):
    c = _config(layer)
    lo, hi = _symmetric(c["factor"])
    return al.RandomRotation((lo * 360.0, hi * 360.0),
                             fill_mode=c["fill_mode"],
                             fill_value=c["fill_value"],
                             interpolation=c["interpolation"], seed=c["seed"],
                             data_format=c["data_format"])


def _flip(layer):
    c = _config(layer)
    return al.RandomFlip(c["mode"], seed=c["seed"],
                         data_format=c["data_format"])


def _probability(factor):
    """Keras draws a chance from ``factor`` then a coin: the chance of
    acting is the range's mean."""
    if isinstance(factor, (tuple, list)):
        return (float(factor[0]) + float(factor[1])) / 2.0
    return float(factor) / 2.0


def _erasing(layer):
    c = _config(layer)
    fill = c["fill_value"]
    if isinstance(fill, (tuple, list)):
        raise ValueError(
            f"from_keras cannot convert {layer.name} (RandomErasing) with a "
            f"per-channel fill_value={fill!r}; give it one number.")
    return al.RandomErasing(
        probability=_probability(c["factor"]), value=fill,
        side_range=tuple(float(s) for s in c["scale"]),
        noise_std=float(c["value_range"][1]), seed=c["seed"],
        data_format=c["data_format"])


def _perspective(layer):
    c = _config(layer)
    # The chance is drawn from ``factor`` as Keras does; the corners move
    # as ours do (every corner, not in proportion to its coordinates).
    return al.RandomPerspective(
        factor=_pair(c["factor"]), scale=c["scale"], interpolation=c["interpolation"],
        fill_value=c["fill_value"], seed=c["seed"],
        data_format=c["data_format"])


# Keras stores a number f as (-f, f) for these, against their documented
# (0, f): the documented meaning wins.
_ONE_SIDED = ("RandomSaturation", "RandomColorDegeneration")


def _same(layer):
    name = type(layer).__name__
    config = _config(layer)
    for key in list(config):
        if isinstance(config[key], tuple):
            config[key] = list(config[key])
    factor = config.get("factor")
    if name in _ONE_SIDED and isinstance(factor, list) and factor[0] < 0:
        config["factor"] = [0.0, factor[1]]
    return getattr(al, name)(**config)


_CONVERTERS = {"RandomRotation": _rotation, "RandomFlip": _flip,
               "RandomErasing": _erasing,
               "RandomPerspective": _perspective}
_CONVERTERS.update({name: _same for name in _SAME})


def _flatten(model_or_layers):
    if isinstance(model_or_layers, (list, tuple)):
        items = list(model_or_layers)
    elif hasattr(model_or_layers, "layers") and not isinstance(
            model_or_layers, al.BaseAugmentation):
        items = list(model_or_layers.layers)
    else:
        items = [model_or_layers]
    out = []
    for item in items:
        if isinstance(item, al.Augment):
            out.extend(item.layers)
        elif not isinstance(item, al.BaseAugmentation) and hasattr(
                item, "layers") and isinstance(
                item, (keras.Sequential, keras.layers.Pipeline)):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def convert_layer(layer):
    """This package's counterpart of one Keras layer (ours pass as they
    are; deterministic non-augmentation layers are kept)."""
    if isinstance(layer, al.BaseAugmentation):
        return layer
    if not isinstance(layer, keras.layers.Layer):
        raise ValueError(
            f"from_keras takes Keras layers, received {layer!r} of type "
            f"{type(layer).__name__}.")
    name = type(layer).__name__
    if name in _CONVERTERS:
        return _CONVERTERS[name](layer)
    if name in _KEPT:
        return layer
    raise ValueError(
        f"from_keras cannot convert {layer.name!r} ({name}): it has no "
        "counterpart here. Convertible: "
        f"{', '.join(sorted(_CONVERTERS))}; kept as they are: Rescaling, "
        "Resizing, Normalization.")


def from_keras(model_or_layers, **kwargs):
    """Converts a Keras preprocessing stack into an
    :class:`augment_layers.Augment` with the same distributions.

    Args:
        model_or_layers: a ``keras.Sequential``, a ``keras.layers.Pipeline``,
            a list of layers or one layer. Keras's ``RandomRotation``
            (fractions of a turn) becomes our ``RandomRotation`` in degrees;
            ``RandomFlip``, ``RandomErasing`` and ``RandomPerspective`` map to
            ours; every Keras layer whose name this package shares
            (``RandomTranslation``, ``RandomZoom``, ``RandomContrast``,
            ``AugMix``, ...) is rebuilt from its config. ``Rescaling``,
            ``Resizing`` and ``Normalization`` stay Keras's.
        **kwargs: passed to :class:`augment_layers.Augment`
            (``bounding_box_format``, ``name``).

    Returns:
        An ``Augment``: its geometric layers compose into one resample, its
        colour layers share the compiled call.

    Raises:
        ValueError: naming the first layer that cannot be converted.

    Example:
    >>> keras_stack = keras.Sequential([keras.layers.RandomFlip(),
    ...                                 keras.layers.RandomRotation(0.1)])
    >>> augment = from_keras(keras_stack)
    """
    layers = [convert_layer(layer) for layer in _flatten(model_or_layers)
              if type(layer).__name__ != "InputLayer"]
    if not layers:
        raise ValueError("from_keras received no layers.")
    formats = {layer.data_format for layer in layers
               if isinstance(layer, al.BaseAugmentation)}
    if len(formats) > 1:
        raise ValueError(
            f"from_keras received layers of both data formats "
            f"({sorted(formats)}).")
    return al.Augment(layers, **kwargs)
