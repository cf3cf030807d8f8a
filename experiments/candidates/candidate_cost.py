"""What the robust mode costs: seconds per image of `configs/mini_levin.py:robust` against one plain run
of the same images, measured side by side (alternating, compilation excluded) on this machine.
Backs benchmarks/RESULTS.md, "Robust mode".

  python -m experiments.candidates.candidate_cost --images=im1_kernel1,im4_kernel8 --num_steps=300 --rounds=2

Both runs use the mini profile; --num_steps shortens both alike (the schedule's boundaries, the loss
switch and the early-stopping fractions scale with it), so the ratio is that of whole runs. Each timed
fit follows an untimed one of the same shapes, so that XLA's compilation is not in the figures.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax

from benchmarks.common import LEVIN_DATA, RESULTS
from benchmarks.levin import image_names, load_problem, profile_config

from selfdeblur_jax import fit_batch
from selfdeblur_jax.app_config import engine_config
from selfdeblur_jax.candidates import CandidateSearch, plan_candidates
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.io import write_json


def shortened(arg: str | None, steps: int):
  config = engine_config(profile_config("mini", arg))
  if steps:
    scale = steps / int(config.num_steps)
    config.num_steps = steps
    config.loss.switch_step = round(int(config.loss.switch_step) * scale)
    config.optim.boundaries = tuple(round(b * scale) for b in config.optim.boundaries)
  return resolve_config(config)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--images", default="im1_kernel1,im4_kernel8")
  parser.add_argument("--num_steps", type=int, default=300)
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=RESULTS / "candidate_cost.json")
  args = parser.parse_args()
  names = image_names(args.images)
  problems = [load_problem(n, args.data_dir, 128) for n in names]
  ys, sizes = [p[0] for p in problems], [p[2] for p in problems]
  configs = {"plain": shortened(None, args.num_steps), "robust": shortened("robust", args.num_steps)}
  planned = {name: CandidateSearch(ys, plan_candidates(sizes, [0] * len(ys), c), c).planned_work()
             for name, c in configs.items()}
  for config in configs.values():  # compile every program once
    fit_batch(ys, sizes, config=config, seeds=0)
  seconds: dict[str, list[float]] = {name: [] for name in configs}
  for _ in range(args.rounds):
    for name, config in configs.items():
      start = time.perf_counter()
      fit_batch(ys, sizes, config=config, seeds=0)
      seconds[name].append((time.perf_counter() - start) / len(ys))
  best = {name: min(s) for name, s in seconds.items()}
  result = {"images": list(names), "num_steps": args.num_steps, "rounds": args.rounds,
            "device": str(jax.devices()[0]), "devices": jax.device_count(),
            "seconds_per_image": seconds, "best_seconds_per_image": best,
            "ratio": best["robust"] / best["plain"], "planned_work": planned,
            "planned_ratio": planned["robust"] / planned["plain"]}
  write_json(args.out, result)
  print(f"{len(names)} image(s), {args.num_steps} steps, {args.rounds} rounds: plain "
        f"{best['plain']:.1f} s / image, robust {best['robust']:.1f} s / image: ×{result['ratio']:.2f} "
        f"(planned candidate·steps ×{result['planned_ratio']:.2f})")


if __name__ == "__main__":
  main()
