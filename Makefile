# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND ?= tensorflow

.PHONY: test demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# The whole suite under TensorFlow, then the layer tests under JAX and PyTorch.
PYTEST := $(PY) -m pytest -n 2 --dist loadfile -q -rs
test: $(STAMP)
	KERAS_BACKEND=tensorflow $(PYTEST) --durations=15
	KERAS_BACKEND=jax AL_PROPERTY_EXAMPLES=25 $(PYTEST) -m "not tensorflow_only"
	KERAS_BACKEND=torch AL_PROPERTY_EXAMPLES=25 $(PYTEST) -m "not tensorflow_only"

demo: $(STAMP)
	$(PY) -m augment_layers demo

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) demo_out .pytest_cache
