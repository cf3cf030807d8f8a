"""One batch of images run to the end: its candidates, resumable checkpoints that record what defines
each result (refused on --resume when the settings or the image changed), the snapshots for the
progress figure, and progress. As the batch ends, each finished image is finished (photo mode: the
whole photo restored, photo/pipeline.py) and its files written (outputs.py)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import logging

from selfdeblur_jax import checkpoint, crashpoint
from selfdeblur_jax.app_config import PHOTO_KEYS
from selfdeblur_jax.candidates import CandidateSearch, plan_candidates
from selfdeblur_jax.config import flatten
from selfdeblur_jax.outputs import write_result
from selfdeblur_jax.photo.pipeline import PhotoSettings, finish_photo
from selfdeblur_jax.physics.blur import crop_to_image, crop_to_kernel
from selfdeblur_jax.problems import Item
from selfdeblur_jax.records import forget
from selfdeblur_jax.results import FitResult, collect_results
from selfdeblur_jax.sharding import num_shards, padded_size
from selfdeblur_jax.train import compiled_outputs, program_config


class RunError(Exception):
  """A problem that stops the run before any work, reported as one line (exit status 2)."""


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


def _snapshot_steps(num_steps: int, count: int) -> list[int]:
  """`count` evenly spaced steps at which x and k are kept for the figure (the first chunk end at or
  after each is used)."""
  count = max(int(count), 1)
  return [int(round(t)) for t in np.linspace(num_steps / count, num_steps, count)]


def fingerprint(item: Item, engine: ml_collections.ConfigDict,
                config: ml_collections.ConfigDict | None = None) -> dict[str, Any]:
  """What defines an image's result: the engine's config (seed included) and, in photo mode, how the
  photo is restored; the image's content and its kernel size. Stored with checkpoints and finished
  results, compared on --resume."""
  content = hashlib.sha1(np.ascontiguousarray(item.y).tobytes())
  for extra in (item.chroma, item.photo):
    if extra is not None:
      content.update(np.ascontiguousarray(extra).tobytes())
  settings = engine.to_dict()
  if config is not None and item.photo is not None:
    settings.update({key: config[key] for key in PHOTO_KEYS})
  return {"config": json.dumps(settings, sort_keys=True, default=str),
          "image": content.hexdigest(), "kernel_size": int(item.kernel_size)}


def fingerprint_difference(stored: Any, current: dict[str, Any]) -> str | None:
  """What differs between a stored fingerprint and the current one, in a few words; None if equal."""
  if not isinstance(stored, dict) or "config" not in stored:
    return "no record of the settings that made it"
  diffs = []
  if stored.get("image") != current["image"]:
    diffs.append("the image's content")
  if stored.get("kernel_size") != current["kernel_size"]:
    diffs.append(f"kernel_size {stored.get('kernel_size')} -> {current['kernel_size']}")
  old = flatten(json.loads(stored["config"]))
  new = flatten(json.loads(current["config"]))
  keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
  diffs += [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in keys[:4]]
  if len(keys) > 4:
    diffs.append(f"{len(keys) - 4} more setting(s)")
  return ", ".join(diffs) or None


class BatchRunner:
  """Runs one batch of equal-shaped images, each with its candidates, with checkpoints, snapshots and
  progress."""

  def __init__(self, items: list[Item], index: int, engine: ml_collections.ConfigDict,
               config: ml_collections.ConfigDict, workdir: Path, progress) -> None:
    """`engine`: the resolved engine part of the program config `config` (app_config.engine_config)."""
    self.items, self.index, self.engine, self.config, self.workdir = items, index, engine, config, workdir
    specs = plan_candidates([item.kernel_size for item in items], [int(self.engine.seed)] * len(items),
                            self.engine)
    self.search = CandidateSearch([item.y for item in items], specs, self.engine)
    # Named by the batch's images, so that a resumed run (which skips finished images and may number
    # its batches differently) finds each batch's own checkpoint.
    names = "\n".join(item.name for item in items).encode()
    self.checkpoint_path = workdir / "checkpoints" / f"batch_{hashlib.sha1(names).hexdigest()[:12]}.msgpack"
    self.progress = progress
    self.snapshot_at = _snapshot_steps(self.engine.num_steps, int(config.figure_steps))
    # Per candidate: [(step, x, k)], and the last step each group reported (progress, snapshots).
    self.snapshots: list[list] = [[] for _ in specs]
    self.group_step = [0] * len(self.search.groups)
    self.fingerprints = {item.name: fingerprint(item, self.engine, config) for item in items}
    self.payload: dict[str, Any] | None = None  # the checkpoint to resume from, once checked

  def check_resume(self) -> None:
    """Read this batch's checkpoint, if any, and refuse one that cannot be read or that was written
    for other images or settings (RunError: one line, nothing has run)."""
    path = self.checkpoint_path
    if not path.exists():
      return
    try:
      payload = checkpoint.read(path)
    except checkpoint.CheckpointError as error:
      raise RunError(f"{path} cannot be read ({error}); every checkpoint is written whole and then "
                     "renamed, so only a copy that stopped part-way, a full disk or a hand edit makes "
                     "one like this: delete it to restart these images from step 0, or use a fresh "
                     "--workdir") from None
    extra = payload["extra"]
    if list(extra.get("names", {}).values()) != [item.name for item in self.items]:
      raise RunError(f"{path} holds another batch; remove it or use a fresh --workdir")
    for item in self.items:
      stored = extra.get("fingerprints", {}).get(item.name)
      difference = fingerprint_difference(stored, self.fingerprints[item.name])
      if difference:
        raise RunError(f"{path} ({item.name}) was written with other settings: {difference}; resume "
                       "with the settings it was written with, or use a fresh --workdir")
    self.payload = payload

  def run(self, resume: bool) -> dict[str, Any]:
    with _compile_timer() as compile_seconds:
      started = time.perf_counter()
      self.search.initialise()
      start_step = 0
      if resume and self.payload is not None:
        self._restore()
        start_step = min(int(np.max(jax.device_get(g.states.step))) for g in self.search.groups)
        logging.info("batch %d: resumed at step %d from %s", self.index, start_step,
                     self.checkpoint_path)
      self.group_step = [int(np.max(jax.device_get(g.states.step))) for g in self.search.groups]
      self.progress.update(self._work_done())
      every = int(self.config.checkpoint_every)

      def on_chunk(g: int, step: int, states) -> None:
        crashpoint.reached(f"{self.checkpoint_path.stem} step {step}")
        active = int(np.sum(jax.device_get(states.active)))
        previous, self.group_step[g] = self.group_step[g], step
        self.progress.update((step - previous) * active)
        if any(previous < target <= step for target in self.snapshot_at):
          self._snapshot(g, step, states)
        if every and (step // every > previous // every or step == self.engine.num_steps):
          self._save()

      self.search.run(on_chunk, on_stage=self._save)
      outcomes = self.search.outcomes()
      results = collect_results(outcomes, [item.y for item in self.items],
                                [item.kernel_size for item in self.items], self.engine)
      seconds = time.perf_counter() - started
    written = []  # per image: the summary fields its writer adds (photo mode: status, reason, ...)
    for image, (item, result) in enumerate(zip(self.items, results)):
      members = [i for i, spec in enumerate(self.search.specs) if spec.image == image]
      if result.status == "ok":  # a failed image's arrays are not results: nothing is written
        # Its record goes first: until a new one follows the new files, the image counts as unfinished.
        forget(self.workdir, item.name)
        written.append(write_result(self.workdir, item, result, self.snapshots[members[result.chosen]],
                                    self.engine, self._finish_photo(item, result)))
      else:
        written.append({})
    return {"batch": self.index, "images": [item.name for item in self.items],
            "programs": [{"support_size": g.support, "problems": len(g.members)}
                         for g in self.search.groups],
            "compile_seconds": round(compile_seconds[0], 3),
            "run_seconds": round(seconds - compile_seconds[0], 3), "start_step": start_step,
            "results": results, "written": written}

  def _finish_photo(self, item: Item, result: FitResult) -> tuple | None:
    """Photo mode: `finish_photo`'s (photo, kernel, status, reason, details) of the whole photo, restored
    with the window's kernel (or kept); None for other images."""
    if item.photo is None:
      return None
    return finish_photo(item.photo, result.kernel, result.kernel_size, item.prepared,
                        PhotoSettings.from_config(self.config))

  def _work_done(self) -> int:
    """Candidate·steps already taken (after a resume)."""
    return sum(int(np.sum(jax.device_get(g.states.step))) for g in self.search.groups)

  def _save(self) -> None:
    states = [g.real_states() for g in self.search.groups]  # without padding: any device count
    with crashpoint.scope(f"checkpoint of step {max(self.group_step)}"):
      checkpoint.save(self.checkpoint_path, states, self._checkpoint_extra())

  def _restore(self) -> None:
    template = [g.real_states() for g in self.search.groups]
    states, extra = checkpoint.restore_payload(self.payload, template)
    for group, restored in zip(self.search.groups, states):
      group.set_real_states(restored)
    self.search.scores = np.asarray(extra["scores"], np.float64)
    for i, snaps in extra["snapshots"].items():
      self.snapshots[int(i)] = [(int(s), x, k) for s, x, k in zip(snaps["steps"], snaps["x"], snaps["k"])]

  def _checkpoint_extra(self) -> dict[str, Any]:
    """Host-side state that a resumed run needs too: which images, scores, the figure's snapshots."""
    snapshots = {}
    for i, spec in enumerate(self.search.specs):
      snaps, shape = self.snapshots[i], self.items[spec.image].y.shape
      snapshots[str(i)] = {
          "steps": np.asarray([s for s, _, _ in snaps], np.int64),
          "x": np.stack([x for _, x, _ in snaps]) if snaps else np.zeros((0, *shape), np.float32),
          "k": (np.stack([k for _, _, k in snaps]) if snaps
                else np.zeros((0, spec.kernel_size, spec.kernel_size), np.float32)),
      }
    return {"names": {str(i): item.name for i, item in enumerate(self.items)},
            "fingerprints": self.fingerprints, "scores": np.asarray(self.search.scores),
            "snapshots": snapshots}

  def _snapshot(self, g: int, step: int, states) -> None:
    group = self.search.groups[g]
    outputs = compiled_outputs(program_config(self.engine), group.support,
                               num_shards(padded_size(len(group.members))))
    x_latent, kernels, active = jax.device_get((*outputs(states, group.problems), states.active))
    for b, i in enumerate(group.members):
      if active[b]:
        spec = self.search.specs[i]
        x = crop_to_image(x_latent[b], self.items[spec.image].y.shape)
        k = crop_to_kernel(kernels[b], spec.kernel_size)
        self.snapshots[i].append((step, np.asarray(x), np.asarray(k)))
