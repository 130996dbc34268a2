import collections
import zlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests import layer_cases  # noqa: E402
from tests.backend import BACKEND  # noqa: E402
from tests.helpers import FULL  # noqa: E402


# Seconds each file took in one `make test` run under TensorFlow (for the
# order in which the two workers take the files; rough is enough).
FILE_SECONDS = {
    "tests.test_demo_cli_readme": 100, "tests.test_native": 70,
    "tests.test_contract": 60, "tests.test_targets": 55,
    "tests.test_fusion": 52, "tests.test_compiled_call": 50,
    "tests.test_volumes": 50, "tests.test_distributed": 50,
    "tests.test_xla": 46, "tests.test_fields": 45,
    "tests.test_image_dropin": 37, "tests.test_release": 36,
    "tests.test_tf_data": 31, "tests.test_custom_ops": 31,
    "tests.test_keras_layers": 30, "tests.test_behaviour": 30,
    "tests.test_properties": 30, "tests.test_reproducible": 24,
    "tests.test_reliability": 21, "tests.test_crop_perspective": 21,
    "tests.test_clips": 19, "tests.test_policies": 18,
    "tests.test_parity": 15, "tests.test_notebooks": 13,
    "tests.test_erasing_mixing": 12, "tests.test_resample": 10}

# One layer case in this many per generic-contract test (`make test`).
LAYER_SAMPLE = int(os.environ.get(
    "AL_LAYER_SAMPLE", "1" if BACKEND == "tensorflow" else "3"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_generate_tests(metafunc):
    if "layer_case" in metafunc.fixturenames:
        metafunc.parametrize("layer_case", layer_cases.CASES,
                             ids=[c.id for c in layer_cases.CASES])


def pytest_collection_modifyitems(config, items):
    if BACKEND != "tensorflow":
        skip = pytest.mark.skip(
            reason=f"TensorFlow only (backend is {BACKEND})")
        for item in items:
            if "tensorflow_only" in item.keywords:
                item.add_marker(skip)
    # Heaviest files first (xdist --dist loadfile --no-loadscope-reorder
    # hands out files in this order), so that no worker starts a long file
    # while the other has finished: the order only, never the tests.
    items.sort(key=lambda item: -FILE_SECONDS.get(item.module.__name__, 5))
    if FULL:
        return
    # `make test` runs every k-th case of a test marked sampled(k), a
    # fixed sample that spreads over each parametrized axis (k coprime to
    # the axes' sizes); `make test-full` runs them all.
    groups = collections.defaultdict(list)
    for item in items:
        marker = item.get_closest_marker("sampled")
        every = marker.args[0] if marker is not None else None
        if {"layer_case", "volume_case"} & set(
                getattr(item, "fixturenames", ())) and LAYER_SAMPLE > 1:
            # `make test` runs the generic contract on one layer in
            # AL_LAYER_SAMPLE per test (each layer meets some of its tests;
            # `make test-full` runs every layer in every test).
            every = LAYER_SAMPLE * (every or 1)
        if every is not None:
            groups[(item.module.__name__, item.originalname)].append(
                (item, every))
    dropped = set()
    for (module, name), group in groups.items():
        # Each test starts its sample at its own offset, so that two tests
        # sampled alike cover different layers.
        offset = zlib.crc32(name.encode())
        for index, (item, every) in enumerate(group):
            if (index + offset) % every:
                dropped.add(item)
    if dropped:
        config.hook.pytest_deselected(items=[i for i in items
                                             if i in dropped])
        items[:] = [i for i in items if i not in dropped]


@pytest.fixture
def general_formulation(monkeypatch):
    """The general XLA formulation of the resampler, for tests of its own
    form (strips, gathers, index widths): the native CPU kernel is off, and
    no trace made with it is reused."""
    from augment_layers.layers import executor

    monkeypatch.setenv("AUGMENT_LAYERS_NATIVE", "0")
    executor.clear_cache()
    yield
    executor.clear_cache()
