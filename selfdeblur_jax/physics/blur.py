"""The FFT-free blur: one 'VALID' `lax.conv_general_dilated`, and the kernel-support bookkeeping.

Convention: `k` is a *convolution* kernel. `blur(x, k)` equals
`scipy.signal.convolve2d(x, k, mode='valid')`, so an (H+K−1)×(W+K−1) latent image blurs to H×W.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array


def blur(x: Array, k: Array) -> Array:
  """2-D 'valid' convolution of a grey image x (H', W') with a kernel k (K, K).

  One 'VALID' `lax.conv_general_dilated`, laid out for speed: the K row-shifted copies of x are the
  K input channels of a 1×K convolution, so each output pixel is a K·K dot product over channels
  and columns. The sum is the same as the K×K single-channel convolution's, and on the CPU it runs
  2.5–3.8× faster with its gradients (experiments/speed/cpu_kernels.py; RESULTS.md, "Speed on this CPU").
  """
  size = k.shape[0]
  height = x.shape[0] - size + 1
  rows = jnp.stack([x[a:a + height] for a in range(size)])[None]  # (1, K, H, W'): channel a = x[a + i]
  # lax.conv is a correlation; flipping k turns it into a convolution. Weight (O=1, I=K, 1, K).
  out = lax.conv_general_dilated(rows, k[::-1, ::-1][None, :, None, :], (1, 1), "VALID")
  return out[0, 0]


def latent_shape(image_shape: tuple[int, int], kernel_size: int) -> tuple[int, int]:
  """Size of the sharp image x whose valid blur with a K×K kernel has `image_shape`."""
  return image_shape[0] + kernel_size - 1, image_shape[1] + kernel_size - 1


def kernel_support(kernel_size: int, support_size: int) -> np.ndarray:
  """Boolean support_size² mask that is True on the centred kernel_size² window."""
  if kernel_size > support_size or (support_size - kernel_size) % 2:
    raise ValueError(f"kernel size {kernel_size} does not centre in a support of {support_size}")
  offset = (support_size - kernel_size) // 2
  mask = np.zeros((support_size, support_size), bool)
  mask[offset:offset + kernel_size, offset:offset + kernel_size] = True
  return mask


def crop_to_kernel(k: np.ndarray, kernel_size: int) -> np.ndarray:
  """The centred kernel_size² window of a kernel estimated on a larger support."""
  offset = (k.shape[0] - kernel_size) // 2
  return k[offset:offset + kernel_size, offset:offset + kernel_size]


def crop_to_image(x: np.ndarray | Array, image_shape: tuple[int, int]):
  """The centre crop of the latent x that aligns with the blurry image (offset (K−1)//2)."""
  dh = (x.shape[0] - image_shape[0]) // 2
  dw = (x.shape[1] - image_shape[1]) // 2
  return x[dh:dh + image_shape[0], dw:dw + image_shape[1]]


def blur_np(x: np.ndarray, k: np.ndarray) -> np.ndarray:
  """NumPy convenience wrapper of `blur` (float32 in, float32 out)."""
  return np.asarray(blur(jnp.asarray(x, jnp.float32), jnp.asarray(k, jnp.float32)))
