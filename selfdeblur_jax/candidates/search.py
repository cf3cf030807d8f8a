"""Running the candidates of many images: grouping into batched programs, early stopping, selection.

Every image expands into candidates (`plan_candidates`): for each candidate kernel size, its restarts
(`problem_key(seed, r)`, r = 0..n−1; n = `candidates.restarts`, or that size's `size_restarts`).
Candidates are problems like any other: those of equal image shape and kernel support share one XLA
program, whatever image they belong to, and each one's result depends only on its own image, size and
key (tests/test_candidates.py). Training runs in stages: at each of `candidates.halving_fractions` of
the run every image keeps the better half (1/`candidates.halving_rate`) of its running candidates by
the no-reference selector and the others stop (`TrainState.active`), so R restarts cost less than R runs.
At the end the selector picks, per image, one of the candidates that ran to the end.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from selfdeblur_jax.candidates.selection import score_candidates
from selfdeblur_jax.config import final_data_term_at, halving_steps
from selfdeblur_jax.physics.blur import crop_to_image, crop_to_kernel
from selfdeblur_jax.physics.kernel_shape import scaled_size
from selfdeblur_jax.sharding import num_shards, padded_size, shard_batch
from selfdeblur_jax.train import Problem, TrainState, compiled_outputs, init_batch, program_config, train

GroupCallback = Callable[[int, int, TrainState], None]  # (group index, step, that group's states)


def halving_keep(total: int, stage: int, rate: float = 2.0) -> int:
  """Successive halving: of `total` candidates, how many still run after stage `stage` (0-based),
  keeping 1/`rate` of them at each stage (2: halving; 3: 6 -> 2 -> 1)."""
  return max(1, math.ceil(total / float(rate) ** (stage + 1) - 1e-9))


@dataclasses.dataclass(frozen=True)
class CandidateSpec:
  """One candidate: which image, which kernel size (its support), which draw."""

  image: int  # index of its image in the batch's inputs
  kernel_size: int
  seed: int
  restart: int
  given_size: int | None = None  # the kernel size asked for the image (None: kernel_size)

  @property
  def off_size(self) -> bool:
    """Whether this candidate's size differs from the size asked for its image."""
    return self.given_size is not None and self.given_size != self.kernel_size


@dataclasses.dataclass
class Outcome:
  """Where one candidate ended, as host arrays."""

  spec: CandidateSpec
  x: np.ndarray  # H×W: G_x's image, centre crop of x_latent
  x_latent: np.ndarray
  kernel: np.ndarray  # K×K, K = spec.kernel_size
  loss_history: np.ndarray
  steps: int  # steps taken (fewer than num_steps if it stopped early or failed)
  status: str  # "finished", "stopped" (early stopping) or "failed" (non-finite loss)
  score: float  # the selector's score when it was last compared (NaN if never)


def size_restarts(config: ml_collections.ConfigDict) -> list[int]:
  """Restarts per size factor: `candidates.size_restarts` in `size_factors`' order, or
  `candidates.restarts` for every factor when it is empty."""
  c = config.candidates
  if len(c.size_restarts):
    return [int(n) for n in c.size_restarts]
  return [int(c.restarts)] * len(c.size_factors)


def candidate_plan(kernel_size: int, config: ml_collections.ConfigDict) -> list[tuple[int, int]]:
  """(kernel size, restarts) tried for an image whose given size is `kernel_size`, K: the size
  scaled_size(K, f) + 2m for each factor f (`candidates.size_factors`) and margin m
  (`candidates.size_margins`), in that order, with its factor's restarts (`size_restarts`); a size
  that two factors give appears once, with the larger count."""
  counts: dict[int, int] = {}
  for factor, restarts in zip(config.candidates.size_factors, size_restarts(config)):
    for margin in config.candidates.size_margins:
      size = scaled_size(kernel_size, factor) + 2 * int(margin)
      counts[size] = max(counts.get(size, 0), restarts)
  return list(counts.items())


def candidate_sizes(kernel_size: int, config: ml_collections.ConfigDict) -> list[int]:
  """The kernel sizes tried for an image whose given size is `kernel_size` (`candidate_plan`'s order)."""
  return [size for size, _ in candidate_plan(kernel_size, config)]


def plan_candidates(kernel_sizes: Sequence[int], seeds: Sequence[int],
                    config: ml_collections.ConfigDict) -> list[CandidateSpec]:
  """Every candidate of every image, image by image: sizes (candidate_plan order) × their restarts."""
  return [CandidateSpec(i, size, int(seed), r, int(k))
          for i, (k, seed) in enumerate(zip(kernel_sizes, seeds))
          for size, restarts in candidate_plan(k, config) for r in range(restarts)]


@dataclasses.dataclass
class Group:
  """Candidates that run as one batched XLA program (equal image shape and kernel support).

  The program's batch is padded to a multiple of the local device count with copies of the first
  member that never run (inactive from the start) and are never reported.
  """

  members: list[int]  # indices into the search's specs
  support: int
  states: TrainState | None = None
  problems: Problem | None = None

  def real_states(self) -> TrainState:
    """The members' states without the padding (what a checkpoint keeps), on the host."""
    return jax.tree.map(lambda a: np.asarray(a)[:len(self.members)], jax.device_get(self.states))

  def set_real_states(self, states: TrainState) -> None:
    """Put the members' states back (e.g. from a checkpoint) in front of the padding."""
    padding = jax.tree.map(lambda a: np.asarray(a)[len(self.members):], jax.device_get(self.states))
    self.states = shard_batch(jax.tree.map(lambda r, p: jnp.asarray(np.concatenate([r, p])), states,
                                           padding))


class CandidateSearch:
  """The candidates of a set of images, their programs, and the stage-wise run with early stopping."""

  def __init__(self, images: Sequence[np.ndarray], specs: Sequence[CandidateSpec],
               config: ml_collections.ConfigDict, support_size: int | None = None,
               max_batch_size: int | None = None) -> None:
    self.images, self.specs, self.config = list(images), list(specs), config
    buckets: dict[tuple, list[int]] = {}
    for index, spec in enumerate(self.specs):
      support = support_size or spec.kernel_size
      buckets.setdefault((self.images[spec.image].shape, support), []).append(index)
    size = max_batch_size or len(self.specs)
    self.groups = [Group(members[j:j + size], support)
                   for (_, support), members in buckets.items() for j in range(0, len(members), size)]
    self.scores = np.full(len(self.specs), np.nan)  # each candidate's latest selector score

  # -- set-up -------------------------------------------------------------------------------------
  def initialise(self) -> None:
    """Draw every group's initial states (problem_key(seed, restart) per candidate)."""
    for group in self.groups:
      batch = [(self.images[self.specs[i].image], self.specs[i].kernel_size, self.specs[i].seed,
                self.specs[i].restart) for i in group.members]
      padding = padded_size(len(batch)) - len(batch)
      group.states, group.problems = init_batch(batch + batch[:1] * padding, group.support, self.config)
      if padding:
        active = np.arange(len(batch) + padding) < len(batch)
        group.states = group.states.replace(active=jax.device_put(active, group.states.active.sharding))

  def stages(self) -> list[tuple[int, int | None]]:
    """(step, stage index) pairs: train every group to `step`, then halve (index None: the end)."""
    halving = [(s, j) for j, s in enumerate(halving_steps(self.config))]
    return halving + [(int(self.config.num_steps), None)]

  def keep_count(self, image: int, stage: int) -> int:
    """How many candidates of an image still run after halving stage `stage` (0-based)."""
    return halving_keep(sum(spec.image == image for spec in self.specs), stage,
                        float(self.config.candidates.halving_rate))

  def planned_work(self) -> int:
    """Candidate·steps a whole run takes, early stopping included (progress bars, cost up front)."""
    total = 0
    bounds = [0] + [step for step, _ in self.stages()]
    for image in range(len(self.images)):
      running = sum(spec.image == image for spec in self.specs)
      for start, end, (_, stage) in zip(bounds, bounds[1:], self.stages()):
        total += running * (end - start)
        if stage is not None:
          running = min(running, self.keep_count(image, stage))
    return total

  # -- running ------------------------------------------------------------------------------------
  def run(self, callback: GroupCallback | None = None,
          on_stage: Callable[[], None] | None = None) -> None:
    """Train all groups stage by stage; halve each image's candidates between stages.

    Resumable: groups already past a stage's step are not trained again, and halving keeps a fixed
    count per stage, so applying it again to restored states changes nothing.
    """
    if any(group.states is None for group in self.groups):
      self.initialise()
    for step, stage in self.stages():
      for g, group in enumerate(self.groups):

        def group_callback(s: int, states: TrainState, g: int = g, group: Group = group) -> None:
          group.states = states  # so that the search (e.g. a checkpoint of it) sees the latest
          if callback is not None:
            callback(g, s, states)

        group.states = train(group.states, group.problems, self.config, group.support,
                             group_callback, until=step)
      if stage is not None:
        self.halve(stage, step)
        if on_stage is not None:
          on_stage()

  def halve(self, stage: int, step: int) -> None:
    """Stop all but the best `keep_count` running candidates of each image (selector scores), after
    `step` steps; the selector's fit gate applies only once the data term is the final one."""
    fit_gate = final_data_term_at(self.config, step)
    current = self.current()
    for image in range(len(self.images)):
      running = [i for i, spec in enumerate(self.specs) if spec.image == image and current[i]["active"]]
      keep = self.keep_count(image, stage)
      if len(running) <= keep:
        continue
      scores = self._score(image, running, current, fit_gate)
      stop = [running[j] for j in np.argsort(scores, kind="stable")[keep:]]
      self._deactivate(stop)

  def _score(self, image: int, members: list[int], current: list[dict], fit_gate: bool) -> np.ndarray:
    c = self.config.candidates
    handicaps = [1.0 + float(c.size_handicap) * self.specs[i].off_size for i in members]
    scores = score_candidates(c.selector, self.images[image], [current[i]["x"] for i in members],
                              [current[i]["kernel"] for i in members],
                              [current[i]["loss"] for i in members], c.nonblind_weight, handicaps,
                              fit_gate=fit_gate)
    self.scores[members] = scores
    return scores

  def _deactivate(self, indices: list[int]) -> None:
    where = {i: (g, b) for g, group in enumerate(self.groups) for b, i in enumerate(group.members)}
    for g, group in enumerate(self.groups):
      slots = [where[i][1] for i in indices if where[i][0] == g]
      if slots:
        active = np.asarray(jax.device_get(group.states.active)).copy()
        active[slots] = False
        group.states = group.states.replace(active=jax.device_put(active, group.states.active.sharding))

  # -- results ------------------------------------------------------------------------------------
  def current(self) -> list[dict]:
    """Every candidate's x, x_latent, kernel, loss, steps and flags as they stand now (host arrays)."""
    frozen = program_config(self.config)
    found: list[dict | None] = [None] * len(self.specs)
    for group in self.groups:
      outputs = compiled_outputs(frozen, group.support, num_shards(padded_size(len(group.members))))
      x_latent, kernels, history, steps, active = jax.device_get(
          (*outputs(group.states, group.problems), group.states.loss_history, group.states.step,
           group.states.active))
      for b, i in enumerate(group.members):
        spec = self.specs[i]
        step = int(steps[b])
        found[i] = {"x": np.asarray(crop_to_image(x_latent[b], self.images[spec.image].shape)),
                    "x_latent": np.asarray(x_latent[b]),
                    "kernel": np.asarray(crop_to_kernel(kernels[b], spec.kernel_size)),
                    "history": np.asarray(history[b]), "steps": step, "active": bool(active[b]),
                    "loss": float(history[b][step - 1]) if step else float("nan"),
                    "failed": step < len(history[b]) and not np.isfinite(history[b][step])}
    return found  # type: ignore[return-value]

  def outcomes(self) -> list[Outcome]:
    """Every candidate's outcome; the finished ones of each image are scored (for `choose`)."""
    current = self.current()
    total = int(self.config.num_steps)
    for image in range(len(self.images)):
      finished = [i for i, spec in enumerate(self.specs) if spec.image == image
                  and current[i]["steps"] == total]
      if len(finished) > 1:
        self._score(image, finished, current, final_data_term_at(self.config, total))
    result = []
    for i, spec in enumerate(self.specs):
      c = current[i]
      status = ("failed" if c["failed"] else "finished" if c["steps"] == total else "stopped")
      result.append(Outcome(spec, c["x"], c["x_latent"], c["kernel"], c["history"], c["steps"], status,
                            float(self.scores[i])))
    return result


def choose(outcomes: Sequence[Outcome], image: int) -> int | None:
  """Index (into `outcomes`) of the image's winner: the finished candidate with the lowest score
  (the first one on ties or when there is nothing to compare); None if none finished."""
  finished = [i for i, o in enumerate(outcomes) if o.spec.image == image and o.status == "finished"]
  if not finished:
    return None
  scores = [outcomes[i].score for i in finished]
  if len(finished) == 1 or all(np.isnan(scores)):
    return finished[0]
  return finished[int(np.nanargmin(scores))]
