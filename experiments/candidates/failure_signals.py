"""Can a run that ends below its blurry input be told without ground truth? Signals measured on the pool.
Backs benchmarks/RESULTS.md, "Candidates and the selector".

Issue #11 asks that no result be worse than its blurry input. The selector chooses among candidates; when
every candidate of an image is wrong (im2_kernel6, seed 1, robust mode), choosing cannot help, and only
a signal that says "this kernel is wrong" could (for example by returning the input). This script scores
every snapshot (x, k) of every pooled run (experiments/candidates/candidate_pool.py) with no-reference signals, and
the ground truth says whether y deconvolved with that kernel beat the blurry input:

- `l1l2_vs_y`: ℓ1/ℓ2 of the deconvolution's gradients over ℓ1/ℓ2 of y's (below 1: sparser than the input);
- `main_path_mass`: the kernel's largest connected share of mass (physics/kernel_shape.py);
- `border_mass`: the kernel's mass within 2 px of its support's edge (a kernel pushed into a corner).

For each signal: the single threshold that best separates the snapshots that beat the input by more
than 0.5 dB from those below it, and how many of each it misclassifies.

  python -m experiments.candidates.failure_signals
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS
from benchmarks.levin import NONBLIND_WEIGHT, load_problem, profile_config
from experiments.candidates.selector_report import load_runs, truth

from selfdeblur_jax.candidates.selection import _crop, gradient_l1l2, nonblind_latents
from selfdeblur_jax.io import write_bytes
from selfdeblur_jax.physics.kernel_shape import border_mass, main_path_mass

SIGNALS = ("l1l2_vs_y", "main_path_mass", "border_mass")


def best_threshold(values: np.ndarray, good: np.ndarray) -> tuple[float, str, int, int]:
  """(threshold, direction, good misclassified, bad misclassified) with the fewest misclassified."""
  best = None
  for t in np.unique(values):
    for direction in ("<", ">="):  # the side on which a snapshot is called good
      called_good = values < t if direction == "<" else values >= t
      errors = (int(np.sum(good & ~called_good)), int(np.sum(~good & called_good)))
      if best is None or sum(errors) < sum(best[2:]):
        best = (float(t), direction, *errors)
  return best


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pool", type=Path, default=RESULTS / "pool_mini")
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=None, help="Markdown report (default: in the pool's reports/)")
  args = parser.parse_args()
  crop = int(profile_config("mini").crop)
  runs = load_runs(args.pool, "plain")
  scores = truth(runs, args.pool, "plain", args.data_dir, crop)
  rows = []
  for run in runs:
    y, _, _ = load_problem(run["image"], args.data_dir, crop, "plain")
    base = gradient_l1l2(y)
    entry, blurry = scores[run["image"]][run["path"].name], scores[run["image"]]["blurry"][0]
    latents = nonblind_latents(y, list(run["k"]), NONBLIND_WEIGHT)
    for j, (step, k, latent) in enumerate(zip(run["steps"], run["k"], latents)):
      rows.append({"image": run["image"], "run": run["path"].stem, "step": step,
                   "gain": entry["nonblind"][j][0] - blurry,
                   "l1l2_vs_y": gradient_l1l2(_crop(latent, y.shape)) / base,
                   "main_path_mass": main_path_mass(k), "border_mass": border_mass(k, 2)})
  gain = np.asarray([r["gain"] for r in rows])
  keep = (gain > 0.5) | (gain < 0)
  good = gain[keep] > 0
  lines = [f"Failure signals on {args.pool.name}: {len(rows)} snapshots of {len(runs)} runs; "
           f"{int(np.sum(gain > 0.5))} beat the blurry input by > 0.5 dB, {int(np.sum(gain < 0))} end below it",
           "", "| signal | best threshold (called good) | good called bad | bad called good |", "|---|---|---|---|"]
  for name in SIGNALS:
    values = np.asarray([r[name] for r in rows])[keep]
    t, direction, wrong_good, wrong_bad = best_threshold(values, good)
    lines.append(f"| `{name}` | {direction} {t:.3f} | {wrong_good}/{int(good.sum())} | "
                 f"{wrong_bad}/{int((~good).sum())} |")
  lines += ["", "Final snapshots (step 1500), by gain over the blurry input (dB):", "",
            "| image | run | gain | " + " | ".join(SIGNALS) + " |", "|---|---|---|" + "---|" * len(SIGNALS)]
  for r in sorted((r for r in rows if r["step"] == max(runs[0]["steps"])), key=lambda r: r["gain"]):
    lines.append(f"| {r['image']} | {r['run']} | {r['gain']:+.2f} | " +
                 " | ".join(f"{r[name]:.3f}" for name in SIGNALS) + " |")
  markdown = "\n".join(lines) + "\n"
  out = args.out or args.pool / "reports" / "failure_signals.md"
  write_bytes(out, markdown.encode())
  write_bytes(out.with_suffix(".json"), json.dumps(rows, indent=1).encode())
  print(markdown)


if __name__ == "__main__":
  main()
