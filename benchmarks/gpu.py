"""GPU figures: roofline share, peers on the same card, cost inside a train step.

Run on a machine with a GPU, with the JAX backend (the device image carries
JAX with CUDA): ``KERAS_BACKEND=jax python -m benchmarks.gpu --out DIR``.
"""

import argparse
import json
import os
import time

import numpy as np


def timed(fn, x, reps=20, warmup=3, inner=10):
    """Median seconds per call; each sample is ``inner`` back-to-back calls,
    so a sub-millisecond GPU kernel is not dwarfed by dispatch."""
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn(x)
        times.append((time.perf_counter() - start) / inner)
    return float(np.median(times))


def memory_in_use():
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("bytes_in_use", 0), stats.get("peak_bytes_in_use", 0)


# The spec sheets' memory bandwidth, GB/s (device names as JAX gives them).
SPEC_GB_PER_S = {
    "H100 80GB HBM3": 3350.0,   # H100 SXM5
    "H100 PCIe": 2000.0,
    "H100 NVL": 3900.0,
    "H200": 4800.0,
    "A100-SXM4-80GB": 2039.0,
    "A100-SXM4-40GB": 1555.0,
    "A100-PCIE-40GB": 1555.0,
    "L4": 300.0,
}


def spec_bandwidth(device_kind):
    """The card's spec-sheet bandwidth in GB/s, or None if unknown."""
    for name, value in sorted(SPEC_GB_PER_S.items(), key=lambda kv: -len(
            kv[0])):
        if name.lower() in device_kind.lower():
            return value
    return None


def device_loop(step, x, state, iters):
    """Seconds per iteration of ``x, state = step(x, state)``, run ``iters``
    times inside one compiled loop and timed once after blocking: no
    per-call dispatch in the figure. Each iteration reads the previous
    one's output, so nothing can be skipped or hoisted."""
    import jax

    @jax.jit
    def loop(x, state):
        return jax.lax.fori_loop(0, iters, lambda i, c: step(*c), (x, state))

    jax.block_until_ready(loop(x, state))  # compile and warm up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(loop(x, state))
        times.append((time.perf_counter() - start) / iters)
    return float(np.median(times))


def layer_step(layer):
    """``layer(x, training=True)`` as a pure step carrying its seed state."""
    def step(x, state):
        out, state = layer.stateless_call([], state, x, training=True)
        return out, state
    return step, [v.value for v in layer.non_trainable_variables]


def roofline(batch=256, side=224, iters=50):
    """Device-timed figures: the copy, our fused pipeline and Keras's stack,
    each as ``iters`` iterations in one compiled loop."""
    import jax
    import jax.numpy as jnp
    import keras

    import augment_layers as al
    from benchmarks import contenders as C

    x = jnp.asarray(np.random.default_rng(0).uniform(
        0, 255, (batch, side, side, 3)).astype("float32"))
    nbytes = x.size * 4
    kind = jax.devices()[0].device_kind
    out = {"batch": batch, "side": side, "batch_mb": nbytes / 2**20,
           "device_kind": kind, "iterations_per_timing": iters,
           "timing": "one compiled loop per timing (jax.lax.fori_loop), "
                     "blocked once"}
    # Peak extra memory of our fused pipeline, measured first in the process.
    fused = al.from_image_data_generator(**C.PIPELINE)
    step, state = layer_step(fused)
    before, _ = memory_in_use()
    jax.block_until_ready(jax.jit(step)(x, state))
    _, peak = memory_in_use()
    out["fused_peak_extra_mb"] = (peak - before) / 2**20
    out["fused_peak_extra_x_batch"] = (peak - before) / nbytes
    t_copy = device_loop(lambda t, s: (t * 1.0001, s), x, 0.0, iters)
    t_fused = device_loop(step, x, state, iters)
    stack = keras.Sequential(C.keras_stack_layers())
    stack.build(x.shape)
    stack_step, stack_state = layer_step(stack)
    t_stack = device_loop(stack_step, x, stack_state, max(iters // 5, 2))
    spec = spec_bandwidth(kind)
    out.update({
        "copy_gb_per_s": 2 * nbytes / t_copy / 1e9,
        "fused_gb_per_s": 2 * nbytes / t_fused / 1e9,
        "copy_images_per_s": batch / t_copy,
        "fused_images_per_s": batch / t_fused,
        "keras_stack_images_per_s": batch / t_stack,
        "fused_vs_keras_stack": t_stack / t_fused,
        "fused_share_of_copy_roofline": t_copy / t_fused,
        "spec_gb_per_s": spec,
        "copy_share_of_spec": None if spec is None
        else 2 * nbytes / t_copy / 1e9 / spec,
        "fused_share_of_spec": None if spec is None
        else 2 * nbytes / t_fused / 1e9 / spec,
    })
    return out


def train_step_overhead(batch=128, steps=8):
    import keras

    import augment_layers as al

    x = np.random.default_rng(0).uniform(0, 255, (batch * steps, 224, 224, 3))
    x = x.astype("float32")
    y = keras.utils.to_categorical(np.arange(batch * steps) % 10, 10)

    def model(front):
        inputs = keras.Input((224, 224, 3))
        h = inputs
        for layer in front:
            h = layer(h)
        body = keras.applications.ResNet50(weights=None, classes=10,
                                           input_shape=(224, 224, 3))
        m = keras.Model(inputs, body(h))
        m.compile("sgd", "categorical_crossentropy", jit_compile=True)
        return m

    rates = {}
    models = {
        "resnet50": model([]),
        "resnet50+augment": model([al.from_image_data_generator(
            rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
            shear_range=10, zoom_range=0.2, horizontal_flip=True,
            brightness_range=(0.8, 1.2))]),
    }
    for name, m in models.items():
        m.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # compile
    for _ in range(3):  # interleaved rounds
        for name, m in models.items():
            start = time.perf_counter()
            m.fit(x, y, batch_size=batch, epochs=1, verbose=0)
            rates.setdefault(name, []).append(time.perf_counter() - start)
    base = float(np.median(rates["resnet50"]))
    aug = float(np.median(rates["resnet50+augment"]))
    return {"batch": batch, "steps": steps, "step_s_plain": base / steps,
            "step_s_augmented": aug / steps,
            "augmentation_overhead": aug / base - 1.0}


def targets(r):
    spec = r["fused_share_of_spec"]
    return [
        f"[{'PASS' if spec is not None and spec >= 0.3 else 'MISS'}] "
        f"fused at {r['fused_gb_per_s']:.0f} GB/s = "
        + (f"{100 * spec:.0f}%" if spec is not None else "?")
        + f" of the spec sheet's {r['spec_gb_per_s']} GB/s (target 30%, "
        f"stretch 50%) and {100 * r['fused_share_of_copy_roofline']:.0f}% "
        f"of the measured copy ({r['copy_gb_per_s']:.0f} GB/s)",
        f"[{'PASS' if r['fused_vs_keras_stack'] >= 10 else 'MISS'}] fused vs "
        f"Keras stack, device-timed: {r['fused_vs_keras_stack']:.1f}x, "
        "target 10x",
        f"[{'PASS' if r['fused_peak_extra_x_batch'] <= 3 else 'MISS'}] peak "
        f"extra memory {r['fused_peak_extra_x_batch']:.2f}x the batch, "
        "target <= 3x",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--tiny", action="store_true",
                        help="small sizes: checks the harness (on CPU too)")
    args = parser.parse_args(argv)
    from benchmarks import run

    if args.tiny:
        results = {"device": run.device_name(),
                   "roofline": roofline(batch=4, side=32, iters=3)}
        results["targets"] = targets(results["roofline"])
        print(json.dumps(results, indent=1))
        return results
    results = {"device": run.device_name(), "roofline": roofline()}
    print(json.dumps(results["roofline"], indent=1), flush=True)
    sizes = run.run(sizes=[(256, 224), (64, 224), (256, 64), (8, 1024)],
                    reps=10, cpu_peers=False, out_dir=args.out)
    results["sizes"] = sizes["sizes"]
    if not args.skip_train:
        results["train_step"] = train_step_overhead()
        print(json.dumps(results["train_step"], indent=1), flush=True)
    results["targets"] = targets(results["roofline"])
    if "train_step" in results:
        o = results["train_step"]["augmentation_overhead"]
        results["targets"].append(
            f"[{'PASS' if o <= 0.05 else 'MISS'}] augmentation adds "
            f"{100 * o:.1f}% to a ResNet-50 train step (batch 128, "
            "jit_compile=True), target <= 5%")
    for line in results["targets"]:
        print(line)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{results['device']}-gpu.json"),
              "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
