"""What centring the kernel on its centroid does to the non-blind result, on every pooled run (issue #11).
Backs benchmarks/RESULTS.md, "Candidates and the selector".

For each run of the labelled pool (experiments/candidates/candidate_pool.py), its final kernel k: y deconvolved
with k as it is, and with `centre_kernel(k)` (physics/kernel_centre.py: moved by whole pixels to its
centroid, what leaves the support dropped, renormalised), both scored against the sharp crop as SPEC §6
scores (aligned with at most 5 px of shift). Writes a Markdown report beside the pool's other reports.

  python -m experiments.candidates.kernel_centring
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS
from benchmarks.levin import NONBLIND_WEIGHT, load_problem, profile_config
from experiments.candidates.selector_report import load_runs, truth

from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.io import write_bytes
from selfdeblur_jax.physics.kernel_centre import centre_kernel
from selfdeblur_jax.restoration import deconv_sparse


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pool", type=Path, default=RESULTS / "pool_mini")
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=None)
  args = parser.parse_args()
  crop = int(profile_config("mini").crop)
  runs = load_runs(args.pool, "plain")
  scores = truth(runs, args.pool, "plain", args.data_dir, crop)
  lines = ["| image | run | shift (dy, dx) | mass lost | raw PSNR / SSIM | centred PSNR / SSIM | change dB | "
           "blurry |", "|---|---|---|---|---|---|---|---|"]
  changes, below = [], [0, 0]
  for run in runs:
    y, sharp, _ = load_problem(run["image"], args.data_dir, crop, "plain")
    raw = scores[run["image"]][run["path"].name]["nonblind"][-1]
    blurry = scores[run["image"]]["blurry"]
    centred = centre_kernel(run["k"][-1])
    s = evaluate(np.clip(np.asarray(deconv_sparse(y, centred.kernel, NONBLIND_WEIGHT)), 0, 1), sharp, 5)
    changes.append(s.psnr - raw[0])
    below[0] += raw[0] < blurry[0]
    below[1] += s.psnr < blurry[0]
    lines.append(f"| {run['image']} | {run['path'].stem} | {centred.shift} | {centred.lost_mass:.3f} | "
                 f"{raw[0]:.2f} / {raw[1]:.3f} | {s.psnr:.2f} / {s.ssim:.3f} | {changes[-1]:+.2f} | "
                 f"{blurry[0]:.2f} / {blurry[1]:.3f} |")
  changes = np.asarray(changes)
  head = [f"Kernel centring on {args.pool.name}: the final kernel of each of {len(runs)} runs, y deconvolved "
          f"(weight {NONBLIND_WEIGHT}) with it as it is and centred; SPEC §6 scoring (max shift 5).", "",
          f"- PSNR change: mean {changes.mean():+.2f} dB, median {np.median(changes):+.2f}, "
          f"min {changes.min():+.2f}, max {changes.max():+.2f}; better in {int(np.sum(changes > 0.05))}, "
          f"within ±0.05 dB in {int(np.sum(np.abs(changes) <= 0.05))}, worse in {int(np.sum(changes < -0.05))}",
          f"- below the blurry input: {below[0]} as they are, {below[1]} centred", ""]
  markdown = "\n".join(head + lines) + "\n"
  write_bytes(args.out or args.pool / "reports" / "kernel_centring.md", markdown.encode())
  print(markdown)


if __name__ == "__main__":
  main()
