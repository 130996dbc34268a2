"""The displacement-field rows alone (issue 28), written into the device's
committed results: ``python -m benchmarks.fields``.

``make bench`` runs these rows with the rest (``benchmarks.run``); this
entry point measures only them (a minute, not an hour) and replaces the
``"fields"`` section and its target lines in the device's JSON, appending
the table to its log. Every ratio is within this section's one run.
"""

import argparse
import datetime
import json
import os

import numpy as np

from benchmarks import contenders as C
from benchmarks import run as R


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fields")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results"))
    args = parser.parse_args(argv)
    b, side = C.FIELDS_SIZE
    batch = np.random.default_rng(0).uniform(
        0, 255, (b, side, side, 3)).astype("float32")
    entries = C.field_rows()
    secs, _ = R.measure(entries, batch, args.reps)
    entry = {"batch": b, "side": side, "reps": args.reps,
             "measured": datetime.date.today().isoformat(),
             "rows": [{"name": name, "group": group,
                       "images_per_s": b / secs[name]}
                      for name, group, _ in entries]}
    table = R.format_fields(entry)
    targets = R.check_field_targets(entry)
    print(table)
    print("\n".join(targets))
    device = R.device_name()
    path = os.path.join(args.out, f"{device}.json")
    results = {}
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    results["fields"] = entry
    results["targets"] = [line for line in results.get("targets", [])
                          if "RandomElasticTransform at" not in line
                          and "elastic, shift)" not in line] + targets
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, f"{device}-log.txt"), "a") as f:
        f.write(f"\n# python -m benchmarks.fields ({entry['measured']})"
                f"{table}\n" + "\n".join(targets) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
