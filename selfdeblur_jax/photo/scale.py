"""Large kernels estimated at a coarser scale (the coarse level of the coarse-to-fine schemes that
blind deconvolution has used since Fergus et al. 2006).

A 41×41 or 51×51 kernel estimated on a small window is poorly determined: on a 128² window of two real
photos `photo:cpu` returned scattered dots (benchmarks/RESULTS.md, "Whole photos"). Blurred at scale 1/s, the
same photo is (up to the anti-aliasing filter) the downscaled sharp photo blurred with the kernel
shrunk by s; so the kernel is estimated on a copy downscaled until it is at most `max_kernel` wide,
and brought back to the photo's scale by resampling about its centre.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from selfdeblur_jax.photo.window import choose_window


def estimate_scale(kernel_size: int, max_kernel: int) -> tuple[float, int]:
  """(s, K_s): the downscaling factor s >= 1 and the odd kernel size K_s to estimate at that scale.

  `max_kernel` <= 0, or a kernel no larger than it, needs no downscaling: (1.0, kernel_size).
  Otherwise s = K / max_kernel, so that the shrunk kernel (K / s wide) fills K_s = max_kernel (made odd).
  """
  kernel_size, max_kernel = int(kernel_size), int(max_kernel)
  if max_kernel <= 0 or kernel_size <= max_kernel:
    return 1.0, kernel_size
  small = max_kernel if max_kernel % 2 else max_kernel - 1
  if small < 3:
    raise ValueError(f"estimate_max_kernel must be 0 (off) or >= 3, got {max_kernel}")
  return kernel_size / small, small


def _resample(image: np.ndarray, shape: tuple[int, int], scale: float, translation: tuple[float, float]
              ) -> np.ndarray:
  """Linear resampling with anti-aliasing when shrinking (jax.image.scale_and_translate), float32."""
  out = jax.image.scale_and_translate(jnp.asarray(image, jnp.float32), shape, (0, 1),
                                      jnp.asarray([scale, scale], jnp.float32),
                                      jnp.asarray(translation, jnp.float32), "linear", antialias=True)
  return np.asarray(out, np.float32)


def downscale_image(grey: np.ndarray, scale: float) -> np.ndarray:
  """An H×W image shrunk by `scale` >= 1 to round(H / s) × round(W / s), anti-aliased; itself if s == 1."""
  grey = np.asarray(grey, np.float32)
  if scale == 1:
    return grey
  return np.clip(_resample(grey, downscaled_shape(grey.shape, scale), 1.0 / scale, (0.0, 0.0)), 0.0, 1.0)


def downscaled_shape(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
  """The H×W that `downscale_image` gives an image of `shape`: round(H / s) × round(W / s), at least 1."""
  h, w = int(shape[0]), int(shape[1])
  if scale == 1:
    return h, w
  return max(1, round(h / scale)), max(1, round(w / scale))


def upscale_kernel(kernel: np.ndarray, scale: float, kernel_size: int) -> np.ndarray:
  """A K_s×K_s kernel estimated at scale 1/s, brought to K×K at the photo's scale.

  Centres are kept (pixel (K_s − 1)/2 goes to (K − 1)/2), extents grow by s, and the result is
  non-negative and sums to 1 like any blur kernel.
  """
  kernel = np.asarray(kernel, np.float32)
  if scale == 1 and kernel.shape == (kernel_size, kernel_size):
    return kernel
  small = kernel.shape[0]
  shift = (kernel_size - scale * small) / 2  # output (K−1)/2 ↔ input (K_s−1)/2 under x_in = (x_out+½−t)/s−½
  big = np.maximum(_resample(kernel, (kernel_size, kernel_size), float(scale), (shift, shift)), 0.0)
  total = float(big.sum())
  if not math.isfinite(total) or total <= 0:
    raise ValueError("the estimated kernel has no mass to upscale")
  return (big / total).astype(np.float32)


AUTO_KERNEL_FRACTION = 0.05  # a kernel size left out: 5 % of the photo's longer side
AUTO_KERNEL_MIN = 11


def auto_kernel_size(shape: tuple[int, ...]) -> int:
  """The kernel size for a photo whose size was left out: 5 % of its longer side, odd, at least 11.

  Hand-held blur grows with the pixel count; on the camera-realistic photos (0.14–0.31 MP, true sizes
  19–31) this gives 23–31, erring large, which the estimate tolerates better than too small.
  """
  size = max(AUTO_KERNEL_MIN, int(round(AUTO_KERNEL_FRACTION * max(int(shape[0]), int(shape[1])))))
  return size if size % 2 else size + 1


def photo_kernel_size(kernel_size: int, scale: float) -> int:
  """The odd size at the photo's scale of a kernel estimated K_s wide at scale 1/s (K_s · s, rounded up
  to odd): the inverse of `estimate_scale`, also for kernel-size candidates larger than K_s."""
  if scale == 1:
    return int(kernel_size)
  size = int(round(kernel_size * scale))
  return size if size % 2 else size + 1


@dataclasses.dataclass(frozen=True)
class EstimationWindow:
  """Where and at which scale a photo's kernel is estimated."""

  grey: np.ndarray  # the window SelfDeblur sees (of the photo's luma, downscaled by `scale`)
  kernel_size: int  # K_s: the kernel size at that scale
  scale: float  # s >= 1
  box: tuple[int, int, int, int]  # (top, left, height, width) of the window in the photo's pixels


def estimation_window(grey: np.ndarray, kernel_size: int, window: int, max_kernel: int = 0, *,
                      sigma: float = 0.0, exclude: np.ndarray | None = None) -> EstimationWindow:
  """The `window`² window of the photo's luma with the most structure (`choose_window` with `sigma`
  and `exclude`), on a copy downscaled so that the kernel is at most `max_kernel` wide there (0: never
  downscale)."""
  scale, small = estimate_scale(kernel_size, max_kernel)
  coarse = downscale_image(grey, scale)
  if exclude is not None and scale != 1:  # a coarse pixel is excluded if any of its fine pixels is
    exclude = _resample(np.asarray(exclude, np.float32), coarse.shape, 1.0 / scale, (0.0, 0.0)) > 0
  top, left = choose_window(coarse, int(window), sigma=sigma, exclude=exclude)
  height, width = min(int(window), coarse.shape[0]), min(int(window), coarse.shape[1])
  box = (round(top * scale), round(left * scale), min(round(height * scale), grey.shape[0] - round(top * scale)),
         min(round(width * scale), grey.shape[1] - round(left * scale)))
  return EstimationWindow(np.ascontiguousarray(coarse[top:top + height, left:left + width], np.float32), small,
                          scale, box)
