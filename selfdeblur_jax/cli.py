"""`deblur`: SelfDeblur on files, directories or globs, configured by ml_collections config files.

  deblur --config=configs/levin.py --config.data_dir=../shared/datasets/levin --workdir=runs/levin

Writes, per image, `<name>_x.png`, `<name>_k.png`, `<name>.npz` and `<name>_progress.png`, and a
`summary.json` for the run; checkpoints the batched state every `checkpoint_every` steps, and with
`--resume` continues a killed run to the same result. Exit status: 0 all images done, 1 some images
could not be used or failed, 2 the run could not start (bad config, input or workdir).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging as pylogging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import flax
import jax
import jaxlib
import ml_collections
import numpy as np
import optax
from absl import app, flags, logging
from ml_collections import config_flags
from tqdm import tqdm

from selfdeblur_jax import __version__, checkpoint
from selfdeblur_jax.api import collect_results, group_by_shape, init_batch, validate_kernel_size
from selfdeblur_jax.app_config import engine_config
from selfdeblur_jax.color import ycbcr_to_rgb
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.data import ImageError
from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.figures import progress_figure
from selfdeblur_jax.io import write_json, write_npz, write_png
from selfdeblur_jax.physics.blur import crop_to_image, crop_to_kernel
from selfdeblur_jax.problems import Item, load_items
from selfdeblur_jax.sharding import num_shards
from selfdeblur_jax.train import compiled_outputs, train

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file, e.g. configs/levin.py.",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "workdir", "Directory for results and checkpoints.")
_RESUME = flags.DEFINE_bool("resume", False, "Continue from the checkpoints in --workdir; images "
                            "whose results are complete are not recomputed.")
_QUIET = flags.DEFINE_bool("quiet", False, "No progress bar; warnings and errors only.")


class RunError(Exception):
  """A problem that stops the run before any work, reported as one line (exit status 2)."""


def _fail(message: str, status: int) -> None:
  print(f"deblur: error: {message}", file=sys.stderr)
  sys.exit(status)


@contextlib.contextmanager
def _compile_timer():
  """Collects XLA compile seconds reported by JAX's monitoring events while active."""
  seconds = [0.0]

  def listener(event: str, duration: float, **_: Any) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
      seconds[0] += duration

  jax.monitoring.register_event_duration_secs_listener(listener)
  try:
    yield seconds
  finally:
    jax.monitoring.unregister_event_duration_listener(listener)


def _check_workdir(workdir: Path) -> None:
  try:
    (workdir / "checkpoints").mkdir(parents=True, exist_ok=True)
    probe = workdir / ".write_test"
    probe.write_bytes(b"")
    probe.unlink()
  except OSError as error:
    raise RunError(f"workdir {workdir} cannot be written ({error.strerror}); choose another with "
                   "--workdir") from None


def _batches(items: list[Item], max_batch_size: int) -> list[list[Item]]:
  """Items grouped by image shape (one XLA program each), then split to at most max_batch_size."""
  groups = group_by_shape([item.y.shape for item in items], max(int(max_batch_size), 1))
  return [[items[i] for i in group] for group in groups]


def _outputs_complete(workdir: Path, item: Item) -> bool:
  return all((workdir / f"{item.name}{suffix}").exists()
             for suffix in ("_x.png", "_k.png", ".npz", "_progress.png"))


def _snapshot_steps(num_steps: int, chunk: int, count: int) -> list[int]:
  """Chunk boundaries closest to `count` evenly spaced steps (where x and k can be looked at)."""
  boundaries = sorted(set(list(range(chunk, num_steps, chunk)) + [num_steps]))
  targets = np.linspace(num_steps / max(count, 1), num_steps, max(count, 1))
  return sorted({min(boundaries, key=lambda b: abs(b - t)) for t in targets})


class BatchRunner:
  """Runs one batch of equal-shaped problems with checkpoints, snapshots and progress."""

  def __init__(self, items: list[Item], index: int, config: ml_collections.ConfigDict,
               workdir: Path, progress) -> None:
    self.items, self.index, self.config, self.workdir = items, index, config, workdir
    self.engine = resolve_config(engine_config(config))
    self.support = max(item.kernel_size for item in items)
    # Named by the batch's images, so that a resumed run (which skips finished images and may number
    # its batches differently) finds each batch's own checkpoint.
    names = "\n".join(item.name for item in items).encode()
    self.checkpoint_path = workdir / "checkpoints" / f"batch_{hashlib.sha1(names).hexdigest()[:12]}.msgpack"
    self.progress = progress
    self.snapshot_at = _snapshot_steps(self.engine.num_steps, self.engine.chunk_size,
                                       int(config.figure_steps))
    self.snapshots: dict[str, list] = {item.name: [] for item in items}

  def run(self, resume: bool) -> dict[str, Any]:
    batch = [(item.y, item.kernel_size, int(self.engine.seed)) for item in self.items]
    with _compile_timer() as compile_seconds:
      started = time.perf_counter()
      states, problems = init_batch(batch, self.support, self.engine)
      start_step = 0
      if resume and self.checkpoint_path.exists():
        states = self._restore(states)
        start_step = int(np.max(states.step))
        logging.info("batch %d: resumed at step %d from %s", self.index, start_step,
                     self.checkpoint_path)
      self.progress.update(start_step * len(self.items))
      last = [start_step]

      def on_chunk(step: int, states) -> None:
        self.progress.update((step - last[0]) * len(self.items))
        last[0] = step
        if step in self.snapshot_at:
          self._snapshot(step, states, problems)
        every = int(self.config.checkpoint_every)
        if every and (step // every > (step - self.engine.chunk_size) // every or
                      step == self.engine.num_steps):
          checkpoint.save(self.checkpoint_path, states, self._checkpoint_extra())

      states = train(states, problems, self.engine, self.support, on_chunk)
      results = collect_results(states, problems, batch, self.support, self.engine)
      seconds = time.perf_counter() - started
    for item, result in zip(self.items, results):
      self._write(item, result)
    return {"batch": self.index, "images": [item.name for item in self.items],
            "support_size": self.support, "compile_seconds": round(compile_seconds[0], 3),
            "run_seconds": round(seconds - compile_seconds[0], 3), "start_step": start_step,
            "results": results}

  def _restore(self, template):
    states, extra = checkpoint.restore(self.checkpoint_path, jax.device_get(template))
    names = [item.name for item in self.items]
    if list(extra.get("names", {}).values()) != names:
      raise RunError(f"{self.checkpoint_path} holds another batch; remove it or use a fresh --workdir")
    for name, snaps in extra["snapshots"].items():
      self.snapshots[name] = [(int(s), x, k) for s, x, k in zip(snaps["steps"], snaps["x"], snaps["k"])]
    return jax.tree.map(jax.numpy.asarray, states)

  def _checkpoint_extra(self) -> dict[str, Any]:
    """Host-side state that a resumed run needs too: which images, and the figure's snapshots."""
    snapshots = {}
    for item in self.items:
      snaps = self.snapshots[item.name]
      snapshots[item.name] = {
          "steps": np.asarray([s for s, _, _ in snaps], np.int64),
          "x": np.stack([x for _, x, _ in snaps]) if snaps else np.zeros((0, *item.y.shape), np.float32),
          "k": np.stack([k for _, _, k in snaps]) if snaps else np.zeros((0, item.kernel_size,
                                                                          item.kernel_size), np.float32),
      }
    return {"names": {str(i): item.name for i, item in enumerate(self.items)}, "snapshots": snapshots}

  def _snapshot(self, step: int, states, problems) -> None:
    outputs = compiled_outputs(ml_collections.FrozenConfigDict(self.engine), self.support,
                               num_shards(len(self.items)))
    x_latent, kernels = jax.device_get(outputs(states, problems))
    for b, item in enumerate(self.items):
      x = crop_to_image(x_latent[b], item.y.shape)
      k = crop_to_kernel(kernels[b], item.kernel_size)
      self.snapshots[item.name].append((step, np.asarray(x), np.asarray(k)))

  def _write(self, item: Item, result) -> None:
    out = self.workdir
    x = result.x
    if item.chroma is not None:
      write_png(out / f"{item.name}_x.png", ycbcr_to_rgb(np.concatenate([x[..., None], item.chroma], -1)))
    else:
      write_png(out / f"{item.name}_x.png", x)
    write_png(out / f"{item.name}_k.png", result.kernel / max(float(result.kernel.max()), 1e-12))
    write_npz(out / f"{item.name}.npz", x=x, k=result.kernel, x_latent=result.x_latent,
              loss_history=result.loss_history, y=item.y)
    switch = self.engine.loss.switch_step if self.engine.loss.data_term == "mse_then_ssim" else None
    progress_figure(out / f"{item.name}_progress.png", f"{item.name} (K={item.kernel_size})", item.y,
                    self.snapshots[item.name], result.loss_history, switch)


def _versions() -> dict[str, str]:
  return {"selfdeblur_jax": __version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__,
          "flax": flax.__version__, "optax": optax.__version__, "numpy": np.__version__,
          "python": platform.python_version()}


def deblur(config: ml_collections.ConfigDict, workdir: Path, resume: bool, quiet: bool) -> int:
  """The program; returns the exit status."""
  if config.kernel_size:
    try:
      validate_kernel_size(config.kernel_size, name="kernel_size")
    except ValueError as error:
      raise RunError(f"{error} (--config.kernel_size)") from None
  try:
    resolve_config(engine_config(config))
  except ValueError as error:
    raise RunError(str(error)) from None
  try:
    items, errors = load_items(config)
  except ImageError as error:
    raise RunError(str(error)) from None
  for message in errors:
    print(f"deblur: error: {message}", file=sys.stderr)
  if not items:
    if errors:  # each already reported on its own line
      return 2
    raise RunError("no usable image")
  _check_workdir(workdir)

  summary: dict[str, Any] = {
      "config": config.to_dict(), "versions": _versions(),
      "device": str(jax.devices()[0]), "backend": jax.default_backend(),
      "images": {}, "batches": [], "errors": errors,
  }
  todo = [item for item in items if not (resume and _outputs_complete(workdir, item))]
  skipped = [item.name for item in items if item not in todo]
  if skipped:
    logging.info("resume: %d image(s) already complete: %s", len(skipped), ", ".join(skipped))
  if resume and (workdir / "summary.json").exists():
    summary["images"] = {k: v for k, v in json.loads((workdir / "summary.json").read_text())
                         .get("images", {}).items() if k in skipped}
  batches = _batches(todo, config.max_batch_size)
  total = sum(len(b) for b in batches) * int(config.num_steps)
  status = 1 if errors else 0
  with tqdm(total=total, unit="img·step", disable=quiet, dynamic_ncols=True,
            desc="deblur") as progress:
    for index, batch in enumerate(batches):
      logging.info("batch %d: %d image(s) of %d×%d, kernel sizes %s", index, len(batch),
                   *batch[0].y.shape, [item.kernel_size for item in batch])
      try:
        record = BatchRunner(batch, index, config, workdir, progress).run(resume)
      except RunError:
        raise
      except Exception as error:  # one batch failing must not lose the others
        message = f"batch {index} ({', '.join(i.name for i in batch)}) failed: {error}"
        print(f"deblur: error: {message}", file=sys.stderr)
        summary["errors"].append(message)
        status = 1
        continue
      for item, result in zip(batch, record.pop("results")):
        entry = {"source": item.source, "kernel_size": item.kernel_size, "seed": result.seed,
                 "final_loss": float(result.loss_history[-1]), "batch": index,
                 "outputs": [f"{item.name}{s}" for s in ("_x.png", "_k.png", ".npz", "_progress.png")]}
        if item.sharp is not None:  # synthetic: score against the sharp crop, Levin-style alignment
          border = max(item.y.shape) // 10
          entry["psnr_blurry"] = float(evaluate(item.y, item.sharp, 5, border).psnr)
          entry["psnr_deblurred"] = float(evaluate(np.clip(result.x, 0, 1), item.sharp, 5, border).psnr)
        summary["images"][item.name] = entry
      summary["batches"].append(record)
      write_json(workdir / "summary.json", summary)
  write_json(workdir / "summary.json", summary)
  done = len(summary["images"])
  logging.info("%d image(s) done, %d error(s); results in %s", done, len(summary["errors"]), workdir)
  if not quiet:
    print(f"deblur: {done} image(s) written to {workdir}" +
          (f", {len(summary['errors'])} error(s)" if summary["errors"] else ""))
  return status


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    _fail(f"unexpected arguments {' '.join(argv[1:])}; settings go in --config.KEY=VALUE", 2)
  try:
    config = _CONFIG.value
    if config is None:
      _fail("no config: pass --config=configs/demo.py (or another file in configs/)", 2)
    config.keys()  # config_flags loads the file lazily: surface its errors here
  except (OSError, SyntaxError, AttributeError, KeyError, TypeError, ValueError) as error:
    _fail(f"cannot load --config: {_one_line(error)}", 2)
  logging.set_verbosity(logging.WARNING if _QUIET.value else logging.INFO)
  pylogging.getLogger("jax").setLevel(pylogging.WARNING)  # not JAX's backend probing
  try:
    status = deblur(config, Path(_WORKDIR.value), _RESUME.value, _QUIET.value)
  except RunError as error:
    _fail(str(error), 2)
  except KeyboardInterrupt:
    _fail("interrupted; continue with --resume", 130)
  sys.exit(status)


def _one_line(error: BaseException) -> str:
  text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
  text = str(text).replace("\\n", "\n").replace("\\'", "'")  # config_flags nests reprs
  return " ".join(part.strip() for part in str(text).splitlines() if part.strip()) or type(error).__name__


def _parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, with any error (also from config files and overrides) as one line."""
  try:
    return flags.FLAGS(argv)
  except Exception as error:  # config_flags raises KeyError, AttributeError, ... as well
    _fail(f"{_one_line(error)} (see --helpfull)", 2)


def run() -> None:
  """Console-script entry point."""
  app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
  run()
