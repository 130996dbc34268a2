"""``make notebooks``: runs every notebook in place, so that the committed
notebooks show their pictures, and writes the pictures the README shows to
``docs/`` (a code cell whose metadata holds ``"docs": "name.jpg"`` gives its
last picture to ``docs/name.jpg``). The notebooks draw JPEG (photo grids
are a tenth of their PNG size).

Usage: ``python notebooks/build.py [notebook ...]`` from the repository root.
"""

import base64
import glob
import os
import sys

import nbformat
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": ROOT}}).execute()
    written = []
    for cell in nb.cells:
        name = cell.get("metadata", {}).get("docs")
        if cell.cell_type != "code" or not name:
            continue
        pictures = [o["data"][kind] for o in cell.outputs if "data" in o
                    for kind in ("image/jpeg", "image/png")
                    if kind in o["data"]]
        if not pictures:
            raise RuntimeError(f"{path}: the cell for docs/{name} drew "
                               "nothing")
        target = os.path.join(ROOT, "docs", name)
        with open(target, "wb") as f:
            f.write(base64.b64decode(pictures[-1]))
        written.append(target)
    # Kernel bookkeeping that changes on every run stays out of the file.
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    return written


def main(argv=None):
    paths = (argv if argv else sys.argv[1:]) or sorted(
        glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    os.environ.pop("MPLBACKEND", None)  # the kernel draws inline
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get(
        "PYTHONPATH", "")
    for path in paths:
        written = build(path)
        size = os.path.getsize(path) / 2**10
        print(f"{os.path.relpath(path, ROOT)}: {size:.0f} KiB"
              + "".join(f", {os.path.relpath(w, ROOT)}" for w in written))


if __name__ == "__main__":
    main()
