"""The "Known k" row of SelfDeblur's Table 3: non-blind deconvolution with the true Levin kernels.

Deconvolves all 32 Levin images with `deconv_sparse` and their true kernels, scores them with the
Levin protocol (`evaluate`), prints a per-image table and the means, and writes JSON.
Paper (Table 3, Known k): 34.53 dB / 0.9492.

Kernel orientation: `gt/kernel{1,2,3,5,6,7}.png` are stored rotated by 180°, kernel4 and kernel8
are not; `selfdeblur_jax.data.levin_true_kernel` returns every kernel as a convolution kernel.

Usage: python -m benchmarks.known_kernel [--data_dir D] [--max_shift 10] [--out PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS
from selfdeblur_jax.data import levin_true_kernel
from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.io import write_json
from selfdeblur_jax.restoration import deconv_sparse

PAPER_KNOWN_K = {"psnr": 34.53, "ssim": 0.9492}


def load_grey(path: Path) -> np.ndarray:
  """An 8-bit grey PNG as float64 in [0, 1]."""
  return iio.imread(path).astype(np.float64) / 255.0


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--max_shift", type=int, default=10)
  parser.add_argument("--we", type=float, default=0.003, help="prior weight of deconv_sparse")
  parser.add_argument("--cg_iters", type=int, default=200)
  parser.add_argument("--out", type=Path, default=RESULTS / "known_kernel.json")
  args = parser.parse_args()

  rows, start = [], time.time()
  print(f"{'image':>12} {'PSNR':>7} {'SSIM':>7} {'shift':>14} {'blurry':>7} {'sec':>5}")
  for i in range(1, 5):
    sharp = load_grey(args.data_dir / "gt" / f"im{i}.png")
    for j in range(1, 9):
      blurry = load_grey(args.data_dir / f"im{i}_kernel{j}_img.png")
      t0 = time.time()
      estimate = np.asarray(deconv_sparse(blurry, levin_true_kernel(args.data_dir, j), args.we,
                                          cg_iters=args.cg_iters))
      seconds = time.time() - t0
      # Clipped to [0, 1] like the PNGs the authors scored.
      s = evaluate(np.clip(estimate, 0.0, 1.0), sharp, args.max_shift)
      b = evaluate(blurry, sharp, args.max_shift)
      rows.append({"image": f"im{i}_kernel{j}", "psnr": s.psnr, "ssim": s.ssim, "ssd": s.ssd,
                   "shift": list(s.shift), "blurry_psnr": b.psnr, "blurry_ssim": b.ssim,
                   "seconds": seconds})
      print(f"{rows[-1]['image']:>12} {s.psnr:7.2f} {s.ssim:7.4f} {str(s.shift):>14} "
            f"{b.psnr:7.2f} {seconds:5.1f}", flush=True)

  mean = {key: float(np.mean([r[key] for r in rows]))
          for key in ("psnr", "ssim", "blurry_psnr", "blurry_ssim")}
  total = time.time() - start
  print(f"{'mean':>12} {mean['psnr']:7.2f} {mean['ssim']:7.4f}   (paper Known k: "
        f"{PAPER_KNOWN_K['psnr']} / {PAPER_KNOWN_K['ssim']}); blurry {mean['blurry_psnr']:.2f} / "
        f"{mean['blurry_ssim']:.4f}; {total:.0f} s")
  args.out.parent.mkdir(parents=True, exist_ok=True)
  write_json(args.out, {"method": "deconv_sparse (Levin et al. 2007 deconvSps)",
                         "params": {"we": args.we, "cg_iters": args.cg_iters,
                                    "max_shift": args.max_shift},
                         "mean": mean, "paper": PAPER_KNOWN_K, "total_seconds": total,
                         "images": rows})
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
