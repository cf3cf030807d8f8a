"""Levin et al.'s (CVPR 2009) scoring protocol: align up to a sub-pixel shift, then measure.

Blind deconvolution recovers (x, k) only up to a translation, so an estimate is compared with
the ground truth at its best shift. This mirrors `comp_upto_shift.m` (Levin; SelfDeblur's
`statistic/`): crop `border` = 15 px from each side of the ground truth, move the estimate by
every shift s = (sy, sx) in −m..+m with step 0.25 px (bilinear interpolation, `interp2`), and
keep the shift with the least sum of squared differences (SSD). The aligned estimate is
`aligned[r, c] = estimate(border + r + sy, border + c + sx)`.

The search is exhaustive. For each of the 16 fractional parts (fy, fx) the interpolated image J
is formed once; its SSD against the cropped ground truth G at every integer offset o is
Σ J²(window at o) − 2·(J ⋆ G)(o) + Σ G², with the window sums from an integral image and the
cross-correlation from one FFT (float64). Shifts whose FFT-computed SSD lies within a rounding
tolerance of the minimum are re-scored directly, so the result equals a direct exhaustive search.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from selfdeblur_jax.evaluation import metrics

BORDER = 15
STEP = 0.25
_FRACTIONS = (0.0, 0.25, 0.5, 0.75)


@dataclasses.dataclass(frozen=True)
class Alignment:
  """The estimate at its best shift, cropped like the ground truth."""
  aligned: np.ndarray  # (H − 2·border, W − 2·border), float64
  shift: tuple[float, float]  # (sy, sx) in pixels
  ssd: float  # Σ (aligned − cropped ground truth)²


@dataclasses.dataclass(frozen=True)
class Scores:
  """Levin-protocol scores of one estimate (metrics on the aligned, border-cropped images)."""
  psnr: float
  ssim: float
  ssd: float
  shift: tuple[float, float]


def _interp_rows(img: np.ndarray, f: float) -> np.ndarray:
  """(1 − f)·img[q] + f·img[q + 1] along axis 0, same size (last row edge-replicated)."""
  nxt = np.concatenate([img[1:], img[-1:]], axis=0)
  return (1.0 - f) * img + f * nxt


def _shifted(sub: np.ndarray, sy: float, sx: float, m: int, out_shape: tuple[int, int]):
  """sub sampled at (m + r + sy, m + c + sx), bilinear; sub covers the search margin m."""
  ny, fy = int(np.floor(sy)), sy - np.floor(sy)
  nx, fx = int(np.floor(sx)), sx - np.floor(sx)
  j = _interp_rows(_interp_rows(sub, fy).T, fx).T
  return j[m + ny:m + ny + out_shape[0], m + nx:m + nx + out_shape[1]]


def _window_sums(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
  """Sums of `a` over every window of `shape` (valid positions), via an integral image."""
  s = np.pad(np.cumsum(np.cumsum(a, 0), 1), ((1, 0), (1, 0)))
  h, w = shape
  return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]


def _ssd_grid(sub: np.ndarray, gt: np.ndarray, m: int) -> np.ndarray:
  """SSD for every shift on the 0.25 px grid; entry [ty, tx] is shift (−m + ty/4, −m + tx/4)."""
  n = 8 * m + 1
  grid = np.full((n, n), np.inf)
  gt_fft = np.conj(np.fft.rfft2(gt, sub.shape))
  gt_energy = np.sum(gt * gt)
  for iy, fy in enumerate(_FRACTIONS):
    rows = _interp_rows(sub, fy)
    for ix, fx in enumerate(_FRACTIONS):
      j = _interp_rows(rows.T, fx).T
      cross = np.fft.irfft2(np.fft.rfft2(j) * gt_fft, sub.shape)[:2 * m + 1, :2 * m + 1]
      ssd = _window_sums(j * j, gt.shape) - 2.0 * cross + gt_energy
      # Offset o and fraction f give shift −m + o + f; drop shifts beyond +m.
      ty, tx = 4 * np.arange(2 * m + 1) + iy, 4 * np.arange(2 * m + 1) + ix
      keep_y, keep_x = ty < n, tx < n
      grid[np.ix_(ty[keep_y], tx[keep_x])] = ssd[np.ix_(keep_y, keep_x)]
  return grid


def align(estimate, ground_truth, max_shift: int = 5, border: int = BORDER) -> Alignment:
  """Best-shift alignment of `estimate` to `ground_truth` (both H×W), Levin's protocol.

  `max_shift` is m (the authors' scripts use 10; "usually 5 is enough"); m ≤ border.
  """
  est = np.asarray(estimate, np.float64)
  gt_full = np.asarray(ground_truth, np.float64)
  if est.shape != gt_full.shape or est.ndim != 2:
    raise ValueError(f"estimate {est.shape} and ground truth {gt_full.shape} must be equal H×W")
  m = int(max_shift)
  if not 0 <= m <= border:
    raise ValueError(f"max_shift must lie in [0, border={border}], got {max_shift}")
  h, w = est.shape[0] - 2 * border, est.shape[1] - 2 * border
  gt = gt_full[border:border + h, border:border + w]
  sub = est[border - m:border + h + m, border - m:border + w + m]

  grid = _ssd_grid(sub, gt, m)
  tol = 1e-10 * max(float(np.sum(gt * gt)), 1.0)
  best = None
  for ty, tx in np.argwhere(grid <= grid.min() + tol):  # row-major order breaks exact ties
    shift = (-m + STEP * ty, -m + STEP * tx)
    aligned = _shifted(sub, *shift, m, gt.shape)
    ssd = float(np.sum((aligned - gt) ** 2))
    if best is None or ssd < best.ssd:
      best = Alignment(aligned, (float(shift[0]), float(shift[1])), ssd)
  return best


def evaluate(estimate, ground_truth, max_shift: int = 5, border: int = BORDER) -> Scores:
  """PSNR / SSIM / SSD of `estimate` against `ground_truth` (same H×W) at the best shift.

  The estimate is scored as given (no clipping); the authors scored 8-bit PNGs, so callers may
  clip to [0, 1] first (benchmarks/known_kernel.py does).
  """
  al = align(estimate, ground_truth, max_shift, border)
  h, w = al.aligned.shape
  gt = np.asarray(ground_truth, np.float64)[border:border + h, border:border + w]
  return Scores(psnr=float(metrics.psnr(al.aligned, gt)), ssim=float(metrics.ssim(al.aligned, gt)),
                ssd=al.ssd, shift=al.shift)


def error_ratio(estimate, known_kernel_result, ground_truth, max_shift: int = 5,
                squared: bool = True) -> float:
  """Levin et al. (2009) error ratio: SSD(aligned estimate) / SSD(aligned known-kernel result).

  The denominator is the image deconvolved non-blindly with the true kernel, both aligned with
  `align`; 1 means "as good as knowing the kernel". `squared=False` returns the square root (a
  ratio of L2 norms), which is what the SelfDeblur authors' `statistic_levin.m` computes
  (`norm(...)/norm(...)`) for their Table 3.
  """
  ratio = (align(estimate, ground_truth, max_shift).ssd
           / align(known_kernel_result, ground_truth, max_shift).ssd)
  return ratio if squared else float(np.sqrt(ratio))
