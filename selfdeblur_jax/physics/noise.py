"""Noise-level estimate for the paper's λ = 0.1·σ.

The paper estimates σ with Zoran & Weiss [54]; we use Immerkær's fast estimator (CVIU 1996), a standard
closed form that needs no training: the mean absolute response to a Laplacian-difference mask, which
cancels smooth image structure and keeps white noise.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)


def estimate_noise_sigma(y: np.ndarray) -> float:
  """Standard deviation of additive white Gaussian noise in a grey image y (H×W, values in [0, 1])."""
  y = np.asarray(y, np.float64)
  h, w = y.shape
  if h < 3 or w < 3:
    raise ValueError(f"noise estimation needs an image of at least 3×3 pixels, got {h}×{w}")
  response = sum(_MASK[i, j] * y[i:h - 2 + i, j:w - 2 + j] for i in range(3) for j in range(3))
  return float(np.sqrt(np.pi / 2.0) * np.abs(response).sum() / (6.0 * (h - 2) * (w - 2)))


def noise_sigma(y: jax.Array) -> jax.Array:
  """`estimate_noise_sigma` in jnp (float32, traceable: under jit and vmap), for the solver."""
  h, w = y.shape
  if h < 3 or w < 3:
    raise ValueError(f"noise estimation needs an image of at least 3×3 pixels, got {h}×{w}")
  response = sum(float(_MASK[i, j]) * y[i:h - 2 + i, j:w - 2 + j] for i in range(3) for j in range(3))
  return jnp.sqrt(jnp.pi / 2.0) * jnp.abs(response).sum() / (6.0 * (h - 2) * (w - 2))
