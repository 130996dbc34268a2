"""Hostile input, tampered configs, threads, a long run, a very large batch."""

import builtins
import json
import math
import sys
import threading
import traceback

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augment_layers as al
from tests import custom_ops_module  # noqa: F401  (registers test_invert)
from tests import layer_cases
from tests.backend import BACKEND, to_numpy
from tests.helpers import FULL

NAN, INF = math.nan, math.inf


# -- bad arguments beyond the per-layer table in test_behaviour -------------

BAD_CONSTRUCTIONS = [
    ("params", lambda: al.RandomLambda("contrast", {"factor": (0.5, NAN)})),
    ("params", lambda: al.RandomLambda("contrast", {"factor": INF})),
    ("params", lambda: al.RandomLambda("contrast", {"factor": "wide"})),
    ("params", lambda: al.RandomLambda("contrast", [("factor", 1)])),
    ("params", lambda: al.RandomLambda("contrast", {"strength": 1})),
    ("probability", lambda: al.RandomLambda("gamma", {"gamma": 1.2}, probability=NAN)),
    ("probability", lambda: al.RandomLambda("gamma", {"gamma": 1.2}, probability=1.5)),
    ("value_range", lambda: al.RandomLambda("gamma", {"gamma": 1.2}, value_range=(1, 1))),
    ("value_range", lambda: al.RandomLambda("gamma", {"gamma": 1.2}, value_range=(0, NAN))),
    ("op", lambda: al.RandomLambda("no_such_op")),
    ("op", lambda: al.RandomLambda(42)),
    ("op", lambda: al.RandomLambda(lambda x: x)),
    ("layers", lambda: al.Augment("RandomShift")),
    ("layers", lambda: al.Augment([al.RandomShift(0.1), np.zeros(3)])),
    ("data_format", lambda: al.Augment([], data_format="NHWC")),
    ("epsilon", lambda: al.ZCAWhitening(epsilon=NAN)),
    ("epsilon", lambda: al.ZCAWhitening(epsilon=-1.0)),
    ("center", lambda: al.FeaturewiseNormalization(center="yes")),
    ("std_normalization", lambda: al.SamplewiseNormalization(
        std_normalization=1)),
    ("op", lambda: al.ApplyOp("no_such_op")),
    ("op", lambda: al.ApplyOp("contrast")),  # needs a factor
    ("params", lambda: al.RandomLambda("contrast")),  # likewise
    ("rotation_range", lambda: al.RandomAffine(rotation_range=NAN)),
    ("zoom_range", lambda: al.RandomAffine(zoom_range=(0.5, INF))),
    ("rotation_range", lambda: al.from_image_data_generator(
        rotation_range=NAN)),
    ("brightness_range", lambda: al.from_image_data_generator(
        brightness_range=(0.5, NAN))),
]


@pytest.mark.parametrize("name,make", BAD_CONSTRUCTIONS,
                         ids=[f"{n}-{i}" for i, (n, _) in
                              enumerate(BAD_CONSTRUCTIONS)])
def test_bad_argument_is_a_named_value_error(name, make):
    with pytest.raises(ValueError) as info:
        make()
    assert name in str(info.value)


@pytest.mark.parametrize("channels", [1, 4])
def test_a_channel_count_an_op_cannot_handle_is_named(channels):
    layer = al.RandomLambda("saturation", {"factor": (0.5, 1.5)})
    with pytest.raises(ValueError, match="3 channels"):
        layer(np.zeros((2, 8, 8, channels), "float32"), training=True)


@pytest.mark.parametrize("cls", [al.FeaturewiseNormalization,
                                 al.ZCAWhitening])
def test_images_that_do_not_fit_adapted_statistics_are_named(cls):
    layer = cls()
    layer.adapt(np.random.default_rng(0).uniform(0, 255, (6, 8, 8, 3)))
    with pytest.raises(ValueError, match=r"built for .*\(2, 8, 8, 1\)"):
        layer(np.zeros((2, 8, 8, 1), "float32"))


@pytest.mark.parametrize("shape", [(8, 8), (2, 2, 2, 8, 8, 3)])
def test_wrong_rank_through_augment_is_named(shape):
    with pytest.raises(ValueError, match="rank"):
        al.Augment([al.RandomShift(0.1)])(np.zeros(shape, "float32"),
                                          training=True)


# -- NaN pixels: what happens, as documented in the README -------------------

@pytest.mark.parametrize("layer", [
    al.RandomBrightnessRange((0.5, 1.5)), al.RandomChannelShift(30),
    al.RandomLambda("gamma", {"gamma": (0.5, 2.0)}),
    al.RandomLambda("saturation", {"factor": (0.0, 2.0)}),
    al.RandomFlip("horizontal_and_vertical")], ids=lambda l: l.name)
def test_element_wise_layers_keep_a_nan_in_its_pixel(layer):
    x = np.random.default_rng(1).uniform(0, 255, (4, 9, 9, 3))
    x[2, 4, 4, 1] = NAN  # the centre pixel: flips keep it in place
    out = to_numpy(layer(x.astype("float32"), training=True))
    broken = ~np.isfinite(out)
    assert broken[2, 4, 4].any()
    broken[2, 4, 4] = False  # saturation mixes the pixel's own channels
    assert not broken.any()


@pytest.mark.parametrize("layer", [
    al.RandomLambda("contrast", {"factor": (0.5, 1.5)}),
    al.SamplewiseNormalization(center=True, std_normalization=True)],
    ids=lambda l: l.name)
def test_whole_image_statistics_keep_a_nan_in_its_image(layer):
    x = np.random.default_rng(1).uniform(0, 255, (4, 9, 9, 3))
    x[2, 4, 4, 1] = NAN
    out = to_numpy(layer(x.astype("float32"), training=True))
    assert not np.isfinite(out[2]).any()  # the image's mean is NaN
    assert np.isfinite(np.delete(out, 2, axis=0)).all()


# -- tampered configs ----------------------------------------------------------

def fuzz_subjects():
    layers = [case.make(seed=1) for case in layer_cases.CASES] + [
        al.RandomAffine(rotation_range=10, zoom_range=0.2,
                        horizontal_flip=True),
        al.RandomLambda("contrast", {"factor": (0.8, 1.2)}, probability=0.5),
        al.Augment([al.RandomRotation(10), al.RandomBrightnessRange()]),
        al.ApplyOp("test_invert"), al.SamplewiseNormalization(),
        al.FeaturewiseNormalization(), al.ZCAWhitening()]
    return [keras.saving.serialize_keras_object(layer) for layer in layers]


SUBJECTS = fuzz_subjects()
HOSTILE_NAMES = ["tests.planted_module", "os.system", "builtins.eval",
                 "__import__('tests.planted_module')", "../../etc/passwd",
                 "tests.planted_module.Anything", ""]
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(HOSTILE_NAMES),
    st.lists(st.one_of(st.floats(-1e3, 1e3), st.text(max_size=3)),
             max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=3),
    st.just({"module": "tests.planted_module", "class_name": "Evil",
             "config": {}, "registered_name": "tests.planted_module>Evil"}))


@st.composite
def tampered(draw):
    subject = json.loads(json.dumps(draw(st.sampled_from(SUBJECTS))))
    config = subject["config"]
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["replace", "delete", "add", "child"]))
        keys = sorted(config)
        if action == "add" or not keys:
            config[draw(st.text(min_size=1, max_size=10))] = draw(JUNK)
        elif action == "delete":
            del config[draw(st.sampled_from(keys))]
        elif action == "child" and isinstance(config.get("layers"), list) \
                and config["layers"]:
            child = draw(st.sampled_from(config["layers"]))
            if isinstance(child, dict):
                child[draw(st.sampled_from(
                    ["module", "class_name", "registered_name", "config"]))] \
                    = draw(JUNK)
        else:
            config[draw(st.sampled_from(keys))] = draw(JUNK)
    return subject


THIRD_PARTY = ("tensorflow", "jax", "torch", "numpy", "xla")


# 800 tampered configs in the full run; 25 (a fixed, derandomized sample)
# in `make test`: each accepted one compiles its layer.
@settings(max_examples=800 if FULL else 25,
          deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(subject=tampered())
def test_tampered_configs_give_a_clear_error_or_a_working_layer(subject):
    try:
        layer = keras.saving.deserialize_keras_object(subject)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert message.strip(), "an error without a message"
        innermost = traceback.extract_tb(error.__traceback__)[-1].filename
        assert not any(f"/{pkg}/" in innermost for pkg in THIRD_PARTY), (
            f"crashed inside a dependency: {innermost}: {message}")
        return
    # Accepted: it must be a working layer, not a time bomb.
    assert isinstance(layer, keras.layers.Layer)
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3))
    x = x.astype("float32")
    for training in (True, False):
        out = to_numpy(layer(x, training=training))
        assert out.shape == tuple(layer.compute_output_shape(x.shape))
        assert np.isfinite(out).all()


def test_no_config_imported_or_ran_anything():
    # Runs after the fuzz in this module (pytest keeps file order); also
    # checks the fuzz's hostile names directly, in safe mode and not.
    for name in HOSTILE_NAMES:
        for make in (lambda n: al.RandomLambda(n),
                     lambda n: al.ApplyOp(n)):
            with pytest.raises(ValueError, match="registered"):
                make(name)
    evil = {"module": "tests.planted_module", "class_name": "Evil",
            "config": {}, "registered_name": "tests.planted_module>Evil"}
    with pytest.raises((ValueError, TypeError)):
        al.Augment.from_config({"layers": [evil]})
    assert "tests.planted_module" not in sys.modules
    assert not hasattr(builtins, "AUGMENT_LAYERS_PLANTED_MODULE_IMPORTED")


# -- threads --------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: al.RandomShift(0.3, 0.3, seed=1),
    lambda: al.RandomLambda("contrast", {"factor": (0.2, 1.8)}, seed=2),
    lambda: al.Augment([al.RandomRotation(30, seed=3),
                        al.RandomBrightnessRange((0.5, 1.5), seed=4)])],
    ids=["RandomShift", "RandomLambda", "Augment"])
def test_one_layer_called_from_four_threads(make):
    layer = make()
    x = np.repeat(np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 3)),
                  4, axis=0).astype("float32")
    layer(x, training=True)
    results, errors = {}, []
    barrier = threading.Barrier(4)

    def work(index):
        try:
            barrier.wait()
            results[index] = [to_numpy(layer(x, training=True))
                              for _ in range(25)]
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    outputs = [out for outs in results.values() for out in outs]
    assert len(outputs) == 100
    assert all(o.shape == x.shape and np.isfinite(o).all() for o in outputs)
    # Independent: the 100 calls drew exactly the 100 consecutive draws of
    # the seed's stream, each once, whichever thread got which. (A race on
    # the seed state would repeat some draws and skip others.)
    sequential = make()
    sequential(x, training=True)
    expected = [to_numpy(sequential(x, training=True)) for _ in range(100)]
    assert sorted(o.tobytes() for o in outputs) == sorted(
        o.tobytes() for o in expected)
    assert len({o.tobytes() for o in outputs}) == 100
