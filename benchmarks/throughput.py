"""Speed of the batched SelfDeblur step: compile time, seconds per step, images·steps per second, XLA's
FLOPs per step, achieved FLOP/s (also as a fraction of a large float32 matmul's on the same device)
and peak memory, for a profile and a list of batch sizes.

  python -m benchmarks.throughput --profile=mini --batch_sizes=1,2
  python -m benchmarks.throughput --profile=full --batch_sizes=1,2,4,8,16,32 --steps=50   # on a GPU

Profiles: 'mini' = SPEC §6 (128×128, G_x 64 channels), 'full' = SPEC sizes (255×255, 128 channels);
kernel size 15 (Levin kernel2) for both. Prints a table and writes JSON (--out).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import RESULTS, config_file, matmul_rate, peak_rss_kib
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.io import write_json
from selfdeblur_jax.sharding import num_shards
from selfdeblur_jax.train import batch_strategy, compiled_runner, init_batch, make_train_step, program_config

PROFILES = {"mini": ("mini_levin.py", 128), "full": ("levin.py", 255)}
KERNEL_SIZE = 15


def step_flops(config, states, problems) -> float:
  """XLA's FLOP count of one batched train step (cost analysis of the step alone, outside the loop)."""
  step = make_train_step(config, KERNEL_SIZE)
  if batch_strategy(config) == "vmap":
    batched = jax.jit(lambda s, p: jax.vmap(step)(s, p)[0])
  else:  # 'map' loops over problems; its FLOPs are B times one problem's
    single = jax.jit(lambda s, p: step(s, p)[0])
    one = jax.tree.map(lambda a: a[0], (states, problems))
    cost = single.lower(*one).compile().cost_analysis()
    return float(cost.get("flops", 0.0)) * problems.y.shape[0]
  cost = batched.lower(states, problems).compile().cost_analysis()
  return float(cost.get("flops", 0.0))


def peak_memory_bytes() -> tuple[float, str]:
  device = jax.devices()[0]
  stats = device.memory_stats() if hasattr(device, "memory_stats") else None
  if stats and "peak_bytes_in_use" in stats:
    return float(stats["peak_bytes_in_use"]), "device peak_bytes_in_use"
  return peak_rss_kib() * 1024, "process peak RSS"


def measure(profile: str, batch: int, steps: int) -> dict:
  config_file, size = PROFILES[profile]
  config = program_config(engine_config(load_config_file(config_file(config_file))))
  rng = np.random.default_rng(0)
  problems_in = [(rng.random((size, size), np.float32), KERNEL_SIZE, seed) for seed in range(batch)]
  states, problems = init_batch(problems_in, KERNEL_SIZE, config)
  run_steps = compiled_runner(config, KERNEL_SIZE, num_shards(batch))
  start = time.perf_counter()
  compiled = run_steps.lower(states, problems, jnp.int32(1)).compile()
  compile_seconds = time.perf_counter() - start
  states = compiled(states, problems, jnp.int32(1))  # warm-up
  jax.block_until_ready(states)
  start = time.perf_counter()
  states = compiled(states, problems, jnp.int32(steps))
  jax.block_until_ready(states)
  per_step = (time.perf_counter() - start) / steps
  flops = step_flops(config, states, problems)
  memory, memory_kind = peak_memory_bytes()
  return {"profile": profile, "batch": batch, "strategy": batch_strategy(config),
          "image": size, "kernel": KERNEL_SIZE, "channels": config.model_x.channels,
          "compile_seconds": compile_seconds, "seconds_per_step": per_step,
          "seconds_per_image_step": per_step / batch, "image_steps_per_second": batch / per_step,
          "flops_per_step": flops, "achieved_flops_per_second": flops / per_step,
          "peak_memory_bytes": memory, "peak_memory_kind": memory_kind, "timed_steps": steps}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--profile", choices=sorted(PROFILES), default="mini")
  parser.add_argument("--batch_sizes", default="1,2")
  parser.add_argument("--steps", type=int, default=10, help="timed steps per batch size")
  parser.add_argument("--matmul", type=int, default=2048, help="size of the reference matmul")
  parser.add_argument("--out", type=Path, default=None)
  args = parser.parse_args()
  device = jax.devices()[0]
  matmul = matmul_rate(args.matmul, repeats=5)
  print(f"device {device.device_kind} ({jax.default_backend()}, {jax.device_count()} device(s)); "
        f"{args.matmul}² float32 matmul: {matmul / 1e9:.1f} GFLOP/s")
  rows = []
  print(f"{'B':>3} {'compile s':>9} {'s/step':>8} {'s/img·step':>10} {'img·step/s':>10} "
        f"{'GFLOP/step':>10} {'GFLOP/s':>8} {'of matmul':>9} {'peak GiB':>8}")
  for batch in (int(b) for b in args.batch_sizes.split(",")):
    try:
      row = measure(args.profile, batch, args.steps)
    except Exception as error:  # e.g. out of memory: record it and stop growing the batch
      print(f"{batch:>3} failed: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
      rows.append({"profile": args.profile, "batch": batch, "error": str(error).splitlines()[0]})
      break
    row["fraction_of_matmul"] = row["achieved_flops_per_second"] / matmul
    rows.append(row)
    print(f"{batch:>3} {row['compile_seconds']:9.1f} {row['seconds_per_step']:8.3f} "
          f"{row['seconds_per_image_step']:10.3f} {row['image_steps_per_second']:10.2f} "
          f"{row['flops_per_step'] / 1e9:10.2f} {row['achieved_flops_per_second'] / 1e9:8.1f} "
          f"{row['fraction_of_matmul']:9.1%} {row['peak_memory_bytes'] / 2**30:8.2f}", flush=True)
  out = args.out or RESULTS / f"throughput_{args.profile}_{jax.default_backend()}.json"
  out.parent.mkdir(parents=True, exist_ok=True)
  write_json(out, {"device": str(device), "device_kind": device.device_kind,
                   "backend": jax.default_backend(), "jax": jax.__version__,
                   "machine": platform.machine(), "matmul_size": args.matmul,
                   "matmul_flops_per_second": matmul, "rows": rows})
  print(f"wrote {out}")


if __name__ == "__main__":
  main()
