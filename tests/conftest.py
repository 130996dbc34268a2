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
