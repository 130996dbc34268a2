import collections
import os
import random
import subprocess
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests import layer_cases  # noqa: E402
from tests.backend import BACKEND  # noqa: E402
from tests.helpers import FULL, ROOT  # noqa: E402


# Seconds each file took in one `make test` run under TensorFlow (for the
# order in which the two workers take the files; rough is enough).
FILE_SECONDS = {
    "tests.test_demo_cli_readme": 100, "tests.test_first_run": 90,
    "tests.test_notebooks": 100, "tests.test_native": 70,
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
    "tests.test_parity": 15, "tests.test_sampling": 40,
    "tests.test_erasing_mixing": 12, "tests.test_resample": 10}

# One layer case in this many per generic-contract test (`make test`; every
# case still meets at least one test, see _sample).
LAYER_SAMPLE = int(os.environ.get(
    "AL_LAYER_SAMPLE", "1" if BACKEND == "tensorflow" else "3"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_generate_tests(metafunc):
    if "layer_case" in metafunc.fixturenames:
        metafunc.parametrize("layer_case", layer_cases.CASES,
                             ids=[c.id for c in layer_cases.CASES])


# After pytest's own -m and -k selection, so the sample's coverage is
# counted over the tests that run.
@pytest.hookimpl(trylast=True)
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
    if not FULL:
        _sample(config, items)
    _shard(config, items)


def _shard(config, items):
    """``AL_SHARD=i/n``: only the tests whose node id hashes to shard ``i``
    of ``n`` (CI runs one shard of `make test-full` per commit, the shard
    chosen by the commit, so that successive commits cover the suite)."""
    shard = os.environ.get("AL_SHARD")
    if not shard:
        return
    index, count = (int(part) for part in shard.split("/"))
    if not 0 <= index < count:
        raise pytest.UsageError(f"AL_SHARD={shard}: want i/n with 0 <= i < n")
    dropped = [item for item in items
               if zlib.crc32(item.nodeid.encode()) % count != index]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        dropped = set(dropped)
        items[:] = [i for i in items if i not in dropped]


def _sample_seed():
    """The seed of `make test`'s sample: ``AL_SAMPLE_SEED``, else the
    commit checked out (so the sample moves with each commit and successive
    commits cover the full product), else 0."""
    seed = os.environ.get("AL_SAMPLE_SEED")
    if seed:
        return seed
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
            capture_output=True, text=True, timeout=10,
            check=True).stdout.strip() or "0"
    except (OSError, subprocess.SubprocessError):
        return "0"


SAMPLE_SEED = _sample_seed()
# The parameters sampled across a test module's tests rather than within
# each test: every layer case meets at least one generic-contract test.
SPREAD_AXES = ("layer_case", "volume_case")


def _sample_line():
    shard = os.environ.get("AL_SHARD")
    shard = f", shard {shard} of the full suite" if shard else ""
    if FULL:
        return f"augment_layers: every case (AL_FULL=1){shard}"
    return (f"augment_layers: sample seed {SAMPLE_SEED} (AL_SAMPLE_SEED="
            f"{SAMPLE_SEED} repeats this sample; AL_FULL=1 runs every "
            f"case){shard}")


def pytest_report_header(config):
    return _sample_line()


def pytest_terminal_summary(terminalreporter):
    # Also under -q, which hides the header.
    terminalreporter.write_line(_sample_line())


def _axes(item):
    """The item's parameters: {name: a hashable key of its value}."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    out = {}
    for name, value in callspec.params.items():
        try:
            hash(value)
            out[name] = value
        except TypeError:
            out[name] = repr(value)
    return out


def _sample(config, items):
    """`make test`'s sample. A test marked ``sampled(k)`` keeps about one
    case in k (one in ``AL_LAYER_SAMPLE x k`` for the generic contract,
    parametrised by layer case), chosen so that:

    - every value of every other parametrised axis of the test appears in
      the sample (each value meets at least one case);
    - every layer case (and 3-D volume case) appears in at least one test of
      the run, the least-met cases filling each test's quota first;
    - the rest of the quota is drawn from an order seeded by
      :data:`SAMPLE_SEED` and the test's name, so the sample moves with the
      commit and runs over time cover the whole product.
    """
    groups = collections.defaultdict(list)
    for item in items:
        marker = item.get_closest_marker("sampled")
        every = marker.args[0] if marker is not None else None
        if set(SPREAD_AXES) & set(getattr(item, "fixturenames", ())) \
                and LAYER_SAMPLE > 1:
            every = LAYER_SAMPLE * (every or 1)
        if item.get_closest_marker("skip") is not None:
            continue  # skipped on this backend: counts for no coverage
        if every is not None and every > 1:
            groups[(item.module.__name__, item.originalname)].append(
                (item, every))
    met = collections.Counter()  # (axis, value) -> tests kept
    kept = set()
    for key in sorted(groups):
        group = groups[key]
        order = random.Random(f"{SAMPLE_SEED}/{key[0]}/{key[1]}")
        members = [item for item, _ in group]
        order.shuffle(members)
        quota = -(-len(members) // group[0][1])
        chosen, covered = [], set()
        # Every value of every axis of this test, spread axes aside.
        for item in members:
            values = {(axis, index) for axis, index in _axes(item).items()
                      if axis not in SPREAD_AXES}
            if values - covered:
                chosen.append(item)
                covered |= values
        # Then the least-met layer cases, then the seeded order.
        rest = [item for item in members if item not in chosen]
        rest.sort(key=lambda item: sum(
            met[(axis, index)] for axis, index in _axes(item).items()
            if axis in SPREAD_AXES))
        chosen += rest[:max(0, quota - len(chosen))]
        for item in chosen:
            for axis, index in _axes(item).items():
                if axis in SPREAD_AXES:
                    met[(axis, index)] += 1
        kept.update(chosen)
    # A layer case the quotas left out still meets one test.
    for key in sorted(groups):
        for item, _ in groups[key]:
            spread = [(axis, value) for axis, value in _axes(item).items()
                      if axis in SPREAD_AXES]
            if spread and any(met[s] == 0 for s in spread):
                kept.add(item)
                met.update(spread)
    dropped = [item for key in groups for item, _ in groups[key]
               if item not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        dropped = set(dropped)
        items[:] = [i for i in items if i not in dropped]


@pytest.fixture
def general_formulation(monkeypatch):
    """The general formulation of the resampler, for tests of its own form
    (strips, gathers, index widths; PyTorch's grid_sample, bands and lerp):
    the native CPU kernel is off, and no trace made with it is reused."""
    from augment_layers.layers import executor

    monkeypatch.setenv("AUGMENT_LAYERS_NATIVE", "0")
    executor.clear_cache()
    yield
    executor.clear_cache()
