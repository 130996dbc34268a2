"""A pytest plugin for tests/test_sampling.py: after collection, writes each
collected test's function and parameters to ``$AL_COLLECTED`` as JSON."""

import json
import os
import re


def _stable(value):
    """A value's repr without the addresses that differ between processes."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def pytest_collection_finish(session):
    from tests.conftest import SPREAD_AXES

    rows = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        rows.append({"id": item.nodeid,
                     "test": f"{item.module.__name__}::{item.originalname}",
                     "axes": {name: (value.id if name in SPREAD_AXES
                                     else _stable(value))
                              for name, value in params.items()}})
    with open(os.environ["AL_COLLECTED"], "w") as f:
        json.dump(rows, f)
