"""Seconds per step of the authors' PyTorch code and of ours, one image, timed alternately in one run
(issue #8: the CPU ratio ours / original, at mini and full size).

  pip install torch   # not a dependency of selfdeblur-jax
  python -m benchmarks.pytorch_reference.speed --reference_code=SelfDeblur --profile=mini --rounds=4

Each round times --steps steps of the original (its networks, SSIM loss, Adam and MultiStepLR on the
CPU, 2 threads, as selfdeblur_levin.py runs them) and --steps steps of ours (`train`, compiled
beforehand), both from the same initial draw of Levin's im1_kernel2 crop (kernel 15). The medians
over the rounds and their ratio are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import torch

from benchmarks.common import LEVIN_DATA, RESULTS, config_file
from benchmarks.pytorch_reference import bridge
from benchmarks.pytorch_reference.run import initial_draw, train_torch
from selfdeblur_jax import train as jt
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.data import center_crop, read_image
from selfdeblur_jax.io import write_json
from selfdeblur_jax.physics import kernel_support

PROFILES = {"mini": ("mini_levin.py", 128), "full": ("levin.py", 255)}
KERNEL = 15


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--reference_code", required=True)
  parser.add_argument("--profile", choices=sorted(PROFILES), default="mini")
  parser.add_argument("--steps", type=int, default=0, help="steps per timing (default 20 mini, 5 full)")
  parser.add_argument("--rounds", type=int, default=4)
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=None)
  args = parser.parse_args()
  bridge.load_reference(args.reference_code)
  torch.set_num_threads(2)
  name, size = PROFILES[args.profile]
  config = engine_config(load_config_file(config_file(name)))
  steps = args.steps or (20 if args.profile == "mini" else 5)
  config.num_steps = steps
  config.chunk_size = steps
  config.loss.switch_step = steps // 2  # both loss phases in every timing
  config.optim.boundaries = ()
  y = center_crop(read_image(args.data_dir / "im1_kernel2_img.png"), size).astype(np.float32)
  support = jnp.asarray(kernel_support(KERNEL, KERNEL))[None]
  problems = jt.Problem(y=jnp.asarray(y)[None], support=support, tv_weight=jnp.zeros((1,), jnp.float32))
  gx, gk, z_x, z_k, state = initial_draw("torch", 0, config, y.shape, KERNEL)
  states = jax.tree.map(lambda a: a[None], state)
  jax.block_until_ready(jt.train(states, problems, config, KERNEL))  # compile
  train_torch(gx, gk, z_x, z_k, y, config, KERNEL)  # warm up
  times: dict[str, list[float]] = {"original": [], "ours": []}
  for _ in range(args.rounds):
    start = time.perf_counter()
    train_torch(gx, gk, z_x, z_k, y, config, KERNEL)
    times["original"].append((time.perf_counter() - start) / steps)
    start = time.perf_counter()
    jax.block_until_ready(jt.train(states, problems, config, KERNEL))
    times["ours"].append((time.perf_counter() - start) / steps)
  median = {k: float(np.median(v)) for k, v in times.items()}
  ratio = median["ours"] / median["original"]
  out = args.out or RESULTS / f"speed_vs_original_{args.profile}.json"
  write_json(out, {"profile": args.profile, "image": size, "channels": int(config.model_x.channels),
                   "kernel": KERNEL, "steps": steps, "rounds": args.rounds,
                   "seconds_per_step": times, "median": median, "ratio_ours_over_original": ratio,
                   "torch": torch.__version__, "jax": jax.__version__})
  print(f"{args.profile}: original {median['original']:.3f} s/step, ours {median['ours']:.3f} s/step "
        f"(medians of {args.rounds} alternating rounds of {steps} steps): ours / original = {ratio:.2f}")


if __name__ == "__main__":
  main()
