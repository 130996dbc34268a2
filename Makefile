# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND ?= tensorflow

.PHONY: test test-full demo bench clean dist notebooks

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The demo installs only what it needs (quick first run); tests and
# benchmarks install everything (PyTorch, JAX, the ONNX tools...).
# Each also builds the native CPU resampler for this host (about a minute;
# where there is no C++ compiler it says so, and the XLA formulation runs).
$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[demo]"
	$(PY) -m augment_layers build-native
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m augment_layers build-native
	touch $@

# `make test` (CI, under ten minutes on 2 cores): the whole suite under
# TensorFlow, then the backend-sensitive files under JAX and PyTorch.
# `make test-full` (before a release, after touching the core): every test
# under every backend, with the long sweeps (AL_FULL=1: every cross-backend
# file pair, the 2,000-step and 4096^2 runs, the full config fuzz, the
# benchmark harness end to end, 50 property examples).
PYTEST := $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder -q -rs
# What each backend changes: the generic contract (clips included), the
# reproducibility contract and the volumes (tf.data on every backend) under
# JAX; under PyTorch (its own resampler) the resampler and the targets too.
JAX_TESTS := tests/test_contract.py tests/test_reproducible.py \
	tests/test_volumes.py tests/test_native_jax.py
TORCH_TESTS := tests/test_contract.py tests/test_reproducible.py \
	tests/test_volumes.py tests/test_native_torch.py tests/test_resample.py \
	tests/test_targets.py tests/test_fields.py
# `make test` runs a sample of each test marked sampled(k), one case in
# k x AL_SAMPLE_SCALE (tests/conftest.py: every value of every parametrised
# axis, every layer case in some test, the rest drawn from the commit,
# printed at the end) and leaves out the tests marked slow (CONTRIBUTING.md
# lists them); `make test-full` runs everything. AL_SHARD=i/n runs shard i of
# n of whichever it is (CI: one shard of test-full per commit).
test: $(DEV_STAMP)
	KERAS_BACKEND=tensorflow AL_PROPERTY_EXAMPLES=3 AL_LAYER_SAMPLE=12 AL_SAMPLE_SCALE=2 \
		$(PYTEST) -m "not slow" --durations=15
	KERAS_BACKEND=jax AL_LAYER_SAMPLE=12 AL_SAMPLE_SCALE=2 \
		$(PYTEST) -m "not tensorflow_only and not slow" $(JAX_TESTS)
	KERAS_BACKEND=torch AL_LAYER_SAMPLE=12 AL_SAMPLE_SCALE=2 \
		$(PYTEST) -m "not tensorflow_only and not slow" $(TORCH_TESTS)

test-full: $(DEV_STAMP)
	AL_FULL=1 KERAS_BACKEND=tensorflow AL_PROPERTY_EXAMPLES=50 $(PYTEST) --durations=15
	AL_FULL=1 KERAS_BACKEND=jax AL_PROPERTY_EXAMPLES=12 $(PYTEST) -m "not tensorflow_only"
	AL_FULL=1 KERAS_BACKEND=torch AL_PROPERTY_EXAMPLES=12 $(PYTEST) -m "not tensorflow_only"

demo: $(DEMO_STAMP)
	$(PY) -m augment_layers demo

$(BENCH_STAMP): pyproject.toml $(DEV_STAMP)
	$(PY) -m pip install -q -e ".[dev,bench]"
	touch $@

bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

# The sdist and the wheel, into dist/.
dist: $(DEV_STAMP)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .

# Runs every notebook in place (committed with their pictures) and writes
# the pictures the README shows to docs/.
notebooks: $(DEV_STAMP)
	$(PY) notebooks/build.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache
