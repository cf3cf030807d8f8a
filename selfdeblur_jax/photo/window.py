"""Where in a photo to estimate the kernel: the window with the most edge energy.

Blind deconvolution learns the kernel from edges; a flat window (sky, a wall) says nothing about it.
The score of a window is the sum of the gradient magnitudes inside it, found for every position at
once from an integral image.
"""

from __future__ import annotations

import numpy as np


def edge_energy(grey: np.ndarray) -> np.ndarray:
  """|∇| of a grey image (forward differences, the last row/column repeated): H×W."""
  g = np.asarray(grey, np.float64)
  dy = np.diff(g, axis=0, append=g[-1:])
  dx = np.diff(g, axis=1, append=g[:, -1:])
  return np.sqrt(dx * dx + dy * dy)


def choose_window(grey: np.ndarray, size: int) -> tuple[int, int]:
  """(top, left) of the size×size window of `grey` with the largest summed edge energy.

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
  s = np.pad(np.cumsum(np.cumsum(edge_energy(grey), 0), 1), ((1, 0), (1, 0)))
  sums = s[sh:, sw:] - s[:-sh, sw:] - s[sh:, :-sw] + s[:-sh, :-sw]  # (h − sh + 1, w − sw + 1)
  best = sums.max()
  tops, lefts = np.nonzero(sums >= best - 1e-9 * max(abs(best), 1.0))
  centre = ((h - sh) / 2, (w - sw) / 2)
  i = int(np.argmin((tops - centre[0]) ** 2 + (lefts - centre[1]) ** 2))
  return int(tops[i]), int(lefts[i])
