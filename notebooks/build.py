"""``make notebooks``: runs every notebook in place, so that the committed
notebooks show their pictures, and writes the pictures the README shows to
``docs/`` (a code cell whose metadata holds ``"docs": "name.png"`` gives its
last PNG output to ``docs/name.png``).

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
        pngs = [o["data"]["image/png"] for o in cell.outputs
                if "data" in o and "image/png" in o["data"]]
        if not pngs:
            raise RuntimeError(f"{path}: the cell for docs/{name} drew "
                               "nothing")
        target = os.path.join(ROOT, "docs", name)
        with open(target, "wb") as f:
            f.write(base64.b64decode(pngs[-1]))
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
