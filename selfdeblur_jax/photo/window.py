"""Where in a photo to estimate the kernel: the window with the most structure.

Blind deconvolution learns the kernel from edges; a flat window (sky, a wall) says nothing about it,
and neither does sensor noise. After a camera's sRGB curve the noise in the shadows has more raw
gradient energy than many edges, so the raw |∇| sum sent the estimate into a dark corner of noise
(issue #29). The score here is the gradient magnitude of a Gaussian-smoothed copy (`structure_energy`):
smoothing by σ px divides white noise's gradient by about 4σ² while a step edge keeps its height.
Pixels near clipped highlights (where y = k ⊛ x does not hold) score nothing. Sums over every window
position come from an integral image.
"""

from __future__ import annotations

import numpy as np


def edge_energy(grey: np.ndarray) -> np.ndarray:
  """|∇| of a grey image (forward differences, the last row/column repeated): H×W."""
  g = np.asarray(grey, np.float64)
  dy = np.diff(g, axis=0, append=g[-1:])
  dx = np.diff(g, axis=1, append=g[:, -1:])
  return np.sqrt(dx * dx + dy * dy)


def gaussian_smooth(grey: np.ndarray, sigma: float) -> np.ndarray:
  """A separable Gaussian blur of std `sigma` px (borders reflected), float64; the image itself at 0."""
  g = np.asarray(grey, np.float64)
  if sigma <= 0:
    return g
  radius = max(1, int(np.ceil(3 * sigma)))
  taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
  taps /= taps.sum()
  padded = np.pad(g, radius, mode="reflect")
  rows = sum(t * padded[i:i + g.shape[0], :] for i, t in enumerate(taps))
  return sum(t * rows[:, i:i + g.shape[1]] for i, t in enumerate(taps))


def structure_energy(grey: np.ndarray, sigma: float = 2.0, exclude: np.ndarray | None = None) -> np.ndarray:
  """|∇| of the image smoothed by `sigma` px, zero where `exclude` (H×W bool) is set."""
  energy = edge_energy(gaussian_smooth(grey, sigma))
  if exclude is not None:
    energy = np.where(exclude, 0.0, energy)
  return energy


def choose_window(grey: np.ndarray, size: int, *, sigma: float = 0.0,
                  exclude: np.ndarray | None = None) -> tuple[int, int]:
  """(top, left) of the size×size window of `grey` with the largest summed structure energy.

  sigma: smoothing before the gradient (0: raw gradients, noise counts as texture).
  exclude: H×W bool, pixels that must not count (e.g. near clipped highlights).
  `size` larger than the image is clipped to it (the whole image). Ties go to the window nearest the
  image's centre, so that a flat image gives its centre crop.
  """
  grey = np.asarray(grey)
  if grey.ndim != 2:
    raise ValueError(f"choose_window needs an H×W grey image, got shape {grey.shape}")
  h, w = grey.shape
  sh, sw = min(int(size), h), min(int(size), w)
  if sh < 1 or sw < 1:
    raise ValueError(f"window size must be >= 1, got {size}")
  energy = structure_energy(grey, sigma, exclude)
  s = np.pad(np.cumsum(np.cumsum(energy, 0), 1), ((1, 0), (1, 0)))
  sums = s[sh:, sw:] - s[:-sh, sw:] - s[sh:, :-sw] + s[:-sh, :-sw]  # (h − sh + 1, w − sw + 1)
  best = sums.max()
  tops, lefts = np.nonzero(sums >= best - 1e-9 * max(abs(best), 1.0))
  centre = ((h - sh) / 2, (w - sw) / 2)
  i = int(np.argmin((tops - centre[0]) ** 2 + (lefts - centre[1]) ** 2))
  return int(tops[i]), int(lefts[i])
