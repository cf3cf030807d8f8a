"""Seconds per training step of several commits of this project, timed side by side (issue #8: what
each change to the step gave).
Backs benchmarks/RESULTS.md, "Speed on this CPU".

  python -m experiments.speed.step_history --commits=96aac26,10b4487,32eaf86,HEAD --profile=mini --rounds=6

Each commit is exported (`git archive`) to a temporary folder and runs in its own worker process,
which compiles that commit's train step once (Levin's im1_kernel2 crop, kernel 15, one image, both
loss phases in every round) and then waits. The workers' rounds are interleaved — one round of each
commit, then the next round — so a machine whose speed drifts (this one moves 10–20 % within
minutes) affects every commit alike. Medians per commit are printed as a Markdown table and written
as JSON (--out). Only the step is timed; every commit is measured on the code as it was committed.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import LEVIN_DATA, REPO, RESULTS
from selfdeblur_jax.io import write_json

PROFILES = {"mini": ("mini_levin.py", 128), "full": ("levin.py", 255)}

# Runs inside each worker, in the exported commit's folder, so that `python -c` imports that commit's
# code. It uses only functions that every commit since the engine's first release has.
WORKER = r"""
import sys, time
root, config_name, size, steps, data = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import jax, jax.numpy as jnp, numpy as np
from selfdeblur_jax import train as jt
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.data import center_crop, read_image
config = engine_config(load_config_file(root + "/configs/" + config_name))
config.num_steps = steps
config.chunk_size = steps
config.loss.switch_step = steps // 2
config.optim.boundaries = ()
y = center_crop(read_image(data + "/im1_kernel2_img.png"), size).astype(np.float32)
states, problems = jt.init_batch([(y, 15, 0)], 15, config)
run = jt.compiled_runner(jt.program_config(config), 15, 1)
jax.block_until_ready(run(states, problems, jnp.int32(steps)))
print("ready", flush=True)
for line in sys.stdin:
  start = time.perf_counter()
  jax.block_until_ready(run(states, problems, jnp.int32(steps)))
  print((time.perf_counter() - start) / steps, flush=True)
"""


def export(commit: str, into: Path) -> tuple[str, str]:
  """`commit`'s tree under `into`; returns (full hash, subject line)."""
  into.mkdir(parents=True)
  archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True)
  subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
  log = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%H%n%s", commit], check=True,
                       capture_output=True, text=True).stdout.splitlines()
  return log[0], log[1]


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--commits", required=True, help="comma-separated commits, the baseline first")
  parser.add_argument("--profile", choices=sorted(PROFILES), default="mini")
  parser.add_argument("--steps", type=int, default=0, help="steps per round (default 20 mini, 3 full)")
  parser.add_argument("--rounds", type=int, default=6)
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=None)
  args = parser.parse_args()
  if not (args.data_dir / "im1_kernel2_img.png").exists():
    raise SystemExit(f"step_history: no Levin images under {args.data_dir} (needs ../shared/datasets/levin)")
  config_name, size = PROFILES[args.profile]
  steps = args.steps or (20 if args.profile == "mini" else 3)
  commits = [c.strip() for c in args.commits.split(",") if c.strip()]
  with tempfile.TemporaryDirectory() as tmp:
    workers, info = [], []
    for i, commit in enumerate(commits):  # compile one at a time: the workers then wait on stdin
      full, subject = export(commit, Path(tmp) / str(i))
      info.append({"commit": commit, "hash": full, "subject": subject})
      proc = subprocess.Popen(
          [sys.executable, "-c", WORKER, str(Path(tmp) / str(i)), config_name, str(size), str(steps),
           str(args.data_dir.resolve())], cwd=Path(tmp) / str(i), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
          text=True)
      if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"step_history: the worker for {commit} did not start")
      workers.append(proc)
    times: list[list[float]] = [[] for _ in commits]
    for _ in range(args.rounds):
      for proc, t in zip(workers, times):
        proc.stdin.write("go\n")
        proc.stdin.flush()
        t.append(float(proc.stdout.readline()))
    for proc in workers:
      proc.stdin.close()
      proc.wait()
  medians = [float(np.median(t)) for t in times]
  rows = [dict(item, seconds_per_step=t, median=m, relative_to_first=m / medians[0])
          for item, t, m in zip(info, times, medians)]
  out = args.out or RESULTS / f"step_history_{args.profile}.json"
  write_json(out, {"profile": args.profile, "image": size, "kernel": 15, "steps": steps,
                   "rounds": args.rounds, "machine": platform.processor() or platform.machine(),
                   "commits": rows})
  print(f"| commit | change | median s / step ({args.rounds} interleaved rounds of {steps} steps) | "
        "vs first |")
  print("|---|---|---|---|")
  for row in rows:
    print(f"| {row['hash'][:7]} | {row['subject'][:90]} | {row['median']:.4f} | "
          f"{row['relative_to_first']:.2f} |")
  print(json.dumps({"out": str(out)}))


if __name__ == "__main__":
  main()
