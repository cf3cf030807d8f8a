"""Deblurring a whole photo: the kernel from SelfDeblur on its most textured window, the photo from
non-blind deconvolution with that kernel (the authors' own advice for large images)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from selfdeblur_jax.api import FitResult, fit_selfdeblur, validate_kernel_size
from selfdeblur_jax.color import rgb_to_ycbcr
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.photo.restore import restore_nonblind
from selfdeblur_jax.photo.scale import estimation_window, photo_kernel_size, upscale_kernel


@dataclasses.dataclass
class PhotoResult:
  """A restored photo, the kernel, and where and how the kernel was estimated."""

  image: np.ndarray  # the input's shape (H×W or H×W×3), in [0, 1]
  kernel: np.ndarray  # the estimated convolution kernel, at the photo's scale
  window: tuple[int, int, int, int]  # (top, left, height, width) of the estimation window in the photo
  fit: FitResult  # SelfDeblur's fit on the window (its x, candidates, loss history), at scale 1/`scale`
  seconds_estimate: float = 0.0  # wall time of the kernel estimate on the window
  seconds_restore: float = 0.0  # wall time of the whole photo's non-blind deconvolution
  scale: float = 1.0  # the kernel was estimated on a copy downscaled by this factor


def luma(image: np.ndarray) -> np.ndarray:
  """The grey image a kernel is estimated on: the image itself, or BT.601 Y of an RGB image."""
  image = np.asarray(image, np.float32)
  return image if image.ndim == 2 else rgb_to_ycbcr(image)[..., 0]


def deblur_photo(image: Any, kernel_size: int, *, config: Mapping[str, Any] | None = None,
                 seed: int = 0, window: int = 256, colour: str = "rgb",
                 weight: float | None = None, max_kernel: int = 0) -> PhotoResult:
  """Deblur a whole grey (H×W) or RGB (H×W×3) photo in [0, 1] of any size.

  Args:
    image: the blurry photo.
    kernel_size: odd K, smaller than the window.
    config: the engine's config for the estimate (e.g. configs/photo.py's); candidates work too.
    seed: SelfDeblur's seed.
    window: side of the square estimation window, chosen where the photo has the most edge energy
      (`choose_window`); the whole photo if it is smaller.
    colour: "rgb" deconvolves each channel, "y" the luma only (keeping Cb/Cr).
    weight: the non-blind prior weight (default: config.candidates.nonblind_weight).
    max_kernel: a kernel_size larger than this is estimated on a copy of the photo downscaled until
      the kernel is max_kernel wide, then upscaled (photo/scale.py); 0: always at full scale.
  """
  image = np.asarray(image, np.float32)
  if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
    raise ValueError(f"image must be H×W grey or H×W×3 RGB, got shape {image.shape}")
  if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
    raise ValueError("image must hold finite values in [0, 1]; scale 8-bit photos by 1/255")
  validate_kernel_size(kernel_size, name="kernel_size")
  where = estimation_window(luma(image), kernel_size, window, max_kernel)
  validate_kernel_size(where.kernel_size, where.grey.shape, "kernel_size at the estimation scale")
  resolved = resolve_config(config)
  start = time.perf_counter()
  fit = fit_selfdeblur(where.grey, where.kernel_size, config=resolved, seed=seed)
  kernel = upscale_kernel(fit.kernel, where.scale, photo_kernel_size(fit.kernel_size, where.scale))
  weight = float(resolved.candidates.nonblind_weight if weight is None else weight)
  estimated = time.perf_counter()
  restored = restore_nonblind(image, kernel, weight, colour)
  return PhotoResult(restored, kernel, where.box, fit, estimated - start, time.perf_counter() - estimated,
                     where.scale)
