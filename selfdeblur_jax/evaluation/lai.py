"""Lai et al.'s (CVPR 2016) benchmark as the SelfDeblur authors score it (`statistic_lai.m`), in Python.

- Colour images are compared on Y: MATLAB's `rgb2ycbcr` (BT.601, "studio swing": Y in [16, 235] on the
  8-bit scale) of images read with `im2double`.
- Alignment as for Levin (`comp_upto_shift.m`): 15 px border, sub-pixel shifts of ±10 px.
- PSNR with peak 1 (their `psnr(255·a, 255·b)` with peak 255).
- SSIM of Wang et al.'s `ssim.m` *with* its automatic downsampling: f = max(1, round(min(H, W)/256));
  for f > 1 both images are box-filtered (f×f, `imfilter(..., 'symmetric', 'same')`) and every f-th
  pixel kept; then the 11×11 Gaussian window (σ 1.5), K = (0.01, 0.03), 'valid' filtering.

The data set is not shipped (and never downloaded): `lai_files(directory)` lists a directory laid out
as `<category>_<nn>_kernel_<kk>.png` (blurry) with `ground_truth/<category>_<nn>.png`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from selfdeblur_jax.data import LAI_KERNEL_SIZES
from selfdeblur_jax.evaluation.align import Scores, align
from selfdeblur_jax.evaluation.metrics import psnr, ssim

LAI_NAME = re.compile(r"^(?P<category>[a-z]+)_(?P<image>\d{2})_kernel_(?P<kernel>\d{2})$")
LAI_CATEGORIES = ("manmade", "natural", "people", "saturated", "text")


def matlab_luma(image: np.ndarray) -> np.ndarray:
  """Y of MATLAB's `rgb2ycbcr` for a double image in [0, 1]: (16 + 65.481 R + 128.553 G + 24.966 B)
  / 255, in [16/255, 235/255]. Grey images (H×W) are returned as they are, as the script does."""
  image = np.asarray(image, np.float64)
  if image.ndim == 2:
    return image
  return (16.0 + image[..., :3] @ np.array([65.481, 128.553, 24.966])) / 255.0


def downsampling_factor(shape: tuple[int, int]) -> int:
  """Wang's `ssim.m`: f = max(1, round(min(H, W) / 256)) (MATLAB rounds halves away from zero)."""
  return max(1, int(np.floor(min(shape) / 256 + 0.5)))


def box_downsample(image: np.ndarray, f: int) -> np.ndarray:
  """`imfilter(img, ones(f)/f², 'symmetric', 'same')`, then `img(1:f:end, 1:f:end)`."""
  image = np.asarray(image, np.float64)
  if f <= 1:
    return image
  before = (f + 1) // 2 - 1  # MATLAB's kernel centre floor((f + 1)/2), 1-based
  after = f - 1 - before
  padded = np.pad(image, ((before, after), (before, after)), mode="symmetric")
  s = np.pad(np.cumsum(np.cumsum(padded, 0), 1), ((1, 0), (1, 0)))
  boxed = (s[f:, f:] - s[:-f, f:] - s[f:, :-f] + s[:-f, :-f]) / (f * f)
  return boxed[::f, ::f]


def ssim_downsampled(estimate: np.ndarray, reference: np.ndarray) -> float:
  """Wang et al.'s SSIM with automatic downsampling, of two grey images in [0, 1]."""
  f = downsampling_factor(np.shape(reference))
  return float(ssim(box_downsample(estimate, f), box_downsample(reference, f)))


def lai_scores(estimate: np.ndarray, ground_truth: np.ndarray, max_shift: int = 10) -> Scores:
  """PSNR / SSIM of a deblurred image against its sharp image, by the authors' Lai protocol.

  Both may be RGB (H×W×3) or grey, in [0, 1]; colour is compared on MATLAB's Y.
  """
  est, gt = matlab_luma(estimate), matlab_luma(ground_truth)
  al = align(est, gt, max_shift)
  h, w = al.aligned.shape
  cropped = gt[15:15 + h, 15:15 + w]
  return Scores(psnr=float(psnr(al.aligned, cropped)), ssim=ssim_downsampled(al.aligned, cropped),
                ssd=al.ssd, shift=al.shift)


def lai_files(directory: str | Path) -> list[tuple[Path, Path, int]]:
  """(blurry file, ground-truth file, kernel size) for every `<category>_<nn>_kernel_<kk>.png` in a
  directory, sorted; ValueError if there is none or a ground truth is missing."""
  directory = Path(directory)
  found = []
  for path in sorted(directory.glob("*_kernel_*.png")):
    match = LAI_NAME.match(path.stem)
    if not match:
      continue
    truth = directory / "ground_truth" / f"{match['category']}_{match['image']}.png"
    if not truth.is_file():
      raise ValueError(f"{path}: no ground truth at {truth}")
    kernel = int(match["kernel"])
    if kernel not in LAI_KERNEL_SIZES:
      raise ValueError(f"{path}: kernel {kernel} is not one of Lai's {sorted(LAI_KERNEL_SIZES)}")
    found.append((path, truth, LAI_KERNEL_SIZES[kernel]))
  if not found:
    raise ValueError(f"{directory}: no <category>_<nn>_kernel_<kk>.png files (Lai et al.'s layout)")
  return found
