"""`make test`'s sample covers what it claims (issue 42): every value of
every parametrised axis of each test, and every layer case in at least one
test, on each backend's run; the sample moves with its seed; the shards of
the full suite partition it."""

import collections
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.tensorflow_only

# What `make test` runs on each backend (the Makefile's targets).
RUNS = {
    "tensorflow": (dict(AL_LAYER_SAMPLE="12", AL_SAMPLE_SCALE="2",
                        AL_PROPERTY_EXAMPLES="3"),
                   ["-m", "not slow"]),
    "jax": (dict(AL_LAYER_SAMPLE="12", AL_SAMPLE_SCALE="2"),
            ["-m", "not tensorflow_only and not slow",
             "tests/test_contract.py", "tests/test_reproducible.py",
             "tests/test_volumes.py"]),
}


def test_these_are_the_makefiles_settings():
    """RUNS is what `make test` runs: each backend's line of the recipe sets
    these variables."""
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0].replace(
        "\\\n", " ")
    lines = {line.split("KERAS_BACKEND=")[1].split()[0]: line
             for line in recipe.splitlines() if "KERAS_BACKEND=" in line}
    for backend, (env, args) in RUNS.items():
        for key, value in env.items():
            assert f"{key}={value}" in lines[backend].split(), (backend, key)
        for arg in args[2:]:
            assert arg in makefile, (backend, arg)


def _collect(tmp_path, backend, env, args, name):
    out = tmp_path / f"{name}.json"
    full_env = dict(os.environ, KERAS_BACKEND=backend, AL_COLLECTED=str(out),
                    TF_CPP_MIN_LOG_LEVEL="3", **env)
    for key in ("AL_FULL", "AL_SHARD"):
        if key not in env:
            full_env.pop(key, None)
    subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                    "-p", "no:cacheprovider", "-p", "tests.collected_cases",
                    *args], cwd=ROOT, env=full_env, check=True,
                   capture_output=True, timeout=300)
    return json.loads(out.read_text())["kept"]


def _values(rows):
    """{test: {axis: set of values}} and {layer case: tests met}."""
    values = collections.defaultdict(lambda: collections.defaultdict(set))
    cases = collections.Counter()
    for row in rows:
        for axis, value in row["axes"].items():
            values[row["test"]][axis].add(value)
        for axis, value in row["cases"]:  # layer cases, axes naming layers
            cases[(axis, value)] += 1
    return values, cases


@pytest.mark.parametrize("backend", [
    "tensorflow", pytest.param("jax", marks=pytest.mark.slow)])
def test_the_sample_holds_every_axis_value_and_every_layer_case(
        tmp_path, backend):
    env, args = RUNS[backend]
    # One collection: what the run keeps, and what it drew that from.
    sample = _collect(tmp_path, backend, dict(env, AL_SAMPLE_SEED="abc"),
                      args, "sample")
    full = json.loads((tmp_path / "sample.json").read_text())["drawn_from"]
    assert len(sample) < len(full)  # it is a sample
    full_values, full_cases = _values(full)
    sample_values, sample_cases = _values(sample)
    missing = {test: {axis: sorted(values - sample_values[test][axis])
                      for axis, values in axes.items()
                      if values - sample_values[test][axis]}
               for test, axes in full_values.items()}
    missing = {test: axes for test, axes in missing.items() if axes}
    assert not missing, f"axis values no test runs: {missing}"
    assert set(sample_cases) == set(full_cases), (
        f"layer cases no test runs: {set(full_cases) - set(sample_cases)}")


@pytest.mark.slow
def test_the_sample_moves_with_its_seed(tmp_path):
    env, args = RUNS["tensorflow"]
    args = [*args, "tests/test_contract.py", "tests/test_behaviour.py"]
    a = _collect(tmp_path, "tensorflow", dict(env, AL_SAMPLE_SEED="one"),
                 args, "a")
    b = _collect(tmp_path, "tensorflow", dict(env, AL_SAMPLE_SEED="two"),
                 args, "b")
    again = _collect(tmp_path, "tensorflow", dict(env, AL_SAMPLE_SEED="one"),
                     args, "again")
    key = lambda rows: sorted(row["id"] for row in rows)
    assert key(a) == key(again)
    assert key(a) != key(b)


@pytest.mark.slow
def test_the_shards_partition_the_full_suite(tmp_path):
    args = ["tests/test_contract.py", "tests/test_parity.py"]
    key = lambda row: row["id"]
    full = _collect(tmp_path, "tensorflow", dict(AL_FULL="1"), args, "full")
    shards = [_collect(tmp_path, "tensorflow",
                       dict(AL_FULL="1", AL_SHARD=f"{i}/3"), args, f"s{i}")
              for i in range(3)]
    joined = [key(row) for shard in shards for row in shard]
    assert all(shards) and sorted(joined) == sorted(key(r) for r in full)
