"""``from_image_data_generator``: ImageDataGenerator's arguments, as layers."""

import difflib
import numbers

import keras

from augment_layers.layers.augment import Augment
from augment_layers.layers.random_affine import RandomAffine
from augment_layers.layers.random_brightness_range import RandomBrightnessRange
from augment_layers.layers.random_channel_shift import RandomChannelShift
from augment_layers.layers.standardize import (ApplyOp,
                                               FeaturewiseNormalization,
                                               SamplewiseNormalization,
                                               ZCAWhitening)

_ORDER_TO_INTERPOLATION = {0: "nearest", 1: "bilinear"}

_PIPELINE_ARGS = {
    "validation_split": "split the data with "
    "keras.utils.image_dataset_from_directory(..., validation_split=..., "
    "subset=...) instead",
    "dtype": "the layers compute in the model's dtype policy; pass `dtype=` "
    "to the model's layers or use keras.config.set_dtype_policy instead",
}

KNOWN = {
    "featurewise_center", "samplewise_center", "featurewise_std_normalization",
    "samplewise_std_normalization", "zca_whitening", "zca_epsilon",
    "rotation_range", "width_shift_range", "height_shift_range",
    "brightness_range", "shear_range", "zoom_range", "channel_shift_range",
    "fill_mode", "cval", "horizontal_flip", "vertical_flip", "rescale",
    "preprocessing_function", "data_format", "validation_split",
    "interpolation_order", "dtype"}


def _shift(name, value):
    """(range, units) for a shift argument, with ImageDataGenerator's rules."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"`{name}` must be a number, received {name}={value!r}.")
    if isinstance(value, (list, tuple)):
        raise ValueError(
            f"`{name}` given as a list means a random choice among its "
            f"values in ImageDataGenerator, received {name}={value!r}; "
            "augment_layers samples intervals: pass a number r for [-r, r], "
            f"or use RandomShift with {name.split('_')[0]}_range=(lo, hi).")
    if not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number, received {name}={value!r}.")
    value = float(value)
    if value < 0:
        raise ValueError(f"`{name}` must be >= 0, received {name}={value!r}.")
    # ImageDataGenerator: below 1 a fraction of the size, from 1 on pixels.
    return value, ("fraction" if value < 1 else "pixels")


def from_image_data_generator(**kwargs):
    """Returns the :class:`Augment` equivalent to ``ImageDataGenerator(**kwargs)``.

    The geometric arguments become one :class:`RandomAffine` (one resample),
    with ``height_shift_range`` moving content vertically and
    ``width_shift_range`` horizontally (ImageDataGenerator swaps them).
    ``brightness_range`` and ``channel_shift_range`` become colour layers.
    The standardisation arguments become layers that run at inference too, in
    ``standardize``'s order, after augmentation: ``preprocessing_function``
    (a registered op name), ``rescale`` (``keras.layers.Rescaling``),
    ``samplewise_*`` (:class:`SamplewiseNormalization`), ``featurewise_*``
    (:class:`FeaturewiseNormalization`) and ``zca_whitening``
    (:class:`ZCAWhitening`); adapt the last two with
    ``augment_layers.adapt(augment, images)``.

    Raises:
        ValueError: naming any argument it cannot map.
    """
    unknown = sorted(set(kwargs) - KNOWN)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(KNOWN), n=1)
            if close:
                hints.append(f"did you mean {close[0]!r} for {name!r}?")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ValueError(
            f"Unknown ImageDataGenerator argument(s): {', '.join(unknown)}"
            f"{hint}. Known: {', '.join(sorted(KNOWN))}.")
    for name, advice in _PIPELINE_ARGS.items():
        if kwargs.get(name) not in (None, 0, 0.0):
            raise ValueError(
                f"`{name}` belongs to the data pipeline, not to augmentation "
                f"layers: {advice}. Received {name}={kwargs[name]!r}.")
    get = kwargs.get
    data_format = get("data_format")
    fill_mode = get("fill_mode", "nearest")
    cval = get("cval", 0.0)
    order = get("interpolation_order", 1)
    if order not in _ORDER_TO_INTERPOLATION or isinstance(order, bool):
        raise ValueError(
            "`interpolation_order` must be 0 (nearest) or 1 (bilinear), "
            f"received interpolation_order={order!r}.")

    height, h_units = _shift("height_shift_range", get("height_shift_range", 0.0))
    width, w_units = _shift("width_shift_range", get("width_shift_range", 0.0))
    layers = []
    zoom = get("zoom_range", 0.0)
    geometric = {
        "rotation_range": get("rotation_range", 0.0),
        "shear_range": get("shear_range", 0.0),
        "zoom_range": list(zoom) if isinstance(zoom, (list, tuple)) else zoom,
        "horizontal_flip": bool(get("horizontal_flip", False)),
        "vertical_flip": bool(get("vertical_flip", False)),
    }
    if h_units != w_units and height and width:
        # Units differ: keep both exact with a separate shift layer.
        from augment_layers.layers.random_shift import RandomShift

        layers.append(RandomShift(width_range=width, units=w_units,
                                  fill_mode=fill_mode, fill_value=cval,
                                  interpolation=_ORDER_TO_INTERPOLATION[order],
                                  data_format=data_format))
        width = 0.0
    units = h_units if height else w_units
    if any(geometric.values()) or height or width:
        layers.insert(0, RandomAffine(
            height_range=height, width_range=width, units=units,
            fill_mode=fill_mode, fill_value=cval,
            interpolation=_ORDER_TO_INTERPOLATION[order],
            data_format=data_format, **geometric))
    if get("channel_shift_range"):
        layers.append(RandomChannelShift(get("channel_shift_range"),
                                         per_channel=False,
                                         data_format=data_format))
    if get("brightness_range") is not None:
        layers.append(RandomBrightnessRange(tuple(get("brightness_range")),
                                            data_format=data_format))

    # standardize(), in its order.
    function = get("preprocessing_function")
    if function is not None:
        layers.append(ApplyOp(function))
    if get("rescale"):
        layers.append(keras.layers.Rescaling(float(get("rescale"))))
    if get("samplewise_center") or get("samplewise_std_normalization"):
        layers.append(SamplewiseNormalization(
            center=bool(get("samplewise_center")),
            std_normalization=bool(get("samplewise_std_normalization"))))
    if get("zca_whitening"):
        layers.append(ZCAWhitening(epsilon=float(get("zca_epsilon", 1e-6))))
    elif get("featurewise_center") or get("featurewise_std_normalization"):
        # ImageDataGenerator: std normalization implies centring.
        layers.append(FeaturewiseNormalization(
            center=True,
            std_normalization=bool(get("featurewise_std_normalization"))))
    return Augment(layers, data_format=data_format)



