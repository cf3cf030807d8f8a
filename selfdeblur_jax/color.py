"""YCbCr conversion (ITU-R BT.601, full range, as JPEG and PIL use) for deblurring colour photos on Y."""

from __future__ import annotations

import numpy as np

_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                      [-0.168736, -0.331264, 0.5],
                      [0.5, -0.418688, -0.081312]])
_OFFSET = np.array([0.0, 0.5, 0.5])


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
  """H×W×3 RGB in [0, 1] -> H×W×3 YCbCr in [0, 1]."""
  return (np.asarray(rgb, np.float64) @ _TO_YCBCR.T + _OFFSET).astype(np.float32)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
  """Inverse of rgb_to_ycbcr, clipped to [0, 1]."""
  rgb = (np.asarray(ycbcr, np.float64) - _OFFSET) @ np.linalg.inv(_TO_YCBCR).T
  return np.clip(rgb, 0.0, 1.0).astype(np.float32)
