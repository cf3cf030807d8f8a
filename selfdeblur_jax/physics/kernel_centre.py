"""Moving an estimated kernel's centroid to the centre of its support.

Blind deconvolution determines the kernel only up to a translation: k shifted by d and x shifted by −d
blur to the same y. SelfDeblur's G_k often settles with the kernel's mass off-centre, and on a
support barely larger than the blur it pushes part of the mass against the support's edge. Deconvolving
y with such a kernel gives an image displaced from the input by the offset (9 px for im2_kernel6, seed 1,
on the mini profile: 19.79 dB with SPEC §6's 5-px alignment, 28.60 with a 10-px one), and the mass on
the far edge is mostly spread-out tail. Centring shifts the kernel by the integer nearest its
centroid's offset, drops what leaves the support, and renormalises: the output is registered with the
input, and the kernel keeps its size (experiments/candidates/kernel_centring.py measures both effects).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class CentredKernel:
  kernel: np.ndarray  # K×K, ≥ 0, sums to 1, centroid within half a pixel of the centre on each axis
  shift: tuple[int, int]  # (dy, dx): how far the centroid was from the centre, in whole pixels
  lost_mass: float  # the share of the kernel's mass that left the support (dropped, then renormalised)


def centroid_offset(kernel: np.ndarray) -> tuple[float, float]:
  """(dy, dx) of a kernel's centroid from the centre of its support, in pixels."""
  k = np.asarray(kernel, np.float64)
  if k.ndim != 2 or not np.all(np.isfinite(k)) or k.min() < 0 or k.sum() <= 0:
    raise ValueError("kernel must be a finite, non-negative 2-D array with positive sum")
  k = k / k.sum()
  rows, cols = np.indices(k.shape)
  return float((k * rows).sum() - (k.shape[0] - 1) / 2), float((k * cols).sum() - (k.shape[1] - 1) / 2)


def _move(k: np.ndarray, dy: int, dx: int) -> np.ndarray:
  """k moved by (−dy, −dx): out[i, j] = k[i + dy, j + dx] where that is inside the support, else 0."""
  h, w = k.shape
  moved = np.zeros_like(k)
  moved[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
      k[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
  return moved


def centre_kernel(kernel: np.ndarray, max_moves: int = 8) -> CentredKernel:
  """The kernel moved by whole pixels until its centroid is within half a pixel of its support's
  centre (same size). Dropping the mass that leaves the support moves the centroid again, so the move
  repeats (at most `max_moves` times); a centred kernel is returned unchanged."""
  k = np.asarray(kernel, np.float64)
  total = k.sum()
  shift = [0, 0]
  for _ in range(max_moves):
    dy, dx = (int(np.round(v)) for v in centroid_offset(k))
    if (dy, dx) == (0, 0):
      break
    k = _move(k, dy, dx)
    shift[0] += dy
    shift[1] += dx
  lost = 1.0 - k.sum() / total
  return CentredKernel((k / k.sum()).astype(np.float32), (shift[0], shift[1]), float(lost))


def pad_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
  """The kernel zero-padded, centred, to size×size (odd; at least its own size): the same blur on a
  wider support, so that centring it drops no mass."""
  k = np.asarray(kernel)
  if size < k.shape[0] or (size - k.shape[0]) % 2:
    raise ValueError(f"cannot pad a {k.shape[0]}×{k.shape[1]} kernel to {size}×{size}")
  m = (size - k.shape[0]) // 2
  return np.pad(k, m)


def output_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
  """A candidate's kernel as the centring output stage uses it: zero-padded to the requested `size`
  where it is smaller (centring it on its own tight support would drop the mass that crosses the
  edge and change the blur), then centred. The result is max(size, K)×max(size, K)."""
  k = np.asarray(kernel)
  return centre_kernel(pad_kernel(k, max(size, k.shape[0]))).kernel
