"""Hypothesis strategies: every layer with random *valid* arguments, and
random batches (shape, channels, dtype, data format)."""

import numpy as np
from hypothesis import strategies as st

import augment_layers as al

FILL_MODES = ["constant", "nearest", "reflect", "wrap"]
VALUE_RANGES = [(0, 255), (0, 1), (-1, 1)]
OPS = {"brightness": ("factor", 0.0, 3.0), "contrast": ("factor", 0.0, 3.0),
       "gamma": ("gamma", 0.2, 5.0), "channel_shift": ("shift", -60, 60),
       "saturation": ("factor", 0.0, 3.0)}


def finite(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def pair(lo, hi):
    return st.tuples(finite(lo, hi), finite(lo, hi)).map(
        lambda p: (min(p), max(p)))


def range_arg(r_max, lo, hi):
    """A range argument: a number r >= 0 or a pair (lo, hi)."""
    return st.one_of(finite(0, r_max), pair(lo, hi))


def geometric_options():
    return st.fixed_dictionaries({
        "fill_mode": st.sampled_from(FILL_MODES),
        "fill_value": finite(-10, 300),
        "interpolation": st.sampled_from(["bilinear", "nearest"])})


def _build(cls):
    return lambda kwargs: (cls, kwargs)


def _with(geometric, **specific):
    base = geometric_options() if geometric else st.just({})
    return st.tuples(base, st.fixed_dictionaries(specific)).map(
        lambda t: {**t[0], **t[1]})


SHIFT = st.one_of(
    _with(True, height_range=range_arg(0.5, -0.5, 0.5),
          width_range=range_arg(0.5, -0.5, 0.5)),
    _with(True, height_range=range_arg(20, -20, 20),
          width_range=range_arg(20, -20, 20), units=st.just("pixels")))
ZOOM = st.one_of(finite(0, 0.9), pair(0.2, 3.0))
ASPECT = st.one_of(st.none(), pair(0.3, 3.0))


def color_kwargs(**specific):
    return _with(False, value_range=st.sampled_from(VALUE_RANGES), **specific)


def lambda_kwargs():
    def for_op(op):
        key, lo, hi = OPS[op]
        return color_kwargs(op=st.just(op),
                            params=st.fixed_dictionaries({key: pair(lo, hi)}),
                            probability=finite(0, 1))
    return st.sampled_from(sorted(OPS)).flatmap(for_op)


LAYERS = {
    "RandomShift": SHIFT.map(_build(al.RandomShift)),
    "RandomShear": _with(True, shear_range=range_arg(60, -80, 80)).map(
        _build(al.RandomShear)),
    "RandomZoomAspect": _with(True, zoom_range=ZOOM, aspect_range=ASPECT).map(
        _build(al.RandomZoomAspect)),
    "RandomRotation": _with(True, rotation_range=range_arg(
        180, -180, 180)).map(_build(al.RandomRotation)),
    "RandomFlip": _with(False, mode=st.sampled_from(
        ["horizontal", "vertical", "horizontal_and_vertical"])).map(
        _build(al.RandomFlip)),
    "RandomAffine": _with(
        True, rotation_range=range_arg(180, -180, 180),
        height_range=range_arg(0.4, -0.4, 0.4),
        width_range=range_arg(0.4, -0.4, 0.4),
        shear_range=range_arg(45, -60, 60), zoom_range=ZOOM,
        aspect_range=ASPECT, horizontal_flip=st.booleans(),
        vertical_flip=st.booleans()).map(_build(al.RandomAffine)),
    "RandomBrightnessRange": color_kwargs(
        brightness_range=pair(0, 3)).map(_build(al.RandomBrightnessRange)),
    "RandomChannelShift": color_kwargs(
        channel_shift_range=range_arg(100, -100, 100),
        per_channel=st.booleans()).map(_build(al.RandomChannelShift)),
    "RandomLambda": lambda_kwargs().map(
        lambda kw: (al.RandomLambda, kw)),
    # Beyond ImageDataGenerator.
    "RandomResizedCrop": _with(
        True, height=st.integers(1, 64), width=st.integers(1, 64),
        scale=pair(0.05, 1.0), ratio=pair(0.3, 3.0)).map(
        _build(al.RandomResizedCrop)),
    "RandomPerspective": _with(
        True, factor=st.one_of(finite(0, 1), pair(0, 1)),
        scale=finite(0, 1)).map(_build(al.RandomPerspective)),
    "RandomErasing": _with(
        False, probability=finite(0, 1), area=pair(0.01, 1.0),
        ratio=pair(0.2, 5.0), value=finite(-10, 300)).map(
        _build(al.RandomErasing)),
    "MixUp": _with(False, alpha=finite(0.05, 5.0)).map(_build(al.MixUp)),
    "CutMix": _with(False, alpha=finite(0.05, 5.0)).map(_build(al.CutMix)),
    "RandAugment": color_kwargs(
        num_ops=st.integers(1, 4), magnitude=st.integers(0, 30),
        interpolation=st.sampled_from(["bilinear", "nearest"]),
        fill_value=finite(-10, 300)).map(_build(al.RandAugment)),
    "TrivialAugmentWide": color_kwargs(
        num_magnitude_bins=st.integers(1, 40),
        interpolation=st.sampled_from(["bilinear", "nearest"]),
        fill_value=finite(-10, 300)).map(_build(al.TrivialAugmentWide)),
}
# (MixUp's convex blend may pass the range by float32 round-off.)
COLOR = {"RandomBrightnessRange", "RandomChannelShift", "RandomLambda",
         "CutMix"}
# The output size is the layer's, not the input's.
RESIZING = {"RandomResizedCrop"}
# Mix images of a batch: not inside an Augment of random children here
# (their labels are the point; covered by their own tests).
BATCH_MIXING = {"MixUp", "CutMix"}
POLICIES = {"RandAugment", "TrivialAugmentWide"}


def augment_children():
    """1 to 4 layers for an ``Augment``, geometric and colour mixed."""
    return st.lists(st.sampled_from(sorted(
        set(LAYERS) - BATCH_MIXING)).flatmap(
        lambda name: LAYERS[name]), min_size=1, max_size=4)


DTYPES = ["uint8", "int8", "int16", "uint16", "int32", "int64", "float16",
          "bfloat16", "float32", "float64"]


@st.composite
def batches(draw, value_range=(0, 255), channels=(1, 3, 4), max_hw=(300, 500)):
    """``(array, dtype, data_format)``: values inside ``value_range``."""
    # Edges (an empty batch, 1 pixel, the largest size) come up often.
    b = draw(st.one_of(st.sampled_from([0, 1, 8]), st.integers(1, 8)))
    h = draw(st.one_of(st.sampled_from([1, 2, max_hw[0]]),
                       st.integers(1, max_hw[0])))
    w = draw(st.one_of(st.sampled_from([1, 2, max_hw[1]]),
                       st.integers(1, max_hw[1])))
    c = draw(st.sampled_from(channels))
    dtype = draw(st.sampled_from(DTYPES))
    data_format = draw(st.sampled_from(["channels_last", "channels_first"]))
    seed = draw(st.integers(0, 2**16))
    lo, hi = value_range
    x = np.random.default_rng(seed).uniform(lo, hi, (b, h, w, c))
    if "int" in dtype:
        info = np.iinfo(dtype)
        x = np.clip(np.round(x), max(lo, info.min), min(hi, info.max))
    if data_format == "channels_first":
        x = np.transpose(x, (0, 3, 1, 2))
    return x, dtype, data_format
