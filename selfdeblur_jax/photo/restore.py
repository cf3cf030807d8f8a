"""Restoring a whole photo with a known kernel: Levin et al. 2007's sparse deconvolution per channel.

The blur model is the project's 'valid' convolution: an H×W photo is the blur of an unknown
(H+K−1)×(W+K−1) latent image, so the data term covers exactly the observed pixels and the latent's
outer band is shaped by the prior alone. Nothing is assumed periodic, and no ringing band appears at
the borders (tests/test_photo.py compares the border's error with the interior's). The FFTs run on
the latent's grid, so memory grows linearly with the pixel count.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from selfdeblur_jax.color import rgb_to_ycbcr, ycbcr_to_rgb
from selfdeblur_jax.evaluation.nonblind import deconv_sparse


def restore_nonblind(image: np.ndarray, kernel: np.ndarray, weight: float = 0.003,
                     colour: str = "rgb", cg_iters: int = 200) -> np.ndarray:
  """Deblur a grey (H×W) or colour (H×W×3, RGB in [0, 1]) photo with a known convolution kernel.

  colour: "rgb" deconvolves each RGB channel; "y" deconvolves the luma (BT.601 Y) and keeps the
    photo's own Cb/Cr. Grey images ignore it.
  Returns an image of the input's shape, clipped to [0, 1].
  """
  image = np.asarray(image, np.float32)
  k = jnp.asarray(kernel, jnp.float32)

  def one(channel: np.ndarray) -> np.ndarray:
    return np.asarray(deconv_sparse(jnp.asarray(channel), k, weight, cg_iters=cg_iters))

  if image.ndim == 2:
    return np.clip(one(image), 0.0, 1.0)
  if image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f"expected an H×W or H×W×3 image, got shape {image.shape}")
  if colour == "rgb":
    return np.clip(np.stack([one(image[..., c]) for c in range(3)], axis=-1), 0.0, 1.0)
  if colour == "y":
    ycbcr = rgb_to_ycbcr(image)
    ycbcr[..., 0] = one(ycbcr[..., 0])
    return ycbcr_to_rgb(ycbcr)
  raise ValueError(f"colour must be 'rgb' or 'y', got {colour!r}")
