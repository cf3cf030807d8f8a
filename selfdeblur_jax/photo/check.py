"""Is the restored photo better than the blurry one? A no-reference check (issue #29).

A user must never have to compare by eye to learn that the program made a photo worse. Without the
sharp photo, the check reads what blind deconvolution's own literature reads, in this order:
- is there anything to deblur: the photo's structure (the gradient of its luma smoothed by 2 px) must
  stand above what its noise level σ̂ alone would give (`structure_to_noise`); a photo of pure noise
  is consistent with any blur of a flat scene and has nothing to recover;
- the kernel's shape: a camera-shake kernel is a thin connected path; an estimate that failed is
  scattered dots (`physics/kernel_shape.main_path_mass`) or a diffuse blob over its support
  (`participation`: (Σk)²/Σk², the number of pixels it effectively covers; a path of length L covers
  about L of the K² pixels);
- the normalised sparsity of the luma's gradients, ℓ1/ℓ2 (Krishnan, Tay & Fergus, CVPR 2011): blur
  spreads an image's gradients and raises it, and so do amplified noise and ringing, while a sharper
  image with the same content lowers it. The restored photo must lower it by `margin`.
When one fails, the photo is kept as it came in ("not improved"), with the reason.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from selfdeblur_jax.photo.window import structure_energy
from selfdeblur_jax.physics.kernel_shape import SCATTERED_BELOW, main_path_mass

STRUCTURE_SIGMA = 2.0  # px: the smoothing of `structure_to_noise`
MIN_STRUCTURE_TO_NOISE = 2.0  # pure noise gives 1
MAX_PARTICIPATION = 0.5  # of the K² pixels; camera paths cover 0.1–0.25 (motion kernels of length K − 3)


@functools.lru_cache(maxsize=None)
def _noise_structure(sigma: float) -> float:
  """The mean structure energy of unit white Gaussian noise (measured once, on 256² seeded samples)."""
  return float(structure_energy(np.random.default_rng(0).normal(size=(256, 256)), sigma).mean())


def structure_to_noise(grey: np.ndarray, noise_sigma: float) -> float:
  """The photo's mean structure energy over what white noise of std `noise_sigma` alone gives (≈ 1: noise)."""
  noise = _noise_structure(STRUCTURE_SIGMA) * max(float(noise_sigma), 1e-6)
  return float(structure_energy(grey, STRUCTURE_SIGMA).mean() / noise)


def participation(kernel: np.ndarray) -> float:
  """(Σk)²/Σk² over K²: the share of the support a kernel effectively covers (1: uniform, 1/K²: a dot)."""
  k = np.asarray(kernel, np.float64)
  return float(k.sum() ** 2 / max(float((k * k).sum()), 1e-300) / k.size)


def gradient_sparsity(grey: np.ndarray, border: int = 0) -> float:
  """ℓ1/ℓ2 of the image's horizontal and vertical differences (lower: sparser, i.e. sharper), over the
  image less `border` px on each side, normalised by √N so that images of any size compare."""
  g = np.asarray(grey, np.float64)
  if border:
    g = g[border:-border, border:-border]
  d = np.concatenate([np.diff(g, axis=0).ravel(), np.diff(g, axis=1).ravel()])
  l2 = float(np.sqrt(np.sum(d * d)))
  return float(np.sum(np.abs(d)) / (l2 * np.sqrt(d.size))) if l2 > 0 else 1.0


@dataclasses.dataclass(frozen=True)
class Verdict:
  """The check's answer: whether to keep the restored photo, why not, and what it measured."""

  improved: bool
  reason: str  # "" when improved
  details: dict


def check_restoration(blurry_luma: np.ndarray, restored_luma: np.ndarray, kernel: np.ndarray,
                      noise_sigma: float, *, margin: float = 0.02) -> Verdict:
  """Keep the restoration only if the photo has structure above its noise, its kernel looks like a
  camera path, and its gradients are sparser than the input's by at least `margin` (relative)."""
  border = kernel.shape[0]  # the outer band is shaped by the prior alone
  if min(blurry_luma.shape) <= 4 * border:
    border = 0
  snr = structure_to_noise(blurry_luma, noise_sigma)
  path, spread = main_path_mass(kernel), participation(kernel)
  before, after = gradient_sparsity(blurry_luma, border), gradient_sparsity(restored_luma, border)
  details = {"structure_to_noise": snr, "kernel_main_path_mass": path, "kernel_participation": spread,
             "gradient_sparsity_blurry": before, "gradient_sparsity_restored": after,
             "sparsity_ratio": after / before}
  if snr < MIN_STRUCTURE_TO_NOISE:
    return Verdict(False, f"nothing to deblur: the photo's structure is {snr:.1f}× what its noise alone "
                   f"gives (at least {MIN_STRUCTURE_TO_NOISE:g}× is needed)", details)
  if spread > MAX_PARTICIPATION:
    return Verdict(False, f"the kernel is a diffuse blob over {spread:.0%} of its support, not a camera path "
                   "(try a smaller kernel_size)", details)
  if path < SCATTERED_BELOW:
    return Verdict(False, f"the kernel is scattered (only {path:.0%} of its mass on one connected path; "
                   f"camera-shake kernels have more than {SCATTERED_BELOW:.0%})", details)
  if after > before * (1 - margin):
    return Verdict(False, f"the restored photo is not sharper than the input (gradient sparsity "
                   f"{after:.4f} against {before:.4f}: noise or ringing instead of detail)", details)
  return Verdict(True, "", details)
