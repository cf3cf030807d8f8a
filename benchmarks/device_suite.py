"""One prepared script for a machine with a GPU (issue #8): every batch form and precision of the batched
SelfDeblur step, measured in one call, with a time budget; writes one JSON and one Markdown table.

  python -m benchmarks.device_suite --out_dir=$OUT                 # on the GPU, ~8 minutes
  python -m benchmarks.device_suite --smoke --out_dir=/tmp/suite   # a CPU check of the script itself

Per measurement: profile (full: 255², G_x 128 channels; mini: 128², 64 channels; kernel 15), batch size
B, batch form (vmap, map, chunked), precision (highest, default, bfloat16): compile seconds,
images·steps/s, XLA's FLOPs per step, achieved TFLOP/s and its fraction of this device's dense matmul
rate at the same precision (measured first), and the program's memory (XLA's memory analysis of the
compiled step: arguments + temporaries + outputs), also with G_x rematerialised (model_x.remat).
Then the projected wall time of the whole Levin protocol (32 images × 5000 steps, full networks) at
the fastest measured setting. Measurements run most important first and the script stops starting
new ones when --budget_s is spent; every finished row is written at once, so a killed run keeps what
it measured.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import RESULTS, config_file, matmul_rate
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.io import write_bytes, write_json
from selfdeblur_jax.sharding import num_shards
from selfdeblur_jax.train import compiled_runner, init_batch, make_train_step, precision_scope, program_config

KERNEL = 15
LEVIN_IMAGES, LEVIN_STEPS = 32, 5000


def plan(smoke: bool) -> list[tuple]:
  """(profile, B, form, precision[, remat]), most important first."""
  if smoke:
    # One row through every code path: chunked (vmap within groups, map over them), bfloat16, remat.
    # B = 4 in chunks of 2 compiles one group body (B = 3 would compile a second for the remainder).
    # (The matmul calibration covers all three precisions; tests/test_train.py each form and precision.)
    return [("smoke", 4, "chunked", "bfloat16", True)]
  rows = [("full", 32, "vmap", "highest"), ("full", 32, "chunked", "highest"),
          ("full", 32, "vmap", "default"), ("full", 32, "vmap", "bfloat16"),
          ("full", 32, "vmap", "highest", True),
          ("full", 8, "vmap", "highest"), ("full", 1, "vmap", "highest"), ("full", 8, "map", "highest"),
          ("full", 16, "vmap", "highest"), ("full", 32, "chunked", "default"),
          ("mini", 32, "vmap", "highest"), ("mini", 32, "vmap", "default"),
          ("mini", 32, "vmap", "bfloat16"), ("mini", 8, "vmap", "highest"), ("mini", 1, "vmap", "highest")]
  return rows


def profile_config(profile: str, form: str, precision: str, chunk: int, remat: bool = False):
  """Engine config and image size of a profile, with the batch form and precision set."""
  if profile == "smoke":
    config = resolve_config({"num_steps": 100, "model_x": {"channels": 8, "skip_channels": 4,
                                                           "num_scales": 2, "nonlocal_from_scale": 1},
                             "model_k": {"hidden": (32,)}, "loss": {"switch_step": 50}})
    size = 16
  else:
    name = "mini_levin.py" if profile == "mini" else "levin.py"
    config = resolve_config(engine_config(load_config_file(config_file(name))))
    size = 128 if profile == "mini" else 255
  with config.unlocked():
    config.batch_strategy, config.precision, config.batch_chunk = form, precision, chunk
    config.model_x.remat = remat
  return config, size


def measure(profile: str, batch: int, form: str, precision: str, steps: int, chunk: int,
            remat: bool = False) -> dict:
  config, size = profile_config(profile, form, precision, chunk, remat)
  frozen = program_config(config)
  rng = np.random.default_rng(0)
  states, problems = init_batch([(rng.random((size, size), np.float32), KERNEL, seed)
                                 for seed in range(batch)], KERNEL, config)
  run_steps = compiled_runner(frozen, KERNEL, num_shards(batch))
  start = time.perf_counter()
  compiled = run_steps.lower(states, problems, jnp.int32(1)).compile()
  compile_seconds = time.perf_counter() - start
  memory = compiled.memory_analysis()
  program_bytes = None if memory is None else int(
      memory.argument_size_in_bytes + memory.temp_size_in_bytes + memory.output_size_in_bytes)
  states = compiled(states, problems, jnp.int32(2))  # warm-up
  jax.block_until_ready(states)
  start = time.perf_counter()
  states = compiled(states, problems, jnp.int32(steps))
  jax.block_until_ready(states)
  per_step = (time.perf_counter() - start) / steps
  step = make_train_step(frozen, KERNEL)
  one = jax.tree.map(lambda a: a[0], (states, problems))
  with precision_scope(frozen):
    cost = jax.jit(lambda s, p: step(s, p)[0]).lower(*one).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, list) else cost
  flops = float(cost.get("flops", 0.0)) * batch  # per problem × B: the same work in every form
  return {"profile": profile, "batch": batch, "form": form, "chunk": chunk if form == "chunked" else None,
          "precision": precision, "remat": remat, "image": size, "channels": int(config.model_x.channels),
          "compile_seconds": compile_seconds, "seconds_per_step": per_step,
          "image_steps_per_second": batch / per_step, "flops_per_step": flops,
          "achieved_flops_per_second": flops / per_step, "program_bytes": program_bytes,
          "program_bytes_per_problem": None if program_bytes is None else program_bytes / batch,
          "timed_steps": steps}


def markdown(result: dict) -> str:
  lines = [f"Device: {result['device_kind']} ({result['backend']}), jax {result['jax']}; dense matmul "
           + ", ".join(f"{p} {r / 1e12:.1f} TFLOP/s" for p, r in result["matmul"].items()), "",
           "| profile | B | form | precision | compile s | img·steps/s | GFLOP/step | TFLOP/s | of matmul | "
           "program GiB | GiB / problem |", "|---" * 11 + "|"]
  for r in result["rows"]:
    if "error" in r:
      lines.append(f"| {r['profile']} | {r['batch']} | {r['form']} | {r['precision']} | failed: "
                   f"{r['error'][:80]} |||||||")
      continue
    gib = "–" if r["program_bytes"] is None else f"{r['program_bytes'] / 2**30:.2f}"
    per = "–" if r["program_bytes"] is None else f"{r['program_bytes_per_problem'] / 2**30:.3f}"
    form = f"chunked({r['chunk']})" if r["form"] == "chunked" else r["form"]
    form += ", remat" if r.get("remat") else ""
    lines.append(f"| {r['profile']} | {r['batch']} | {form} | {r['precision']} | {r['compile_seconds']:.1f} | "
                 f"{r['image_steps_per_second']:.1f} | {r['flops_per_step'] / 1e9:.1f} | "
                 f"{r['achieved_flops_per_second'] / 1e12:.2f} | {r['fraction_of_matmul']:.1%} | {gib} | {per} |")
  if result.get("projection"):
    p = result["projection"]
    if result["smoke"]:
      lines += ["", "(smoke sizes: the projection below is the script's check, not a figure)"]
    lines += ["", f"Projected full Levin protocol ({LEVIN_IMAGES} images × {LEVIN_STEPS} steps, full "
              f"networks) at the fastest full-profile setting ({p['setting']}): {p['seconds']:.0f} s "
              f"({p['seconds'] / 60:.1f} min), compilation excluded."]
  return "\n".join(lines) + "\n"


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out_dir", type=Path, default=RESULTS / "device_suite")
  parser.add_argument("--smoke", action="store_true", help="tiny networks and images (a CPU check)")
  parser.add_argument("--budget_s", type=float, default=420.0, help="start no measurement after this")
  parser.add_argument("--steps", type=int, default=0, help="timed steps (default 30; smoke 3)")
  parser.add_argument("--chunk", type=int, default=8, help="problems per group of the chunked form")
  args = parser.parse_args()
  started = time.perf_counter()
  steps = args.steps or (3 if args.smoke else 30)
  chunk = 2 if args.smoke else args.chunk
  args.out_dir.mkdir(parents=True, exist_ok=True)
  device = jax.devices()[0]
  size = 256 if args.smoke else 8192
  result = {"device": str(device), "device_kind": device.device_kind, "backend": jax.default_backend(),
            "jax": jax.__version__, "machine": platform.machine(), "smoke": args.smoke,
            "matmul_size": size, "matmul": {p: matmul_rate(size, p) for p in ("highest", "default", "bfloat16")},
            "rows": []}
  print(f"{device.device_kind}: matmul " + ", ".join(f"{p} {r / 1e12:.2f} TFLOP/s"
                                                    for p, r in result["matmul"].items()), flush=True)
  for profile, batch, form, precision, *remat in plan(args.smoke):
    if time.perf_counter() - started > args.budget_s:
      print("budget spent; stopping", flush=True)
      break
    try:
      row = measure(profile, batch, form, precision, steps, chunk, bool(remat and remat[0]))
      row["fraction_of_matmul"] = row["achieved_flops_per_second"] / result["matmul"][precision]
    except Exception as error:  # e.g. out of memory: keep going with the next setting
      row = {"profile": profile, "batch": batch, "form": form, "precision": precision,
             "error": f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"}
    result["rows"].append(row)
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    full = [r for r in result["rows"] if "error" not in r and r["profile"] in ("full", "smoke")]
    if full:
      best = max(full, key=lambda r: r["image_steps_per_second"])
      result["projection"] = {"setting": f"B={best['batch']}, {best['form']}, {best['precision']}",
                              "seconds": LEVIN_IMAGES * LEVIN_STEPS / best["image_steps_per_second"]}
    write_json(args.out_dir / "device_suite.json", result)
    write_bytes(args.out_dir / "device_suite.md", markdown(result).encode())
  print(markdown(result))


if __name__ == "__main__":
  main()
