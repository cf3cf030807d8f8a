"""Shared fixtures: a tiny engine config so the suite runs in minutes on a 2-core CPU, and test images."""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path

# The suite is dominated by XLA compile time of many tiny programs; the backend's optimisation level
# changes speed, not semantics, and level 0 halves compile times here. Set before JAX starts.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
# The xdist workers and the CLI tests' subprocesses compile the same tiny programs again and again;
# JAX's persistent compilation cache (keyed by the program, the flags and the versions) shares them.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      str(Path(tempfile.gettempdir()) / f"selfdeblur-jax-tests-{getpass.getuser()}" / "xla"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import imageio.v3 as iio
import jax
import matplotlib.cbook
import numpy as np
import pytest

from selfdeblur_jax import train

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LEVIN = SHARED / "datasets" / "levin"

# A small G_x/G_k: 2 scales of 8 channels (skip 4), one 32-unit hidden layer. Same code paths as the
# full networks (non-local block at the last scale included), a fraction of the cost.
TINY = {
    "num_steps": 12,
    "chunk_size": 5,
    "model_x": {"channels": 8, "skip_channels": 4, "num_scales": 2, "nonlocal_from_scale": 1},
    "model_k": {"hidden": (32,)},
    "loss": {"switch_step": 6},
    "optim": {"boundaries": (4, 8, 10)},
}


_MAPS = Path("/proc/self/maps")
_MAX_MAPPINGS = 20_000  # Linux's default vm.max_map_count is 65 530


@pytest.fixture(autouse=True)
def _release_compiled_programs():
  """Drop the compiled programs once the process holds many memory mappings. The suite compiles
  hundreds of small programs in one process; kept alive, their executables exhaust the process's
  mappings (vm.max_map_count) and XLA aborts or segfaults in a later compile."""
  yield
  if _MAPS.exists() and _MAPS.read_text().count("\n") > _MAX_MAPPINGS:
    for cached in (train.compiled_init, train.compiled_runner, train.compiled_outputs):
      cached.cache_clear()
    jax.clear_caches()


def grey_photo() -> np.ndarray:
  """Matplotlib's bundled Grace Hopper photo as float32 grey in [0, 1] (no download needed)."""
  rgb = iio.imread(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
  return (rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0).astype(np.float32)


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
  return grey_photo()


@pytest.fixture(scope="session")
def small_image(photo) -> np.ndarray:
  """A 20×20 grey crop with texture, for training tests."""
  return np.ascontiguousarray(photo[200:220, 230:250])
