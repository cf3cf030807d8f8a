"""Checks of what callers hand in (images, kernel sizes, seeds): the value as the engine takes it, or a
ValueError saying what is wrong and how to fix it. Shared by the public functions (api.py), the photo
pipeline and the command line's inputs (problems.py)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfdeblur_jax.train import MAX_SEED


def validate_image(y: Any, name: str = "y") -> np.ndarray:
  """y as a float32 H×W array in [0, 1], or ValueError saying what is wrong and how to fix it."""
  try:
    array = np.asarray(y)
  except Exception as error:  # e.g. ragged nested lists
    raise ValueError(f"{name} must be an H×W array of grey values in [0, 1]: {error}") from None
  if array.ndim != 2:
    hint = " (convert colour images to grey or deblur the Y channel)" if array.ndim == 3 else ""
    raise ValueError(f"{name} must be a 2-D H×W grey image, got shape {array.shape}{hint}")
  if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
          or array.dtype == bool):
    raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
  array = array.astype(np.float32)
  if not np.all(np.isfinite(array)):
    raise ValueError(f"{name} has {int(np.sum(~np.isfinite(array)))} non-finite value(s) (NaN or inf); "
                     "clean or inpaint them first")
  if array.size and (array.min() < 0.0 or array.max() > 1.0):
    # float32's shortest repr: a value one step above 1 shows as 1.0000001, not as 1
    raise ValueError(f"{name} must have values in [0, 1], got [{array.min()!s}, {array.max()!s}]; "
                     "scale 8-bit images by 1/255, or clip")
  return array


def validate_kernel_size(kernel_size: Any, image_shape: tuple[int, int] | None = None,
                         name: str = "kernel_size") -> int:
  """kernel_size as an int, or ValueError unless it is a positive odd integer (smaller than the image)."""
  if isinstance(kernel_size, bool) or not isinstance(kernel_size, numbers.Integral):
    raise ValueError(f"{name} must be a positive odd integer, got {kernel_size!r}")
  kernel_size = int(kernel_size)
  if kernel_size < 1 or kernel_size % 2 == 0:
    raise ValueError(f"{name} must be a positive odd integer, got {kernel_size} "
                     f"(try {max(kernel_size + 1, 1) if kernel_size % 2 == 0 else 1})")
  if image_shape is not None and kernel_size >= min(image_shape):
    raise ValueError(f"{name} {kernel_size} is not smaller than the image ({image_shape[0]}×"
                     f"{image_shape[1]}); use a smaller kernel or a larger image")
  return kernel_size


def validate_seed(seed: Any, name: str = "seed") -> int:
  """seed as an int in [0, 2³² − 1] (what PRNGKey keeps), or ValueError."""
  if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
    raise ValueError(f"{name} must be an integer in [0, 2**32 - 1], got {seed!r}")
  return int(seed)


def per_problem(value: Any, count: int, name: str) -> list:
  """One value for each of `count` images: `value` repeated, or its entries (ValueError unless one per
  image)."""
  if isinstance(value, numbers.Integral) or not isinstance(value, Sequence | np.ndarray):
    return [value] * count
  value = list(value)
  if len(value) != count:
    raise ValueError(f"{name} has {len(value)} entries for {count} images; give one, or one per image")
  return value
