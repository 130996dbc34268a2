"""What a `pip install` user gets: the wheel, installed into a fresh virtual
environment outside the repository, runs the README's quick start, the
drop-in snippet and the command line, and carries LICENSE and NOTICE."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tests.helpers import ROOT

# Builds a wheel and a virtual environment (half a minute): the full suite.
pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]

# The files a wheel is built from: nothing else of the repository.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE",
           "augment_layers")


def _readme_block(title):
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split(f"## {title}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding the wheel; its dependencies (Keras, TensorFlow)
    come from this environment's site-packages through a ``.pth`` line,
    which does not run this environment's editable install of the repo."""
    base = tmp_path_factory.mktemp("release")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        path = os.path.join(ROOT, name)
        if os.path.isdir(path):
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                "__pycache__"))
        else:
            shutil.copy(path, src / name)
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(wheels),
                    str(src)], check=True)
    wheel = next(wheels.glob("augment_layers-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; "
         "print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "dependencies.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    work = base / "elsewhere"
    work.mkdir()
    return {"python": str(python), "bin": str(venv / "bin"), "cwd": str(work),
            "wheel": wheel}


def _run(installed, args, **kwargs):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    return subprocess.run(args, cwd=installed["cwd"], env=env, check=True,
                          capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_the_wheel_runs_the_quick_start_and_drop_in_outside_the_repo(
        installed):
    code = "\n".join([
        "import augment_layers, os",
        f"assert not augment_layers.__file__.startswith({ROOT!r}), "
        "augment_layers.__file__",
        _readme_block("Quick start"),
        _readme_block("Drop-in for old code"),
        "print('ran')"])
    out = _run(installed, [installed["python"], "-c", code])
    assert out.stdout.strip().endswith("ran")
    help_text = _run(installed, [os.path.join(installed["bin"],
                                              "augment-layers"), "--help"])
    assert "usage" in help_text.stdout.lower()


def test_the_wheel_carries_license_and_notice(installed):
    shown = _run(installed, [installed["python"], "-m", "pip", "show", "-f",
                             "augment_layers"]).stdout
    files = shown.split("Files:", 1)[1].split()
    assert any(f.endswith("licenses/LICENSE") for f in files), files
    assert any(f.endswith("licenses/NOTICE") for f in files), files
    assert "License-Expression: Apache-2.0" in _run(installed, [
        installed["python"], "-c", "import importlib.metadata as m; "
        "print(m.metadata('augment_layers'))"]).stdout
