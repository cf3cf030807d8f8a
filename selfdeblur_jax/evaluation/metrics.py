"""Image-quality metrics used by the Levin protocol: PSNR (peak 1) and SSIM (Wang et al. 2004).

Both take grey images in [0, 1] of shape (H, W) or a batch (N, H, W) and are jit-able.
"""

from __future__ import annotations

import dm_pix
import jax
import jax.numpy as jnp

Array = jax.Array


def psnr(estimate: Array, reference: Array, peak: float = 1.0) -> Array:
  """Peak signal-to-noise ratio in dB, 10·log10(peak² / MSE), over the last two axes."""
  err = jnp.asarray(estimate, jnp.float32) - jnp.asarray(reference, jnp.float32)
  mse = jnp.mean(err * err, axis=(-2, -1))
  return 10.0 * jnp.log10(peak * peak / mse)


def ssim(estimate: Array, reference: Array, peak: float = 1.0) -> Array:
  """Mean SSIM, as Wang's `ssim_index.m` (and the authors' `statistic/ssim.m`).

  Gaussian window 11×11, σ 1.5, K1 0.01, K2 0.03, 'valid' filtering (the map is 10 px smaller
  in each axis, no padding). Wang's `ssim.m` also downsamples images whose shorter side is at
  least 384 px; Levin images (255 px, 225 px after the border crop) are never downsampled, and
  neither is anything here.
  """
  a = jnp.asarray(estimate, jnp.float32)[..., None]
  b = jnp.asarray(reference, jnp.float32)[..., None]
  return dm_pix.ssim(a, b, max_val=peak, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03)
