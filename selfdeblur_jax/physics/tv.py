"""Anisotropic total variation, the image prior of the paper's Eq. (6)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def total_variation(x: Array) -> Array:
  """TV(x) = Σ|x[i+1,j] − x[i,j]| + Σ|x[i,j+1] − x[i,j]| over a 2-D image."""
  return jnp.abs(jnp.diff(x, axis=0)).sum() + jnp.abs(jnp.diff(x, axis=1)).sum()
