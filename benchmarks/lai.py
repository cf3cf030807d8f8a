"""The paper's Table 4 (Lai et al., CVPR 2016) from Python: SelfDeblur on a directory in Lai's layout,
scored as the authors' `statistic_lai.m` does (evaluation/lai.py). The data set is not shipped and is
never downloaded: pass the directory that holds `<category>_<nn>_kernel_<kk>.png` and `ground_truth/`.

  python -m benchmarks.lai --data_dir=PATH/TO/lai --out_dir=benchmarks/results/lai   # a GPU's job
  python -m benchmarks.lai --data_dir=PATH --num_steps=20 --channels=8                # a smoke run

The released code deblurs the Y channel of colour images (configs/lai.py) and puts Cb/Cr back.
Resumable: one JSON per image in --out_dir; the table is rebuilt from them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS, config_file
from selfdeblur_jax import fit_selfdeblur
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.color import rgb_to_ycbcr, ycbcr_to_rgb
from selfdeblur_jax.data import read_image
from selfdeblur_jax.evaluation.lai import LAI_CATEGORIES, lai_files, lai_scores
from selfdeblur_jax.io import write_bytes, write_json, write_png

PAPER = (20.97, 0.7524)  # SelfDeblur, Lai average (paper, Table 4)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data_dir", type=Path, required=True)
  parser.add_argument("--out_dir", type=Path, default=RESULTS / "lai")
  parser.add_argument("--config_arg", default=None, help="e.g. 'robust'")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--num_steps", type=int, default=0, help="override (smoke runs)")
  parser.add_argument("--channels", type=int, default=0, help="override G_x's channels (smoke runs)")
  args = parser.parse_args()
  try:
    files = lai_files(args.data_dir)
  except ValueError as error:
    sys.exit(f"lai.py: error: {error}")
  config = engine_config(load_config_file(config_file("lai.py"), args.config_arg))
  if args.num_steps:
    config.num_steps = args.num_steps
    config.loss.switch_step = min(int(config.loss.switch_step), args.num_steps)
    config.optim.boundaries = tuple(b for b in config.optim.boundaries if b < args.num_steps)
  if args.channels:
    config.model_x.channels = args.channels
  args.out_dir.mkdir(parents=True, exist_ok=True)
  for blurry_path, truth_path, size in files:
    out = args.out_dir / f"{blurry_path.stem}.json"
    if out.exists():
      continue
    blurry = read_image(blurry_path, mode="rgb")
    ycbcr = rgb_to_ycbcr(blurry)
    start = time.perf_counter()
    result = fit_selfdeblur(ycbcr[..., 0], size, config=config, seed=args.seed)
    seconds = time.perf_counter() - start
    ycbcr[..., 0] = np.clip(result.x, 0, 1)
    deblurred = ycbcr_to_rgb(ycbcr)
    truth = read_image(truth_path, mode="rgb")
    score, before = lai_scores(deblurred, truth), lai_scores(blurry, truth)
    write_png(args.out_dir / f"{blurry_path.stem}.png", deblurred)
    write_json(out, {"image": blurry_path.stem, "kernel_size": size, "seed": args.seed,
                     "psnr": score.psnr, "ssim": score.ssim, "blurry_psnr": before.psnr,
                     "blurry_ssim": before.ssim, "seconds": seconds})
    print(f"{blurry_path.stem}: {score.psnr:.2f} dB / {score.ssim:.4f} (blurry {before.psnr:.2f}), "
          f"{seconds:.0f} s", flush=True)
  rows = [json.loads(p.read_text()) for p in sorted(args.out_dir.glob("*.json"))]
  lines = ["| category | images | SelfDeblur PSNR / SSIM | blurry |", "|---|---|---|---|"]
  for category in LAI_CATEGORIES + ("all",):
    have = [r for r in rows if category == "all" or r["image"].startswith(category + "_")]
    if have:
      lines.append(f"| {category} | {len(have)} | {np.mean([r['psnr'] for r in have]):.2f} / "
                   f"{np.mean([r['ssim'] for r in have]):.4f} | {np.mean([r['blurry_psnr'] for r in have]):.2f}"
                   f" / {np.mean([r['blurry_ssim'] for r in have]):.4f} |")
  lines.append(f"\nPaper (Table 4, all 100 images): {PAPER[0]:.2f} / {PAPER[1]:.4f}")
  text = "\n".join(lines) + "\n"
  write_bytes(args.out_dir / "table.md", text.encode())
  print(text)


if __name__ == "__main__":
  main()
