"""A labelled pool of SelfDeblur runs for choosing a no-reference selector offline (issue #11).
Backs benchmarks/RESULTS.md, "Candidates and the selector".

Each run is one candidate of one Levin image (mini profile, SPEC §6/§7): a (seed, restart) draw on a
kernel support of scaled_size(K, f) + 2·margin (f: a size factor, as `candidates.size_factors`; 1: K).
Every run is trained to the end (no early stopping) and its x and k are kept at the snapshot steps too,
so that selectors and early-stopping rules can be scored against the ground truth later without
re-running (experiments/candidates/selector_report.py).

  python -m experiments.candidates.candidate_pool --images=subset --seeds=0,1 --restarts=0,1,2 --margins=0,2
  python -m experiments.candidates.candidate_pool --images=im4_kernel4 --seeds=0 --restarts=0,1 --size_factors=0.6667

Resumable: one file per run, <out_dir>/<variant>/<image>/m<margin>_s<seed>_r<restart>.npz (with a size
factor f other than 1: f<f:.3f>_m<margin>_s<seed>_r<restart>.npz)
(x as 8-bit, k as float32, at each snapshot step; the loss history; seconds). All missing runs of
one (image, size factor, margin) run as one batched program (per problem, the result does not depend on its
batch-mates: tests/test_train.py).
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS, require_data
from benchmarks.levin import VARIANTS, image_names, load_problem, profile_config

from selfdeblur_jax.app_config import engine_config
from selfdeblur_jax.physics.kernel_shape import scaled_size
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.io import write_bytes
from selfdeblur_jax.physics.blur import crop_to_image
from selfdeblur_jax.sharding import num_shards
from selfdeblur_jax.train import compiled_outputs, init_batch, program_config, train


def run_path(out_dir: Path, variant: str, name: str, margin: int, seed: int, restart: int,
             size_factor: float = 1.0) -> Path:
  prefix = "" if size_factor == 1.0 else f"f{size_factor:.3f}_"
  return out_dir / variant / name / f"{prefix}m{margin}_s{seed}_r{restart}.npz"


def run_group(name: str, variant: str, margin: int, runs: list[tuple[int, int]], config, data_dir: Path,
              out_dir: Path, snap_steps: list[int], settings: str = "", size_factor: float = 1.0) -> None:
  """Train the (seed, restart) runs of one image on support scaled_size(K, size_factor) + 2·margin
  together; write one file each."""
  y, _, size = load_problem(name, data_dir, int(config.crop), variant)
  support = scaled_size(size, size_factor) + 2 * margin
  engine = resolve_config(engine_config(config))
  frozen = program_config(engine)
  start = time.perf_counter()
  states, problems = init_batch([(y, support, seed, restart) for seed, restart in runs], support, engine)
  outputs = compiled_outputs(frozen, support, num_shards(len(runs)))
  snaps: list[tuple[int, np.ndarray, np.ndarray]] = []

  def keep(step: int, states) -> None:
    if step in snap_steps or step == engine.num_steps:
      x_latent, kernels = jax.device_get(outputs(states, problems))
      snaps.append((step, np.stack([crop_to_image(x, y.shape) for x in x_latent]), np.asarray(kernels)))

  states = train(states, problems, engine, support, keep)
  seconds = time.perf_counter() - start
  history = np.asarray(jax.device_get(states.loss_history))
  steps = np.asarray([s for s, _, _ in snaps])
  for b, (seed, restart) in enumerate(runs):
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, steps=steps, x=np.stack([np.round(np.clip(x[b], 0, 1) * 255).astype(np.uint8)
                                         for _, x, _ in snaps]),
        k=np.stack([k[b] for _, _, k in snaps]).astype(np.float32), loss=history[b],
        image=name, variant=variant, margin=margin, kernel_size=size, size_factor=size_factor,
        support=support, seed=seed,
        restart=restart, seconds_per_run=seconds / len(runs), batch=len(runs), settings=settings,
        devices=jax.device_count())
    path = run_path(out_dir, variant, name, margin, seed, restart, size_factor)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, buffer.getvalue())
  print(f"{name} [{variant}] size factor {size_factor:g}, margin {margin} (support {support}): "
        f"{len(runs)} run(s) in {seconds:.0f} s", flush=True)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--images", default="subset", help="'subset', 'holdout', 'all' or names")
  parser.add_argument("--variant", choices=VARIANTS, default="plain")
  parser.add_argument("--seeds", default="0,1", help="base seeds")
  parser.add_argument("--restarts", default="0", help="restart indices r (problem_key(seed, r))")
  parser.add_argument("--margins", default="0", help="support margins m: support K + 2m")
  parser.add_argument("--size_factors", default="1",
                      help="kernel size factors f: support scaled_size(K, f) + 2m (e.g. 1,0.6667)")
  parser.add_argument("--snap_steps", default="300,600,900,1200")
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out_dir", type=Path, default=RESULTS / "pool_mini")
  parser.add_argument("--set", action="append", default=[],
                      help="engine override KEY=VALUE (Python literal), e.g. loss.tv_weight=1e-3")
  args = parser.parse_args()
  require_data(args.data_dir, "candidate_pool.py")
  config = profile_config("mini")
  for item in args.set:  # use another --out_dir for runs with other settings
    key, value = item.split("=", 1)
    config.update_from_flattened_dict({key: ast.literal_eval(value)})
  seeds = [int(s) for s in args.seeds.split(",")]
  restarts = [int(r) for r in args.restarts.split(",")]
  snap_steps = [int(s) for s in args.snap_steps.split(",") if s]
  print(f"pool: {args.variant}, device {jax.devices()[0]}", flush=True)
  factors = [float(f) for f in args.size_factors.split(",")]
  if any(not 0 < f <= 4 for f in factors):
    sys.exit(f"candidate_pool.py: error: size factors must lie in (0, 4], got {args.size_factors!r}")
  for name in image_names(args.images):
    for factor in factors:
      for margin in [int(m) for m in args.margins.split(",")]:
        runs = [(s, r) for s in seeds for r in restarts
                if not run_path(args.out_dir, args.variant, name, margin, s, r, factor).exists()]
        if runs:
          run_group(name, args.variant, margin, runs, config, args.data_dir, args.out_dir, snap_steps,
                    " ".join(args.set), factor)


if __name__ == "__main__":
  main()
