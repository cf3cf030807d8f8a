"""Does the robust mode's output stage amplify noise? (issue #11, acceptance 4; no training).
Backs benchmarks/RESULTS.md, "Candidates and the selector".

The robust mode returns y deconvolved non-blindly with the chosen kernel (`deconv_sparse`, prior weight
`candidates.nonblind_weight` = 0.003). For each image of SPEC §6's subset, noise-free and with the
'noisy' variant of benchmarks/levin.py (σ = 0.01, seeded, 8-bit), y is deconvolved with the true kernel
and with the pool's seed-0 kernel (experiments/candidates/candidate_pool.py, margin 0, restart 0, final step,
centred as the robust mode centres it) at several prior weights, and scored as SPEC §6 scores (PSNR /
SSIM, at most 5 px of shift) beside the blurry input. It also prints the noise estimate σ̂ that a
noise-dependent weight would use. It isolates the output stage: whether noise spoils the kernel that
training finds is what `levin.py --variant=noisy` measures.

  python -m experiments.candidates.noisy_output
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import LEVIN_DATA, RESULTS
from benchmarks.levin import MINI_SUBSET, levin_true_kernel, load_problem, profile_config

from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.io import write_bytes
from selfdeblur_jax.physics.kernel_centre import centre_kernel
from selfdeblur_jax.physics.noise import estimate_noise_sigma
from selfdeblur_jax.restoration import deconv_sparse


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--weights", default="0.003,0.006,0.01")
  parser.add_argument("--pool", type=Path, default=RESULTS / "pool_mini" / "plain")
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out", type=Path, default=RESULTS / "noisy_output.md")
  args = parser.parse_args()
  weights = [float(w) for w in args.weights.split(",")]
  crop = int(profile_config("mini").crop)
  lines = ["| image | variant | σ̂ | blurry | kernel | " + " | ".join(f"we = {w:g}" for w in weights) + " |",
           "|---|---|---|---|---|" + "---|" * len(weights)]
  below = {}
  for name in MINI_SUBSET:
    kernels = {"true": levin_true_kernel(args.data_dir, int(name.split("kernel")[1]))}
    pooled = args.pool / name / "m0_s0_r0.npz"
    if pooled.exists():
      kernels["pool s0"] = centre_kernel(np.load(pooled)["k"][-1]).kernel
    for variant in ("plain", "noisy"):
      y, sharp, _ = load_problem(name, args.data_dir, crop, variant)
      blurry = evaluate(y, sharp, 5)
      for label, k in kernels.items():
        cells = []
        for w in weights:
          s = evaluate(np.clip(np.asarray(deconv_sparse(y, k, w)), 0, 1), sharp, 5)
          worse = s.psnr < blurry.psnr or s.ssim < blurry.ssim
          below.setdefault((variant, label, w), []).append((worse, s.psnr, s.ssim))
          cells.append(f"{s.psnr:.2f} / {s.ssim:.3f}" + (" (below)" if worse else ""))
        lines.append(f"| {name} | {variant} | {estimate_noise_sigma(y):.4f} | {blurry.psnr:.2f} / "
                     f"{blurry.ssim:.3f} | {label} | " + " | ".join(cells) + " |")
      print(lines[-1], flush=True)
  head = ["Output stage under noise: y deconvolved with a given kernel (SPEC §6 scoring, PSNR dB / SSIM).", "",
          *[f"- {variant}, {label} kernel, we = {w:g}: mean {np.mean([p for _, p, _ in v]):.2f} dB / "
            f"{np.mean([q for _, _, q in v]):.4f}; {sum(b for b, _, _ in v)} of {len(v)} below the blurry "
            "input in PSNR or SSIM" for (variant, label, w), v in below.items()], ""]
  markdown = "\n".join(head + lines) + "\n"
  write_bytes(args.out, markdown.encode())
  print(markdown)


if __name__ == "__main__":
  main()
