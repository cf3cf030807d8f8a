"""Deblurring a whole photo: the kernel from SelfDeblur on a window of the photo, the photo from
non-blind deconvolution with that kernel (the authors' own advice for large images), and a
no-reference check that keeps the input when the result is not better.

One path serves the API (`deblur_photo`) and the command line (problems.py prepares the window with
`prepare_photo`, runner.py finishes with `finish_photo` before outputs.py writes):
1. `prepare_photo`: the noise level σ̂ of the photo's luma, its clipped highlights, and the
   estimation window: in linear light (a camera blurs there), where the smoothed luma has the most
   structure away from clipped pixels, downscaled when the kernel is large.
2. SelfDeblur on the window (the engine: `fitting.fit_image`, what `fit_selfdeblur` runs).
3. `finish_photo`: the kernel at the photo's scale; the whole photo restored in linear light with
   the clipped pixels left out of the data term and a prior weight that grows with σ̂; the check
   (photo/check.py); the input kept, with the reason, when the check says the result is not better.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import ml_collections
import numpy as np

from selfdeblur_jax.app_config import resolve_engine
from selfdeblur_jax.color import rgb_to_ycbcr
from selfdeblur_jax.fitting import fit_image
from selfdeblur_jax.photo.check import check_restoration
from selfdeblur_jax.photo.restore import restore_nonblind
from selfdeblur_jax.photo.scale import (EstimationWindow, auto_kernel_size, estimation_window, photo_kernel_size,
                                        upscale_kernel)
from selfdeblur_jax.photo.window import gaussian_smooth
from selfdeblur_jax.physics.camera import srgb_to_linear
from selfdeblur_jax.physics.noise import estimate_noise_sigma
from selfdeblur_jax.results import FitResult
from selfdeblur_jax.validation import validate_kernel_size

# The restoration's prior weight from the noise level: WEIGHT_PER_SIGMA · σ̂ (σ̂ of the file's sRGB luma),
# at least MIN_WEIGHT. Chosen with the true kernels of the camera-realistic photos (linear light; best
# weights 0.003–0.01 at σ̂ 0.014, 0.01 at σ̂ 0.03: experiments/photo_restoration/true_kernel.py).
WEIGHT_PER_SIGMA = 0.35
MIN_WEIGHT = 0.001

# Conjugate-gradient steps per least-squares solve of the restoration: 60 gives the same photo as 200
# (within 0.005 dB on three camera-realistic photos, K = 19 and 31, weights 0.0035 and 0.01) in under a
# third of the time, which is what brings a 12-megapixel photo within minutes on a CPU.
RESTORE_CG_ITERS = 60

STATUS_DEBLURRED = "deblurred"
STATUS_NOT_IMPROVED = "not improved"


def _setting(default: Any, key: str) -> Any:
  """A PhotoSettings field whose value a program config holds under `key` (app_config.add_photo_fields)."""
  return dataclasses.field(default=default, metadata={"key": key})


@dataclasses.dataclass(frozen=True)
class PhotoSettings:
  """How a photo is prepared and restored: the photo fields of a program config (app_config.py), each
  field naming its config key."""

  window: int = _setting(256, "estimate_window")  # side of the estimation window
  max_kernel: int = _setting(27, "estimate_max_kernel")  # larger kernels: estimated downscaled; 0: never
  colour: str = _setting("rgb", "restore_colour")  # "rgb": deconvolve each channel; "y": the luma, Cb/Cr kept
  linear: bool = _setting(True, "photo_linear")  # estimate and restore in linear light (sRGB decoded first)
  clip_level: float = _setting(0.98, "clip_level")  # an sRGB value at or above this (any channel): clipped
  window_sigma: float = _setting(2.0, "window_sigma")  # the window's structure on the luma smoothed by this
  weight: float = _setting(0.0, "restore_weight")  # the restoration's prior weight; 0: from the noise level
  check: bool = _setting(True, "check_result")  # keep the input when the check finds the result no better

  @classmethod
  def from_config(cls, config: Mapping[str, Any] | None, **overrides: Any) -> PhotoSettings:
    """The settings of a program config (fields it lacks keep their defaults), then `overrides` (not None)."""
    values = {}
    for field in dataclasses.fields(cls):
      key = field.metadata["key"]
      if config is not None and key in config:
        values[field.name] = type(field.default)(config[key])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)


@dataclasses.dataclass(frozen=True)
class PreparedPhoto:
  """What the estimate needs (the window) and the restoration will need (σ̂, the mask)."""

  estimate: EstimationWindow  # the grey window SelfDeblur runs on, its kernel size, scale and box
  noise_sigma: float  # σ̂ of the photo's sRGB luma (physics/noise.py)
  observed: np.ndarray  # H×W bool: False where the photo is clipped (left out of the data term)


@dataclasses.dataclass
class PhotoResult:
  """A restored photo (or the input, kept), the kernel, and where and how the kernel was estimated."""

  image: np.ndarray  # the input's shape (H×W or H×W×3), in [0, 1]
  kernel: np.ndarray  # the estimated convolution kernel, at the photo's scale
  window: tuple[int, int, int, int]  # (top, left, height, width) of the estimation window in the photo
  fit: FitResult  # SelfDeblur's fit on the window (its x, candidates, loss history), at scale 1/`scale`
  seconds_estimate: float = 0.0  # wall time of the kernel estimate on the window
  seconds_restore: float = 0.0  # wall time of the whole photo's non-blind deconvolution and the check
  scale: float = 1.0  # the kernel was estimated on a copy downscaled by this factor
  status: str = STATUS_DEBLURRED  # or STATUS_NOT_IMPROVED: `image` is the input
  reason: str = ""  # why not improved
  details: dict = dataclasses.field(default_factory=dict)  # σ̂, the weight, the check's measures


def luma(image: np.ndarray) -> np.ndarray:
  """The grey image a kernel is estimated on: the image itself, or BT.601 Y of an RGB image."""
  image = np.asarray(image, np.float32)
  return image if image.ndim == 2 else rgb_to_ycbcr(image)[..., 0]


def clipped_pixels(image: np.ndarray, level: float) -> np.ndarray:
  """H×W bool: pixels with any channel at or above `level` (a clipped highlight; y = k ⊛ x fails there)."""
  image = np.asarray(image)
  return (image >= level) if image.ndim == 2 else np.any(image >= level, axis=-1)


def _grow(mask: np.ndarray, radius: int) -> np.ndarray:
  """`mask` dilated by a (2r+1)² square (pixels near a masked one are masked too)."""
  return gaussian_smooth(mask.astype(np.float64), radius / 2) > 1e-3 if radius > 0 and mask.any() else mask


def prepare_photo(image: np.ndarray, kernel_size: int, settings: PhotoSettings) -> PreparedPhoto:
  """The estimation window of a photo (in [0, 1], sRGB values as a file holds them), its noise level
  and which pixels are observed (not clipped)."""
  image = np.asarray(image, np.float32)
  clipped = clipped_pixels(image, settings.clip_level)
  grey = luma(srgb_to_linear(image).astype(np.float32)) if settings.linear else luma(image)
  where = estimation_window(grey, kernel_size, settings.window, settings.max_kernel,
                            sigma=settings.window_sigma, exclude=_grow(clipped, 3))
  return PreparedPhoto(where, estimate_noise_sigma(luma(image)), ~clipped)


def restoration_weight(settings: PhotoSettings, noise_sigma: float) -> float:
  """The prior weight: the settings' own, or WEIGHT_PER_SIGMA·σ̂ (at least MIN_WEIGHT)."""
  return float(settings.weight) if settings.weight > 0 else max(MIN_WEIGHT, WEIGHT_PER_SIGMA * noise_sigma)


def finish_photo(image: np.ndarray, window_kernel: np.ndarray, window_kernel_size: int,
                 prepared: PreparedPhoto, settings: PhotoSettings) -> tuple[np.ndarray, np.ndarray, str, str, dict]:
  """(the photo to write, the kernel at the photo's scale, status, reason, details): the whole photo
  restored with the window's kernel, or the input kept when the check says that is not better."""
  image = np.asarray(image, np.float32)
  scale = prepared.estimate.scale
  kernel = upscale_kernel(window_kernel, scale, photo_kernel_size(window_kernel_size, scale))
  weight = restoration_weight(settings, prepared.noise_sigma)
  restored = restore_nonblind(image, kernel, weight, settings.colour, RESTORE_CG_ITERS, linear=settings.linear,
                              mask=prepared.observed.astype(np.float32))
  verdict = check_restoration(luma(image), luma(restored), kernel, prepared.noise_sigma)
  details = {"noise_sigma": prepared.noise_sigma, "restore_weight": weight,
             "clipped_fraction": float(1 - prepared.observed.mean()), **verdict.details}
  if settings.check and not verdict.improved:
    return image, kernel, STATUS_NOT_IMPROVED, verdict.reason, details
  return restored, kernel, STATUS_DEBLURRED, "", details


def photo_settings(config: Any, **overrides: Any) -> tuple[ml_collections.ConfigDict, PhotoSettings]:
  """(the engine's config, the photo settings) of a photo config (configs/photo.py), of engine
  overrides (a dict: the photo settings at their defaults), or of None (configs/photo.py's `cpu`)."""
  if config is None:
    from selfdeblur_jax.configs.photo import get_config  # the shipped photo config
    config = get_config("cpu")
  return resolve_engine(config), PhotoSettings.from_config(config, **overrides)


def deblur_photo(image: Any, kernel_size: int | None = None, *, config: Any = None, seed: int = 0,
                 window: int | None = None, colour: str | None = None, weight: float | None = None,
                 max_kernel: int | None = None) -> PhotoResult:
  """Deblur a whole grey (H×W) or RGB (H×W×3) photo in [0, 1] of any size (sRGB values, as a file holds).

  Args:
    image: the blurry photo.
    kernel_size: odd K, the blur's extent in pixels; None: 5 % of the photo's longer side
      (`photo/scale.auto_kernel_size`).
    config: configs/photo.py's config (its engine part and its photo fields), a dict of engine
      overrides, or None for `photo:cpu`.
    seed: SelfDeblur's seed.
    window, colour, weight, max_kernel: override the config's estimate_window, restore_colour,
      restore_weight (0: from the noise level) and estimate_max_kernel.
  Returns a PhotoResult; `status` is "not improved" (and `image` the input) when the no-reference
  check finds the restoration no better than the input, with the reason.
  """
  image = np.asarray(image, np.float32)
  if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
    raise ValueError(f"image must be H×W grey or H×W×3 RGB, got shape {image.shape}")
  if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
    raise ValueError("image must hold finite values in [0, 1]; scale 8-bit photos by 1/255")
  if kernel_size is None:
    kernel_size = auto_kernel_size(image.shape)
  validate_kernel_size(kernel_size, name="kernel_size")
  engine, settings = photo_settings(config, window=window, colour=colour, weight=weight, max_kernel=max_kernel)
  prepared = prepare_photo(image, kernel_size, settings)
  where = prepared.estimate
  validate_kernel_size(where.kernel_size, where.grey.shape, "kernel_size at the estimation scale")
  start = time.perf_counter()
  fit = fit_image(where.grey, where.kernel_size, engine, seed)
  estimated = time.perf_counter()
  out, kernel, status, reason, details = finish_photo(image, fit.kernel, fit.kernel_size, prepared, settings)
  return PhotoResult(out, kernel, where.box, fit, estimated - start, time.perf_counter() - estimated,
                     where.scale, status, reason, details)
