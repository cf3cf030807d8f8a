"""Data terms and the full SelfDeblur objective.

Released code: MSE(k⊛x, y) before `switch_step`, then 1 − SSIM(k⊛x, y). Paper, Eq. (6):
‖k⊛x − y‖² + λ·TV(x). Here every term is divided by the pixel count of y, so the objective is
MSE + λ·TV(x)/N — Eq. (6) divided by N, which keeps λ's meaning — and 1 − SSIM is an average too.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax import lax

from selfdeblur_jax.physics import blur, total_variation

Array = jax.Array

DATA_TERMS = ("mse_then_ssim", "mse", "ssim")


def gaussian_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
  """Normalised 1-D Gaussian of `size` taps (pytorch_ssim's `gaussian`)."""
  g = np.exp(-((np.arange(size) - size // 2) ** 2) / (2 * sigma**2))
  return (g / g.sum()).astype(np.float32)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
  """Normalised 2-D Gaussian window (outer product of the 1-D one), as pytorch_ssim builds it."""
  g = gaussian_1d(size, sigma).astype(np.float64)
  return np.outer(g, g).astype(np.float32)


def ssim(a: Array, b: Array, window_size: int = 11, sigma: float = 1.5) -> Array:
  """Mean SSIM of two grey images with a zero-padded Gaussian window (map has the size of a).

  This is the released code's SSIM loss (pytorch_ssim): C1 = 0.01², C2 = 0.03², padding size//2.
  The 2-D window is the outer product of a 1-D Gaussian, so it is applied as a column pass and then
  a row pass (zero padding separates too): 2·size taps a pixel instead of size², and on the CPU the
  two 1-D convolutions run 12–14× faster than the 11×11 one, backward included
  (experiments/speed/cpu_kernels.py). pytorch_ssim rounds its 2-D window to float32, which a product of two
  1-D passes does not: in float64 the two losses differ by about 1e-6 relative, far below float32's
  resolution (RESULTS.md, "Faithfulness to the PyTorch original").
  """
  g = jnp.asarray(gaussian_1d(window_size, sigma), a.dtype)
  pad = window_size // 2
  stack = jnp.stack([a, b, a * a, b * b, a * b])[:, None]  # (5, 1, H, W): five maps, one window
  filtered = lax.conv_general_dilated(stack, g[None, None, :, None], (1, 1), [(pad, pad), (0, 0)])
  filtered = lax.conv_general_dilated(filtered, g[None, None, None, :], (1, 1), [(0, 0), (pad, pad)])
  return ssim_from_moments(filtered[:, 0])


def ssim_from_moments(filtered: Array) -> Array:
  """Mean SSIM from the window-filtered a, b, a², b², ab (stacked first), C1 = 0.01², C2 = 0.03²."""
  mu_a, mu_b, e_aa, e_bb, e_ab = filtered
  var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
  c1, c2 = 0.01**2, 0.03**2
  ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
  return ssim_map.mean()


def mse(a: Array, b: Array) -> Array:
  return jnp.mean((a - b) ** 2)


def data_term(y_hat: Array, y: Array, step: Array, loss_config: ml_collections.ConfigDict) -> Array:
  """The data term in force at `step` (a traced int): MSE, 1 − SSIM, or MSE until the switch."""
  kind = loss_config.data_term
  if kind == "mse":
    return mse(y_hat, y)
  one_minus_ssim = 1.0 - ssim(y_hat, y, loss_config.ssim_window, loss_config.ssim_sigma)
  if kind == "ssim":
    return one_minus_ssim
  if kind == "mse_then_ssim":
    return jnp.where(step < loss_config.switch_step, mse(y_hat, y), one_minus_ssim)
  raise ValueError(f"unknown loss.data_term {kind!r}; choose one of {DATA_TERMS}")


def kernel_offset(k: Array) -> Array:
  """The kernel's centroid minus its support's centre, (dy, dx) in pixels."""
  size = k.shape[0]
  coords = jnp.arange(size, dtype=k.dtype) - (size - 1) / 2
  return jnp.stack([jnp.sum(k.sum(axis=1) * coords), jnp.sum(k.sum(axis=0) * coords)])


def objective(x: Array, k: Array, y: Array, step: Array, loss_config: ml_collections.ConfigDict,
              tv_weight: Array) -> Array:
  """Loss of one problem: data term of blur(x, k) against y, plus λ·TV(x)/N (N = pixels of y), plus
  `kernel_center_weight`·|centroid offset / K|² when set (keeps the kernel off its support's edges)."""
  loss = data_term(blur(x, k), y, step, loss_config)
  loss = loss + tv_weight * total_variation(x) / y.size
  if loss_config.kernel_center_weight:
    loss = loss + loss_config.kernel_center_weight * jnp.sum((kernel_offset(k) / k.shape[0]) ** 2)
  return loss
