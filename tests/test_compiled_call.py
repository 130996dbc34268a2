"""One compiled call per layer call: draws inside, integer images read as
they are, one trace for many sizes (issue: speed on every call path).

A layer call takes one seed per augmenting layer outside the compiled
function and does everything else inside it: the parameter draws
(stateless, from that seed), the cast to the compute dtype, the resample and
the colour work.
"""

import logging

import keras
import numpy as np
import pytest

import augment_layers as al
from augment_layers.layers import draws
from augment_layers.layers import executor
from augment_layers.ops import compile as compile_module
from tests import layer_cases
from tests.backend import BACKEND, to_numpy
from tests.helpers import FULL


def pipeline(seed=0):
    return al.Augment([
        al.RandomRotation(20, seed=seed), al.RandomShift(0.1, 0.1, seed=seed + 1),
        al.RandomZoomAspect(0.2, seed=seed + 2),
        al.RandomFlip("horizontal", seed=seed + 3),
        al.RandomBrightnessRange((0.8, 1.2), seed=seed + 4)],
        bounding_box_format="xyxy")


class Spy:
    """Wraps ``compiled`` where the layers create their compiled functions,
    recording each top-level call (the dtype of the images it was given)."""

    def __init__(self, monkeypatch):
        self.calls = []
        real = compile_module.compiled

        def spying(fn, static_argnums=(), per_shape=False):
            inner = real(fn, static_argnums, per_shape)

            def run(data, seed):
                self.calls.append(keras.backend.standardize_dtype(
                    data["images"].dtype))
                return inner(data, seed)

            run.python_function = fn
            run.tracing_count = inner.tracing_count
            return run

        monkeypatch.setattr(executor, "compiled", spying)
        # Layers share compiled functions by what they compute: start
        # afresh.
        monkeypatch.setattr(executor, "_cache",
                            __import__("collections").OrderedDict())


def _data(rng, dtype="uint8"):
    images = rng.integers(0, 256, (4, 24, 28, 3)).astype(dtype)
    return {"images": images,
            "segmentation_masks": rng.integers(0, 5, (4, 24, 28, 1)).astype(
                "uint8"),
            "bounding_boxes": {"boxes": np.tile(np.array(
                [[2.0, 3.0, 12.0, 15.0]], "float32"), (4, 1, 1)),
                "labels": np.ones((4, 1), "int32")}}


def test_augment_is_one_compiled_call_given_uint8(monkeypatch, rng):
    spy = Spy(monkeypatch)
    augment = pipeline()
    for _ in range(2):
        out = augment(_data(rng), training=True)
    # One call per Augment call, and the images enter it as uint8: the cast
    # to float32 happens inside, fused with the first read.
    assert spy.calls == ["uint8", "uint8"]
    assert keras.backend.standardize_dtype(out["images"].dtype) == "float32"
    assert keras.backend.standardize_dtype(
        out["segmentation_masks"].dtype) == "uint8"


@pytest.mark.sampled(2)
def test_single_layer_is_one_compiled_call(monkeypatch, rng, layer_case):
    spy = Spy(monkeypatch)
    layer = layer_case.make(seed=3)
    layer(rng.integers(0, 256, (4, 24, 28, 3)).astype("uint8"), training=True)
    # RandAugment/TrivialAugmentWide: the resample, then the colour ops that
    # read whole images, as two calls (see BaseAugmentation.pointwise).
    expected = ["uint8", "float32"] if layer_case.id in (
        "RandAugment", "TrivialAugmentWide", "AutoAugment") else ["uint8"]
    assert spy.calls == expected


def test_statistics_after_a_resample_start_a_second_call(monkeypatch, rng):
    spy = Spy(monkeypatch)
    augment = al.Augment([al.RandomRotation(20), al.RandomBrightnessRange(),
                          al.RandomLambda("contrast", {"factor": (0.8, 1.2)}),
                          al.RandomLambda("gamma", {"gamma": (0.8, 1.2)})])
    augment(rng.integers(0, 256, (4, 24, 28, 3)).astype("uint8"),
            training=True)
    assert spy.calls == ["uint8", "float32"]
    # Pointwise colour work alone stays in one call.
    spy.calls.clear()
    pointwise = al.Augment([al.RandomRotation(20), al.RandomBrightnessRange(),
                            al.RandomLambda("gamma", {"gamma": (0.8, 1.2)})])
    pointwise(rng.integers(0, 256, (4, 24, 28, 3)).astype("uint8"),
              training=True)
    assert spy.calls == ["uint8"]


@pytest.mark.skipif(BACKEND == "torch",
                    reason="PyTorch runs the layers eagerly: nothing to trace")
def test_draws_happen_inside_the_compiled_function(monkeypatch, rng):
    seen = []
    real = draws._hash_uniform

    def recording(*args):
        out = real(*args)
        seen.append(out)
        return out

    monkeypatch.setattr(draws, "_hash_uniform", recording)
    monkeypatch.setattr(executor, "_cache",
                        __import__("collections").OrderedDict())
    unexpected = []  # stateful draws, op by op
    monkeypatch.setattr(keras.random, "uniform",
                        lambda *a, **k: unexpected.append(1))
    augment = pipeline()
    x = rng.uniform(0, 255, (4, 24, 28, 3)).astype("float32")
    augment(x, training=True)  # the first small eager call is compiled too
    # rotation 1, shift 2, zoom 2, flip 2, brightness 1
    assert len(seen) == 8 and not unexpected
    if BACKEND == "tensorflow":
        import tensorflow as tf

        # Symbolic tensors: drawn while tracing, not op by op eagerly.
        assert all(not isinstance(x, type(tf.constant(0.0))) for x in seen)
    else:
        import jax

        assert all(isinstance(x, jax.core.Tracer) for x in seen)


def test_each_layer_state_advances_once_per_call(rng):
    augment = pipeline(seed=11)
    layers = augment.layers
    before = [to_numpy(layer.seed_generator.state.value) for layer in layers]
    augment(rng.uniform(0, 255, (4, 24, 28, 3)).astype("float32"),
            training=True)
    after = [to_numpy(layer.seed_generator.state.value) for layer in layers]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a.astype("int64") - b.astype("int64"),
                                      [0, 1])


def test_call_seeds_follow_keras_seed_generator(monkeypatch):
    """A layer's call seeds are Keras's ``SeedGenerator.next()`` sequence
    (the reference: a second generator of the same seed), eagerly (on
    TensorFlow in two variable ops instead of Keras's five), inside a
    ``tf.function`` and in a stateless call, which leaves the variable
    alone; a seed already taken stays what it was."""
    layer = al.RandomRotation(20, seed=3)
    reference = keras.random.SeedGenerator(3)
    calls = []
    real_next = keras.random.SeedGenerator.next

    def spy(self, *args, **kwargs):
        calls.append(self)
        return real_next(self, *args, **kwargs)

    monkeypatch.setattr(keras.random.SeedGenerator, "next", spy)
    taken = [draws.call_seed(layer) for _ in range(3)]
    kept = [to_numpy(seed).copy() for seed in taken]
    draws.call_seed(layer)
    for seed, value in zip(taken, kept):
        want = to_numpy(real_next(reference))
        np.testing.assert_array_equal(to_numpy(seed), want)
        np.testing.assert_array_equal(value, want)
    real_next(reference)
    np.testing.assert_array_equal(to_numpy(layer.seed_generator.state.value),
                                  to_numpy(reference.state.value))
    if BACKEND == "tensorflow":
        assert layer.seed_generator not in calls  # the two-op path ran
        import tensorflow as tf

        traced = tf.function(lambda: draws.call_seed(layer))
        for _ in range(2):
            np.testing.assert_array_equal(to_numpy(traced()),
                                          to_numpy(real_next(reference)))
        np.testing.assert_array_equal(
            to_numpy(layer.seed_generator.state.value),
            to_numpy(reference.state.value))
    before = to_numpy(layer.seed_generator.state.value).copy()
    with keras.StatelessScope() as scope:
        seed = draws.call_seed(layer)
        advanced = scope.get_current_value(layer.seed_generator.state)
    np.testing.assert_array_equal(to_numpy(seed), before)
    np.testing.assert_array_equal(to_numpy(advanced), before + [0, 1])
    np.testing.assert_array_equal(to_numpy(layer.seed_generator.state.value),
                                  before)


@pytest.mark.sampled(3)
def test_uint8_input_equals_float32_input(layer_case, rng):
    x = rng.integers(0, 256, (4, 24, 28, 3)).astype("uint8")
    as_uint8 = to_numpy(layer_case.make(seed=5)(x, training=True))
    as_float = to_numpy(layer_case.make(seed=5)(x.astype("float32"),
                                                training=True))
    # The same compiled work on the same values: the same bits.
    np.testing.assert_array_equal(as_uint8, as_float)


def test_uint8_pipeline_with_targets_equals_float32(rng):
    data = _data(rng)
    as_uint8 = pipeline(seed=2)(data, training=True)
    as_float = pipeline(seed=2)(dict(data, images=data["images"].astype(
        "float32")), training=True)
    for key in ("images", "segmentation_masks"):
        np.testing.assert_allclose(to_numpy(as_uint8[key]),
                                   to_numpy(as_float[key]), atol=1e-3)
    np.testing.assert_allclose(
        to_numpy(as_uint8["bounding_boxes"]["boxes"]),
        to_numpy(as_float["bounding_boxes"]["boxes"]), atol=1e-4)


def test_uint8_at_inference_is_cast_only(rng):
    x = rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8")
    out = pipeline()(x, training=False)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_array_equal(to_numpy(out), x.astype("float32"))


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "tensorflow",
                    reason="TensorFlow's tf.function retracing")
def test_many_sizes_trace_once_per_dtype_without_warnings(monkeypatch, rng):
    messages = []

    class Record(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    monkeypatch.setattr(executor, "_cache",
                        __import__("collections").OrderedDict())
    handler = Record()
    logging.getLogger("tensorflow").addHandler(handler)
    try:
        for _ in range(6):  # a notebook building layers cell after cell
            pipeline()(rng.uniform(0, 255, (2, 16, 16, 3)), training=True)
        augment = pipeline()
        policy = al.RandAugment(seed=1)
        for k in range(7 if FULL else 4):  # a preview loop, many sizes
            x = rng.uniform(0, 255, (1 + k % 3, 20 + 7 * k, 30 + 5 * k, 3))
            augment(x.astype("float32"), training=True)
            policy(x.astype("uint8"), training=True)
    finally:
        logging.getLogger("tensorflow").removeHandler(handler)
    assert not [m for m in messages if "retracing" in m]
    # One trace at the first size, one relaxed trace for every other.
    runners = [executor.compiled_segment(segment, "float32")
               for layer in (augment, policy)
               for segment in layer.plan().stages[0].segments]
    # The pipeline: float64 (the notebook cells), then float32 at one size
    # and relaxed to any; the policy's two segments: one dtype each.
    assert [runner.tracing_count() for runner in runners] == [3, 2, 2]


def test_stateless_draws_are_uniform_and_distinct():
    from scipy import stats

    layer = al.RandomRotation(20, seed=0)
    values = np.concatenate([
        to_numpy(layer.get_random_transformation((500, 8, 8, 3))["theta"])
        for _ in range(8)])
    # float32 holds 23-24 bits: among 4,000 draws about one pair may
    # collide by chance (a clean JAX run had one); a repeated stream would
    # give thousands.
    assert len(np.unique(values)) >= len(values) - 5
    assert stats.kstest(values, stats.uniform(-20, 40).cdf).pvalue > 1e-6


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's graph capture")
def test_pytorch_draws_keep_the_seed_a_tensor(monkeypatch):
    """On PyTorch a layer call's draws are tensor ops on its call seed:
    no copy of the seed to the host (a device sync per call on a GPU), and
    under ``torch.compile`` the seed stays a tensor argument, so a new seed
    value compiles nothing (a Python int made a ``jit_compile=True`` fit
    recompile every step)."""
    import torch

    layer = al.RandomRotation(20, seed=0)

    def no_host_copy(*args, **kwargs):
        raise AssertionError("the call seed went to the host")

    def draw(seed):
        return layer.random_parameters((6, 8, 8, 3),
                                       draws.Stream(seed))["theta"]

    torch._dynamo.reset()
    captured = torch.compile(draw, backend="eager")
    with monkeypatch.context() as patch:
        patch.setattr(draws.ops, "convert_to_numpy", no_host_copy)
        seed, other = draws.call_seed(layer), draws.call_seed(layer)
        assert isinstance(seed, torch.Tensor)
        eager = draw(seed)
        compiled = captured(seed)
        # Another seed, the same graph: no recompile for a new value.
        with torch._dynamo.config.patch(error_on_recompile=True):
            drawn = captured(other)
    np.testing.assert_array_equal(to_numpy(compiled), to_numpy(eager))
    assert not np.array_equal(to_numpy(drawn), to_numpy(eager))


def test_every_segment_applies_the_same_draws(monkeypatch, rng):
    """RandAugment's two compiled calls (the resample, then the colour ops)
    draw from the one call seed: the colour phase gets the parameters the
    geometric phase used, which are those of ``get_random_transformation``
    on a fresh layer of the same seed. Run op by op to see the values."""
    from augment_layers.layers import rand_augment

    seen = {}
    real = rand_augment._Policy.transform_phase

    def spy(self, data, t, phase):
        seen[phase] = keras.tree.map_structure(to_numpy, t)
        return real(self, data, t, phase)

    monkeypatch.setattr(rand_augment._Policy, "transform_phase", spy)
    al.set_jit_augment(False)
    try:
        al.RandAugment(seed=4)(rng.uniform(0, 255, (6, 16, 16, 3)),
                               training=True)
    finally:
        al.set_jit_augment(True)
    assert set(seen) == {"geometric", "colour"}
    expected = al.RandAugment(seed=4).get_random_transformation(
        (6, 16, 16, 3))
    for key in expected:
        np.testing.assert_array_equal(seen["geometric"][key],
                                      seen["colour"][key])
        np.testing.assert_array_equal(seen["colour"][key],
                                      to_numpy(expected[key]))


def _segments_output(layer, data, seed, compiled_run):
    for segment in layer.plan().stages[0].segments:
        fn = executor.compiled_segment(segment, "float32")
        data = fn(data, (seed,)) if compiled_run else \
            fn.python_function(data, (seed,))
    return data


@pytest.mark.sampled(2)
def test_compiled_equals_op_by_op(layer_case, rng):
    """The compiled function and the same function run op by op (PyTorch,
    ``set_jit_augment(False)``) agree from the same seed, to round-off."""
    layer = layer_case.make(seed=5)
    data = {"images": keras.ops.convert_to_tensor(
        rng.integers(0, 256, (4, 24, 28, 3)).astype("uint8"))}
    seed = draws.call_seed(layer)
    fast = _segments_output(layer, data, seed, True)
    plain = _segments_output(layer, data, seed, False)
    # XLA's fused float32 arithmetic rounds differently in the last bits;
    # another draw would move pixels by tens. AugMix posterizes and
    # equalizes interpolated values: one that lands on the other side of
    # an integer moves by a level times its chain's share (a few pixels).
    fast, plain = to_numpy(fast["images"]), to_numpy(plain["images"])
    if layer_case.id == "AugMix":
        assert np.mean(np.abs(fast - plain) > 1e-2) < 0.1
        np.testing.assert_allclose(fast, plain, atol=2.0)
    else:
        np.testing.assert_allclose(fast, plain, atol=1e-2)


ARRAYS = {
    "float64": np.arange(2 * 5 * 7 * 3, dtype="float64").reshape(2, 5, 7, 3),
    "uint8": (np.arange(2 * 5 * 7 * 3) % 256).astype("uint8").reshape(
        2, 5, 7, 3),
    "sliced": np.arange(2 * 10 * 7 * 3, dtype="float32").reshape(
        2, 10, 7, 3)[:, ::2, ::-1],
    "fortran": np.asfortranarray(np.ones((2, 5, 7, 3), "float16")),
    "bool": np.arange(6).reshape(1, 2, 3, 1) > 2,
    "empty": np.zeros((0, 4, 4, 3), "float32"),
    # Over 1 MiB: JAX on a CPU takes these through an aligned private copy.
    "large": np.linspace(0, 255, 2 * 256 * 256 * 3, dtype="float32").reshape(
        2, 256, 256, 3),
    "large uint8": (np.arange(6 * 256 * 256 * 3) % 253).astype(
        "uint8").reshape(6, 256, 256, 3),
    "large float64": (np.arange(2 * 256 * 256 * 3) % 1001 / 8.0).reshape(
        2, 256, 256, 3),  # JAX without x64: float32, every value exact
}


def at_offset(array, offset):
    """A copy of ``array`` whose data starts ``offset`` bytes past a 64-byte
    boundary (TensorFlow shares an aligned array's memory)."""
    raw = np.empty(array.nbytes + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    out = raw[start:start + array.nbytes].view(array.dtype).reshape(
        array.shape)
    out[...] = array
    assert out.ctypes.data % 64 == offset
    return out


@pytest.mark.parametrize("offset", [0, 16, 32])
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_numpy_input_becomes_a_tensor_of_its_own_dtype_not_a_view(name,
                                                                  offset):
    from augment_layers.ops import dispatch

    x = ARRAYS[name]
    if x.size and name != "sliced":
        x = at_offset(x, offset)
    elif name == "sliced":
        x = x.copy()[:, ::2, ::-1]  # each case changes its own array
    tensor = dispatch.array_to_tensor(x)
    # The dtype Keras's own conversion gives (JAX without x64: float32).
    assert keras.backend.standardize_dtype(tensor.dtype) == \
        keras.backend.standardize_dtype(keras.ops.convert_to_tensor(x).dtype)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(tensor), x)
    if BACKEND != "torch":  # (PyTorch's as_tensor shares CPU memory)
        before = keras.ops.convert_to_numpy(tensor).copy()
        x[...] = 0
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(tensor),
                                      before)


@pytest.mark.skipif(BACKEND != "jax", reason="JAX's CPU client")
def test_jax_takes_a_large_numpy_batch_through_one_aligned_copy(
        monkeypatch, rng):
    """JAX converts an unaligned NumPy array (where NumPy puts a large one)
    through a slow copy into a page-faulting buffer; the layers hand it an
    aligned private copy to take as it is. The private copy is what JAX
    reads: the same pixels as a JAX array input, and changing the user's
    array after the call changes nothing."""
    import jax

    real = jax.device_put
    taken = []

    def spy(x, *args, **kwargs):
        if kwargs.get("may_alias") and isinstance(x, np.ndarray):
            taken.append(x)
        return real(x, *args, **kwargs)

    monkeypatch.setattr(jax, "device_put", spy)
    x = at_offset(rng.uniform(0, 255, (4, 160, 160, 3)).astype("float32"),
                  16)
    small = x[:, :16, :16].copy()
    out = to_numpy(pipeline(seed=3)(x, training=True))
    assert len(taken) == 1 and taken[0].shape == x.shape
    assert taken[0].ctypes.data % 64 == 0
    assert not np.shares_memory(taken[0], x)
    pipeline(seed=3)(small, training=True)  # small: JAX's own path
    assert len(taken) == 1
    expected = to_numpy(pipeline(seed=3)(jax.numpy.asarray(x),
                                         training=True))
    np.testing.assert_array_equal(out, expected)
    lazy = pipeline(seed=3)(x, training=True)  # not waited for
    x[...] = -1
    np.testing.assert_array_equal(to_numpy(lazy), expected)


@pytest.mark.skipif(BACKEND != "tensorflow",
                    reason="TensorFlow's double copy of NumPy arrays")
def test_eager_numpy_batch_is_copied_once(monkeypatch, rng):
    """``tf.convert_to_tensor`` copies a NumPy array twice (a defensive
    ``ndarray.copy()``, then into the tensor): a layer called eagerly on a
    NumPy batch must not go through it for the batch (2.8x slower)."""
    from tensorflow.python.framework import constant_op

    real = constant_op.convert_to_eager_tensor
    sizes = []

    def spy(value, *args, **kwargs):
        sizes.append(np.size(value))
        return real(value, *args, **kwargs)

    monkeypatch.setattr(constant_op, "convert_to_eager_tensor", spy)
    # Where a large NumPy array starts (16 bytes past a page): TensorFlow
    # would not share it, so one copy is the only copy.
    x = at_offset(rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32"), 16)
    data = {"images": x, "segmentation_masks": at_offset(
        np.zeros((4, 32, 32, 1), "uint8"), 16)}
    for layer in (pipeline(), al.RandomRotation(20, seed=1)):
        sizes.clear()
        layer(x, training=True)
        layer(data, training=True)
        assert not [n for n in sizes if n >= x.size // 3], sizes
    out = to_numpy(pipeline()(x, training=False))
    x[...] = -1  # the input's later changes do not reach the output
    assert out.min() >= 0
