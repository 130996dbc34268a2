import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests import layer_cases  # noqa: E402
from tests.backend import BACKEND  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_generate_tests(metafunc):
    if "layer_case" in metafunc.fixturenames:
        metafunc.parametrize("layer_case", layer_cases.CASES,
                             ids=[c.id for c in layer_cases.CASES])


def pytest_collection_modifyitems(config, items):
    if BACKEND == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"TensorFlow only (backend is {BACKEND})")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
