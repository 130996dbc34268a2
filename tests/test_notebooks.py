"""The notebooks execute top to bottom (nbclient)."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import ROOT

pytestmark = pytest.mark.tensorflow_only

NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_there_are_four_notebooks():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    assert names == ["01_tour.ipynb",
                     "02_migrating_from_ImageDataGenerator.ipynb",
                     "03_custom_ops_and_export.ipynb",
                     "04_segmentation_and_detection.ipynb"]


@pytest.mark.sampled(4)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells
               if cell.cell_type == "code"), "commit notebooks without outputs"
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": ROOT}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
