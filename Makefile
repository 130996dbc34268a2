# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND ?= tensorflow

.PHONY: test demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The demo installs only what it needs (quick first run); tests and
# benchmarks install everything (PyTorch, JAX, the ONNX tools...).
$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[demo]"
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# The whole suite under TensorFlow, then the layer tests under JAX and PyTorch.
PYTEST := $(PY) -m pytest -n 2 --dist loadfile -q -rs
test: $(DEV_STAMP)
	KERAS_BACKEND=tensorflow AL_PROPERTY_EXAMPLES=18 $(PYTEST) --durations=15
	KERAS_BACKEND=jax AL_PROPERTY_EXAMPLES=4 $(PYTEST) -m "not tensorflow_only"
	KERAS_BACKEND=torch AL_PROPERTY_EXAMPLES=8 $(PYTEST) -m "not tensorflow_only"

demo: $(DEMO_STAMP)
	$(PY) -m augment_layers demo

$(BENCH_STAMP): pyproject.toml $(DEV_STAMP)
	$(PY) -m pip install -q -e ".[dev,bench]"
	touch $@

bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) demo_out .pytest_cache
