"""Every Keras backend (training on more than one device, and in other
processes: ``tests/test_distributed.py``).

The layer tests themselves run under each backend (``make test`` runs pytest
once per backend). The tests here look across backends, so they run once,
from the TensorFlow process, and start a fresh interpreter per backend.
"""


import numpy as np
import pytest
from scipy import stats

from tests import backend_script
from tests.backend import tensorflow_only
from tests.helpers import FULL, run_python

# Each test here starts the other backends in processes of their own: the
# cross-backend checks run in `make test-full` (each backend's own pass of
# `make test` runs the contract and the reproducibility tests).
pytestmark = pytest.mark.slow

BACKENDS = ("tensorflow", "jax", "torch")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Per backend: fixed-parameter outputs, draws, and a trained model."""
    root = tmp_path_factory.mktemp("backends")
    for name in BACKENDS:
        out = run_python(
            f"import runpy, sys; sys.argv = ['x', 'save', {str(root / name)!r}]"
            "; runpy.run_module('tests.backend_script', run_name='__main__')",
            env={"KERAS_BACKEND": name})
        assert f"SAVED {name}" in out
    return root


@tensorflow_only
@pytest.mark.sampled(2)
@pytest.mark.parametrize("other", ["jax", "torch"])
def test_fixed_parameters_agree_across_backends(saved, other):
    reference = np.load(saved / "tensorflow" / "fixed.npz")
    candidate = np.load(saved / other / "fixed.npz")
    assert sorted(reference.files) == sorted(candidate.files)
    assert len(reference.files) >= 15
    for name in reference.files:
        ref, got = reference[name], candidate[name]
        assert got.shape == ref.shape and got.dtype == np.float32, name
        span = 255.0 if name != "samplewise" else np.ptp(ref)
        # Within 1e-4 of the value range, everywhere.
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4 * span,
                                   err_msg=f"{name} on {other}")
        # The layer really did something: a fixed transform, not identity.
        assert not np.allclose(ref, backend_script.fixed_input(), atol=1), name


@tensorflow_only
@pytest.mark.parametrize("other", ["jax", "torch"])
def test_random_parameters_are_the_same_on_every_backend(saved, other):
    """One random path: the same seeds draw the same numbers on every
    backend (an integer hash; only exp/log in a log-uniform aspect may
    round differently), and they follow their laws."""
    reference = np.load(saved / "tensorflow" / "draws.npz")
    candidate = np.load(saved / other / "draws.npz")
    assert sorted(reference.files) == sorted(candidate.files)
    for name in reference.files:
        a, b = reference[name], candidate[name]
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=0, err_msg=name)
    theta = reference["rotation_theta"]
    assert stats.kstest(theta, stats.uniform(-30, 60).cdf).pvalue > 1e-6
    assert abs(reference["flip_horizontal"].mean() - 0.5) < 5 * 0.5 / 63


@tensorflow_only
@pytest.mark.parametrize("other", ["jax", "torch"])
def test_seeded_layers_augment_alike_on_every_backend(saved, other):
    """A layer call's draws are a hash of its call seed, computed alike on
    every backend: the same seeds give the same augmentation, call after
    call (up to float rounding in the resample)."""
    reference = np.load(saved / "tensorflow" / "seeded.npz")
    candidate = np.load(saved / other / "seeded.npz")
    x = backend_script.fixed_input()
    for name in reference.files:
        np.testing.assert_allclose(candidate[name], reference[name],
                                   rtol=0, atol=1e-4 * 255, err_msg=name)
        assert not np.allclose(reference[name], x, atol=1), name
    # Each call draws afresh (the seed state moves on).
    assert not np.allclose(reference["call0"], reference["call1"], atol=1)


# Every pair of backends in the full run; one in `make test`.
PAIRS = [("tensorflow", "jax"), ("jax", "torch"), ("torch", "tensorflow")]


@tensorflow_only
@pytest.mark.parametrize("source,target", PAIRS if FULL else PAIRS[2:])
def test_keras_file_saved_under_one_backend_loads_under_another(
        saved, source, target):
    out = run_python(
        f"import runpy, sys; sys.argv = ['x', 'load', {str(saved / source)!r}]"
        "; runpy.run_module('tests.backend_script', run_name='__main__')",
        env={"KERAS_BACKEND": target})
    assert f"LOADED {target}" in out and "RandomLambda" in out
