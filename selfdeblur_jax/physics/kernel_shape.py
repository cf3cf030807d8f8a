"""How much a kernel looks like a camera-shake blur: the share of its mass on one connected path,
whether it has room in its support, and the blur's extent.

A motion-blur kernel is the path the camera took: one connected curve. An estimate that has failed
is often scattered dots over the whole support. The 8 true Levin kernels keep 0.49 to 0.99 of their
mass on their largest connected path (pixels above 5 % of the peak); the failed estimates of two
real photos with 41² and 51² kernels kept 0.28 and 0.26 (benchmarks/RESULTS.md, "Whole photos").
The score warns; it decides nothing, and a kernel can score well and still be wrong: fishes' failed
estimate at a coarser scale kept 0.44, house's good one 0.47.
"""

from __future__ import annotations

import math

import numpy as np

SCATTERED_BELOW = 0.4  # below every true Levin kernel (0.49), above the full-scale failed photo kernels (≤ 0.28)


def main_path_mass(kernel: np.ndarray, threshold: float = 0.05) -> float:
  """The largest share of the kernel's mass on one 8-connected set of pixels above threshold·peak."""
  k = np.asarray(kernel, np.float64)
  if k.ndim != 2 or not np.all(np.isfinite(k)) or k.min() < 0 or k.sum() <= 0:
    raise ValueError("kernel must be a finite, non-negative 2-D array with positive sum")
  k = k / k.sum()
  on = k > threshold * k.max()
  label = np.zeros(k.shape, np.int64)
  best, count = 0.0, 0
  for start in zip(*np.nonzero(on)):
    if label[start]:
      continue
    count += 1
    label[start] = count
    stack, mass = [start], 0.0
    while stack:
      i, j = stack.pop()
      mass += k[i, j]
      for u in range(max(i - 1, 0), min(i + 2, k.shape[0])):
        for v in range(max(j - 1, 0), min(j + 2, k.shape[1])):
          if on[u, v] and not label[u, v]:
            label[u, v] = count
            stack.append((u, v))
    best = max(best, mass)
  return float(best)


def is_scattered(kernel: np.ndarray) -> bool:
  """True if less than SCATTERED_BELOW of the kernel's mass lies on one connected path."""
  return main_path_mass(kernel) < SCATTERED_BELOW


def kernel_extent(kernel: np.ndarray, threshold: float = 0.01) -> int:
  """The blur's extent in pixels: the longer side of the box holding every entry ≥ threshold·peak
  (what a user measures as the streak's length in a photo, without the support's margin)."""
  k = np.asarray(kernel, np.float64)
  if k.ndim != 2 or not np.all(np.isfinite(k)) or k.max() <= 0:
    raise ValueError("kernel must be a finite 2-D array with a positive peak")
  rows, cols = np.nonzero(k >= threshold * k.max())
  return int(max(rows.max() - rows.min(), cols.max() - cols.min()) + 1)


def border_mass(kernel: np.ndarray, width: int = 1) -> float:
  """Fraction of a kernel's mass within `width` pixels of its support's edge."""
  k = np.asarray(kernel, np.float64)
  inner = k[width:-width, width:-width].sum() if min(k.shape) > 2 * width else 0.0
  return float((k.sum() - inner) / max(k.sum(), 1e-12))


def path_border_mass(kernel: np.ndarray, threshold: float = 0.05) -> float:
  """The share of the kernel's path (its entries ≥ threshold·peak, as in `main_path_mass`) that lies on
  its support's outer ring: a diffuse floor of small values, which estimates have, does not count."""
  k = np.asarray(kernel, np.float64)
  return border_mass(np.where(k >= threshold * k.max(), k, 0.0))


# A kernel whose path has more than this share on its support's outer ring is cramped: the blur may be
# larger than the support. Chosen on the labelled pool's final kernels (experiments/candidates/
# cramped_kernels.py): at the authors' sizes, where every blur has room, at most 0.121 (42 kernels, no
# false alarm); at ⌈2K/3⌉ and ⌈4K/9⌉, too small for most blurs, 9 of 27 above 0.15. A warning, not a
# verdict: it catches a third of the cramped kernels and none with room.
CRAMPED_ABOVE = 0.15


def is_cramped(kernel: np.ndarray) -> bool:
  """True if more than CRAMPED_ABOVE of the kernel's path lies on its support's outer ring."""
  return path_border_mass(kernel) > CRAMPED_ABOVE


def scaled_size(kernel_size: int, factor: float) -> int:
  """⌈factor·K⌉ rounded up to the next odd integer (K itself for factor 1 and an odd K)."""
  size = math.ceil(float(factor) * int(kernel_size) - 1e-9)
  return size + 1 - size % 2


def roomier_size(kernel_size: int) -> int:
  """The size to try when a kernel is cramped: ⌈4K/3⌉, rounded up to odd (`robust_wide`'s upper rung)."""
  return scaled_size(kernel_size, 4 / 3)
