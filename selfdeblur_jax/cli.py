"""deblur: blind deconvolution of blurry photos with SelfDeblur (Ren et al., CVPR 2020), in JAX.

Usage: deblur --config=CONFIG[:robust] [--config.KEY=VALUE ...] [--workdir=DIR] [--resume] [--quiet]

  deblur --config=demo --workdir=demo_out          # a synthetic demo, no data needed
  deblur --config=default --config.data_dir=photo.png --config.kernel_size=21
  deblur --config=default:robust --config.data_dir='blurry/*.png' --config.kernel_size=21
  deblur --config=levin --config.data_dir=../shared/datasets/levin --workdir=runs/levin --resume
  deblur --config=color --config.data_dir=photo.jpg --config.kernel_size=31

CONFIG is a shipped config (demo, default, paper, levin, mini_levin, lai, color, photo) or a config
file; ':robust' runs 4 candidates per image and keeps the one a no-reference selector prefers
(photo also takes ':cpu', a smaller window and network, and ':cpu,robust'). Any
setting can be overridden with --config.KEY=VALUE (e.g. --config.num_steps=2000, a mapping as
--config.kernel_sizes="{'photo': 31}").

Options:
  --config=CONFIG[:robust]   the config (required), then --config.KEY=VALUE overrides
  --workdir=DIR              results and checkpoints (default: ./workdir)
  --resume                   continue from the checkpoints in --workdir; skip finished images
  --quiet                    no progress bar; warnings and errors only

Writes, per image, `<name>_x.png`, `<name>_k.png`, `<name>.npz` and `<name>_progress.png`, then its
record `records/<name>.json`, and a `summary.json` of every recorded image; checkpoints every
`checkpoint_every` steps. With --resume a run killed at any instant continues to the same result,
skipping recorded images (refusing checkpoints and results made with other settings). One run at a
time per workdir: another one waits for it. Exit status: 0 all images done, 1 some images could not
be used or failed, 2 the run could not start or wrote nothing (settings, inputs, a workdir that cannot
be written), 130 or 143 interrupted by Ctrl-C or SIGTERM (continue with --resume).
"""

from __future__ import annotations

import contextlib
import logging as pylogging
import os
import platform
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import flax
import jax
import jaxlib
import ml_collections
import numpy as np
import optax
from absl import app, flags, logging
from jax._src import distributed as jax_distributed  # the coordination client (no public API)
from ml_collections import config_flags
from tqdm import tqdm

from selfdeblur_jax import __version__
from selfdeblur_jax.app_config import engine_config
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.configs import NAMES as CONFIG_NAMES
from selfdeblur_jax.configs import config_path
from selfdeblur_jax.entries import summary_entry
from selfdeblur_jax.io import WriteError
from selfdeblur_jax.lock import workdir_lock
from selfdeblur_jax.outputs import output_names
from selfdeblur_jax.photo.pipeline import STATUS_NOT_IMPROVED
from selfdeblur_jax.physics.kernel_shape import CRAMPED_ABOVE, SCATTERED_BELOW, roomier_size
from selfdeblur_jax.problems import Item, Source, group_by_shape, load_sources, plan_sources
from selfdeblur_jax.records import (
  RECORDS,
  complete,
  merge_summaries,
  read_record,
  remove_temporaries,
  write_record,
  write_summary,
)
from selfdeblur_jax.results import FitResult
from selfdeblur_jax.runner import BatchRunner, RunError, fingerprint, fingerprint_difference
from selfdeblur_jax.validation import validate_kernel_size

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file, e.g. configs/levin.py.",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "workdir", "Directory for results and checkpoints.")
_RESUME = flags.DEFINE_bool("resume", False, "Continue from the checkpoints in --workdir; images "
                            "whose results are complete are not recomputed.")
_QUIET = flags.DEFINE_bool("quiet", False, "No progress bar; warnings and errors only.")
_PROCESSES = flags.DEFINE_integer("num_processes", 1, "Processes (hosts) sharing the run; each runs its "
                                  "share of the batches on its own devices (jax.distributed).")
_PROCESS_ID = flags.DEFINE_integer("process_id", 0, "This process's index in [0, num_processes).")
_COORDINATOR = flags.DEFINE_string("coordinator", "", "host:port of process 0, with --num_processes > 1.")


def _say(line: str, file) -> None:
  """One line of its own, also while the progress bar is drawn (which would otherwise run into it)."""
  tqdm.write(line, file=file)


def _fail(message: str, status: int) -> None:
  print(f"deblur: error: {message}", file=sys.stderr)
  sys.exit(status)


def _check_workdir(workdir: Path) -> None:
  try:
    for folder in ("checkpoints", RECORDS):
      (workdir / folder).mkdir(parents=True, exist_ok=True)
    # A probe of this process's own: the processes of a multi-host run check one workdir at once.
    fd, probe = tempfile.mkstemp(prefix=".write_test.", dir=workdir)
    os.close(fd)
    os.unlink(probe)
  except OSError as error:
    raise RunError(f"workdir {workdir} cannot be written ({error.strerror}); choose another with "
                   "--workdir") from None


def _check_apart(sources: list[Source], workdir: Path) -> None:
  """RunError where the workdir is the folder of an input: the outputs would land among the inputs,
  and the next run would deblur them (a_x.png into a_x_x.png)."""
  folders = {source.path.resolve().parent for source in sources if source.path is not None}
  if workdir.resolve() in folders:
    raise RunError(f"--workdir {workdir} is the folder of the input images, so the outputs would be "
                   f"read as inputs by the next run; choose another --workdir (e.g. {workdir / 'deblurred'})")


def _batches(sources: list[Source], max_batch_size: int) -> list[list[Source]]:
  """Inputs grouped by problem shape (one XLA program each), then split to at most max_batch_size."""
  groups = group_by_shape([source.shape for source in sources], max(int(max_batch_size), 1))
  return [[sources[i] for i in group] for group in groups]


def _load(sources: list[Source], config: ml_collections.ConfigDict) -> tuple[list[Item], list[str]]:
  """`load_sources`, with each error line also printed."""
  items, errors = load_sources(sources, config)
  for message in errors:
    print(f"deblur: error: {message}", file=sys.stderr)
  return items, errors


def _my_batches(todo: list[Source], config: ml_collections.ConfigDict,
                errors: list[str]) -> list[tuple[int, list[Item]]]:
  """This process's batches, (index, items), their inputs read now (read errors added to `errors`).
  Batches are formed from all images, then dealt out to the processes: a batch (and its checkpoint) is
  the same whatever the number of processes, so a run can resume under another process count."""
  batches = []
  for index, planned in enumerate(_batches(todo, config.max_batch_size)):
    if index % jax.process_count() == jax.process_index():
      batch, read_errors = _load(planned, config)
      errors += read_errors
      if batch:
        batches.append((index, batch))
  return batches


def _versions() -> dict[str, str]:
  return {"selfdeblur_jax": __version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__,
          "flax": flax.__version__, "optax": optax.__version__, "numpy": np.__version__,
          "python": platform.python_version()}


def _plan(config: ml_collections.ConfigDict) -> tuple[ml_collections.ConfigDict, list[Source], list[str]]:
  """(the resolved engine config, the inputs planned from their headers, their error lines): every
  process plans every input, with the settings checked first; RunError for a run that cannot start.
  Process 0 prints each unusable input's line."""
  if config.kernel_size:
    try:
      validate_kernel_size(config.kernel_size, name="kernel_size")
    except ValueError as error:
      raise RunError(f"{error} (--config.kernel_size)") from None
  try:
    engine = resolve_config(engine_config(config))
    sources, errors = plan_sources(config)
  except ValueError as error:  # ImageError included
    raise RunError(str(error)) from None
  if jax.process_index() > 0:
    errors = []  # every process plans the same inputs: process 0 reports them
  for message in errors:
    print(f"deblur: error: {message}", file=sys.stderr)
  return engine, sources, errors


def _finished(sources: list[Source], engine: ml_collections.ConfigDict, config: ml_collections.ConfigDict,
              workdir: Path, errors: list[str]) -> list[Source]:
  """The inputs whose results the workdir holds, recorded, made with these settings (--resume skips
  them); RunError for one made with other settings. Outputs without a record (a run stopped while
  writing them) count as unfinished."""
  finished = []
  for source in sources:
    if complete(workdir, read_record(workdir, source.name)):
      finished.append(source)
    elif all((workdir / name).exists() for name in output_names(source.name)):
      logging.info("resume: %s: its outputs have no record (a run stopped while writing them); redone",
                   source.name)
  # Checked against the settings by reading their inputs, dealt out to the processes like batches.
  mine, read_errors = _load(finished[jax.process_index()::jax.process_count()], config)
  errors += read_errors
  for item in mine:
    stored = (read_record(workdir, item.name) or {}).get("fingerprint")
    difference = fingerprint_difference(stored, fingerprint(item, engine, config))
    if difference:
      raise RunError(f"{item.name}: its finished result in {workdir} was made with other settings "
                     f"({difference}); resume with those settings, or use a fresh --workdir")
  return finished


def _entry(item: Item, result: FitResult, written: dict[str, Any], runner: BatchRunner) -> dict[str, Any]:
  """An image's summary entry (its record), with a warning line for a scattered kernel or one that
  fills its support, and a line for a photo kept as it was."""
  entry = summary_entry(item, result, written, runner.fingerprints[item.name], runner.index)
  kept = written.get("status") == STATUS_NOT_IMPROVED
  if entry["kernel_main_path_mass"] < SCATTERED_BELOW and not kept:
    _say(f"deblur: warning: {item.name}: the kernel is scattered (only "
         f"{entry['kernel_main_path_mass']:.0%} of its mass on one connected path; true motion "
         f"kernels have more than {SCATTERED_BELOW:.0%}), so the result may be worse than the input: "
         "try another kernel_size, seed, or the :robust mode", file=sys.stderr)
  elif entry["kernel_border_mass"] > CRAMPED_ABOVE and not kept:
    size = entry["kernel_size"]
    _say(f"deblur: warning: {item.name}: the kernel fills its {size}×{size} support "
         f"({entry['kernel_border_mass']:.0%} of its path on the outer ring), so the blur may be larger: "
         f"try kernel_size {roomier_size(size)} for this image", file=sys.stderr)
  if written.get("status") == STATUS_NOT_IMPROVED:
    _say(f"deblur: {item.name}: not improved, so the input is kept as {item.name}_x.png: "
         f"{written['reason']}", file=sys.stderr)
  return entry


def _record_batch(runner: BatchRunner, batch: list[Item], record: dict[str, Any], workdir: Path,
                  errors: list[str]) -> list[str]:
  """Record each image of a finished batch (its outputs are written); the names recorded. An image
  whose every candidate failed has no outputs: its error line instead."""
  recorded = []
  for item, result, written in zip(batch, record.pop("results"), record.pop("written")):
    if result.status != "ok":
      steps = result.candidates[result.chosen].steps
      message = (f"{item.source}: the loss became non-finite at step {steps} in every candidate; "
                 "nothing written (check the learning rates and the input)")
      _say(f"deblur: error: {message}", file=sys.stderr)
      errors.append(message)
      continue
    write_record(workdir, item.name, _entry(item, result, written, runner))
    recorded.append(item.name)
  return recorded


def _take_workdir(workdir: Path, held: contextlib.ExitStack) -> None:
  """Process 0 locks the workdir for this run (another run there: a line saying so, then it waits for
  it to end) and clears the temporary files of killed runs; the other processes wait until it has."""
  if jax.process_index() == 0:
    held.enter_context(workdir_lock(workdir, on_wait=lambda holder: print(
        f"deblur: {workdir} is in use by another run ({holder}); waiting for it to end (Ctrl-C to stop)",
        file=sys.stderr, flush=True)))
    remove_temporaries(workdir)
  _wait_for_all_processes("selfdeblur_jax_workdir_taken")


def deblur(config: ml_collections.ConfigDict, workdir: Path, resume: bool, quiet: bool,
           held: contextlib.ExitStack | None = None) -> int:
  """The program; returns the exit status. The workdir's lock is kept on `held` (main releases it once
  the processes' summaries are merged), or released on return."""
  with contextlib.ExitStack() as own:
    return _deblur(config, workdir, resume, quiet, own if held is None else held)


def _deblur(config: ml_collections.ConfigDict, workdir: Path, resume: bool, quiet: bool,
            held: contextlib.ExitStack) -> int:
  engine, sources, errors = _plan(config)
  if not sources:
    if errors:  # each already reported on its own line
      return 2
    raise RunError("no usable image")
  _check_apart(sources, workdir)
  _check_workdir(workdir)
  _take_workdir(workdir, held)

  finished = _finished(sources, engine, config, workdir, errors) if resume else []
  todo = [source for source in sources if source not in finished]
  skipped = [source.name for source in finished]
  if skipped:
    logging.info("resume: %d image(s) already complete: %s", len(skipped), ", ".join(skipped))
  # summary.json: this run's settings, batches and errors, and every image the workdir holds recorded
  # (earlier images stay listed: a failed or partial rerun never drops them).
  run = {"config": config.to_dict(), "versions": _versions(), "device": str(jax.local_devices()[0]),
         "backend": jax.default_backend()}
  batches = _my_batches(todo, config, errors)
  if not batches and not skipped and errors and jax.process_count() == 1:
    return 2  # nothing ran: every input was refused, each on its own line
  runners = [BatchRunner(batch, index, engine, config, workdir, None) for index, batch in batches]
  if resume:
    for runner in runners:
      runner.check_resume()
  done = list(skipped) if jax.process_index() == 0 else []  # this process's images, recorded
  try:
    status = _run_batches(batches, runners, workdir, resume, quiet, run, errors, done)
  except WriteError as error:  # a full disk, a workdir made read-only: the next batch would fail too
    message = (f"{workdir} cannot be written ({error.strerror}: {error.filename}); free some space or "
               "choose another --workdir, then continue with --resume")
    if not done:
      raise RunError(message) from None  # nothing written: as a run that could not start
    print(f"deblur: error: {message}", file=sys.stderr)
    errors.append(message)
    status = 1
  logging.info("%d image(s) done, %d error(s); results in %s", len(done), len(errors), workdir)
  if not quiet:
    print(f"deblur: {len(done)} image(s) written to {workdir}" + (f", {len(errors)} error(s)" if errors else ""))
  return status


def _run_batches(batches: list[tuple[int, list[Item]]], runners: list[BatchRunner], workdir: Path,
                 resume: bool, quiet: bool, run: dict[str, Any], errors: list[str], done: list[str]) -> int:
  """Run this process's batches, recording each finished image (into `done`) and rewriting the summary
  after each batch; the exit status. WriteError stops the run: the workdir cannot take its results."""
  status = 1 if errors else 0
  records: list[dict[str, Any]] = []
  total = sum(runner.search.planned_work() for runner in runners)  # candidate·steps
  with tqdm(total=total, unit="step", disable=quiet, dynamic_ncols=True, desc="deblur") as progress:
    for (index, batch), runner in zip(batches, runners):
      runner.progress = progress
      logging.info("batch %d: %d image(s) of %d×%d, kernel sizes %s, %d candidate(s) in %d program(s)",
                   index, len(batch), *batch[0].y.shape, [item.kernel_size for item in batch],
                   len(runner.search.specs), len(runner.search.groups))
      try:
        record = runner.run(resume)
      except (RunError, WriteError):
        raise
      except Exception as error:  # one batch failing must not lose the others
        message = f"batch {index} ({', '.join(i.name for i in batch)}) failed: {error}"
        _say(f"deblur: error: {message}", file=sys.stderr)
        errors.append(message)
        status = 1
        continue
      recorded = _record_batch(runner, batch, record, workdir, errors)
      status = status if len(recorded) == len(batch) else 1
      done += recorded
      records.append(record)
      write_summary(workdir, run, records, errors)
  write_summary(workdir, run, records, errors)
  return status


class _Terminated(KeyboardInterrupt):
  """SIGTERM, raised as Ctrl-C's KeyboardInterrupt is, so that both end the run the same way."""


def _on_sigterm(signum: int, frame: Any) -> None:
  raise _Terminated()


def main(argv: list[str]) -> None:
  signal.signal(signal.SIGTERM, _on_sigterm)  # `kill`, a batch system's stop: as Ctrl-C
  if len(argv) > 1:
    _fail(f"unexpected arguments {' '.join(argv[1:])}; settings go in --config.KEY=VALUE", 2)
  try:
    config = _CONFIG.value
    if config is None:
      _fail(f"no config: pass --config=NAME, one of {', '.join(CONFIG_NAMES)} (e.g. --config=demo), "
            "or a config file", 2)
    config.keys()  # config_flags loads the file lazily: surface its errors here
  except (OSError, SyntaxError, AttributeError, KeyError, TypeError, ValueError) as error:
    _fail(f"cannot load --config: {_one_line(error)}", 2)
  logging.set_verbosity(logging.WARNING if _QUIET.value else logging.INFO)
  pylogging.getLogger("jax").setLevel(pylogging.WARNING)  # not JAX's backend probing
  processes = _PROCESSES.value
  if processes < 1:
    _fail(f"--num_processes must be at least 1, got {processes}", 2)
  if processes > 1:
    if not 0 <= _PROCESS_ID.value < processes or not _COORDINATOR.value:
      _fail(f"--num_processes={processes} needs --process_id in [0, {processes}) and "
            "--coordinator=HOST:PORT (process 0's address)", 2)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU hosts talk over gloo
    jax.distributed.initialize(_COORDINATOR.value, processes, _PROCESS_ID.value)
  with contextlib.ExitStack() as held:  # the workdir's lock, until the summaries are merged
    try:
      status = deblur(config, Path(_WORKDIR.value), _RESUME.value, _QUIET.value, held)
    except RunError as error:
      _fail(str(error), 2)
    except KeyboardInterrupt as stop:  # Ctrl-C (SIGINT) or SIGTERM
      _fail("interrupted; continue with --resume", 143 if isinstance(stop, _Terminated) else 130)
    finally:
      if processes > 1:  # every process gets here, also after an error, so that none waits forever
        _wait_for_all_processes("selfdeblur_jax_run_done")
        if jax.process_index() == 0:
          merge_summaries(Path(_WORKDIR.value), processes)
  sys.exit(status)


# Processes finish their shares hours apart; the barrier waits for the slowest (a process that dies is
# reported by the coordination service's heartbeats well before this).
_BARRIER_TIMEOUT_MS = 7 * 24 * 3600 * 1000


def _wait_for_all_processes(name: str) -> None:
  """Block until every process of the run gets here. A barrier of jax.distributed's coordination
  service, not a collective: `multihost_utils.sync_global_devices` is a gloo all-reduce on the CPU,
  whose first use times out after 30 s, so a process whose share ended earlier failed waiting."""
  client = jax_distributed.global_state.client  # what JAX's own array serialization waits on
  if client is not None:
    client.wait_at_barrier(name, timeout_in_ms=_BARRIER_TIMEOUT_MS)


def _one_line(error: BaseException) -> str:
  """The error's message on one line; of a traceback nested in it (config_flags puts the traceback of
  an error inside a config file into its message), only the error itself."""
  text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
  text = str(text).replace("\\n", "\n").replace("\\'", "'")  # config_flags nests reprs
  head, traceback, tail = text.partition("Traceback (most recent call last):")
  if traceback:
    raised = [line.strip() for line in tail.splitlines() if line.strip()][-1:]
    text = " ".join([head.strip(), *(line.removeprefix("ValueError: ") for line in raised)])
  return " ".join(part.strip() for part in str(text).splitlines() if part.strip()) or type(error).__name__


def _parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, with any error (also from config files and overrides) as one line."""
  try:
    return flags.FLAGS(argv)
  except Exception as error:  # config_flags raises KeyError, AttributeError, ... as well
    entries = [t.split("=")[0] for t in argv if t.startswith("--config.kernel_sizes.")]
    if entries:  # config_flags cannot add keys to the empty mapping one by one
      name = entries[0].removeprefix("--config.kernel_sizes.")
      _fail(f"{entries[0]}: per-file kernel sizes are one mapping; write it whole, e.g. "
            f"--config.kernel_sizes=\"{{'{name}': 21}}\"", 2)
    text = _one_line(error)
    _, parsing, raised = text.partition("Error whilst parsing config file:")
    _fail(f"--config: {raised.strip()}" if parsing else f"{text} (see --help)", 2)


def _config_argument(argv: list[str]) -> list[str]:
  """argv with `--config=NAME[:arg]` pointing at the shipped config NAME where no such file exists
  (also for `configs/NAME.py` outside a source checkout); one-line error if neither exists."""
  argv = list(argv)
  for i, token in enumerate(argv):
    if token == "--config" and i + 1 < len(argv):
      argv[i:i + 2] = [f"--config={argv[i + 1]}"]
  for i, token in enumerate(argv):
    if not token.startswith("--config="):
      continue
    path, sep, arg = token[len("--config="):].partition(":")
    if Path(path).is_file():
      continue
    candidate = Path(path)
    name = candidate.stem if (candidate.suffix == ".py" and candidate.parent.name in ("configs", "")) else path
    shipped = config_path(name)
    if shipped is None:
      _fail(f"--config: no config file {path}; use a file or a shipped config: {', '.join(CONFIG_NAMES)}"
            " (e.g. --config=demo)", 2)
    argv[i] = f"--config={shipped}{sep}{arg}"
  return argv


def run() -> None:
  """Console-script entry point."""
  sys.modules["__main__"].__doc__ = __doc__  # what --help prints
  flags.adopt_module_key_flags(sys.modules[__name__])
  sys.argv = _config_argument(sys.argv)
  app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
  run()
