"""What the benchmark tools share: the repository's paths, the data check and two machine measurements."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
RESULTS = REPO / "benchmarks" / "results"
LEVIN_DATA = REPO.parent / "shared" / "datasets" / "levin"  # SPEC's shared data, beside the checkout


def config_file(name: str) -> str:
  """configs/<name> as `load_config_file` takes it."""
  return str(CONFIGS / name)


def require_data(data_dir: Path, tool: str) -> None:
  """Exits with a usage error when the Levin images are not at data_dir."""
  if not Path(data_dir).is_dir():
    sys.exit(f"{tool}: error: no Levin data at {data_dir}; pass --data_dir")


def peak_rss_kib() -> float:
  """The process's peak resident set size in KiB (Linux's unit for ru_maxrss)."""
  return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def matmul_rate(n: int, precision: str = "default", repeats: int = 10) -> float:
  """Achieved FLOP/s of an n×n matrix product: what this device does on dense work at a precision
  ('highest', 'default', or 'bfloat16': bfloat16 operands)."""
  import jax
  import jax.numpy as jnp

  dtype = jnp.bfloat16 if precision == "bfloat16" else jnp.float32
  a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32).astype(dtype)
  with jax.default_matmul_precision("highest" if precision == "highest" else None):
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
      out = f(a)
    out.block_until_ready()
  return 2 * n**3 * repeats / (time.perf_counter() - start)
