"""A pytest plugin for tests/test_sampling.py: after collection, writes each
collected test's function and parameters to ``$AL_COLLECTED`` as JSON, for
the tests the run keeps (``"kept"``) and for those `make test`'s sample was
drawn from (``"drawn_from"``: after ``-m``, before the sample)."""

import json
import os
import re


def _stable(value):
    """A value's repr without the addresses that differ between processes."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _rows(items):
    from tests.conftest import _axes, spread_keys

    rows = []
    for item in items:
        spread = spread_keys(item)
        rows.append({"id": item.nodeid,
                     "test": f"{item.module.__name__}::{item.originalname}",
                     "axes": {name: _stable(value)
                              for name, value in _axes(item).items()
                              if name not in spread},
                     "cases": [[key[0], _stable(key[1])]
                               for key in spread.values() if key]})
    return rows


def pytest_collection_finish(session):
    before = getattr(session.config, "al_before_sample", session.items)
    with open(os.environ["AL_COLLECTED"], "w") as f:
        json.dump({"kept": _rows(session.items),
                   "drawn_from": _rows(before)}, f)
