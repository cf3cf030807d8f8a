"""Score every no-reference selector on the labelled pool (experiments/candidates/candidate_pool.py) offline.
Backs benchmarks/RESULTS.md, "Candidates and the selector".

For each image and base seed, the candidates are the pool's runs of that seed whose margin and restart
are in --margins and --restarts. Each selector picks one candidate per set using only y and the
candidates' (x, k, loss); the ground truth then says how good the pick was: how often it is the best
candidate, how often within 0.5 dB of it, its worst loss, the mean PSNR of the picks, and how many
picks end below the blurry input. --halving simulates early stopping from the pool's snapshots.

  python -m experiments.candidates.selector_report --margins=0,2 --restarts=0
  python -m experiments.candidates.selector_report --margins=2 --restarts=0,1,2,3 --halving=300,600
  python -m experiments.candidates.selector_report --margins=0 --restarts=0,1 --size_factors=1,0.6667 \
      --size_handicap=0.25 --halving=600,900 --output=nonblind_centred      # the robust mode's sets

Ground-truth scores of every run are cached in <pool>/<variant>/scores.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ml_collections
import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS
from benchmarks.levin import NONBLIND_WEIGHT, load_problem, profile_config

from selfdeblur_jax.candidates.search import halving_keep
from selfdeblur_jax.candidates.selection import SELECTORS, score_candidates
from selfdeblur_jax.config import final_data_term_at
from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.io import write_bytes, write_json
from selfdeblur_jax.physics.kernel_shape import is_cramped
from selfdeblur_jax.physics.kernel_centre import centre_kernel, pad_kernel
from selfdeblur_jax.restoration import deconv_sparse


def load_runs(pool: Path, variant: str) -> list[dict]:
  runs = []
  for path in sorted((pool / variant).glob("*/*m*_s*_r*.npz")):
    d = np.load(path)
    runs.append({"path": path, "image": str(d["image"]), "margin": int(d["margin"]), "seed": int(d["seed"]),
                 "size_factor": float(d["size_factor"]) if "size_factor" in d.files else 1.0,
                 "kernel_size": int(d["kernel_size"]),
                 "restart": int(d["restart"]), "steps": d["steps"].tolist(), "x": d["x"] / 255.0,
                 "k": d["k"], "loss": d["loss"], "seconds": float(d["seconds_per_run"])})
  return runs


def truth(runs: list[dict], pool: Path, variant: str, data_dir: Path, crop: int) -> dict:
  """PSNR/SSIM of each run's x (G_x) and of y deconvolved with its k, at every snapshot (cached)."""
  cache_path = pool / variant / "scores.json"
  cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
  problems: dict[str, tuple] = {}
  changed = False
  for run in runs:
    key = run["path"].name
    entry = cache.setdefault(run["image"], {})
    if key in entry and len(entry[key]["steps"]) == len(run["steps"]) and "nonblind_centred" in entry[key]:
      continue
    if run["image"] not in problems:
      y, sharp, _ = load_problem(run["image"], data_dir, crop, variant)
      problems[run["image"]] = (y, sharp)
      entry["blurry"] = [evaluate(y, sharp, 5).psnr, evaluate(y, sharp, 5).ssim]
    y, sharp = problems[run["image"]]
    rows = {"steps": run["steps"], "network": [], "nonblind": [], "nonblind_centred": []}
    for x, k in zip(run["x"], run["k"]):
      s = evaluate(x, sharp, 5)
      rows["network"].append([s.psnr, s.ssim])
      nb = np.clip(np.asarray(deconv_sparse(y, k, NONBLIND_WEIGHT)), 0, 1)
      s = evaluate(nb, sharp, 5)
      rows["nonblind"].append([s.psnr, s.ssim])
      # As the robust mode: a kernel smaller than the size asked is padded to it before centring.
      padded = pad_kernel(k, run["kernel_size"]) if k.shape[0] < run["kernel_size"] else k
      nb = np.clip(np.asarray(deconv_sparse(y, centre_kernel(padded).kernel, NONBLIND_WEIGHT)), 0, 1)
      s = evaluate(nb, sharp, 5)
      rows["nonblind_centred"].append([s.psnr, s.ssim])
    entry[key] = rows
    changed = True
    print(f"  scored {run['image']}/{key}: final {rows['network'][-1][0]:.2f} dB "
          f"(nonblind {rows['nonblind'][-1][0]:.2f})", flush=True)
  if changed:
    write_json(cache_path, cache)
  return cache


def room_first(scores: np.ndarray, kernels: list[np.ndarray]) -> np.ndarray:
  """Scores with every cramped kernel (`physics.kernel_shape.is_cramped`) ranked after those with
  room, unless all are cramped (issue #35's "a kernel cramped by its support below one with room")."""
  cramped = np.asarray([is_cramped(k) for k in kernels])
  return scores + 10.0 * (cramped & ~cramped.all())


def simulate(cands: list[dict], selector: str, y: np.ndarray, halving: list[int], weight: float,
             size_handicap: float, config: ml_collections.ConfigDict, rate: float = 2.0,
             cramped_last: bool = False):
  """The pick of `selector` among `cands`, with early stopping at the `halving` steps (from snapshots);
  a candidate of another size than the one asked (size factor ≠ 1) has its score's handicap
  1 + `size_handicap`, as in the robust mode. As in the search, the fit gate applies only at stops
  whose data term is the final one under the pool's `config` (`final_data_term_at`)."""
  factor = [1.0 + size_handicap * (c["size_factor"] != 1.0) for c in cands]
  alive = list(range(len(cands)))
  total = len(cands)
  for stage, step in enumerate(halving):
    keep = halving_keep(total, stage, rate)
    if len(alive) <= keep:
      continue
    j = cands[0]["steps"].index(step)
    scores = score_candidates(selector, y, [cands[i]["x"][j] for i in alive],
                              [cands[i]["k"][j] for i in alive],
                              [float(cands[i]["loss"][step - 1]) for i in alive], weight,
                              [factor[i] for i in alive],
                              fit_gate=final_data_term_at(config, step))
    if cramped_last:
      scores = room_first(scores, [cands[i]["k"][j] for i in alive])
    alive = [alive[i] for i in np.argsort(scores, kind="stable")[:keep]]
  if len(alive) == 1:
    return alive[0]
  scores = score_candidates(selector, y, [cands[i]["x"][-1] for i in alive],
                            [cands[i]["k"][-1] for i in alive],
                            [float(cands[i]["loss"][-1]) for i in alive], weight, [factor[i] for i in alive])
  if cramped_last:
    scores = room_first(scores, [cands[i]["k"][-1] for i in alive])
  return alive[int(np.argmin(scores))]


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pool", type=Path, default=RESULTS / "pool_mini")
  parser.add_argument("--variant", default="plain")
  parser.add_argument("--margins", default="0,2")
  parser.add_argument("--restarts", default="0")
  parser.add_argument("--seeds", default="", help="base seeds (default: all in the pool)")
  parser.add_argument("--size_factors", default="1",
                      help="kernel size factors of the candidates (pool runs made with --size_factors)")
  parser.add_argument("--size_restarts", default="",
                      help="restarts per size factor, in --size_factors' order (candidates.size_restarts), "
                      "e.g. 2,1,1: restarts 0..n-1 of each size instead of --restarts")
  parser.add_argument("--size_handicap", type=float, default=0.0,
                      help="score handicap of candidates whose size factor is not 1 (candidates.size_handicap)")
  parser.add_argument("--halving", default="", help="early-stopping steps to simulate, e.g. 300,600")
  parser.add_argument("--rate", type=float, default=2.0,
                      help="keep 1/rate of the candidates at each stop (candidates.halving_rate)")
  parser.add_argument("--cramped_last", action="store_true",
                      help="rank candidates whose kernel is cramped (mass on its support's edge) after the others")
  parser.add_argument("--output", choices=("network", "nonblind", "nonblind_centred"), default="network",
                      help="the picks' image: G_x's, y deconvolved with the kernel, or with the kernel centred "
                      "(the robust mode since candidates.centre_kernel)")
  parser.add_argument("--selectors", default=",".join(SELECTORS))
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=None, help="write the Markdown report here")
  args = parser.parse_args()
  mini = profile_config("mini")  # the pool's runs are mini-profile runs
  crop = int(mini.crop)
  runs = load_runs(args.pool, args.variant)
  scores = truth(runs, args.pool, args.variant, args.data_dir, crop)
  margins = {int(m) for m in args.margins.split(",")}
  restarts = {int(r) for r in args.restarts.split(",")}
  factor_list = [round(float(f), 3) for f in args.size_factors.split(",")]
  factors = set(factor_list)
  per_size = [int(n) for n in args.size_restarts.split(",") if n]
  if per_size and len(per_size) != len(factor_list):
    sys.exit("selector_report.py: error: --size_restarts needs one count per size factor")
  allowed = {f: set(range(n)) for f, n in zip(factor_list, per_size)} if per_size else {f: restarts for f in factors}
  expected = len(margins) * sum(len(allowed[f]) for f in factors)
  seeds = sorted({r["seed"] for r in runs} if not args.seeds else {int(s) for s in args.seeds.split(",")})
  halving = [int(s) for s in args.halving.split(",") if s]
  sets = []
  for image in sorted({r["image"] for r in runs}):
    for seed in seeds:
      cands = [r for r in runs if r["image"] == image and r["seed"] == seed and r["margin"] in margins
               and round(r["size_factor"], 3) in factors and r["restart"] in allowed[round(r["size_factor"], 3)]]
      cands.sort(key=lambda r: (-r["size_factor"], r["margin"], r["restart"]))  # the robust mode's order
      if len(cands) == expected:
        sets.append((image, seed, cands))
  described = (f"restarts per size {per_size}" if per_size else f"restarts {sorted(restarts)}")
  lines = [f"Selectors on the pool {args.pool.name}/{args.variant}: margins {sorted(margins)}, {described}, "
           f"size factors {sorted(factors, reverse=True)} (handicap {args.size_handicap:g}), "
           f"early stopping at {halving or 'none'} keeping 1/{args.rate:g} each time, "
           f"{'cramped kernels last, ' if args.cramped_last else ''}output {args.output}; "
           f"{len(sets)} sets (image × base seed) of {expected} candidates", "",
           "| selector | picks best | within 0.5 dB | worst loss dB | mean PSNR | below blurry |",
           "|---|---|---|---|---|---|"]
  picks: dict[str, list] = {}
  y_cache = {}
  for selector in ["oracle", "first"] + args.selectors.split(","):
    rows = []
    for image, seed, cands in sets:
      if image not in y_cache:
        y_cache[image] = load_problem(image, args.data_dir, crop, args.variant)[0]
      psnr = [scores[image][c["path"].name][args.output][-1][0] for c in cands]
      if selector == "oracle":
        pick = int(np.argmax(psnr))
      elif selector == "first":
        pick = 0
      else:
        pick = simulate(cands, selector, y_cache[image], halving, NONBLIND_WEIGHT, args.size_handicap, mini,
                        args.rate, args.cramped_last)
      rows.append((image, seed, psnr[pick], max(psnr), scores[image]["blurry"][0],
                   cands[pick]["path"].name))
    picks[selector] = rows
    got = np.asarray([r[2] for r in rows])
    best = np.asarray([r[3] for r in rows])
    blurry = np.asarray([r[4] for r in rows])
    lines.append(f"| {selector} | {np.sum(got >= best - 1e-9)}/{len(rows)} | {np.sum(got >= best - 0.5)}"
                 f"/{len(rows)} | {np.max(best - got):.2f} | {np.mean(got):.2f} | {np.sum(got < blurry)} |")
  lines += ["", "Per set: PSNR of each candidate (" + args.output + "), and the picks", "",
            "| image | seed | candidates | blurry | " + " | ".join(picks) + " |",
            "|---" * (4 + len(picks)) + "|"]
  for n, (image, seed, cands) in enumerate(sets):
    psnr = [scores[image][c["path"].name][args.output][-1][0] for c in cands]
    names = [c["path"].stem for c in cands]
    lines.append(f"| {image} | {seed} | " + ", ".join(f"{a} {p:.2f}" for a, p in zip(names, psnr))
                 + f" | {scores[image]['blurry'][0]:.2f} | "
                 + " | ".join(f"{picks[s][n][2]:.2f}" for s in picks) + " |")
  text = "\n".join(lines) + "\n"
  print(text)
  if args.out:
    write_bytes(args.out, text.encode())


if __name__ == "__main__":
  main()
