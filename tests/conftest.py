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
    "tests.test_targets": 90, "tests.test_volumes": 85,
    "tests.test_demo_cli_readme": 70, "tests.test_properties": 55,
    "tests.test_native": 45, "tests.test_keras_layers": 42,
    "tests.test_fields": 37, "tests.test_image_dropin": 35,
    "tests.test_behaviour": 34, "tests.test_fusion": 28,
    "tests.test_compiled_call": 28, "tests.test_custom_ops": 25,
    "tests.test_tf_data": 24, "tests.test_parity": 23,
    "tests.test_reproducible": 22, "tests.test_contract": 20,
    "tests.test_sampling": 18, "tests.test_policies": 17,
    "tests.test_clips": 16, "tests.test_xla": 16, "tests.test_resample": 14,
    "tests.test_distributed": 12, "tests.test_reliability": 11,
    "tests.test_first_run": 10, "tests.test_erasing_mixing": 9,
    "tests.test_migration": 9, "tests.test_notebooks": 1,
    "tests.test_release": 1}

# One layer case in this many per generic-contract test (`make test`; every
# case still meets at least one test, see _sample).
LAYER_SAMPLE = int(os.environ.get(
    "AL_LAYER_SAMPLE", "1" if BACKEND == "tensorflow" else "3"))
# Every test's sampling interval times this (`make test`: 2; the coverage
# rules of _sample hold whatever it is).
SAMPLE_SCALE = int(os.environ.get("AL_SAMPLE_SCALE", "1"))


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
    # What the sample is drawn from (tests/test_sampling.py compares them).
    config.al_before_sample = list(items)
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


def spread_keys(item):
    """The axes of ``item`` sampled across the run's tests rather than within
    the test, each with the key it counts under: the layer cases (and 3-D
    volume cases), and the axes its ``sampled`` marker declares with
    ``spread=``: a tuple of axes naming a layer, or a dict mapping an axis to
    the key it counts as (``{"name": "layer_case"}``: its values are layer
    case ids) or to None (an axis that follows another, e.g. the factory
    paired with a name). Each key meets at least one test of the run."""
    marker = item.get_closest_marker("sampled")
    declared = marker.kwargs.get("spread", {}) if marker is not None else {}
    if not isinstance(declared, dict):
        declared = {axis: axis for axis in declared}
    out = {}
    for axis, value in _axes(item).items():
        if axis in SPREAD_AXES:
            out[axis] = (axis, item.callspec.params[axis].id)
        elif axis in declared:
            out[axis] = declared[axis] and (declared[axis], value)
    return out


def _sample(config, items):
    """`make test`'s sample. A test marked ``sampled(k)`` keeps about one
    case in ``k x AL_SAMPLE_SCALE`` (one in ``AL_LAYER_SAMPLE x k x
    AL_SAMPLE_SCALE`` for the generic contract, parametrised by layer case),
    chosen so that:

    - every value of every other parametrised axis of the test appears in
      the sample (each value meets at least one case);
    - every layer case (and 3-D volume case, and every value of an axis that
      names a layer, ``sampled(k, spread=...)``, see spread_keys) appears in at least
      one test of the run, the least-met cases filling each test's quota
      first;
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
        if every is not None:
            every *= SAMPLE_SCALE
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
                      if axis not in spread_keys(item)}
            if values - covered:
                chosen.append(item)
                covered |= values
        # Then the least-met layer cases, then the seeded order.
        rest = [item for item in members if item not in chosen]
        rest.sort(key=lambda item: sum(
            met[key] for key in spread_keys(item).values() if key))
        chosen += rest[:max(0, quota - len(chosen))]
        for item in chosen:
            met.update(key for key in spread_keys(item).values() if key)
        kept.update(chosen)
    # A layer case the quotas left out still meets one test.
    for key in sorted(groups):
        for item, _ in groups[key]:
            spread = [key for key in spread_keys(item).values() if key]
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
