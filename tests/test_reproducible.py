"""The core's contract: one source of randomness, reproducible to the bit.

Same layer config, same seed, same input: the same bits, whether it is the
layer's first call or a later one, eager or traced, at a small or a large
batch, whatever ran before; ``get_random_transformation`` draws what a call
draws; inside ``Augment`` every child draws independently of the others.
Distributions are measured on what a layer *call* produced (constant images,
keypoints), the path a training step takes.
"""

import keras
import numpy as np
import pytest
from scipy import stats

import augment_layers as al
from augment_layers.layers import base
from tests import layer_cases
from tests.backend import BACKEND, jit_layer_call, to_numpy
from tests.helpers import FULL


def fused():
    return al.Augment([al.RandomRotation(25, seed=1),
                       al.RandomShift(0.1, 0.2, seed=2),
                       al.RandomFlip(seed=3),
                       al.RandomBrightnessRange((0.7, 1.3), seed=4)])


CASES = [(case.id, case.make) for case in layer_cases.CASES] + [
    ("Augment", lambda seed=None: fused())]


def _traced(layer, x):
    """``layer(x, training=True)`` inside the user's traced function."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda t: layer(t, training=True))(x)
    return jit_layer_call(layer, x)


# The large batch for every layer in the full run; in `make test` for the
# fused pipeline and a rotation (the old op-by-op threshold was by size).
LARGE_IN_FAST = {"Augment", "RandomRotation"}


# Every layer in `make test-full`; in `make test`, a share drawn with the
# layer cases (a layer case met by another test of the run may be left out
# here); the fused pipeline always.
@pytest.mark.sampled(4, spread={"name": "layer_case", "make": None})
@pytest.mark.parametrize("name,make", CASES[:-1], ids=[i for i, _ in
                                                       CASES[:-1]])
def test_same_seed_same_bits_however_called(name, make, rng):
    _same_bits_however_called(name, make, rng)


def test_the_fused_pipeline_same_bits_however_called(rng):
    _same_bits_however_called(*CASES[-1], rng)


def _same_bits_however_called(name, make, rng):
    small = rng.uniform(0, 255, (2, 24, 32, 3)).astype("float32")
    large = rng.uniform(0, 255, (48, 24, 32, 3)).astype("float32")
    for x in (small, large) if FULL or name in LARGE_IN_FAST else (small,):
        first = to_numpy(make(seed=7)(x, training=True))  # a fresh layer
        # Other layers of the same config ran in between (their compiled
        # work is shared): a fresh layer's first call is the same.
        make(seed=8)(x, training=True)
        again = to_numpy(make(seed=7)(x, training=True))
        np.testing.assert_array_equal(again, first)
        if BACKEND != "torch":  # (PyTorch: eager only, see the README)
            traced = to_numpy(_traced(make(seed=7), x))
            np.testing.assert_array_equal(traced, first)
    # And a layer's second call is what a fresh layer's second call is.
    a, b = make(seed=7), make(seed=7)
    a(small, training=True)
    b(small, training=True)
    np.testing.assert_array_equal(to_numpy(a(small, training=True)),
                                  to_numpy(b(small, training=True)))


@pytest.mark.sampled(2)
def test_get_random_transformation_is_what_a_call_draws(layer_case, rng):
    """The draws a test inspects are the draws of a call: a fresh layer's
    ``get_random_transformation``, applied, gives that call's output (to
    the round-off of running op by op instead of compiled; another draw
    would move pixels by tens)."""
    x = rng.uniform(0, 255, (4, 24, 32, 3)).astype("float32")
    called = to_numpy(layer_case.make(seed=11)(x, training=True))
    layer = layer_case.make(seed=11)
    t = layer.get_random_transformation(x.shape)
    applied = to_numpy(layer.transform_data(
        {"images": keras.ops.convert_to_tensor(x)}, t)["images"])
    np.testing.assert_allclose(applied, called, atol=0.05)
    # It advanced the seed state as a call does: the next draws are the
    # second call's.
    other = layer_case.make(seed=11)
    other(x, training=True)
    second = other.get_random_transformation(x.shape)
    again = layer.get_random_transformation(x.shape)
    for got, want in zip(keras.tree.flatten(again),
                         keras.tree.flatten(second)):
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def _angles_and_shifts(augment, n, size=32):
    """Each image's rotation angle and vertical shift, read off two
    keypoints moved by one call: the centre (rotation leaves it, the shift
    moves it) and a point 10 px right of it."""
    centre = size / 2
    points = np.tile(np.array([[centre, centre], [centre + 10, centre]],
                              "float32"), (n, 1, 1))
    out = augment({"images": np.zeros((n, size, size, 1), "float32"),
                   "keypoints": points}, training=True)
    moved = to_numpy(out["keypoints"]).astype("float64")
    d = moved[:, 1] - moved[:, 0]
    angle = np.degrees(np.arctan2(-d[:, 1], d[:, 0]))  # y points down
    return angle, moved[:, 0, 1] - centre


def test_children_with_equal_seeds_draw_independently():
    """The issue's user: ``seed=42`` on every layer. The rotation angle and
    the shift of one image are uncorrelated, and each has its own law."""
    n = 1024
    augment = al.Augment([al.RandomRotation(30, seed=42),
                          al.RandomShift((-0.25, 0.25), 0.0, seed=42)])
    angle, dy = _angles_and_shifts(augment, n)
    # |r| of independent draws is about 1 / sqrt(n); 5 sigma is 0.16.
    assert abs(np.corrcoef(angle, dy)[0, 1]) < 5 / np.sqrt(n)
    assert stats.kstest(angle, stats.uniform(-30, 60).cdf).pvalue > 1e-6
    assert stats.kstest(dy, stats.uniform(-8, 16).cdf).pvalue > 1e-6
    # And consecutive calls are uncorrelated too.
    angle2, _ = _angles_and_shifts(augment, n)
    assert abs(np.corrcoef(angle, angle2)[0, 1]) < 5 / np.sqrt(n)


def test_the_same_object_twice_multiplies_independent_factors():
    """``Augment([b, b])``: the two brightness factors are independent
    draws, so the image is scaled by a product of two uniforms (not by the
    square of one)."""
    n = 4000
    b = al.RandomBrightnessRange((0.5, 1.5), seed=3)
    out = al.Augment([b, b])(np.full((n, 2, 2, 1), 100.0, "float32"),
                             training=True)
    factor = to_numpy(out)[:, 0, 0, 0] / 100.0
    reference = np.random.default_rng(0).uniform(0.5, 1.5, (2, 200_000))
    product, square = reference[0] * reference[1], reference[0] ** 2
    assert stats.ks_2samp(factor, product).pvalue > 1e-6
    assert stats.ks_2samp(factor, square).pvalue < 1e-12


def test_brightness_factors_of_a_call_are_uniform_and_fresh_each_step():
    """The law of the draws a training step uses, measured on its output."""
    n = 4000
    layer = al.RandomBrightnessRange((0.6, 1.4), seed=9)
    x = np.full((n, 1, 1, 1), 100.0, "float32")
    first = to_numpy(layer(x, training=True))[:, 0, 0, 0] / 100.0
    second = to_numpy(layer(x, training=True))[:, 0, 0, 0] / 100.0
    assert stats.kstest(first, stats.uniform(0.6, 0.8).cdf).pvalue > 1e-6
    assert abs(np.corrcoef(first, second)[0, 1]) < 5 / np.sqrt(n)
    assert len(np.unique(first)) > n - 5  # no repeated stream


def test_an_explicit_call_seed_reproduces_whatever_ran_before(rng):
    """``layer(x, training=True, seed=n)``: the ImageDataGenerator drop-in's
    per-batch seed. The same seed, the same bits; the layer's own seed
    state is left alone."""
    x = rng.uniform(0, 255, (4, 24, 32, 3)).astype("float32")
    augment = fused()
    first = to_numpy(augment(x, training=True, seed=123))
    augment(x, training=True)
    np.testing.assert_array_equal(
        to_numpy(fused()(x, training=True, seed=123)), first)
    assert not np.array_equal(to_numpy(augment(x, training=True, seed=124)),
                              first)


def test_the_layer_contract_is_declared_in_one_place():
    """Every flag the executor reads is a documented class attribute of
    BaseAugmentation, and no layer invents another."""
    flags = ("resamples", "pointwise", "may_rotate", "projective",
             "exact_resample", "uses_labels", "acts_at_inference")
    for flag in flags:
        assert hasattr(base.BaseAugmentation, flag)
        assert "#: " in _source_before(base.BaseAugmentation, flag)
    assert al.RandomResizedCrop.acts_at_inference
    assert al.MixUp.uses_labels and not al.MixUp.pointwise
    assert al.RandomPerspective.may_rotate and al.RandomPerspective.projective
    assert not al.RandomShift(0.1).may_rotate
    assert al.RandomRotation(10).may_rotate


def _source_before(cls, name):
    import inspect

    lines = inspect.getsource(cls).splitlines()
    at = next(i for i, line in enumerate(lines)
              if line.strip().startswith(f"{name} ="))
    return "\n".join(lines[max(0, at - 6):at])
