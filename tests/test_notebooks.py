"""The notebooks execute top to bottom (nbclient)."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import ROOT

pytestmark = pytest.mark.tensorflow_only

NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_there_are_five_notebooks():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    assert names == ["01_tour.ipynb",
                     "02_migrating_from_ImageDataGenerator.ipynb",
                     "03_custom_ops_and_export.ipynb",
                     "04_segmentation_and_detection.ipynb",
                     "05_video_and_volumes.ipynb"]


# (`make test` runs one of them from scratch; every notebook's committed
# outputs are checked below.)
@pytest.mark.slow
@pytest.mark.sampled(4)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # run from scratch, as `make notebooks` does
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": ROOT}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    # Every cell that feeds docs/ still draws its picture.
    for cell in nb.cells:
        if cell.get("metadata", {}).get("docs"):
            assert _pictures(cell), cell.metadata["docs"]


def _pictures(cell):
    return [o for o in cell.get("outputs", []) if "data" in o and (
        "image/jpeg" in o["data"] or "image/png" in o["data"])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebooks_are_committed_with_their_pictures(path):
    """`make notebooks` ran: a reader on GitHub sees the grids, and the
    pictures in docs/ are the ones the notebook drew."""
    import base64

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "run `make notebooks`"
    assert any(_pictures(c) for c in code)
    assert not [o for c in code for o in c.outputs
                if o.output_type == "error"]
    for cell in code:
        name = cell.get("metadata", {}).get("docs")
        if name:
            kind = next(k for k in ("image/jpeg", "image/png")
                        if k in _pictures(cell)[-1]["data"])
            with open(os.path.join(ROOT, "docs", name), "rb") as f:
                assert f.read() == base64.b64decode(
                    _pictures(cell)[-1]["data"][kind])
