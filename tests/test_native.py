"""The native CPU resampler (issue 31): the general formulation's bits on
every plan that takes it, and a spy on which plans take it.

The general formulation is itself checked against ``scipy.ndimage`` in
``test_resample.py`` (which, on a CPU host with the native library, now runs
the native formulation: both are checked against scipy there).
"""

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import augment_layers as al
from augment_layers.ops import color, native, resample
from tests.helpers import plan_id, resample_matrices

pytestmark = pytest.mark.tensorflow_only

REASON = native.unavailable_reason()
# Only a host without a C++ compiler skips; where one exists, a build or load
# failure fails (test_the_library_builds_and_loads_where_a_compiler_exists).
needs_native = pytest.mark.skipif(
    native.compiler() is None, reason=f"no C++ compiler: {REASON}")


def test_the_library_builds_and_loads_where_a_compiler_exists():
    if native.compiler() is None:
        pytest.skip(f"no C++ compiler on this host: {REASON}")
    assert REASON is None, f"the native resampler failed: {REASON}"
    assert native.level() in ("x86-64-v3", "generic")


PLANS = [dict(interpolation=i, fill_mode=f, projective=p, output_size=o,
              channels=c)
         for (i, f, p, o), c in zip(
             itertools.product(("bilinear", "nearest"),
                               ("constant", "nearest", "reflect", "wrap"),
                               (False, True), (None, (29, 96))),
             itertools.cycle((3, 1, 4, 5)))]


def _steps(rng, batch, channels, kinds):
    """Colour steps as the layers declare them: brightness (a scale per
    image), a shift per channel, clips that bite."""
    steps = []
    for kind in kinds:
        if kind == "scale":
            steps.append((color.SCALE, tf.constant(
                rng.uniform(0.5, 1.5, batch), tf.float32)))
        elif kind == "shift":
            steps.append((color.SHIFT, tf.constant(
                rng.uniform(-40, 40, (batch, channels)), tf.float32)))
        else:
            steps.append((color.CLIP, 0.0, 200.0 + 50 * len(steps)))
    return tuple(steps)


def _general(images, matrices, plan, strips, steps=()):
    """The general formulation, compiled as the package compiles it (the
    colour steps fused into its writes)."""
    def fn(x, m):
        return color.apply_steps(resample._resample_rows(
            tf.cast(x, tf.float32), m, plan["interpolation"], plan["fill_mode"], 7.5, 0, None,
            plan["output_size"], plan["projective"], strips), steps)

    return tf.function(fn, jit_compile=True)(images, matrices).numpy()


STEP_KINDS = [(), ("scale", "clip"), ("shift", "clip", "scale", "clip"),
              ("clip", "shift")]


@needs_native
@pytest.mark.sampled(2)
@pytest.mark.parametrize("plan", PLANS, ids=[plan_id(p) for p in PLANS])
def test_native_equals_the_general_formulation_bit_for_bit(plan):
    rng = np.random.default_rng(len(str(plan)))
    index = PLANS.index(plan)
    # Half the plans give a uint8 batch: the kernel reads its bytes.
    given_as_uint8 = (index // 4) % 2 == 0
    images = rng.uniform(0, 255, (5, 37, 64, plan["channels"])).astype(
        "uint8" if given_as_uint8 else "float32")
    rows = 3 if plan["projective"] or plan["channels"] % 2 else 2
    matrices = resample_matrices(rng, 5, plan["projective"], rows)
    height, width = plan["output_size"] or (37, 64)
    # Each plan with a chain of colour steps applied by the kernel.
    steps = _steps(rng, 5, plan["channels"],
                   STEP_KINDS[index % len(STEP_KINDS)])
    assert native.fusable_steps(steps)

    def op(x, m):
        return native.resample(tf.cast(x, tf.float32), m,
                               plan["interpolation"], plan["fill_mode"], 7.5,
                               height, width, plan["projective"], steps)

    in_xla = tf.function(op, jit_compile=True)(images, matrices).numpy()
    graph_op = tf.function(op)
    cpu_kernel = graph_op(images, matrices).numpy()
    read = [o.inputs[0].dtype for o in graph_op.get_concrete_function(
        images, matrices).graph.get_operations()
        if o.type == "AugmentLayersResample"]
    assert read == [tf.uint8 if given_as_uint8 else tf.float32]
    rows_order = _general(images, matrices, plan, 0, steps)
    strips = _general(images, matrices, plan, 32, steps)
    np.testing.assert_array_equal(rows_order, strips)
    np.testing.assert_array_equal(in_xla, rows_order)
    np.testing.assert_array_equal(cpu_kernel, rows_order)
    # The matrix that is the identity gives the image back.
    if (plan["output_size"] is None and plan["fill_mode"] != "constant"
            and not steps):
        np.testing.assert_array_equal(in_xla[2], images[2].astype("float32"))


@needs_native
def test_a_spy_shows_which_plans_take_the_native_formulation():
    rng = np.random.default_rng(0)
    big = rng.uniform(0, 255, (1, 512, 512, 3)).astype("float32")
    small = big[:, :64, :64]
    resample.formulations_taken()

    def taken(layer, x=big):
        layer(x, training=True)
        return set(resample.formulations_taken())

    # Bilinear over three channels, float32 or uint8, of a static size from
    # 224² up: native, turned or not (the kernel blends whole pixels).
    assert taken(al.RandomRotation(0.1, seed=1)) == {"native"}
    assert taken(al.Augment([al.RandomRotation(0.1, seed=2),
                             al.RandomShift(3, 3, seed=2)])) == {"native"}
    assert taken(al.RandomPerspective(0.3, seed=3)) == {"native"}
    assert taken(al.Augment([al.RandomShear(10, seed=2),
                             al.RandomShift(3, 3, seed=2)])) == {"native"}
    assert taken(al.RandomResizedCrop(512, 640, seed=3)) == {"native"}
    assert taken(al.RandomRotation(0.1, seed=1),
                 big.astype("uint8")) == {"native"}
    assert taken(al.RandomShift(3, 3, seed=1),
                 big.astype("uint8")) == {"native"}
    # One channel: the kernel blends value by value, and pays on slanted
    # reads of 4-byte values only; rows that stay rows stream under XLA.
    # (Layers of their own: a layer traced again for another shape relaxes
    # it, and the kernel needs the height, width and channels.)
    grey = big[..., :1]
    assert taken(al.RandomRotation(0.15, seed=1), grey) == {"native"}
    assert taken(al.RandomShift(4, 4, seed=1), grey) == {"general"}
    assert taken(al.RandomRotation(0.12, seed=1),
                 grey.astype("uint8")) == {"general"}
    # Nearest-neighbour reads without rotation: general.
    assert taken(al.RandomShift(3, 3, interpolation="nearest", seed=1)) == {
        "general"}
    # Below 224² the general formulation (fused with its neighbours) pays.
    assert taken(al.RandomRotation(0.1, seed=1), small) == {"general"}
    assert taken(al.RandomResizedCrop(64, 64, seed=3)) == {"general"}
    # A displacement field (a SamplingMap, not matrices): general.
    assert taken(al.RandomElasticTransform(
        factor=1.0, scale=0.5, seed=4)) == {"general"}
    # An unknown height and width at trace time: general.
    layer = al.RandomRotation(0.1, seed=5)
    fn = tf.function(lambda x: layer(x, training=True), input_signature=[
        tf.TensorSpec((None, None, None, 3), tf.float32)])
    fn(big)
    assert set(resample.formulations_taken()) == {"general"}
    # Other dtypes: general.
    matrices = tf.eye(3, batch_shape=[1])
    assert resample.choose_formulation(tf.cast(big, "float16"), matrices,
                                       slanted_reads=True) == "general"
    assert resample.choose_formulation(tf.constant(big), matrices,
                                       slanted_reads=True) == "native"
    assert resample.choose_formulation(tf.constant(big),
                                       matrices) == "native"
    assert resample.choose_formulation(tf.constant(big), matrices,
                                       interpolation="nearest") == "general"
    assert resample.choose_formulation(tf.constant(big[..., :1]),
                                       matrices) == "general"
    assert resample.choose_formulation(tf.constant(small), matrices,
                                       slanted_reads=True) == "general"


@needs_native
def test_turning_the_kernel_off_is_seen_by_the_next_eager_call(monkeypatch):
    # The compiled segments are shared by every layer of the same config:
    # one traced with the kernel is not served once it is turned off.
    x = np.random.default_rng(0).uniform(0, 255, (1, 256, 256, 3)).astype(
        "float32")
    layer = al.RandomRotation(0.05, seed=3)
    resample.formulations_taken()
    on = layer(x, training=True)
    assert resample.formulations_taken() == ["native"]
    monkeypatch.setenv("AUGMENT_LAYERS_NATIVE", "0")
    off = al.RandomRotation(0.05, seed=3)(x, training=True)
    assert resample.formulations_taken() == ["general"]
    np.testing.assert_array_equal(np.asarray(on), np.asarray(off))


@needs_native
def test_colour_steps_are_applied_by_the_kernel_in_its_writes():
    """Brightness and a channel shift after a rotation: one custom call that
    carries their steps, and no pass of XLA's own over its output."""
    from tests.backend import layer_hlo

    augment = al.Augment([al.RandomRotation(20), al.RandomBrightnessRange(),
                          al.RandomChannelShift(20)])
    hlo = layer_hlo(augment, np.zeros((1, 512, 512, 3), "float32"))
    call = [line for line in hlo.splitlines()
            if 'custom_call_target="augment_layers_resample"' in line]
    assert len(call) == 1 and 'steps = "scac"' in call[0]
    # The call's result is the function's: no arithmetic reads it.
    name = call[0].split("=")[0].strip()
    readers = [line for line in hlo.splitlines()
               if name + ")" in line or name + "," in line]
    assert readers and not any(
        f" {op}(" in line for line in readers for op in (
            "multiply", "add", "clamp", "maximum", "minimum", "fusion")), \
        readers
    # A scale right before a shift is left to XLA (it may fuse the pair).
    assert not native.fusable_steps(((color.SCALE, 1.0), (color.SHIFT, 1.0)))


_SCRIPT = """
import json, sys
import numpy as np
import augment_layers as al
from augment_layers.ops import resample
rng = np.random.default_rng(7)
x = rng.uniform(0, 255, (3, 256, 288, 3)).astype("float32")
pipeline = al.from_image_data_generator(
    rotation_range=30, width_shift_range=0.2, height_shift_range=0.2,
    shear_range=10, zoom_range=0.2, horizontal_flip=True,
    brightness_range=(0.8, 1.2), fill_mode="reflect")
out = np.asarray(pipeline(x, training=True, seed=11))
np.save(sys.argv[1], out)
print(json.dumps(sorted(set(resample.formulations_taken()))))
"""


@pytest.mark.slow
@needs_native
def test_same_seed_same_bits_with_the_native_formulation_or_without(
        tmp_path):
    """A rotating, shearing, zooming pipeline: native (all cores), native
    on one thread, and the general formulation give the same bits."""
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    runs = {"one thread": {"AUGMENT_LAYERS_NATIVE_THREADS": "1"},
            "general": {"AUGMENT_LAYERS_NATIVE": "0"}}
    outputs, taken = {}, {}
    for name, extra in runs.items():
        env = dict(os.environ, **extra)
        path = tmp_path / f"{name.replace(' ', '_')}.npy"
        done = subprocess.run([sys.executable, str(script), str(path)],
                              env=env, capture_output=True, text=True,
                              check=True)
        taken[name] = json.loads(done.stdout.strip().splitlines()[-1])
        outputs[name] = np.load(path)
    # And here, in this process, on every core.
    from augment_layers.layers import executor

    executor.clear_cache()
    path = tmp_path / "native.npy"
    printed = io.StringIO()
    resample.formulations_taken()  # what earlier tests traced
    argv = sys.argv
    try:
        sys.argv = ["run.py", str(path)]
        with contextlib.redirect_stdout(printed):
            exec(compile(_SCRIPT, "run.py", "exec"), {"__name__": "__main__"})
    finally:
        sys.argv = argv
    taken["native"] = json.loads(printed.getvalue().strip().splitlines()[-1])
    outputs["native"] = np.load(path)
    assert taken == {"native": ["native"], "one thread": ["native"],
                     "general": ["general"]}
    np.testing.assert_array_equal(outputs["native"], outputs["general"])
    np.testing.assert_array_equal(outputs["one thread"], outputs["general"])
    assert not np.array_equal(outputs["general"][0], outputs["general"][1])


@needs_native
def test_the_native_op_runs_in_a_users_xla_compiled_train_step():
    import keras

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (4, 512, 512, 3)).astype("float32")
    y = rng.integers(0, 2, 4)
    model = keras.Sequential([
        keras.Input((512, 512, 3)),
        al.Augment([al.RandomRotation(0.1, seed=3),
                    al.RandomZoomAspect(0.2, seed=3)]),
        keras.layers.Rescaling(1 / 255.0),
        keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), jit_compile=True)
    resample.formulations_taken()
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert "native" in resample.formulations_taken()


def test_without_a_compiler_the_general_formulation_runs(tmp_path):
    """No C++ compiler on PATH and nothing cached: the package says why and
    resamples with the general formulation, the same bits."""
    code = ("import augment_layers as al, numpy as np\n"
            "from augment_layers.ops import color, native, resample\n"
            "x = np.ones((1, 512, 512, 3), 'float32')\n"
            "al.RandomRotation(0.2, seed=1)(x, training=True)\n"
            "print(resample.formulations_taken(), native.unavailable_reason())")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable),
               AUGMENT_LAYERS_CACHE=str(tmp_path / "empty"), CXX="")
    done = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("['general']") and "no C++ compiler" in last
