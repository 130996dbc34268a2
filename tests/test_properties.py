"""Property tests (hypothesis): every layer, random valid arguments, random
batches from 1x1 to 300x500, batch 0 to 8, 1/3/4 channels, every dtype, both
data formats.

Examples per test: ``AL_PROPERTY_EXAMPLES`` (default 50; ``make test`` runs
18 under TensorFlow, 4 under JAX and 8 under PyTorch, to keep the suite
within its time budget). Derandomised, so a failure reproduces.
"""

import math
import os

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import augment_layers as al
from tests import reference as ref
from tests import strategies as S
from tests.backend import to_numpy

EXAMPLES = int(os.environ.get("AL_PROPERTY_EXAMPLES", "50"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
COMPUTE_DTYPES = ["float32", "float16", "bfloat16"]
# Each example of a policy compiles a program of fourteen ops: they get a
# fixed smaller sample (the ops themselves have their own examples).
POLICY_EXAMPLES = max(5, EXAMPLES * 2 // 5)
# Configurations per extreme size: 3 by default, 1 in the shorter runs.
EXTREME_EXAMPLES = max(1, min(3, EXAMPLES // 10))


def build(cls, kwargs, data_format, dtype, seed):
    return cls(**kwargs, data_format=data_format, dtype=dtype, seed=seed)


def channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def check_common(layer, x, dtype_name):
    """Shape, dtype, finiteness, and identity at inference (a resizing
    layer: its output size, both ways)."""
    xt = keras.ops.cast(x, dtype_name)
    out = layer(xt, training=True)
    shape = tuple(layer.compute_output_shape(x.shape))
    assert tuple(out.shape) == shape
    assert keras.backend.standardize_dtype(out.dtype) == layer.compute_dtype
    out = to_numpy(keras.ops.cast(out, "float32"))
    assert np.all(np.isfinite(out))
    inference = to_numpy(keras.ops.cast(layer(xt, training=False), "float32"))
    if shape != x.shape:
        assert inference.shape == shape and np.all(np.isfinite(inference))
        return out
    expected = to_numpy(keras.ops.cast(keras.ops.cast(xt, layer.compute_dtype),
                                       "float32"))
    np.testing.assert_array_equal(inference, expected)
    return out


def saturation_without_rgb(cls, kwargs, x, data_format):
    channels = x.shape[1] if data_format == "channels_first" else x.shape[-1]
    # (An empty batch is returned as it is, without looking at it.)
    return cls is al.RandomLambda and kwargs["op"] == "saturation" and (
        channels != 3) and x.shape[0] > 0


@pytest.mark.sampled(8, spread=("name",))
@pytest.mark.parametrize("name", sorted(S.LAYERS))
def test_layer_properties(name):
    examples = POLICY_EXAMPLES if name in S.POLICIES else EXAMPLES

    @settings(SETTINGS, max_examples=examples)
    @given(spec=S.LAYERS[name], data=st.data(),
           dtype=st.sampled_from(COMPUTE_DTYPES), seed=st.integers(0, 999))
    def check(spec, data, dtype, seed):
        cls, kwargs = spec
        value_range = kwargs.get("value_range", (0, 255))
        x, x_dtype, data_format = data.draw(S.batches(value_range))
        layer = build(cls, kwargs, data_format, dtype, seed)
        if saturation_without_rgb(cls, kwargs, x, data_format):
            with pytest.raises(ValueError, match="3 channels"):
                layer(x.astype(x_dtype), training=True)
            return
        out = check_common(layer, x.astype(x_dtype), x_dtype)
        if name in S.COLOR and out.size:
            lo, hi = value_range
            assert out.min() >= lo and out.max() <= hi

    check()


@pytest.mark.sampled(6, spread=("name",))
@pytest.mark.parametrize("name", sorted(S.LAYERS))
@pytest.mark.parametrize("shape", [(2, 300, 500, 4), (1, 1, 1, 1), (0, 5, 7, 3)])
def test_extreme_sizes(name, shape):
    @settings(SETTINGS, max_examples=EXTREME_EXAMPLES)
    @given(spec=S.LAYERS[name])
    def check(spec):
        cls, kwargs = spec
        if cls is al.RandomLambda and shape[-1] != 3:
            kwargs = {**kwargs, "op": "brightness", "params": {"factor": 1.5}}
        x = np.random.default_rng(0).uniform(0, 1, shape).astype("float32")
        check_common(cls(**kwargs, seed=1), x, "float32")

    check()


def test_augment_properties():
    @SETTINGS
    @given(children=S.augment_children(), data=st.data(),
           seed=st.integers(0, 999))
    def check(children, data, seed):
        x, x_dtype, data_format = data.draw(S.batches(channels=(3,)))
        layers = [build(cls, kw, data_format, "float32", seed + i)
                  for i, (cls, kw) in enumerate(children)]
        check_common(al.Augment(layers), x.astype(x_dtype), x_dtype)

    check()


IDENTITY = {
    al.RandomShift: {"height_range": (0, 0), "width_range": (0, 0)},
    al.RandomShear: {"shear_range": (0, 0)},
    al.RandomZoomAspect: {"zoom_range": (1, 1), "aspect_range": (1, 1)},
    al.RandomRotation: {"rotation_range": (0, 0)},
    al.RandomAffine: {"zoom_range": (1, 1)},
    al.RandomBrightnessRange: {"brightness_range": (1, 1)},
    al.RandomChannelShift: {"channel_shift_range": (0, 0)},
}


@pytest.mark.sampled(3)
@pytest.mark.parametrize("cls", list(IDENTITY), ids=lambda c: c.__name__)
def test_a_fixed_identity_transform_returns_the_input(cls):
    geometric = issubclass(cls, al.layers.GeometricAugmentation)

    @SETTINGS
    @given(options=S.geometric_options() if geometric else st.just({}),
           batch=S.batches(), seed=st.integers(0, 999))
    def check(options, batch, seed):
        x, x_dtype, data_format = batch
        layer = cls(**IDENTITY[cls], **options, data_format=data_format,
                    seed=seed)
        x = x.astype(x_dtype)
        out = to_numpy(layer(x, training=True))
        expected = to_numpy(keras.ops.cast(keras.ops.cast(x, "float32"),
                                           "float32"))
        # Within interpolation tolerance: 1e-4 of the range.
        np.testing.assert_allclose(out, expected, rtol=0, atol=255 * 1e-4)

    check()


@SETTINGS
@given(theta=S.finite(-180, 180), dy=S.finite(-15, 15), dx=S.finite(-15, 15),
       shear=S.finite(-45, 45), zoom=S.finite(0.5, 2.0),
       fill_value=S.finite(-50, 300),
       interpolation=st.sampled_from(["bilinear", "nearest"]),
       hw=st.tuples(st.integers(2, 40), st.integers(2, 40)),
       seed=st.integers(0, 999))
def test_constant_fill_writes_exactly_fill_value_outside(
        theta, dy, dx, shear, zoom, fill_value, interpolation, hw, seed):
    h, w = hw
    x = np.random.default_rng(seed).uniform(0, 255, (2, h, w, 3))
    layer = al.RandomAffine(rotation_range=(theta, theta),
                            height_range=(dy, dy), width_range=(dx, dx),
                            shear_range=(shear, shear),
                            zoom_range=(zoom, zoom), units="pixels",
                            fill_mode="constant", fill_value=fill_value,
                            interpolation=interpolation)
    out = to_numpy(layer(x.astype("float32"), training=True))
    # The reference: ImageDataGenerator's matrix, centred, in float64.
    matrix = ref.centred(ref.idg_matrix(theta=theta, tx=-dx, ty=-dy,
                                        shear=shear, zx=zoom, zy=zoom), h, w)
    ys, xs = np.mgrid[0:h, 0:w]
    src_x = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]
    src_y = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    margin = 0.01  # float32 round-off decides within a hair of the edge
    outside = ((src_x < -margin) | (src_x > w - 1 + margin)
               | (src_y < -margin) | (src_y > h - 1 + margin))
    assert np.all(out[:, outside] == np.float32(fill_value))
    inside = ((src_x > margin) & (src_x < w - 1 - margin)
              & (src_y > margin) & (src_y < h - 1 - margin))
    assert np.all(np.abs(out[:, inside]) <= 255.0 + 1e-3)


@SETTINGS
@given(theta=S.finite(-90, 90), shift=S.finite(-6, 6), zoom=S.finite(0.6, 1.6),
       fill_mode=st.sampled_from(S.FILL_MODES),
       interpolation=st.sampled_from(["bilinear", "nearest"]),
       where=st.tuples(st.integers(0, 19), st.integers(0, 23)),
       bad=st.sampled_from([math.nan, math.inf]), seed=st.integers(0, 999))
# Exact transforms, where every sample point is a pixel centre:
@example(theta=0.0, shift=0.0, zoom=1.0, fill_mode="nearest",
         interpolation="bilinear", where=(5, 7), bad=math.nan, seed=1)
@example(theta=0.0, shift=3.0, zoom=1.0, fill_mode="reflect",
         interpolation="bilinear", where=(19, 23), bad=math.inf, seed=2)
@example(theta=0.0, shift=-2.0, zoom=0.5, fill_mode="wrap",
         interpolation="bilinear", where=(0, 0), bad=math.nan, seed=3)
def test_a_nan_pixel_spreads_only_to_the_pixels_that_sample_it(
        theta, shift, zoom, fill_mode, interpolation, where, bad, seed):
    h, w = 20, 24
    x = np.random.default_rng(seed).uniform(0, 255, (1, h, w, 3))
    x[0, where[0], where[1], 1] = bad
    layer = al.RandomAffine(rotation_range=(theta, theta),
                            height_range=(shift, shift),
                            zoom_range=(zoom, zoom), units="pixels",
                            fill_mode=fill_mode, interpolation=interpolation)
    out = to_numpy(layer(x.astype("float32"), training=True))[0]
    # Which output pixels sample the bad one, and with what weight: scipy
    # resampling an indicator image by the same (reference) matrix.
    indicator = np.zeros((h, w, 1))
    indicator[where] = 1.0
    matrix = ref.centred(ref.idg_matrix(theta=theta, ty=-shift, zx=zoom,
                                        zy=zoom), h, w)
    order = 1 if interpolation == "bilinear" else 0
    weight = ref.scipy_affine(indicator, matrix, fill_mode, 0.0, order)[..., 0]
    broken = ~np.isfinite(out)
    # Only the bad pixel's channel, and only where it is sampled ...
    assert not broken[..., [0, 2]].any()
    assert not (broken[..., 1] & (weight == 0)
                & ~near_tie(matrix, h, w, interpolation)).any()
    # ... and wherever it is sampled with a real weight, the result shows it.
    assert broken[..., 1][weight > 1e-3].all()


def near_tie(matrix, h, w, interpolation):
    """Output pixels whose source point lies a hair off a pixel centre (or,
    for nearest, off a half-pixel): float32 may put a weight of zero where
    float64 puts 1e-9, or the reverse. Exact points are not ties."""
    ys, xs = np.mgrid[0:h, 0:w]
    tie = np.zeros((h, w), bool)
    for row in matrix[:2]:
        coord = row[0] * xs + row[1] * ys + row[2]
        if interpolation == "nearest":
            coord = coord + 0.5
        frac = coord - np.floor(coord)
        tie |= (frac > 0) & ((frac < 1e-3) | (frac > 1 - 1e-3))
    return tie
