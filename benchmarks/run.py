"""Runs the contenders interleaved, so they share the machine's noise."""

import argparse
import json
import os
import platform
import statistics
import threading
import time

import numpy as np

SIZES = [(64, 224), (256, 64), (8, 1024)]  # (batch, side)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak process RSS above the level at entry, sampled every 2 ms."""

    def __enter__(self):
        self.base = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.extra = self.peak - self.base


def device_name():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        dev = jax.devices()[0]
        if dev.platform == "gpu":
            return dev.device_kind.replace(" ", "_")
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return details.get("device_name", "gpu").replace(" ", "_")
    return f"cpu-{os.cpu_count()}core-{platform.machine()}"


SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
              "avx512_vnni", "neon", "asimd", "sve")


def host_info():
    """The CPU the figures come from: model, cores, cache sizes and the
    vector instruction sets a resampler's speed depends on (issue 31: the
    same code ranks differently against OpenCV on hosts with different
    caches and prefetchers). From ``/proc/cpuinfo`` and ``/sys`` (Linux);
    what a platform does not tell stays out."""
    info = {"machine": platform.machine(), "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model") and "cpu_model" not in info:
            info["cpu_model"] = value.strip()
        elif key in ("flags", "Features") and "simd" not in info:
            present = set(value.split())
            info["simd"] = [f for f in SIMD_FLAGS if f in present]
    caches = {}
    root = "/sys/devices/system/cpu/cpu0/cache"
    for index in sorted(os.listdir(root)) if os.path.isdir(root) else ():
        try:
            def read(name, index=index):
                with open(os.path.join(root, index, name)) as f:
                    return f.read().strip()

            kind = read("type")
            name = f"L{read('level')}" + {"Data": "d", "Instruction": "i"}.get(
                kind, "")
            caches[name] = read("size")
        except OSError:
            continue
    if caches:
        info["caches"] = caches
    return info


def format_host(info):
    caches = ", ".join(f"{k} {v}" for k, v in info.get("caches", {}).items())
    return (f"host: {info.get('cpu_model', info['machine'])}, "
            f"{info['cores']} cores; {caches or 'caches unknown'}; "
            f"SIMD: {' '.join(info.get('simd', [])) or 'unknown'}")


def gpu_peak_bytes_reset():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use")
    return None


def measure(contenders, batch, reps, warmup=2, min_time=0.0):
    """Median seconds per call of each contender, interleaved by round."""
    times = {name: [] for name, _, _ in contenders}
    memory = {}
    for name, _, fn in contenders:
        for _ in range(warmup):
            fn(batch)
        with PeakRSS() as peak:
            fn(batch)
        memory[name] = peak.extra
    for _ in range(reps):
        for name, _, fn in contenders:
            start = time.perf_counter()
            fn(batch)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, memory


def tf_data_results(batch_size=64, side=224, batches=24, reps=3):
    """The tf.data rows on TensorFlow and JAX, each backend in fresh
    processes, alternating round by round so that both share the machine's
    noise (a cross-backend ratio from two separate moments varied by 30 %
    here); the median of the rounds per row."""
    from benchmarks import tf_data

    rounds = {"tensorflow": [], "jax": []}
    for _ in range(reps):
        for backend in rounds:
            rounds[backend].append(tf_data.rows_in_process(
                backend, batch_size=batch_size, side=side, batches=batches,
                reps=1))
    out = []
    for backend, runs in rounds.items():
        entry = dict(runs[0])
        entry["rounds"] = len(runs)
        entry["rows"] = [
            {"name": row["name"], "images_per_s": statistics.median(
                r["rows"][i]["images_per_s"] for r in runs)}
            for i, row in enumerate(runs[0]["rows"])]
        out.append(entry)
    return out


EAGER_BACKENDS = ("torch", "jax")


def eager_results(batch_size=64, side=224, reps=5):
    """The PyTorch and JAX backends' eager call paths beside albumentations,
    each from a fresh process under that backend (timed there, interleaved),
    before and after ``reuse_freed_memory()``."""
    from benchmarks import tf_data

    return [tf_data.rows_in_process(backend,
                                    module="benchmarks.backend_paths",
                                    batch_size=batch_size, side=side,
                                    reps=reps)
            for backend in EAGER_BACKENDS]


def run(sizes=SIZES, reps=5, single=True, cpu_peers=True, out_dir=None,
        plot=True, quiet=False, tf_data=None, dropin=None, eager=None,
        keras_layers_size=None, fields_size=None, service=None,
        volumes=None):
    """``tf_data``, ``dropin``, ``eager``: kwargs of :func:`tf_data_results`,
    :func:`benchmarks.dropin.rows` and :func:`eager_results` (None: the
    defaults, 224²; False: none of those rows)."""
    from benchmarks import contenders as C

    results = {"device": device_name(), "host": host_info(),
               "backend": None, "reps": reps, "sizes": []}
    if not quiet:
        print(format_host(results["host"]))
    import keras

    results["backend"] = keras.backend.backend()
    rng = np.random.default_rng(0)
    for batch_size, side in sizes:
        batch = rng.uniform(0, 255, (batch_size, side, side, 3)).astype(
            "float32")
        if not cpu_peers and keras.backend.backend() == "jax":
            import jax

            # On a GPU, time the augmentation, not the host-to-device copy.
            batch = jax.device_put(batch)
        entries = C.pipeline_contenders(cpu_peers=cpu_peers)
        if single and (batch_size, side) == sizes[0]:
            entries += C.single_layers()
            entries += C.modern_recipes()
        secs, mem = measure(entries, batch, reps)
        nbytes = batch_size * side * side * 3 * 4
        rows = []
        for name, group, _ in entries:
            rows.append({"name": name, "group": group,
                         "images_per_s": batch_size / secs[name],
                         "peak_extra_rss_mb": mem[name] / 2**20})
        results["sizes"].append({"batch": batch_size, "side": side,
                                 "batch_mb": nbytes / 2**20,
                                 "rows": rows})
        if not quiet:
            print(format_table(results["sizes"][-1]))
    if single:
        b, side = keras_layers_size or C.KERAS_LAYERS_SIZE
        batch = rng.uniform(0, 255, (b, side, side, 3)).astype("float32")
        entries = C.keras_layer_pairs()
        secs, _ = measure(entries, batch, reps)
        results["keras_layers"] = {
            "batch": b, "side": side,
            "rows": [{"name": name, "group": group,
                      "images_per_s": b / secs[name]}
                     for name, group, _ in entries]}
        if not quiet:
            print(format_keras_layers(results["keras_layers"]))
    if single:
        b, side = fields_size or C.FIELDS_SIZE
        batch = rng.uniform(0, 255, (b, side, side, 3)).astype("float32")
        entries = C.field_rows()
        secs, _ = measure(entries, batch, reps)
        results["fields"] = {
            "batch": b, "side": side,
            "rows": [{"name": name, "group": group,
                      "images_per_s": b / secs[name]}
                     for name, group, _ in entries]}
        if not quiet:
            print(format_fields(results["fields"]))
    if tf_data is not False:
        results["tf_data"] = tf_data_results(**(tf_data or {}))
        if not quiet:
            print(format_tf_data(results["tf_data"]))
    if service is not False and cpu_peers:
        from benchmarks import distributed

        results["tf_data_service"] = distributed.rows(**(service or {}))
        if not quiet:
            print(distributed.format_rows(results["tf_data_service"]))
    if volumes is not False and cpu_peers:
        from benchmarks import volumes as V

        results["volumes"] = V.rows(**(volumes or {}))
        if not quiet:
            print(V.format_rows(results["volumes"]))
    if dropin is not False and cpu_peers:
        from benchmarks import dropin as D

        results["dropin"] = D.rows(**(dropin or {}))
        if not quiet:
            print(format_dropin(results["dropin"]))
    if eager is not False and cpu_peers:
        results["eager_backends"] = eager_results(**(eager or {}))
        if not quiet:
            for entry in results["eager_backends"]:
                print(format_eager(entry))
    results["targets"] = check_targets(results)
    results["targets"] += check_keras_layer_targets(results.get(
        "keras_layers"))
    results["targets"] += check_field_targets(results.get("fields"))
    from benchmarks import distributed

    results["targets"] += distributed.check_targets(
        results.get("tf_data_service"))
    from benchmarks import volumes as V

    results["targets"] += V.check_targets(results.get("volumes"))
    if not quiet:
        for line in results["targets"]:
            print(line)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, f"{results['device']}.json")
        # Sections written by the other benches (python -m
        # benchmarks.formulations: "formulations") stay; this run's replace
        # their namesakes.
        kept = {}
        if os.path.exists(path):
            with open(path) as f:
                kept = json.load(f)
        with open(path, "w") as f:
            json.dump({**kept, **results}, f, indent=1)
        if plot:
            plot_results(results, os.path.join(out_dir,
                                               f"{results['device']}.png"))
        if not quiet:
            print(f"wrote {path}")
    return results


OURS = "ours: from_image_data_generator"


def format_table(size):
    rows = size["rows"]
    ours = {r["group"]: r for r in rows if r["name"].startswith("ours")}
    fused = next(r for r in rows if r["name"] == OURS)
    lines = [f"\nbatch {size['batch']} at {size['side']}x{size['side']}x3 "
             f"float32 ({size['batch_mb']:.0f} MB)",
             f"{'contender':44s} {'images/s':>10s} {'ours/it':>8s} "
             f"{'peak extra RSS MB':>18s}"]
    for r in rows:
        ref = fused if r["group"] == "pipeline" else ours[r["group"]]
        ratio = ref["images_per_s"] / r["images_per_s"]
        lines.append(f"{r['name']:44s} {r['images_per_s']:10.1f} "
                     f"{ratio:7.2f}x {r['peak_extra_rss_mb']:18.1f}")
    return "\n".join(lines)


def format_keras_layers(entry):
    """Ours against Keras's same layers: rate, and ours/theirs per pair."""
    lines = [f"\nKeras's image layers: batch {entry['batch']} at "
             f"{entry['side']}x{entry['side']}x3 float32, in a tf.function",
             f"{'contender':60s} {'images/s':>10s} {'ours/it':>8s}"]
    ours = {r["group"]: r for r in entry["rows"]
            if r["name"].startswith("ours")}
    for r in entry["rows"]:
        ratio = ours[r["group"]]["images_per_s"] / r["images_per_s"]
        lines.append(f"{r['name']:60s} {r['images_per_s']:10.1f} "
                     f"{ratio:7.2f}x")
    return "\n".join(lines)


def format_tf_data(entries):
    lines = []
    for entry in entries:
        lines.append(f"\ntf.data on {entry['backend']}: batch {entry['batch']} "
                     f"at {entry['side']}x{entry['side']}x3")
        for r in entry["rows"]:
            lines.append(f"{r['name']:44s} {r['images_per_s']:10.1f}")
    return "\n".join(lines)


def format_dropin(entry):
    lines = [f"\nImageDataGenerator drop-in: batch {entry['batch']} at "
             f"{entry['side']}x{entry['side']}x3"]
    for r in entry["rows"]:
        lines.append(f"{r['name']:44s} {r['images_per_s']:10.1f}")
    return "\n".join(lines)


def format_eager(entry):
    lines = [f"\n{entry['backend']} backend, eager: batch {entry['batch']} "
             f"at {entry['side']}x{entry['side']}x3 float32 (medians of "
             f"{entry['reps']} rounds, one process; the rows marked "
             f"reuse_freed_memory() come after it in that process)"]
    for r in entry["rows"]:
        lines.append(f"{r['name']:72s} {r['images_per_s']:10.1f}")
    return "\n".join(lines)


def check_eager_paths(entries):
    """The JAX and PyTorch eager call paths against albumentations uint8,
    measured in the same process and phase: information, not one of the
    issue's targets (those are TensorFlow's four call paths)."""
    from benchmarks import backend_paths as P

    lines = []
    for entry in entries or []:
        rates = {r["name"]: r["images_per_s"] for r in entry["rows"]}
        backend = P.BACKENDS[entry["backend"]]
        for suffix, label in (("", ""), (P.REUSE, ", reuse_freed_memory()")):
            if P.PEER + suffix not in rates:
                continue
            for dtype in ("float32", "uint8"):
                name = P.path_name(entry["backend"], dtype) + suffix
                lines.append(
                    f"[info] {backend} eager{label}, {dtype} input vs "
                    f"albumentations uint8: "
                    f"{rates[name] / rates[P.PEER + suffix]:.2f}x")
        for dtype in ("float32", "uint8"):
            name = P.path_name(entry["backend"], dtype)
            if name + P.REUSE in rates:
                lines.append(
                    f"[info] {backend} eager, {dtype} input, "
                    f"reuse_freed_memory() vs default: "
                    f"{rates[name + P.REUSE] / rates[name]:.2f}x")
    return lines


def check_dropin_targets(entry):
    if not entry:
        return []
    from benchmarks import dropin as D

    rates = {r["name"]: r["images_per_s"] for r in entry["rows"]}
    lines = []
    for label, ours, theirs, factor in [
            ("drop-in flow() vs tf_keras", D.OURS_FLOW, D.THEIRS_FLOW, 5.0),
            ("drop-in flow_from_directory vs tf_keras", D.OURS_DIR,
             D.THEIRS_DIR, 2.0)]:
        ratio = rates[ours] / rates[theirs]
        lines.append(f"[{'PASS' if ratio >= factor else 'MISS'}] {label}: "
                     f"{ratio:.2f}x (target {factor}x)")
    return lines


def check_tf_data_targets(entries):
    from benchmarks import tf_data as T

    lines = []
    by_backend = {e["backend"]: {r["name"]: r["images_per_s"]
                                 for r in e["rows"]} for e in entries}

    def line(label, ratio, factor):
        lines.append(f"[{'PASS' if ratio >= factor else 'MISS'}] {label}: "
                     f"{ratio:.2f}x (target {factor}x)")

    for backend, rates in by_backend.items():
        line(f"tf.data map vs direct call ({backend}, float32)",
             rates[T.MAP] / rates[T.DIRECT], 0.9)
        if T.MAP_UINT8 in rates:
            line(f"tf.data map vs direct call ({backend}, uint8)",
                 rates[T.MAP_UINT8] / rates[T.DIRECT_UINT8], 0.9)
        if T.ONE_OP_MAP in rates:
            lines.append(
                f"[info] tf.data map vs one element-wise op in the same map "
                f"({backend}, float32): "
                f"{rates[T.MAP] / rates[T.ONE_OP_MAP]:.2f}x; the one-op map "
                f"vs the direct call: "
                f"{rates[T.ONE_OP_MAP] / rates[T.DIRECT]:.2f}x")
        line(f"tf.data map vs Keras layers in the map ({backend})",
             rates[T.MAP] / rates[T.KERAS_MAP], 5.0)
    if {"jax", "tensorflow"} <= set(by_backend):
        line("tf.data map, JAX backend vs TensorFlow backend",
             by_backend["jax"][T.MAP] / by_backend["tensorflow"][T.MAP], 0.8)
    return lines


def _rate(size, name):
    for r in size["rows"]:
        if r["name"] == name:
            return r["images_per_s"]
    return None


KERAS_LAYER_TARGETS = {"keras:colour": 3.0, "keras:augmix": 3.0,
                       "keras:from_keras": 5.0}


ELASTIC = "ours: RandomElasticTransform"
FUSED_FIELD = "ours: Augment(rotation, elastic, shift)"


def format_fields(entry):
    """The displacement-field rows: rate, and ours/theirs per group (the
    fused row against the elastic layer alone, as a cost)."""
    rate = {r["name"]: r["images_per_s"] for r in entry["rows"]}
    lines = [f"\nDisplacement fields: batch {entry['batch']} at "
             f"{entry['side']}x{entry['side']}x3 float32, in a tf.function",
             f"{'contender':60s} {'images/s':>10s} {'ratio':>10s}"]
    for r in entry["rows"]:
        if r["group"] == "fused":
            note = f"{rate[ELASTIC] / r['images_per_s']:6.2f}x cost of elastic"
        else:
            ours = next(o for o in entry["rows"] if o["group"] == r["group"]
                        and o["name"].startswith("ours"))
            note = f"{ours['images_per_s'] / r['images_per_s']:6.2f}x ours/it"
        lines.append(f"{r['name']:60s} {r['images_per_s']:10.1f} {note}")
    return "\n".join(lines)


def check_field_targets(entry):
    """Issue 28's targets: elastic at least 5x Keras's; rotation + elastic
    + shift in one Augment at most 1.3x the cost of the elastic alone."""
    if not entry:
        return []
    rate = {r["name"]: r["images_per_s"] for r in entry["rows"]}
    speed = rate[ELASTIC] / rate["keras: RandomElasticTransform"]
    cost = rate[ELASTIC] / rate[FUSED_FIELD]
    size = f"{entry['side']}², batch {entry['batch']}"
    return [f"[{'PASS' if speed >= 5 else 'MISS'}] RandomElasticTransform "
            f"at {size}: {speed:.2f}x Keras's (target 5x)",
            f"[{'PASS' if cost <= 1.3 else 'MISS'}] Augment(rotation, "
            f"elastic, shift) at {size}: {cost:.2f}x the cost of the "
            "elastic alone (target at most 1.3x)"]


def check_keras_layer_targets(entry):
    """Issue 27's targets: ours against Keras's same layers, same run."""
    if not entry:
        return []
    lines = []
    for group, factor in KERAS_LAYER_TARGETS.items():
        rows = [r for r in entry["rows"] if r["group"] == group]
        if len(rows) != 2:
            continue
        mine = next(r for r in rows if r["name"].startswith("ours"))
        theirs = next(r for r in rows if not r["name"].startswith("ours"))
        ratio = mine["images_per_s"] / theirs["images_per_s"]
        lines.append(f"[{'PASS' if ratio >= factor else 'MISS'}] {group} at "
                     f"{entry['side']}², batch {entry['batch']}: "
                     f"{theirs['name'][len('keras: '):]}: {ratio:.2f}x "
                     f"(target {factor}x)")
    return lines


def check_targets(results):
    """The issue's CPU targets at 224², batch 64, as PASS/MISS lines."""
    lines = check_tf_data_targets(results.get("tf_data", []))
    lines += check_dropin_targets(results.get("dropin"))
    lines += check_eager_paths(results.get("eager_backends"))
    size = next((s for s in results["sizes"] if s["side"] == 224), None)
    if size is None:
        return lines
    ours = _rate(size, OURS)

    def target(label, peer, factor):
        rate = _rate(size, peer)
        if rate is None:
            return
        ratio = ours / rate
        lines.append(f"[{'PASS' if ratio >= factor else 'MISS'}] {label}: "
                     f"{ratio:.2f}x (target {factor}x)")

    target("fused vs Keras 3 stack", "keras 3 built-in stack", 6.0)
    target("fused vs ImageDataGenerator", "tf_keras ImageDataGenerator.flow",
           8.0)
    albumentations = _rate(size, "albumentations (uint8, 1 process)")
    if albumentations:
        from benchmarks.contenders import PATHS

        for (path, dtype), name in PATHS.items():
            rate = _rate(size, name)
            if rate is None:
                continue
            ratio = rate / albumentations
            lines.append(
                f"[{'PASS' if ratio >= 1.5 else 'MISS'}] {path}, {dtype} "
                f"input vs albumentations uint8: {ratio:.2f}x (target 1.5x, "
                f"stretch 2x{', reached' if ratio >= 2 else ''})")
        from benchmarks.contenders import CONVERSION, TENSOR_INPUT

        copy, tensor = _rate(size, CONVERSION), _rate(size, TENSOR_INPUT)
        numpy_in = _rate(size, OURS)
        if copy and tensor and numpy_in:
            lines.append(
                f"[info] float32 from NumPy: a NumPy batch instead of a "
                f"tensor costs {100 * (1 - numpy_in / tensor):.0f}% of the "
                f"tf.function call (the copy at the function's boundary; "
                f"keras.ops.convert_to_tensor alone: {100 * numpy_in / copy:.0f}"
                f"%); on a tensor the call is {tensor / albumentations:.2f}x "
                f"albumentations uint8")
    only = _rate(size, "ours: images only")
    both = _rate(size, "with masks + boxes")
    if only and both:
        extra = only / both - 1.0
        lines.append(f"[{'PASS' if extra <= 0.30 else 'MISS'}] masks + boxes "
                     f"add {100 * extra:.0f}% to an images-only call "
                     "(target at most 30%)")
    factors = {"modern:randaugment": 3.0, "modern:recipe": 5.0}
    groups = {r["group"] for r in size["rows"]
              if r["group"] not in ("pipeline", "targets")}
    for group in sorted(groups):
        rows = [r for r in size["rows"] if r["group"] == group]
        mine = next(r for r in rows if r["name"].startswith("ours"))
        theirs = next(r for r in rows if not r["name"].startswith("ours"))
        ratio = mine["images_per_s"] / theirs["images_per_s"]
        factor = factors.get(group, 1.0)
        lines.append(f"[{'PASS' if ratio >= factor else 'MISS'}] {group}: "
                     f"{mine['name']} vs {theirs['name']}: {ratio:.2f}x "
                     f"(target {factor}x)")
    return lines


def plot_results(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    fig, axes = plt.subplots(len(sizes), 1, figsize=(9, 3.2 * len(sizes)))
    axes = np.atleast_1d(axes)
    for ax, size in zip(axes, sizes):
        rows = [r for r in size["rows"] if r["group"] == "pipeline"]
        names = [r["name"] for r in rows]
        rates = [r["images_per_s"] for r in rows]
        colors = ["tab:blue" if n.startswith("ours") else "tab:gray"
                  for n in names]
        ax.barh(names, rates, color=colors)
        ax.set_xscale("log")
        ax.set_xlabel("images/s (log scale)")
        ax.set_title(f"{results['device']}: batch {size['batch']} at "
                     f"{size['side']}²")
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    # Medians of 15 interleaved rounds: with 5, one contender's figure moved
    # by 30 % between back-to-back runs on a shared 2-core machine.
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--tiny", action="store_true",
                        help="one tiny size, for tests")
    parser.add_argument("--no-tf-data", action="store_true",
                        help="skip the tf.data rows")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results"))
    args = parser.parse_args(argv)
    sizes = [(4, 32)] if args.tiny else SIZES
    tf_data = False if args.no_tf_data else (
        dict(batch_size=4, side=32, batches=4, reps=1) if args.tiny else None)
    dropin = dict(batch_size=4, side=32, batches=2, reps=1, files=8) \
        if args.tiny else None
    eager = dict(batch_size=4, side=32, reps=1) if args.tiny else None
    run(sizes=sizes, reps=args.reps, out_dir=args.out, tf_data=tf_data,
        dropin=dropin, eager=eager,
        keras_layers_size=(4, 32) if args.tiny else None,
        fields_size=(4, 32) if args.tiny else None,
        service=dict(batch_size=4, side=32, batches=4, reps=1)
        if args.tiny else None,
        volumes=dict(volume_size=(1, 16), clip_size=(2, 4, 16), reps=1)
        if args.tiny else None)


if __name__ == "__main__":
    main()
