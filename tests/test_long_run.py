"""A long training run and a very large batch: flat memory, bounded tracing.

Both run in a fresh interpreter, so that the measurements see only them.
"""

import json

import numpy as np
import pytest

import augment_layers as al
from tests.backend import BACKEND, layer_hlo, tensorflow_only
from tests.helpers import FULL, run_python


# `make test` runs 400 steps (the warm-up and the memory's first stretch);
# the full run, 2,000.
STEPS = 2000 if FULL else 400


@tensorflow_only
@pytest.mark.slow
def test_two_thousand_steps_memory_flat_and_no_retracing():
    out = run_python(f"""
        import runpy, sys
        sys.argv = ["x", "{STEPS}"]
        runpy.run_module("tests.long_run_script", run_name="__main__")
    """, timeout=900)
    result = json.loads(out.strip().splitlines()[-1])
    print(result)
    assert result["finite"]
    # Traced once per kind of input signature while warming up (Keras
    # relaxes shapes after the first retrace), then never again.
    assert result["traces"] == result["after_warmup"]
    assert 1 <= result["traces"]["train_step"] <= 5
    assert result["traces"]["augment"] <= 5
    assert result["traces"]["resample"] <= 5
    rss = result["rss_mib"]
    warm = rss[result["warmup_steps"] // 100 - 1]
    assert len(rss) == STEPS // 100 and max(rss) - warm <= 50, rss


LARGE = """
    import numpy as np, keras
    import augment_layers as al

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    augment = al.from_image_data_generator(
        rotation_range=20, width_shift_range=0.1, height_shift_range=0.1,
        shear_range=10, zoom_range=0.2, horizontal_flip=True,
        brightness_range=(0.8, 1.2), fill_mode="reflect")
    augment(np.zeros((2, 8, 8, 3), "float32"), training=True)  # warm up
    x = np.random.default_rng(0).random((2, SIDE, SIDE, 3), dtype="float32")
    x *= 255
    base = status("VmRSS")
    open("/proc/self/clear_refs", "w").write("5")  # reset the peak
    images = keras.ops.convert_to_tensor(x)  # the input itself: not extra
    for _ in range(2):
        out = augment(images, training=True)
        corner = keras.ops.convert_to_numpy(out[:, :2, :2])
        assert out.shape == x.shape and np.isfinite(corner).all()
        del out
    extra = status("VmHWM") - base - x.nbytes
    print("EXTRA", extra / x.nbytes)
"""


@tensorflow_only
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_4096_squared_batch_of_two_peaks_under_4x_its_size(backend):
    # `make test`: 2048^2 (64 MB of input, past every cache); full: 4096^2.
    side = 4096 if FULL else 2048
    out = run_python(LARGE.replace("SIDE", str(side)),
                     env={"KERAS_BACKEND": backend}, timeout=600)
    ratio = float(out.split("EXTRA")[-1])
    print(f"{backend}: peak extra memory {ratio:.2f}x the input")
    assert ratio <= 4.0


def test_no_full_size_int64_index_tensors(general_formulation):
    """Indices are int32, one per pixel (all channels of a pixel at once),
    in the general formulation (the native one computes them in
    registers)."""
    if BACKEND == "torch":
        pytest.skip("no XLA program to inspect on PyTorch")
    augment = al.Augment([al.RandomRotation(20), al.RandomShift(0.1, 0.1),
                          al.RandomZoomAspect(0.2)])
    hlo = layer_hlo(augment, np.zeros((2, 64, 48, 3), "float32"))
    assert " gather(" in hlo
    assert "s64[2,64,48" not in hlo
    assert "s32[2,64,48" in hlo or "s32[6144" in hlo
