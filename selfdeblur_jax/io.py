"""Atomic file output: every result is written to a temporary file beside it, then renamed.

A run that is killed part-way therefore leaves each output either complete or absent, never half
written, and never destroys what an earlier run wrote until the replacement is whole. A file that cannot
be written (full disk, read-only folder) raises `WriteError`, which names it.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from selfdeblur_jax import crashpoint

_UMASK = os.umask(0)
os.umask(_UMASK)
TEMPORARIES = ".*.tmp"  # what the temporary files of write_bytes match (a killed run may leave some)


class WriteError(OSError):
  """A file that could not be written: full disk, read-only or missing folder, ... (str names it)."""


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
  """`data` into `path` atomically: a temporary file beside it, synced, then renamed over it."""
  path = Path(path)
  try:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
  except OSError as error:
    raise WriteError(error.errno, error.strerror or str(error), str(path)) from None
  try:
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
    with os.fdopen(fd, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    crashpoint.reached(f"{path.name} written")
    os.replace(tmp, path)
  except BaseException as error:
    Path(tmp).unlink(missing_ok=True)
    if isinstance(error, OSError) and not isinstance(error, WriteError):
      raise WriteError(error.errno, error.strerror or str(error), str(path)) from None
    raise
  crashpoint.reached(f"{path.name} renamed")


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
  """A float image in [0, 1] (H×W or H×W×3) as an 8-bit PNG."""
  pixels = np.round(np.clip(np.asarray(image, np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)
  write_bytes(path, iio.imwrite("<bytes>", pixels, extension=".png"))


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  write_bytes(path, buffer.getvalue())


def write_json(path: str | os.PathLike, data: Any) -> None:
  """`data` as strict JSON: NaN and ±inf (which JSON cannot hold) are written as null."""
  text = json.dumps(_finite(data), indent=2, sort_keys=True, default=_jsonable, allow_nan=False)
  write_bytes(path, (text + "\n").encode())


def _finite(value: Any) -> Any:
  if isinstance(value, dict):
    return {k: _finite(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_finite(v) for v in value]
  if isinstance(value, (float, np.floating)) and not np.isfinite(value):
    return None
  if isinstance(value, np.ndarray):
    return _finite(value.tolist())
  return value


def _jsonable(value: Any) -> Any:
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, np.ndarray):
    return value.tolist()
  if isinstance(value, Path):
    return str(value)
  raise TypeError(f"cannot write {type(value).__name__} to JSON")
