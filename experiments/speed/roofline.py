"""A roofline projection of the full Levin protocol on a GPU, from XLA's own FLOP and byte counts (issue #8).
Backs benchmarks/RESULTS.md, "Speed on this CPU".

No GPU has been lent to this project yet, so this is a projection, not a measurement: one training step of
the full profile (255², G_x 128 channels, kernel 15) is compiled here, XLA's cost analysis gives its FLOPs
and bytes accessed, and the whole protocol (32 images × 5000 steps) is bounded below by
max(FLOPs / peak FLOP/s, bytes / memory bandwidth) at each precision, with the peak rates of a device's
datasheet (defaults: NVIDIA H100 SXM: FP32 67 TFLOP/s, TF32 tensor 495 dense, BF16 tensor 989 dense,
HBM3 3.35 TB/s). The byte count is the CPU compilation's (its fusions differ from XLA:GPU's), so the
memory bound is indicative only. What fraction of the peak a real run reaches is what the device
script (benchmarks/device_suite.py) measures when a GPU is lent.

  python -m experiments.speed.roofline
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np

from benchmarks.common import RESULTS
from benchmarks.device_suite import KERNEL, LEVIN_IMAGES, LEVIN_STEPS, profile_config

from selfdeblur_jax.io import write_bytes, write_json
from selfdeblur_jax.train import init_batch, make_train_step, precision_scope, program_config


def step_cost(profile: str) -> dict[str, float]:
  """XLA's FLOPs and bytes accessed of one training step of one problem of a profile."""
  config, size = profile_config(profile, "vmap", "highest", 1)
  frozen = program_config(config)
  states, problems = init_batch([(np.random.default_rng(0).random((size, size), np.float32), KERNEL, 0)],
                                KERNEL, config)
  one = jax.tree.map(lambda a: a[0], (states, problems))
  step = make_train_step(frozen, KERNEL)
  with precision_scope(frozen):
    cost = jax.jit(lambda s, p: step(s, p)[0]).lower(*one).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, list) else cost
  return {"flops": float(cost["flops"]), "bytes": float(cost.get("bytes accessed", 0.0)), "image": size}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--profile", default="full", choices=("full", "mini"))
  parser.add_argument("--fp32_tflops", type=float, default=67.0)
  parser.add_argument("--tf32_tflops", type=float, default=495.0)
  parser.add_argument("--bf16_tflops", type=float, default=989.0)
  parser.add_argument("--bandwidth_tbs", type=float, default=3.35)
  parser.add_argument("--target_s", type=float, default=180.0, help="the goal: 3 minutes")
  parser.add_argument("--out", type=Path, default=RESULTS / "roofline_h100.json")
  args = parser.parse_args()
  cost = step_cost(args.profile)
  total_flops = cost["flops"] * LEVIN_IMAGES * LEVIN_STEPS
  total_bytes = cost["bytes"] * LEVIN_IMAGES * LEVIN_STEPS
  memory_s = total_bytes / (args.bandwidth_tbs * 1e12)
  rows = []
  for name, tflops in (("float32 (no tensor cores)", args.fp32_tflops), ("TF32 tensor cores", args.tf32_tflops),
                       ("bfloat16 tensor cores", args.bf16_tflops)):
    compute_s = total_flops / (tflops * 1e12)
    rows.append({"precision": name, "peak_tflops": tflops, "compute_bound_s": compute_s,
                 "fraction_of_peak_for_target": compute_s / args.target_s})
  lines = [f"Roofline projection (not a measurement), profile {args.profile} ({cost['image']}², kernel {KERNEL}): "
           f"{cost['flops'] / 1e9:.1f} GFLOP and {cost['bytes'] / 1e9:.2f} GB accessed per image·step (XLA, CPU "
           f"compilation); the Levin protocol ({LEVIN_IMAGES} images × {LEVIN_STEPS} steps) is "
           f"{total_flops / 1e15:.1f} PFLOP and {total_bytes / 1e15:.2f} PB.", "",
           f"Memory bound at {args.bandwidth_tbs} TB/s: {memory_s:.0f} s.", "",
           f"| precision | peak TFLOP/s | compute bound | share of peak needed for {args.target_s:.0f} s |",
           "|---|---|---|---|"]
  for r in rows:
    lines.append(f"| {r['precision']} | {r['peak_tflops']:.0f} | {r['compute_bound_s']:.0f} s | "
                 f"{r['fraction_of_peak_for_target']:.0%} |")
  markdown = "\n".join(lines) + "\n"
  write_json(args.out, {"cost_per_image_step": cost, "total_flops": total_flops, "total_bytes": total_bytes,
                        "memory_bound_s": memory_s, "rows": rows, "assumed": vars(args) | {"out": str(args.out)}})
  write_bytes(args.out.with_suffix(".md"), markdown.encode())
  print(markdown)


if __name__ == "__main__":
  main()
