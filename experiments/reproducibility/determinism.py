"""Is a result bit-for-bit the same alone, beside a batch-mate, and run again? (issues #10, #11)
Backs benchmarks/RESULTS.md, "Reproducibility".

Two random H×H images, kernel 9, seeds 0 and 1: fitted as a pair in one program three times, and the
first alone. Prints the largest difference of the first problem's (and the second's) loss history
between the repeated pair runs, and between the first problem alone and in the pair. Zero everywhere
means the result depends only on the image, its settings and its seed. Run it with and without
several simulated CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=2) to compare.

  python -m experiments.reproducibility.determinism --size=128 --steps=40 --network=mini
"""

from __future__ import annotations

import argparse
import json

import jax
import numpy as np

from selfdeblur_jax import fit_batch

NETWORKS = {  # G_x settings; G_k keeps the default 1000-unit hidden layer
    "tiny": {"channels": 16, "skip_channels": 4, "num_scales": 3, "nonlocal_from_scale": 2},
    "mini": {"channels": 64, "skip_channels": 16, "num_scales": 5, "nonlocal_from_scale": 3},
}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--size", type=int, default=128)
  parser.add_argument("--steps", type=int, default=40)
  parser.add_argument("--network", choices=sorted(NETWORKS), default="mini")
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  ys = [rng.random((args.size, args.size)).astype(np.float32) for _ in range(2)]
  steps = args.steps
  config = {"num_steps": steps, "chunk_size": steps, "loss": {"switch_step": steps // 2},
            "optim": {"boundaries": (steps // 2, steps * 3 // 4, steps * 7 // 8)},
            "model_x": NETWORKS[args.network]}
  pairs = [fit_batch(ys, 9, config=config, seeds=[0, 1]) for _ in range(args.repeats)]
  alone = fit_batch(ys[:1], 9, config=config, seeds=[0])[0]

  def diff(a, b) -> float:
    return float(np.abs(a.loss_history - b.loss_history).max())

  report = {"devices": jax.device_count(), "network": args.network, "size": args.size, "steps": steps,
            "pair_again": [[diff(p[i], pairs[0][i]) for i in range(2)] for p in pairs[1:]],
            "alone_vs_pair": diff(alone, pairs[0][0])}
  print(json.dumps(report))


if __name__ == "__main__":
  main()
