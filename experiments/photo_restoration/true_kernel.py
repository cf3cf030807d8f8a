"""Non-blind restoration of the camera-realistic photos with their TRUE kernels (issue #29): which
domain (the file's sRGB values or linear light) and which prior weight, as a function of the noise
level, give the best luma PSNR. The kernel estimate is taken out of the question, so this bounds what
the photo mode can reach and chooses its noise-aware weight. Backs benchmarks/RESULTS.md, "Camera-realistic photos".

  python -m experiments.photo_restoration.true_kernel --out=experiments/photo_restoration/true_kernel.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from benchmarks import photo_realistic as bench
from selfdeblur_jax.data import read_image
from selfdeblur_jax.photo.pipeline import luma
from selfdeblur_jax.photo.restore import restore_nonblind
from selfdeblur_jax.physics.camera import linear_to_srgb, srgb_to_linear
from selfdeblur_jax.physics.noise import estimate_noise_sigma


def main() -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--weights", default="0.003,0.01,0.03,0.1,0.3")
  parser.add_argument("--only", default="")
  parser.add_argument("--domains", default="srgb_y,linear_rgb")
  parser.add_argument("--out", type=Path, required=True)
  args = parser.parse_args()
  inputs = Path("/tmp/photo_realistic_inputs")
  rows = json.loads(args.out.read_text()) if args.out.exists() else []
  done = {(r["name"], r["domain"], r["weight"]) for r in rows}
  for recipe in bench.test_photos():
    if args.only and recipe["name"] not in args.only.split(","):
      continue
    path, truth, kernel = bench.make_inputs(recipe, inputs)
    blurry = read_image(path, mode="rgb")
    sigma = estimate_noise_sigma(luma(blurry))
    base = bench.score(blurry, truth)
    for domain in args.domains.split(","):
      for weight in (float(w) for w in args.weights.split(",")):
        if (recipe["name"], domain, weight) in done:
          continue
        if domain == "srgb_y":
          image = restore_nonblind(blurry, kernel, weight, "y")
        else:
          image = linear_to_srgb(restore_nonblind(srgb_to_linear(blurry).astype(np.float32), kernel, weight, "rgb"))
        s = bench.score(image, truth)
        rows.append({"name": recipe["name"], "domain": domain, "weight": weight, "sigma": sigma,
                     "blurry": base, "restored": s})
        print(f"{recipe['name']} σ̂={sigma:.4f} {domain} w={weight:g}: {base['psnr']:.2f} -> {s['psnr']:.2f} / "
              f"{s['ssim']:.3f}", flush=True)
        args.out.write_text(json.dumps(rows, indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())
