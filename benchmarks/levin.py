"""The paper's Table 3 on Levin et al.'s images, from Python: SelfDeblur, SelfDeblur + non-blind
deconvolution, Known k and the blurry input; PSNR, SSIM, error ratio and seconds per image.

  python -m benchmarks.levin --profile=mini --seeds=0,1     # SPEC §6 subset of 8, 2-core CPU
  python -m benchmarks.levin --profile=full --images=all    # SPEC sizes, 5000 steps (a GPU's job)

Resumable: each finished image is written to <out_dir>/seed<s>/<image>.json (+ .npz) and is not
recomputed; tables are rebuilt from those files (<out_dir>/table.md and table.json), and cover every
result stored in <out_dir>, so a set can be run image by image. One variant per <out_dir>.
Scoring (SPEC §5): Levin alignment up to a ±max_shift sub-pixel shift, 15 px border, PSNR/SSIM;
error ratio = SSD(estimate) / SSD(known-kernel result), both aligned (Levin 2009).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS, config_file, require_data
from selfdeblur_jax import fit_batch
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.data import LEVIN_KERNEL_SIZES, center_crop, levin_true_kernel, read_image
from selfdeblur_jax.evaluation import error_ratio, evaluate
from selfdeblur_jax.io import write_bytes, write_json, write_npz
from selfdeblur_jax.physics.kernel_centre import centre_kernel
from selfdeblur_jax.physics.kernel_shape import kernel_extent, scaled_size
from selfdeblur_jax.restoration import deconv_sparse
from selfdeblur_jax.results import output_stage

MINI_SUBSET = ("im1_kernel1", "im2_kernel2", "im3_kernel3", "im4_kernel4", "im1_kernel5", "im2_kernel6",
               "im3_kernel7", "im4_kernel8")
# SPEC §7: the other diagonal, a held-out set of 8 (same crops, sizes and schedule as §6).
HOLDOUT = ("im2_kernel1", "im3_kernel2", "im4_kernel3", "im1_kernel4", "im2_kernel5", "im3_kernel6",
           "im4_kernel7", "im1_kernel8")
# SPEC §6 as is, kernel sizes ×1.5, noise σ = 0.01; issue #35: sizes ×0.75, and each size the true
# blur's extent (physics/kernel_shape.kernel_extent, rounded up to odd: 13, 13, 9, 23, 9, 17, 19, 19).
VARIANTS = ("plain", "oversize", "noisy", "undersize", "extent")
# SPEC §6: the authors' PyTorch code on this CPU at the mini profile (PSNR, SSIM) for seeds 0 and 1.
MINI_REFERENCE = {
    "im1_kernel1": ((26.02, 0.7176), (32.12, 0.9097), (27.92, 0.8272)),
    "im2_kernel2": ((24.29, 0.5838), (23.37, 0.5505), (21.35, 0.4871)),
    "im3_kernel3": ((27.94, 0.8800), (36.83, 0.9530), (37.12, 0.9548)),
    "im4_kernel4": ((19.26, 0.5672), (26.99, 0.8240), (25.43, 0.7576)),
    "im1_kernel5": ((28.54, 0.8247), (32.40, 0.9222), (34.04, 0.9403)),
    "im2_kernel6": ((25.90, 0.6881), (20.83, 0.3051), (18.55, 0.2092)),
    "im3_kernel7": ((22.08, 0.7750), (34.04, 0.9314), (34.36, 0.9307)),
    "im4_kernel8": ((19.17, 0.5308), (26.90, 0.8219), (29.39, 0.8988)),
    "im1_kernel2": ((25.37, 0.6909), (32.17, 0.9103), None),
}
PAPER_FULL = {"SelfDeblur": (33.07, 0.9313, 1.1968), "SelfDeblur+nonblind": (33.32, 0.9438, 1.2509),
              "Known k": (34.53, 0.9492, None)}
NONBLIND_WEIGHT = 0.003  # deconv_sparse's prior weight, one value for every image (see RESULTS.md)


def profile_config(profile: str, arg: str | None = None):
  """A profile's config: 'mini' is configs/mini_levin.py (SPEC §6), 'full' is configs/levin.py;
  `arg` is the config file's argument (e.g. 'robust': the candidates mode)."""
  return load_config_file(config_file("mini_levin.py" if profile == "mini" else "levin.py"), arg)


def parse_override(item: str) -> tuple[str, object]:
  """'a.b=VALUE' -> ('a.b', VALUE): a Python literal where VALUE is one, else the string."""
  key, sep, value = item.partition("=")
  if not sep or not key:
    sys.exit(f"levin.py: error: --set takes KEY=VALUE, got {item!r}")
  try:
    return key, ast.literal_eval(value)
  except (ValueError, SyntaxError):
    return key, value


def image_names(spec: str) -> tuple[str, ...]:
  """'subset' (SPEC §6), 'holdout' (SPEC §7's other diagonal), 'all', or comma-separated names."""
  if spec == "subset":
    return MINI_SUBSET
  if spec == "holdout":
    return HOLDOUT
  if spec == "all":
    return tuple(f"im{i}_kernel{j}" for i in range(1, 5) for j in range(1, 9))
  return tuple(spec.split(","))


def oversize(kernel_size: int) -> int:
  """SPEC §7: the kernel size × 1.5, rounded up to the next odd integer (17 -> 27, 13 -> 21)."""
  return scaled_size(kernel_size, 1.5)


def undersize(kernel_size: int) -> int:
  """Issue #35: the kernel size × 0.75, rounded up to the next odd integer (17 -> 13, 27 -> 21)."""
  return scaled_size(kernel_size, 0.75)


def extent_size(data_dir: Path, kernel: int) -> int:
  """Issue #35: the true kernel's extent (`kernel_extent`), rounded up to odd: the size a user who
  measured the streak would give."""
  return scaled_size(kernel_extent(levin_true_kernel(data_dir, kernel)), 1.0)


def load_problem(name: str, data_dir: Path, crop: int, variant: str = "plain"
                 ) -> tuple[np.ndarray, np.ndarray, int]:
  """(blurry y, sharp crop, kernel size) of one Levin image under a SPEC §6/§7 variant.

  'noisy' adds N(0, 0.01²) seeded by the image's index i in the §6 subset (its order), clips to
  [0, 1] and rounds to 8 bit; 'oversize' asks for oversize(K), 'undersize' for undersize(K),
  'extent' for the true blur's extent (`extent_size`).
  """
  i, j = name.split("_")
  y = center_crop(read_image(data_dir / f"{name}_img.png"), crop)
  sharp = center_crop(read_image(data_dir / "gt" / f"{i}.png"), crop)
  size = LEVIN_KERNEL_SIZES[int(j.removeprefix("kernel"))]
  if variant == "oversize":
    size = oversize(size)
  elif variant == "undersize":
    size = undersize(size)
  elif variant == "extent":
    size = extent_size(data_dir, int(j.removeprefix("kernel")))
  elif variant == "noisy":
    if name not in MINI_SUBSET:
      raise ValueError(f"the noisy variant is defined on SPEC §6's subset only, not {name}")
    noise = np.random.default_rng(MINI_SUBSET.index(name)).normal(0, 0.01, y.shape)
    y = (np.round(np.clip(y + noise, 0, 1) * 255) / 255).astype(np.float32)
  elif variant != "plain":
    raise ValueError(f"unknown variant {variant!r}; one of {VARIANTS}")
  return y, sharp, size


def run_batch(names, seed, config, crop, data_dir, out, max_shift, variant="plain"):
  """Fit one batch of images, score every method on each, write one JSON + NPZ per image.

  With candidates (config.candidates), every candidate's PSNR/SSIM is recorded too: of its G_x image
  (at the step it stopped, for those stopped early), of y deconvolved with its kernel as it is, and of
  the output it would have given had it been chosen (the output stage of `candidates`: its kernel
  padded and centred where centre_kernel, then G_x's image or the non-blind deconvolution); the
  candidates' kernels are stored in the NPZ as k_candidate<i>.
  """
  problems = [load_problem(name, data_dir, crop, variant) for name in names]
  ys = [y for y, _, _ in problems]
  start = time.perf_counter()
  results = fit_batch(ys, [size for _, _, size in problems], config=engine_config(config), seeds=seed,
                      keep_candidate_images=True)
  seconds = (time.perf_counter() - start) / len(names)
  for name, (y, gt, _), result in zip(names, problems, results):
    j = int(name.split("kernel")[1])
    known = np.clip(np.asarray(deconv_sparse(y, levin_true_kernel(data_dir, j), NONBLIND_WEIGHT)), 0, 1)
    nonblind = np.clip(np.asarray(deconv_sparse(y, result.kernel, NONBLIND_WEIGHT)), 0, 1)
    x = np.clip(result.x, 0, 1)
    row = {"image": name, "seed": seed, "variant": variant, "kernel_size": result.kernel_size,
           "requested_kernel_size": result.requested_kernel_size, "seconds": seconds,
           "seconds_per_step": seconds / config.num_steps, "final_loss": float(result.loss_history[-1])}
    for method, estimate in (("SelfDeblur", x), ("SelfDeblur+nonblind", nonblind), ("Known k", known),
                             ("blurry", y)):
      score = evaluate(estimate, gt, max_shift)
      row[method] = {"psnr": float(score.psnr), "ssim": float(score.ssim),
                     "error_ratio": float(error_ratio(estimate, known, gt, max_shift))}
    candidate_kernels = {}
    if len(result.candidates) > 1:
      row["chosen"] = result.chosen
      row["candidates"] = []
      for i, c in enumerate(result.candidates):
        network = evaluate(np.clip(c.x, 0, 1), gt, max_shift)
        deconv = evaluate(np.clip(np.asarray(deconv_sparse(y, c.kernel, NONBLIND_WEIGHT)), 0, 1), gt,
                          max_shift)
        would_be, _, _ = output_stage(y, c.x, None, c.kernel, result.requested_kernel_size, result.config)
        output = evaluate(np.clip(would_be, 0, 1), gt, max_shift)
        row["candidates"].append({"restart": c.restart, "kernel_size": c.kernel_size, "steps": c.steps,
                                  "status": c.status, "score": c.score, "psnr": network.psnr,
                                  "ssim": network.ssim, "psnr_nonblind": deconv.psnr,
                                  "ssim_nonblind": deconv.ssim, "psnr_output": output.psnr,
                                  "ssim_output": output.ssim})
        candidate_kernels[f"k_candidate{i}"] = c.kernel
    write_npz(out / f"{name}.npz", x=result.x, k=result.kernel, loss_history=result.loss_history,
              nonblind=nonblind, **candidate_kernels)
    write_json(out / f"{name}.json", row)
    print(f"  {name} seed {seed}: SelfDeblur {row['SelfDeblur']['psnr']:.2f} dB / "
          f"{row['SelfDeblur']['ssim']:.4f}, blurry {row['blurry']['psnr']:.2f}, "
          f"{seconds:.0f} s", flush=True)


def rescore(out_dir: Path, seeds, names, config, crop, data_dir, max_shift, variant="plain") -> None:
  """Redo the output stage of finished runs from their stored winning kernel, under `config`'s
  `candidates.centre_kernel` and `output` (training and selection do not depend on them): the
  SelfDeblur and SelfDeblur+nonblind columns are recomputed, the candidates' own columns kept."""
  c = config.candidates
  for seed in seeds:
    for name in names:
      path = out_dir / f"seed{seed}" / f"{name}.json"
      if not path.exists():
        continue
      row, saved = json.loads(path.read_text()), dict(np.load(path.with_suffix(".npz")))
      y, gt, _ = load_problem(name, data_dir, crop, variant)
      kernel = centre_kernel(saved["k"]).kernel if c.centre_kernel else saved["k"]
      nonblind = np.clip(np.asarray(deconv_sparse(y, kernel, NONBLIND_WEIGHT)), 0, 1)
      x = np.asarray(deconv_sparse(y, kernel, float(c.nonblind_weight))) if c.output == "nonblind" else saved["x"]
      known = np.clip(np.asarray(deconv_sparse(y, levin_true_kernel(data_dir, int(name.split("kernel")[1])),
                                               NONBLIND_WEIGHT)), 0, 1)
      for method, estimate in (("SelfDeblur", np.clip(x, 0, 1)), ("SelfDeblur+nonblind", nonblind)):
        score = evaluate(estimate, gt, max_shift)
        row[method] = {"psnr": float(score.psnr), "ssim": float(score.ssim),
                       "error_ratio": float(error_ratio(estimate, known, gt, max_shift))}
      row["output_stage"] = {"centre_kernel": bool(c.centre_kernel), "output": c.output, "rescored": True}
      write_npz(path.with_suffix(".npz"), **{**saved, "x": x, "k": kernel, "nonblind": nonblind})
      write_json(path, row)
      print(f"  rescored {name} seed {seed}: SelfDeblur {row['SelfDeblur']['psnr']:.2f} dB", flush=True)


def candidates_table(rows: list[dict]) -> list[str]:
  """Markdown lines: per image and seed, the chosen candidate and every candidate's PSNR (none
  where no row has candidates)."""
  if not any("candidates" in r for r in rows):
    return []
  lines = ["", "Candidates (r: restart, K: kernel size; PSNR of G_x's image / of y deconvolved with its "
           "kernel as it is / of the output it would have given had it been chosen (the output stage: "
           "kernel padded to the requested size and centred where centre_kernel; for the chosen one, "
           "the SelfDeblur column), the third figure absent from rows run before it was recorded; "
           "'stopped at s': early-stopped, image at that step; * the chosen one)", "",
           "| image | seed | chosen | candidates |", "|---|---|---|---|"]
  for r in rows:
    if "candidates" not in r:
      continue
    cells = []
    for i, c in enumerate(r["candidates"]):
      where = "" if c["status"] == "finished" else f", {c['status']} at {c['steps']}"
      cells.append(f"{'*' if i == r['chosen'] else ''}r{c['restart']} K{c['kernel_size']} "
                   f"{c['psnr']:.2f}/{c['psnr_nonblind']:.2f}"
                   + (f"/{c['psnr_output']:.2f}" if "psnr_output" in c else "") + where)
    best = r["candidates"][r["chosen"]]
    lines.append(f"| {r['image']} | {r['seed']} | r{best['restart']} K{best['kernel_size']} | "
                 + "; ".join(cells) + " |")
  return lines


def score_workdir(workdir: Path, data_dir: Path, max_shift: int) -> str:
  """Score the outputs of `bin/deblur` on Levin images (<name>.npz in its workdir) by the same protocol."""
  summary = json.loads((workdir / "summary.json").read_text())
  crop = int(summary["config"].get("crop", 0))
  lines = [f"bin/deblur outputs in {workdir} (crop {crop or 'none'}, max_shift {max_shift}); PSNR dB / SSIM",
           "", "| image | K | SelfDeblur | SelfDeblur+nonblind | Known k | blurry |", "|---" * 6 + "|"]
  means = []
  for name, entry in sorted(summary["images"].items()):
    stem = name.removesuffix("_img")
    i, j = stem.split("_")
    gt = center_crop(read_image(data_dir / "gt" / f"{i}.png"), crop)
    saved = np.load(workdir / f"{name}.npz")
    y = saved["y"]
    known = np.clip(np.asarray(deconv_sparse(y, levin_true_kernel(data_dir, int(j[6:])), NONBLIND_WEIGHT)), 0, 1)
    nonblind = np.clip(np.asarray(deconv_sparse(y, saved["k"], NONBLIND_WEIGHT)), 0, 1)
    scores = [evaluate(e, gt, max_shift) for e in (np.clip(saved["x"], 0, 1), nonblind, known, y)]
    means.append([(s.psnr, s.ssim) for s in scores])
    lines.append(f"| {stem} | {entry['kernel_size']} | " +
                 " | ".join(f"{s.psnr:.2f} / {s.ssim:.4f}" for s in scores) + " |")
  mean = np.mean(np.asarray(means), axis=0)
  lines.append(f"| **mean ({len(means)})** | | " + " | ".join(f"{p:.2f} / {q:.4f}" for p, q in mean) + " |")
  return "\n".join(lines) + "\n"


def below(row: dict) -> str:
  """Whether the result ends below the blurry input: 'no', 'PSNR', 'SSIM' or 'PSNR, SSIM'."""
  worse = [m.upper() for m in ("psnr", "ssim") if row["SelfDeblur"][m] < row["blurry"][m]]
  return ", ".join(worse) or "no"


def stored(out_dir: Path, names, seeds) -> tuple[list[str], list[int]]:
  """The images and seeds a table of out_dir covers: those asked for and every result stored there.

  So a run of one image (resuming a set image by image) rebuilds the table of the whole folder
  instead of replacing it with that image alone.
  """
  seeds = sorted(set(seeds) | {int(d.name[4:]) for d in out_dir.glob("seed*") if d.name[4:].isdigit()})
  found = {f.stem for s in seeds for f in (out_dir / f"seed{s}").glob("im*_kernel*.json")}
  known = list(MINI_SUBSET) + list(HOLDOUT) + list(image_names("all"))
  wanted = found | set(names)  # in SPEC order (subset, held-out, the rest), whatever ran last
  names = list(dict.fromkeys([*(n for n in known if n in wanted), *names, *sorted(found)]))
  return names, seeds


def check_variant(out_dir: Path, variant: str) -> None:
  """Refuse to mix SPEC variants in one folder: its table would average unlike problems."""
  for f in sorted(out_dir.glob("seed*/im*_kernel*.json")):
    other = json.loads(f.read_text()).get("variant", "plain")
    if other != variant:
      sys.exit(f"levin.py: error: {out_dir} holds variant {other!r} results ({f.name}); "
               f"give variant {variant!r} its own --out_dir")


def table(out_dir: Path, names, seeds, profile: str, variant: str = "plain") -> tuple[str, dict]:
  """Markdown + JSON tables from the per-image files present (per seed, then the mean over seeds)."""
  rows = {(s, n): json.loads((out_dir / f"seed{s}" / f"{n}.json").read_text())
          for s in seeds for n in names if (out_dir / f"seed{s}" / f"{n}.json").exists()}
  profile_label = profile
  if variant != "plain":  # SPEC §6's reference figures are for the plain images only
    profile, profile_label = "mini-" + variant, f"{profile}, variant {variant}"
  methods = ("SelfDeblur", "SelfDeblur+nonblind", "Known k", "blurry")
  lines = [f"Levin, profile {profile_label}, seeds {', '.join(map(str, seeds))}; PSNR dB / SSIM / error ratio",
           "", "| image | seed | " + " | ".join(methods) + " | s / image | below blurry |"
           + (" original (SPEC §6, its seed of that number) |" if profile == "mini" else ""),
           "|---" * (4 + len(methods) + (profile == "mini")) + "|"]
  summary: dict = {"profile": profile, "seeds": list(seeds), "per_seed": {}, "rows": list(rows.values())}
  for s in seeds:
    have = [rows[(s, n)] for n in names if (s, n) in rows]
    for r in have:
      ref = MINI_REFERENCE.get(r["image"])
      ref_cell = ""
      if profile == "mini":
        pair = ref[1 + s] if ref and s in (0, 1) and ref[1 + s] else None
        ref_cell = f" {pair[0]:.2f} / {pair[1]:.4f} |" if pair else " – |"
      lines.append(f"| {r['image']} | {s} | " + " | ".join(
          f"{r[m]['psnr']:.2f} / {r[m]['ssim']:.4f} / {r[m]['error_ratio']:.2f}" for m in methods)
          + f" | {r['seconds']:.0f} | {below(r)} |" + ref_cell)
    if have:
      mean = {m: {k: float(np.mean([r[m][k] for r in have])) for k in ("psnr", "ssim", "error_ratio")}
              for m in methods}
      count = sum(below(r) != "no" for r in have)
      refs = [MINI_REFERENCE[r["image"]][1 + s] for r in have
              if profile == "mini" and s in (0, 1) and r["image"] in MINI_REFERENCE
              and MINI_REFERENCE[r["image"]][1 + s]]
      ref_cell = (f" {np.mean([p for p, _ in refs]):.2f} / {np.mean([q for _, q in refs]):.4f} |"
                  if refs and len(refs) == len(have) else (" – |" if profile == "mini" else ""))
      lines.append(f"| **mean ({len(have)})** | {s} | " + " | ".join(
          f"{mean[m]['psnr']:.2f} / {mean[m]['ssim']:.4f} / {mean[m]['error_ratio']:.2f}"
          for m in methods) + f" | {np.mean([r['seconds'] for r in have]):.0f} | {count} |" + ref_cell)
      summary["per_seed"][str(s)] = {"mean": mean, "below_blurry": int(count), "count": len(have)}
  every = list(rows.values())
  lines += candidates_table(every)
  if len(seeds) > 1 and every:
    ours = np.mean([[r["SelfDeblur"]["psnr"], r["SelfDeblur"]["ssim"]] for r in every], axis=0)
    count = sum(below(r) != "no" for r in every)
    line = (f"\nAll {len(every)} runs (images × seeds): SelfDeblur mean {ours[0]:.2f} dB / {ours[1]:.4f}, "
            f"{count} below their blurry input (PSNR or SSIM)")
    refs = [MINI_REFERENCE[r["image"]][1 + r["seed"]] for r in every
            if profile == "mini" and r["seed"] in (0, 1) and r["image"] in MINI_REFERENCE]
    if refs and len(refs) == len(every) and all(refs):
      ref_below = sum(p < MINI_REFERENCE[r["image"]][0][0] for (p, _), r in zip(refs, every))
      line += (f"; the PyTorch original on the same images and seeds: {np.mean([p for p, _ in refs]):.2f} dB"
               f" / {np.mean([q for _, q in refs]):.4f}, {ref_below} below their blurry input")
    lines.append(line)
    summary["all_runs"] = {"psnr": float(ours[0]), "ssim": float(ours[1]), "below_blurry": int(count)}
  return "\n".join(lines) + "\n", summary


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--profile", choices=("mini", "full"), default="mini")
  parser.add_argument("--images", default="subset",
                      help="'subset' (SPEC §6), 'holdout' (SPEC §7), 'all', or names, comma-separated")
  parser.add_argument("--seeds", default="0")
  parser.add_argument("--variant", choices=VARIANTS, default="plain",
                      help="SPEC §7: 'oversize' (kernel sizes × 1.5), 'noisy' (σ = 0.01); issue #35: "
                      "'undersize' (× 0.75), 'extent' (each size the true blur's extent)")
  parser.add_argument("--config_arg", default=None,
                      help="the config file's argument, e.g. 'robust' (configs/mini_levin.py:robust)")
  parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="a config override (repeatable), e.g. --set=model_k.kind=dip for the paper's "
                      "Double-DIP or --set='model_k.hidden=()' for SelfDeblur_k−; use its own --out_dir")
  parser.add_argument("--batch_size", type=int, default=0, help="images per XLA program (0: all)")
  parser.add_argument("--max_shift", type=int, default=None, help="default 5 (mini) or 10 (full)")
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out_dir", type=Path, default=None)
  parser.add_argument("--rescore", action="store_true",
                      help="redo the output stage (kernel centring, non-blind output) of finished runs from "
                      "their stored kernel under the current config; train nothing")
  parser.add_argument("--table_only", action="store_true",
                      help="rebuild the tables from the images already finished; compute nothing")
  parser.add_argument("--score_workdir", type=Path, default=None,
                      help="score the outputs of a bin/deblur run on Levin images instead of running")
  args = parser.parse_args()
  require_data(args.data_dir, "levin.py")
  if args.set and not args.out_dir:
    sys.exit("levin.py: error: --set changes the method: give its results their own --out_dir")
  if args.score_workdir:
    markdown = score_workdir(args.score_workdir, args.data_dir, args.max_shift or 5)
    write_bytes(args.score_workdir / "levin_scores.md", markdown.encode())
    print(markdown)
    return
  names = image_names(args.images)
  seeds = [int(s) for s in args.seeds.split(",")]
  max_shift = args.max_shift if args.max_shift is not None else (5 if args.profile == "mini" else 10)
  out_dir = args.out_dir or RESULTS / f"levin_{args.profile}"
  config = profile_config(args.profile, args.config_arg)
  config.update_from_flattened_dict(dict(parse_override(item) for item in args.set))
  crop = int(config.crop)
  print(f"profile {args.profile}, {len(names)} image(s), seeds {seeds}, device {jax.devices()[0]}")
  check_variant(out_dir, args.variant)
  if args.rescore:
    rescore(out_dir, seeds, names, config, crop, args.data_dir, max_shift, args.variant)
  for seed in [] if args.table_only or args.rescore else seeds:
    out = out_dir / f"seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    todo = [n for n in names if not (out / f"{n}.json").exists()]
    size = args.batch_size or len(todo) or 1
    for start in range(0, len(todo), size):
      run_batch(todo[start:start + size], seed, config, crop, args.data_dir, out, max_shift, args.variant)
  markdown, summary = table(out_dir, *stored(out_dir, names, seeds), args.profile, args.variant)
  write_bytes(out_dir / "table.md", markdown.encode())
  write_json(out_dir / "table.json", summary)
  print(markdown)


if __name__ == "__main__":
  main()
