"""The benchmark module runs (how fast is the benchmark's business, not ours)."""

import importlib.util
import json
import os

import numpy as np
import pytest

from benchmarks import run
from benchmarks import backend_paths
from benchmarks import volumes
from tests.helpers import FULL

pytestmark = pytest.mark.tensorflow_only


@pytest.mark.slow
def test_benchmark_harness_on_the_pipeline_rows(tmp_path):
    """`make test`: the harness end to end on the pipeline's rows at a tiny
    size (measure, table, JSON, plot); the table's ratios are the JSON's
    rates divided, row by row; a section another bench wrote stays."""
    device = run.device_name()
    (tmp_path / f"{device}.json").write_text(json.dumps(
        {"formulations": {"measured": "kept"}, "sizes": "replaced"}))
    results = run.run(sizes=[(2, 16)], reps=1, single=False,
                      cpu_peers=False, out_dir=str(tmp_path), quiet=True,
                      tf_data=False, dropin=False, eager=False)
    rows = results["sizes"][0]["rows"]
    names = [r["name"] for r in rows]
    assert run.OURS in names and "keras 3 built-in stack" in names
    saved = json.loads((tmp_path / f"{results['device']}.json").read_text())
    assert saved["sizes"][0]["rows"] == rows
    assert saved["formulations"] == {"measured": "kept"}
    # The host the figures come from (issue 31), as Linux reports it.
    host = saved["host"]
    with open("/proc/cpuinfo") as f:
        cpuinfo = f.read()
    assert host["cores"] == os.cpu_count()
    if "model name" in cpuinfo:
        assert host["cpu_model"] in cpuinfo
    if " avx2" in cpuinfo:
        assert "avx2" in host["simd"]
    assert all(isinstance(size, str) and size
               for size in host.get("caches", {}).values())
    assert (tmp_path / f"{results['device']}.png").stat().st_size > 1000
    table = run.format_table(results["sizes"][0]).splitlines()
    ours = next(r for r in rows if r["name"] == run.OURS)["images_per_s"]
    for r in rows:
        if r["group"] != "pipeline":
            continue
        line = next(line for line in table if line.startswith(r["name"]))
        printed = float(line.split()[-2].rstrip("x"))
        assert abs(printed - ours / r["images_per_s"]) <= 0.006, line


@pytest.mark.skipif(not FULL, reason="the whole harness: make test-full")
def test_benchmark_runs_on_a_tiny_size(tmp_path):
    results = run.run(sizes=[(2, 16)], reps=1, out_dir=str(tmp_path),
                      quiet=True, tf_data=dict(batch_size=2, side=16,
                                               batches=2, reps=1),
                      dropin=dict(batch_size=2, side=16, batches=2, reps=1,
                                  files=4),
                      eager=dict(batch_size=2, side=16, reps=1),
                      keras_layers_size=(2, 16),
                      service=dict(batch_size=2, side=16, batches=2, reps=1),
                      volumes=dict(volume_size=(1, 12), clip_size=(2, 2, 16),
                                   reps=1))
    assert {r["name"] for r in results["volumes"]["volumes"]["rows"]} >= {
        volumes.AUGMENT3D, volumes.COPY, volumes.SCIPY}
    names = {r["name"] for r in results["sizes"][0]["rows"]}
    assert run.OURS in names and "keras 3 built-in stack" in names
    assert any(r["group"].startswith("single:") for r in
               results["sizes"][0]["rows"])
    # Keras's layers against ours (issue 27), ratios as printed.
    entry = results["keras_layers"]
    assert {r["group"] for r in entry["rows"]} == set(
        run.KERAS_LAYER_TARGETS)
    assert len(run.check_keras_layer_targets(entry)) == 3
    files = {p.name for p in tmp_path.iterdir()}
    assert f"{results['device']}.json" in files
    assert f"{results['device']}.png" in files
    saved = json.loads((tmp_path / f"{results['device']}.json").read_text())
    assert saved["sizes"][0]["rows"][0]["images_per_s"] > 0
    table = run.format_table(results["sizes"][0])
    assert "ours/it" in table
    # tf.data rows on this backend and on JAX, from a fresh process.
    assert {e["backend"] for e in results["tf_data"]} == {"tensorflow", "jax"}
    assert all(r["images_per_s"] > 0 for e in results["tf_data"]
               for r in e["rows"])
    assert any("tf.data map vs direct call" in line
               for line in results["targets"])
    assert any("drop-in flow() vs tf_keras" in line
               for line in results["targets"])
    # The PyTorch and JAX eager call paths, timed beside albumentations in
    # a fresh process under each backend, then again after
    # reuse_freed_memory() (albumentations, the peer, is installed by
    # `make bench` only).
    peer = importlib.util.find_spec("albumentations") is not None
    entries = results["eager_backends"]
    assert [e["backend"] for e in entries] == ["torch", "jax"]
    for entry in entries:
        assert entry["reuse_freed_memory"] is True  # Linux, glibc
        paths = {backend_paths.path_name(entry["backend"], dtype)
                 for dtype in ("float32", "uint8")} | (
                     {backend_paths.PEER} if peer else set())
        assert {r["name"] for r in entry["rows"]} == paths | {
            name + backend_paths.REUSE for name in paths}
        assert all(r["images_per_s"] > 0 for r in entry["rows"])
    # Per backend: with vs without the setting (2), and against the peer
    # in each phase (4).
    assert sum("reuse_freed_memory() vs default" in line
               for line in results["targets"]) == 4
    assert sum("vs albumentations uint8" in line and "[info]" in line
               and ("PyTorch eager" in line or "JAX eager" in line)
               for line in results["targets"]) == (8 if peer else 0)
    # The tf.data service against the same pipeline in-process (issue 29).
    service = {r["name"]: r["images_per_s"]
               for r in results["tf_data_service"]["rows"]}
    assert len(service) == 5 and all(v > 0 for v in service.values())
    assert sum(line.startswith("tf.data service with 2 local workers")
               for line in results["targets"]) == 1
    # The targets group: images only against the same call with targets.
    names = {r["name"] for r in results["sizes"][0]["rows"]}
    assert {"ours: images only", "with masks + boxes"} <= names


@pytest.mark.slow
def test_gpu_harness_runs_on_cpu_jax():
    """The GPU harness (device-timed compiled loops, spec-sheet shares) on
    JAX's CPU device at a tiny size: the same code the GPU run takes."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu", "--tiny"],
                          env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout[done.stdout.index("{"):])
    r = results["roofline"]
    for key in ("copy_gb_per_s", "fused_gb_per_s", "keras_stack_images_per_s"):
        assert r[key] > 0
    # The fused pipeline reads and writes the batch once, as the copy
    # does, and computes besides: it cannot beat the measured copy by more
    # than timing noise.
    assert 0 < r["fused_share_of_copy_roofline"] < 1.5
    assert len(results["targets"]) == 3


def test_spec_bandwidth_names_the_cards():
    from benchmarks import gpu

    assert gpu.spec_bandwidth("NVIDIA H100 80GB HBM3") == 3350.0
    assert gpu.spec_bandwidth("NVIDIA H200") == 4800.0
    assert gpu.spec_bandwidth("NVIDIA H100 PCIe") == 2000.0
    assert gpu.spec_bandwidth("cpu") is None


def test_volume_targets_are_same_run_ratios():
    """The clip target divides the two clip rows' rates; the volume lines
    divide ours by each peer's, all from the one entry."""
    entry = {"volumes": {"batch": 2, "side": 96, "rows": [
        {"name": volumes.AUGMENT3D, "volumes_per_s": 10.0},
        {"name": volumes.COPY, "volumes_per_s": 400.0},
        {"name": volumes.SCIPY, "volumes_per_s": 20.0},
        {"name": volumes.MONAI, "volumes_per_s": 4.0}]},
        "clips": {"clips": 4, "frames": 16, "side": 112, "rows": [
            {"name": volumes.CLIPS, "frames_per_s": 500.0},
            {"name": volumes.FRAMES, "frames_per_s": 600.0}]}}
    lines = volumes.check_targets(entry)
    assert lines[0].startswith("[MISS]") and "1.20x" in lines[0]
    assert "2.5%" in lines[1] and "0.50x scipy" in lines[1]
    assert "2.50x MONAI" in lines[2]
    table = volumes.format_rows(entry)
    assert "40.00x" in table and "0.40x" in table


def test_keras_layer_targets_are_same_run_ratios():
    """The PASS/MISS lines divide the two rows' rates of each pair."""
    entry = {"batch": 32, "side": 128, "rows": [
        {"name": "ours: AugMix", "group": "keras:augmix",
         "images_per_s": 600.0},
        {"name": "keras: AugMix", "group": "keras:augmix",
         "images_per_s": 300.0},
        {"name": "ours: colour", "group": "keras:colour",
         "images_per_s": 900.0},
        {"name": "keras: colour", "group": "keras:colour",
         "images_per_s": 200.0}]}
    lines = run.check_keras_layer_targets(entry)
    assert lines[0].startswith("[PASS] keras:colour") and "4.50x" in lines[0]
    assert lines[1].startswith("[MISS] keras:augmix") and "2.00x" in lines[1]
    table = run.format_keras_layers(entry)
    assert "2.00x" in table and "4.50x" in table


@pytest.mark.tensorflow_only
def test_candidate_formulations_equal_the_general_resample(rng):
    """The 2x2xC window gather and the separable formulation that
    ``benchmarks.formulations`` times equal the package's resampler bit
    for bit (so their timings compare like with like)."""
    import tensorflow as tf

    from augment_layers.ops import resample
    from benchmarks import formulations

    images = tf.constant(rng.uniform(0, 255, (3, 24, 32, 3)).astype(
        "float32"))
    for rotate, candidate in ((True, formulations.window_resample),
                              (False, formulations.separable_resample)):
        matrices = tf.constant(formulations._matrices(3, 32, rotate))
        general = tf.function(lambda x, m: resample._resample_rows(
            x, m, "bilinear", "nearest", 0.0, 0, None, None, False, 0),
            jit_compile=True)(images, matrices).numpy()
        fast = tf.function(candidate, jit_compile=True)(images,
                                                        matrices).numpy()
        np.testing.assert_array_equal(fast, general)
