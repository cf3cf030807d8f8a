"""Checkpoint formats, measured (issue #10 asks for orbax unless a measurement says otherwise):
save and restore time of one mini-profile batch state (4 problems) with our Flax-msgpack file
(`selfdeblur_jax/checkpoint.py`, written atomically) and with orbax's StandardCheckpointer.
Backs benchmarks/RESULTS.md, "Checkpoints".

  python -m experiments.checkpoints.checkpoint_formats   # prints the figures and writes them as JSON

Best of 3 for each; orbax's save includes waiting for its background write to finish.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks.common import RESULTS
from benchmarks.levin import profile_config

from selfdeblur_jax import checkpoint
from selfdeblur_jax.app_config import engine_config
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.io import write_json
from selfdeblur_jax.train import init_batch


def best_of(fn, repeats: int = 3) -> float:
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return min(times)


def main() -> None:
  config = resolve_config(engine_config(profile_config("mini")))
  rng = np.random.default_rng(0)
  states, _ = init_batch([(rng.random((128, 128), np.float32), 15, seed) for seed in range(4)], 15, config)
  host = jax.device_get(states)
  extra = {"scores": np.zeros(4), "fingerprint": "test"}
  result = {"state_mib": sum(a.nbytes for a in jax.tree.leaves(host)) / 2**20, "device": str(jax.devices()[0])}
  with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "batch.msgpack"
    result["msgpack_save_s"] = best_of(lambda: checkpoint.save(path, host, extra))
    result["msgpack_restore_s"] = best_of(lambda: checkpoint.restore(path, host))
    start = time.perf_counter()
    import orbax.checkpoint as ocp
    result["orbax_import_s"] = time.perf_counter() - start
    checkpointer, where = ocp.StandardCheckpointer(), Path(tmp) / "orbax"

    def orbax_save():
      shutil.rmtree(where, ignore_errors=True)
      checkpointer.save(where, {"states": host})
      checkpointer.wait_until_finished()

    result["orbax_save_s"] = best_of(orbax_save)
    result["orbax_restore_s"] = best_of(lambda: checkpointer.restore(where, {"states": host}))
  write_json(RESULTS / "checkpoint_formats.json", result)
  print(", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))


if __name__ == "__main__":
  main()
