"""Clips and volumes (issue 30): ``python -m benchmarks.volumes``.

``make bench`` runs these rows with the rest (``benchmarks.run``); this
entry point measures only them and replaces the ``"volumes"`` section and
its target lines in the device's JSON, appending the table to its log.
Every ratio is within this section's one run.

- Volumes: ``Augment3D`` (rotation + zoom + elastic, one trilinear
  resample) on a batch of two 96³ volumes, against a NumPy copy of the
  batch (the memory's rate), ``scipy.ndimage.affine_transform`` per volume
  (the rotation and zoom only: one affine resample, no field), and MONAI's
  ``RandAffined`` + ``Rand3DElasticd`` per volume where MONAI is installed
  (the ``bench`` extra).
- Clips: the same ``Augment`` on 4 clips of 16 frames and on the same 64
  frames as a batch of images (the target: a clip costs at most 1.1x).
"""

import argparse
import datetime
import json
import math
import os

import numpy as np

VOLUME_SIZE = (2, 96)  # batch, side
CLIP_SIZE = (4, 16, 112)  # clips, frames, side
AUGMENT3D = "ours: Augment3D(rotation, zoom, elastic)"
COPY = "numpy: copy of the batch"
SCIPY = "scipy: affine_transform per volume (rotation + zoom only)"
MONAI = "monai: RandAffined + Rand3DElasticd per volume"
CLIPS = "ours: Augment on clips"
FRAMES = "ours: Augment on the same frames as images"


def _augment3d():
    import augment_layers as al

    return al.Augment3D([
        al.RandomAffine3D(rotation_range=15, zoom_range=0.1,
                          fill_mode="reflect"),
        al.RandomElasticTransform3D(factor=(1.0, 1.0))])


def volume_rows():
    """``[(name, group, fn)]`` for a ``(B, 96, 96, 96, 1)`` batch."""
    from scipy import ndimage

    augment = _augment3d()
    rng = np.random.default_rng(0)

    def ours(x):
        return np.asarray(augment(x, training=True))

    def scipy_affine(x):
        out = np.empty_like(x)
        size = x.shape[1]
        centre = (size - 1) / 2.0
        for b in range(x.shape[0]):
            angles = np.radians(rng.uniform(-15, 15, 3))
            zoom = rng.uniform(0.9, 1.1)
            matrix = np.eye(3)
            for axis, a in enumerate(angles):
                r, k = (axis + 1) % 3, (axis + 2) % 3
                turn = np.eye(3)
                turn[r, r] = turn[k, k] = math.cos(a)
                turn[r, k], turn[k, r] = math.sin(a), -math.sin(a)
                matrix = matrix @ turn
            matrix = matrix * zoom
            offset = centre - matrix @ np.full(3, centre)
            out[b, ..., 0] = ndimage.affine_transform(
                x[b, ..., 0], matrix, offset, order=1, mode="nearest")
        return out

    rows = [(AUGMENT3D, "volumes", ours),
            (COPY, "volumes", lambda x: x.copy()),
            (SCIPY, "volumes", scipy_affine)]
    monai = _monai()
    if monai is not None:
        rows.append((MONAI, "volumes", monai))
    return rows


def _monai():
    try:
        import torch
        from monai import transforms as mt
    except ImportError:
        return None
    pipeline = mt.Compose([
        mt.RandAffined(keys="image", prob=1.0,
                       rotate_range=(math.radians(15),) * 3,
                       scale_range=(0.1,) * 3, mode="bilinear",
                       padding_mode="border"),
        mt.Rand3DElasticd(keys="image", prob=1.0, sigma_range=(4.0, 5.0),
                          magnitude_range=(50.0, 100.0), mode="bilinear",
                          padding_mode="reflection")])
    pipeline.set_random_state(0)
    torch.set_num_threads(os.cpu_count() or 1)

    def run(x):
        return np.stack([np.asarray(pipeline(
            {"image": torch.from_numpy(np.ascontiguousarray(
                np.moveaxis(v, -1, 0)))})["image"]) for v in x])

    return run


def clip_rows(clip_size=CLIP_SIZE):
    import augment_layers as al

    augment = al.Augment([al.RandomRotation(20), al.RandomShift(0.1, 0.1),
                          al.RandomFlip("horizontal"),
                          al.RandomBrightnessRange((0.8, 1.2))])
    clips, frames, _ = clip_size

    def as_clips(x):
        return np.asarray(augment(x, training=True))

    def as_images(x):
        return np.asarray(augment(x.reshape((clips * frames,) + x.shape[2:]),
                                  training=True))

    return [(CLIPS, "clips", as_clips), (FRAMES, "clips", as_images)]


def rows(volume_size=VOLUME_SIZE, clip_size=CLIP_SIZE, reps=7):
    """The section: volumes/s and images/s of every row, one run."""
    from benchmarks import run as R

    b, side = volume_size
    rng = np.random.default_rng(0)
    volumes = rng.uniform(0, 1, (b, side, side, side, 1)).astype("float32")
    secs, _ = R.measure(volume_rows(), volumes, reps)
    clips, frames, clip_side = clip_size
    entries = clip_rows(clip_size)
    clip_batch = rng.uniform(0, 255, (clips, frames, clip_side, clip_side,
                                      3)).astype("float32")
    clip_secs, _ = R.measure(entries, clip_batch, reps)
    return {"measured": datetime.date.today().isoformat(), "reps": reps,
            "volumes": {"batch": b, "side": side, "rows": [
                {"name": name, "volumes_per_s": b / secs[name]}
                for name in secs]},
            "clips": {"clips": clips, "frames": frames, "side": clip_side,
                      "rows": [{"name": name,
                                "frames_per_s": clips * frames
                                / clip_secs[name]}
                               for name in clip_secs]}}


def format_rows(entry):
    v, c = entry["volumes"], entry["clips"]
    rate = {r["name"]: r["volumes_per_s"] for r in v["rows"]}
    lines = [f"\nVolumes: batch {v['batch']} at {v['side']}³x1, float32 "
             f"(volumes/s; vs ours)"]
    for name, value in rate.items():
        lines.append(f"  {name:<60} {value:9.2f}  "
                     f"{value / rate[AUGMENT3D]:6.2f}x")
    lines.append(f"\nClips: {c['clips']} clips x {c['frames']} frames at "
                 f"{c['side']}² (frames/s)")
    for r in c["rows"]:
        lines.append(f"  {r['name']:<60} {r['frames_per_s']:9.1f}")
    return "\n".join(lines)


def check_targets(entry):
    """The issue's target lines (a clip at most 1.1x its frames as images)
    and the volume ratios, stated."""
    if not entry:
        return []
    rate = {r["name"]: r["volumes_per_s"] for r in entry["volumes"]["rows"]}
    clip = {r["name"]: r["frames_per_s"] for r in entry["clips"]["rows"]}
    cost = clip[FRAMES] / clip[CLIPS]
    side = entry["volumes"]["side"]
    lines = [f"[{'PASS' if cost <= 1.1 else 'MISS'}] a clip of "
             f"{entry['clips']['frames']} frames costs {cost:.2f}x the same "
             "frames as images (target <= 1.1x)",
             f"[INFO] Augment3D at {side}³: {rate[AUGMENT3D] / rate[COPY]:.1%} of "
             f"the NumPy copy's rate; {rate[AUGMENT3D] / rate[SCIPY]:.2f}x "
             "scipy's affine_transform (which does no elastic field)"]
    if MONAI in rate:
        lines.append(f"[INFO] Augment3D at {side}³: "
                     f"{rate[AUGMENT3D] / rate[MONAI]:.2f}x"
                     " MONAI's RandAffined + Rand3DElasticd")
    return lines


def main(argv=None):
    from benchmarks import run as R

    parser = argparse.ArgumentParser(prog="python -m benchmarks.volumes")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results"))
    args = parser.parse_args(argv)
    kwargs = dict(volume_size=(1, 16), clip_size=(2, 4, 16), reps=1) \
        if args.tiny else {"reps": args.reps}
    entry = rows(**kwargs)
    entry["host"] = R.host_info()
    table = format_rows(entry)
    targets = check_targets(entry)
    print(R.format_host(entry["host"]))
    print(table)
    print("\n".join(targets))
    if args.tiny:
        return entry
    device = R.device_name()
    path = os.path.join(args.out, f"{device}.json")
    results = {}
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    results["volumes"] = entry
    results["targets"] = [line for line in results.get("targets", [])
                          if "Augment3D at" not in line
                          and "frames as images" not in line] + targets
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, f"{device}-log.txt"), "a") as f:
        f.write(f"\n# python -m benchmarks.volumes ({entry['measured']})\n"
                f"{R.format_host(entry['host'])}{table}\n"
                + "\n".join(targets) + "\n")
    print(f"wrote {path}")
    return entry


if __name__ == "__main__":
    main()
