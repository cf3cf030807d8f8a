"""Restoring a whole photo with a known kernel: Levin et al. 2007's sparse deconvolution per channel.

The blur model is the project's 'valid' convolution: an H×W photo is the blur of an unknown
(H+K−1)×(W+K−1) latent image, so the data term covers exactly the observed pixels and the latent's
outer band is shaped by the prior alone. Nothing is assumed periodic, and no ringing band appears at
the borders (tests/test_photo.py compares the border's error with the interior's). The FFTs run on
the latent's grid, so memory grows linearly with the pixel count.

A camera blurs in linear light (physics/camera.py), so with `linear=True` the photo's sRGB values are
decoded first, deconvolved, and encoded again; pixels that `mask` marks (clipped highlights, where
y = k ⊛ x does not hold) are left out of the data term.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from selfdeblur_jax.color import rgb_to_ycbcr, ycbcr_to_rgb
from selfdeblur_jax.restoration import deconv_sparse
from selfdeblur_jax.physics.camera import linear_to_srgb, srgb_to_linear


def restore_nonblind(image: np.ndarray, kernel: np.ndarray, weight: float = 0.003,
                     colour: str = "rgb", cg_iters: int = 200, *, linear: bool = False,
                     mask: np.ndarray | None = None) -> np.ndarray:
  """Deblur a grey (H×W) or colour (H×W×3, RGB in [0, 1]) photo with a known convolution kernel.

  colour: "rgb" deconvolves each RGB channel; "y" deconvolves the luma (BT.601 Y) and keeps the
    photo's own Cb/Cr. Grey images ignore it.
  linear: deconvolve in linear light (sRGB decoded first, encoded after).
  mask: H×W, 1 where a pixel is observed, 0 where it is left out of the data term (None: all count).
  Returns an image of the input's shape, clipped to [0, 1].
  """
  image = np.asarray(image, np.float32)
  if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
    raise ValueError(f"expected an H×W or H×W×3 image, got shape {image.shape}")
  if colour not in ("rgb", "y"):
    raise ValueError(f"colour must be 'rgb' or 'y', got {colour!r}")
  k = jnp.asarray(kernel, jnp.float32)
  m = None if mask is None else jnp.asarray(mask, jnp.float32)
  values = srgb_to_linear(image).astype(np.float32) if linear else image

  def one(channel: np.ndarray) -> np.ndarray:
    return np.asarray(deconv_sparse(jnp.asarray(channel), k, weight, cg_iters=cg_iters, mask=m))

  if values.ndim == 2:
    out = one(values)
  elif colour == "rgb":
    out = np.stack([one(values[..., c]) for c in range(3)], axis=-1)
  else:
    ycbcr = rgb_to_ycbcr(values)
    ycbcr[..., 0] = one(ycbcr[..., 0])
    out = ycbcr_to_rgb(ycbcr)
  out = np.clip(out, 0.0, 1.0)
  return (linear_to_srgb(out) if linear else out).astype(np.float32)
