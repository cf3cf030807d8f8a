"""Camera-realistic photos (SPEC §8, issue #29): the photo mode on the photos users bring.

Sixteen test photos, each made exactly as SPEC §8 says from a whole sharp photo: matplotlib's
grace_hopper.jpg and scikit-image's chelsea, coffee and astronaut; for each a uniform blur (K = 19, 23,
27, 31 in that order) and a drifting one (K = 31, 27, 23, 19), at P = 1000 and P = 200 photons. The
kernel of the i-th (photo, blur) pair is `motion_kernel(K, seed=i, length=K − 3)`; the noise of each
photo is seeded too, so every photo is the same on every machine. The program is given the kernel size a
user would guess (K rounded up to a multiple of 5, made odd) or, with --no_kernel_size, none.

Each photo is deblurred by `deblur_photo` with configs/photo.py's settings (--config_arg, default
`cpu`), scored on luma against the ground truth (aligned ±10 px in quarter pixels, a 30-px border
dropped; PSNR with peak 1 and SSIM), beside the blurry JPEG scored the same way. A result kept as "not
improved" (the program returns the input) is scored as the input. Resumable: a photo whose JSON exists
is not run again.

  python -m benchmarks.photo_realistic                      # all 16, photo:cpu (about an hour on 2 cores)
  python -m benchmarks.photo_realistic --only=chelsea_uniform_p1000 --out_dir=/tmp/x
  python -m benchmarks.photo_realistic --table_only         # the table from the JSON files

Writes <out_dir>/<photo>.json (scores, kernel, times, status), <out_dir>/table.md, figure.png (every
photo: blurry | restored | kernel) and the generated inputs in <out_dir>/inputs/ (not tracked).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import jax
import matplotlib
import matplotlib.cbook
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.common import RESULTS  # noqa: E402
from selfdeblur_jax.app_config import engine_config  # noqa: E402
from selfdeblur_jax.configs.photo import get_config  # noqa: E402
from selfdeblur_jax.data import read_image  # noqa: E402
from selfdeblur_jax.evaluation.align import evaluate  # noqa: E402
from selfdeblur_jax.io import write_bytes, write_json, write_png  # noqa: E402
from selfdeblur_jax.photo import PhotoSettings, deblur_photo, finish_photo, prepare_photo  # noqa: E402
from selfdeblur_jax.photo.pipeline import luma  # noqa: E402
from selfdeblur_jax.photo.scale import auto_kernel_size  # noqa: E402
from selfdeblur_jax.physics.camera import camera_photo  # noqa: E402
from selfdeblur_jax.physics.motion import motion_kernel  # noqa: E402

PHOTOS = ("grace_hopper", "chelsea", "coffee", "astronaut")
UNIFORM_SIZES = (19, 23, 27, 31)
DRIFTING_SIZES = (31, 27, 23, 19)
PHOTONS = (1000, 200)
MAX_SHIFT, BORDER = 10, 30


def sharp_photo(name: str) -> np.ndarray:
  """The whole sharp photo, 8-bit sRGB as float32 RGB in [0, 1] (bundled with matplotlib/scikit-image)."""
  if name == "grace_hopper":
    return read_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), mode="rgb")
  import skimage.data  # the benchmark's extra dependency: pip install -e '.[bench]'
  return getattr(skimage.data, name)().astype(np.float32) / 255.0


def guessed_size(k: int) -> int:
  """The size a user would type: K rounded up to a multiple of 5, made odd (19→21, 23→25, 27→31, 31→35)."""
  size = 5 * math.ceil(k / 5)
  return size if size % 2 else size + 1


def test_photos() -> list[dict]:
  """The 16 photos' recipes, in a fixed order (the kernel seed is the (photo, blur) pair's index)."""
  recipes = []
  for blur, sizes in (("uniform", UNIFORM_SIZES), ("drifting", DRIFTING_SIZES)):
    for photo, k in zip(PHOTOS, sizes):
      kernel_seed = len(recipes) // len(PHOTONS)
      for photons in PHOTONS:
        recipes.append({"name": f"{photo}_{blur}_p{photons}", "photo": photo, "blur": blur, "K": k,
                        "photons": photons, "kernel_seed": kernel_seed,
                        "noise_seed": 1000 + len(recipes), "given_size": guessed_size(k)})
  return recipes


def make_inputs(recipe: dict, inputs: Path) -> tuple[Path, np.ndarray, np.ndarray]:
  """The blurry JPEG (written to inputs/, read back as a user's file is), the ground truth, the kernel."""
  kernel = motion_kernel(recipe["K"], seed=recipe["kernel_seed"], length=recipe["K"] - 3)
  jpeg, truth = camera_photo(sharp_photo(recipe["photo"]), kernel, photons=recipe["photons"],
                             seed=recipe["noise_seed"], drifting=recipe["blur"] == "drifting")
  inputs.mkdir(parents=True, exist_ok=True)
  path = inputs / f"{recipe['name']}.jpg"
  write_bytes(path, jpeg)
  return path, truth, kernel


def score(image: np.ndarray, truth: np.ndarray) -> dict:
  s = evaluate(luma(image), luma(truth), max_shift=MAX_SHIFT, border=BORDER)
  return {"psnr": float(s.psnr), "ssim": float(s.ssim), "shift": list(s.shift)}


def run_one(recipe: dict, args, out: Path) -> dict:
  path, truth, true_kernel = make_inputs(recipe, out / "inputs")
  blurry = read_image(path, mode="rgb")
  config = get_config(args.config_arg)
  if args.num_steps:
    config.num_steps = args.num_steps
  given = None if args.no_kernel_size else recipe["given_size"]
  start = time.perf_counter()
  result = deblur_photo(blurry, given, config=config, seed=args.seed)
  seconds = time.perf_counter() - start
  record = {**recipe, "given_size": given, "config_arg": args.config_arg, "seed": args.seed,
            "num_steps": int(config.num_steps), "shape": list(blurry.shape),
            "blurry": score(blurry, truth), "restored": score(result.image, truth),
            "status": result.status, "reason": result.reason, "seconds": seconds,
            "seconds_estimate": result.seconds_estimate, "seconds_restore": result.seconds_restore,
            "window": list(result.window), "kernel_size": int(result.kernel.shape[0]),
            "scale": result.scale, "details": result.details,
            "kernel": np.asarray(result.kernel).tolist(), "true_kernel": true_kernel.tolist(),
            "window_kernel": np.asarray(result.fit.kernel).tolist(), "window_kernel_size": int(result.fit.kernel_size),
            "device": str(jax.devices()[0].device_kind), "date": time.strftime("%Y-%m-%d")}
  if args.save_images:
    write_png(out / f"{recipe['name']}_restored.png", result.image)
  return record


def refinish(record: dict, args, out: Path) -> dict:
  """The record with its restoration and check done again by the current code from the stored window
  kernel (the estimate is not repeated): for a change that touches only what follows the estimate."""
  path, truth, _ = make_inputs(record, out / "inputs")
  blurry = read_image(path, mode="rgb")
  config = get_config(args.config_arg)
  settings = PhotoSettings.from_config(config)
  prepared = prepare_photo(blurry, record["given_size"] or auto_kernel_size(blurry.shape), settings)
  assert list(prepared.estimate.box) == record["window"], "the window changed: rerun the estimate"
  start = time.perf_counter()
  image, kernel, status, reason, details = finish_photo(
      blurry, np.asarray(record["window_kernel"], np.float32), record["window_kernel_size"], prepared, settings)
  seconds = time.perf_counter() - start
  if args.save_images:
    write_png(out / f"{record['name']}_restored.png", image)
  return {**record, "restored": score(image, truth), "status": status, "reason": reason, "details": details,
          "seconds_refinish": seconds, "kernel": np.asarray(kernel).tolist(),
          "refinished": time.strftime("%Y-%m-%d")}  # the times stay those of the whole run


def table(records: list[dict]) -> str:
  lines = ["| photo | K (given) | blurry PSNR / SSIM | restored PSNR / SSIM | gain dB | status | s |",
           "|---|---|---|---|---|---|---|"]
  for r in records:
    b, o = r["blurry"], r["restored"]
    lines.append(f"| {r['name']} | {r['K']} ({r['given_size'] or '—'}) | {b['psnr']:.2f} / {b['ssim']:.3f} | "
                 f"{o['psnr']:.2f} / {o['ssim']:.3f} | {o['psnr'] - b['psnr']:+.2f} | {r['status']} | "
                 f"{r['seconds']:.0f} |")
  if records:
    worse = [r["name"] for r in records if r["restored"]["psnr"] < r["blurry"]["psnr"] - 1e-9
             or r["restored"]["ssim"] < r["blurry"]["ssim"] - 1e-9]
    kept = [r["name"] for r in records if r["status"] != "deblurred"]
    mean = lambda part, key: float(np.mean([r[part][key] for r in records]))
    lines.append(f"| **mean of {len(records)}** | | {mean('blurry', 'psnr'):.2f} / {mean('blurry', 'ssim'):.3f} | "
                 f"{mean('restored', 'psnr'):.2f} / {mean('restored', 'ssim'):.3f} | "
                 f"{mean('restored', 'psnr') - mean('blurry', 'psnr'):+.2f} | {len(kept)} kept | "
                 f"{np.mean([r['seconds'] for r in records]):.0f} |")
    lines.append("")
    lines.append(f"Worse than the blurry input in PSNR or SSIM: {len(worse)} ({', '.join(worse) or 'none'}). "
                 f"Kept as not improved: {len(kept)} ({', '.join(kept) or 'none'}).")
  return "\n".join(lines) + "\n"


def figure(records: list[dict], out: Path) -> None:
  """Every photo's blurry input, result and kernel (estimated | true), one row each."""
  rows = [r for r in records if (out / "inputs" / f"{r['name']}.jpg").exists()]
  if not rows:
    return
  fig, axes = plt.subplots(len(rows), 4, figsize=(12, 2.6 * len(rows)), squeeze=False,
                           gridspec_kw={"width_ratios": [3, 3, 1, 1]})
  for ax_row, r in zip(axes, rows):
    blurry = read_image(out / "inputs" / f"{r['name']}.jpg", mode="rgb")
    restored_path = out / f"{r['name']}_restored.png"
    restored = read_image(restored_path, mode="rgb") if restored_path.exists() else None
    ax_row[0].imshow(blurry)
    ax_row[0].set_title(f"{r['name']}: blurry {r['blurry']['psnr']:.2f} dB", fontsize=8)
    if restored is not None:
      ax_row[1].imshow(restored)
    ax_row[1].set_title(f"{r['status']}: {r['restored']['psnr']:.2f} dB", fontsize=8)
    ax_row[2].imshow(np.asarray(r["kernel"]), cmap="gray")
    ax_row[2].set_title(f"estimate {len(r['kernel'])}²", fontsize=8)
    ax_row[3].imshow(np.asarray(r["true_kernel"]), cmap="gray")
    ax_row[3].set_title(f"true {r['K']}²", fontsize=8)
    for ax in ax_row:
      ax.axis("off")
  fig.tight_layout()
  fig.savefig(out / "figure.png", dpi=60)
  plt.close(fig)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--config_arg", default="cpu", help="configs/photo.py variant, e.g. cpu or cpu,robust")
  parser.add_argument("--seed", type=int, default=0, help="SelfDeblur's seed")
  parser.add_argument("--num_steps", type=int, default=0, help="override the config's step count (a quick look)")
  parser.add_argument("--no_kernel_size", action="store_true", help="give no kernel size (photo mode's ladder)")
  parser.add_argument("--only", default="", help="comma-separated photo names (default: all 16)")
  parser.add_argument("--save_images", action="store_true", help="also write each restored photo (for figure.png)")
  parser.add_argument("--table_only", action="store_true")
  parser.add_argument("--refinish", action="store_true",
                      help="redo each stored photo's restoration and check from its stored window kernel")
  parser.add_argument("--out_dir", type=Path, default=RESULTS / "photo_realistic")
  args = parser.parse_args(argv)

  out = args.out_dir
  out.mkdir(parents=True, exist_ok=True)
  recipes = test_photos()
  if args.only:
    wanted = set(args.only.split(","))
    unknown = wanted - {r["name"] for r in recipes}
    if unknown:
      parser.error(f"unknown photo(s) {', '.join(sorted(unknown))}; known: {', '.join(r['name'] for r in recipes)}")
    recipes = [r for r in recipes if r["name"] in wanted]
  if args.refinish:
    for recipe in recipes:
      path = out / f"{recipe['name']}.json"
      if path.exists():
        write_json(path, refinish(json.loads(path.read_text()), args, out))
  elif not args.table_only:
    engine_config(get_config(args.config_arg))  # a bad --config_arg fails before any photo runs
    for recipe in recipes:
      path = out / f"{recipe['name']}.json"
      if path.exists():
        continue
      print(f"{recipe['name']}: K={recipe['K']}, given {recipe['given_size']}", flush=True)
      record = run_one(recipe, args, out)
      write_json(path, record)
      print(f"  blurry {record['blurry']['psnr']:.2f} / {record['blurry']['ssim']:.3f} -> "
            f"{record['restored']['psnr']:.2f} / {record['restored']['ssim']:.3f} ({record['status']}), "
            f"{record['seconds']:.0f} s", flush=True)
  records = [json.loads((out / f"{r['name']}.json").read_text()) for r in recipes
             if (out / f"{r['name']}.json").exists()]
  text = table(records)
  write_bytes(out / "table.md", text.encode())
  figure(records, out)
  print(text)
  return 0


if __name__ == "__main__":
  sys.exit(main())
