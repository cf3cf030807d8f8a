"""Public entry points: `fit_selfdeblur` for one blurry image, `fit_batch` for many.

Problems of one image shape and kernel size run together as one batched XLA program (vmap, or a
loop inside the program on the CPU); an image's candidates (config.candidates) are problems too.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from selfdeblur_jax.candidates import CandidateSearch, Outcome, choose, plan_candidates
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.evaluation.nonblind import deconv_sparse_latent
from selfdeblur_jax.physics.blur import crop_to_image
from selfdeblur_jax.physics.kernel_centre import output_kernel
from selfdeblur_jax.train import MAX_SEED, TrainState

ProgressCallback = Callable[[int, TrainState], None]


@dataclasses.dataclass
class Candidate:
  """One candidate of an image (a restart and/or a kernel size) and how it fared."""

  seed: int
  restart: int  # its PRNG key is problem_key(seed, restart)
  kernel_size: int
  steps: int  # steps it ran: num_steps if it finished, fewer if stopped early or failed
  status: str  # "finished", "stopped" (early stopping) or "failed" (non-finite loss)
  score: float  # the no-reference selector's score when last compared (lower is better; NaN: never)
  final_loss: float  # data term at its last step
  kernel: np.ndarray  # K×K
  x: np.ndarray | None = None  # its G_x image, when fit_batch(keep_candidate_images=True)


@dataclasses.dataclass
class FitResult:
  """What one SelfDeblur fit returns: the chosen candidate, and all of them.

  `x` and `x_latent` are images in [0, 1], as y is: G_x's output (a sigmoid's), or with
  `candidates.output="nonblind"` the non-blind deconvolution of y, clipped to [0, 1] (its ringing
  overshoots; the command line's PNGs are clipped the same way).
  """

  x: np.ndarray  # H×W sharp estimate in [0, 1]: the centre crop of the latent image, aligned with y
  kernel: np.ndarray  # K×K, blur(x_latent, kernel) ≈ y; ≥ 0, sums to 1; centred if candidates.centre_kernel
  loss_history: np.ndarray  # (num_steps,) loss at each step of the chosen candidate
  x_latent: np.ndarray  # (H+K−1)×(W+K−1) latent image in [0, 1] (support size if larger: see fit_batch)
  kernel_size: int  # the size of `kernel`: the chosen candidate's (candidates[chosen].kernel_size), or
  #   the requested size where candidates.centre_kernel padded a smaller chosen kernel to it
  seed: int
  config: ml_collections.ConfigDict
  requested_kernel_size: int = 0  # the size asked for
  chosen: int = 0  # index of the winner in `candidates`
  candidates: list[Candidate] = dataclasses.field(default_factory=list)
  status: str = "ok"  # "ok", or "failed" when every candidate's loss became non-finite


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


def fit_selfdeblur(y: Any, kernel_size: int, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                   callback: ProgressCallback | None = None,
                   keep_candidate_images: bool = False) -> FitResult:
  """Blind deconvolution of one blurry grey image y (H×W in [0, 1]) with a K×K kernel, K odd.

  `config` is a ConfigDict (e.g. `configs/levin.py`'s) or a nested dict of overrides of
  `get_default_config()`. `callback(step, state)` runs between chunks of `config.chunk_size` steps.
  With `config.candidates` (restarts, sizes) several candidates run and one is chosen (`fit_batch`).
  """
  y = validate_image(y, "y")
  kernel_size = validate_kernel_size(kernel_size, y.shape, "kernel_size")
  seed = validate_seed(seed, "seed")
  return _fit([y], [kernel_size], [seed], resolve_config(config), ["y"], callback=callback,
              keep_candidate_images=keep_candidate_images)[0]


def fit_batch(ys: Sequence[Any], kernel_sizes: int | Sequence[int], *,
              config: Mapping[str, Any] | None = None, seeds: int | Sequence[int] | None = None,
              callback: ProgressCallback | None = None, max_batch_size: int | None = None,
              support_size: int | None = None, keep_candidate_images: bool = False) -> list[FitResult]:
  """Fit B independent problems; equal-shaped ones with equal kernel size run as one XLA program.

  Each image's result depends on the image, its kernel size, its seed and the config only, never on
  the other images of the call. With `config.candidates` each image runs several candidates (R
  restarts × candidate sizes), all of them problems of the same batched programs; a no-reference
  selector picks one (candidates/selection.py) and the result lists them all.

  Args:
    ys: B blurry grey images (H×W in [0, 1]; shapes may differ between images).
    kernel_sizes: one odd kernel size for all, or one per image.
    config: ConfigDict or nested dict of overrides of the default config.
    seeds: one seed for all (default `config.seed`), or one per image, each in [0, 2³² − 1]. Each
      problem's noise inputs, initial parameters and perturbations depend on its own seed only.
    callback: `callback(step, states)` after each chunk of each program.
    max_batch_size: split a program into programs of at most this many problems.
    support_size: run every problem on this kernel support (odd, ≥ each candidate's size), each
      kernel masked to its own centred K×K window, instead of its own size.
    keep_candidate_images: keep every candidate's G_x image in `FitResult.candidates`.

  Returns:
    One FitResult per input, in input order.
  """
  config = resolve_config(config)
  if isinstance(ys, np.ndarray | jax.Array) and ys.ndim == 2:
    raise ValueError("ys must be a sequence of H×W images (or a B×H×W array); for one image use "
                     "fit_selfdeblur")
  images = [validate_image(y, f"ys[{i}]") for i, y in enumerate(ys)]
  if not images:
    raise ValueError("ys is empty: give at least one image")
  count = len(images)
  sizes = _per_problem(kernel_sizes, count, "kernel_sizes")
  sizes = [validate_kernel_size(k, im.shape, f"kernel_sizes[{i}]")
           for i, (k, im) in enumerate(zip(sizes, images))]
  seed_list = [validate_seed(seed, f"seeds[{i}]") for i, seed in
               enumerate(_per_problem(config.seed if seeds is None else seeds, count, "seeds"))]
  return _fit(images, sizes, seed_list, config, [f"ys[{i}]" for i in range(count)], callback=callback,
              max_batch_size=max_batch_size, support_size=support_size,
              keep_candidate_images=keep_candidate_images)


def _fit(images: list[np.ndarray], sizes: list[int], seeds: list[int], config: ml_collections.ConfigDict,
         labels: list[str], *, callback: ProgressCallback | None = None, max_batch_size: int | None = None,
         support_size: int | None = None, keep_candidate_images: bool = False) -> list[FitResult]:
  """fit_batch on validated images, sizes and seeds; `labels` name the images in error messages
  (`y` for fit_selfdeblur, `ys[i]` for fit_batch)."""
  specs = plan_candidates(sizes, seeds, config)
  for spec in specs:
    if spec.kernel_size != sizes[spec.image]:
      validate_kernel_size(spec.kernel_size, images[spec.image].shape,
                           f"candidate size {spec.kernel_size} of {labels[spec.image]} "
                           "(candidates.size_factors, size_margins)")
  if support_size is not None:
    validate_kernel_size(support_size, name="support_size")
    if support_size < max(spec.kernel_size for spec in specs):
      raise ValueError(f"support_size {support_size} is smaller than kernel size "
                       f"{max(spec.kernel_size for spec in specs)}")
  if max_batch_size is not None and max_batch_size < 1:
    raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")

  search = CandidateSearch(images, specs, config, support_size, max_batch_size)
  search.run(None if callback is None else (lambda _, step, states: callback(step, states)))
  return collect_results(search.outcomes(), images, sizes, config, keep_candidate_images)


def validate_seed(seed: Any, name: str = "seed") -> int:
  """seed as an int in [0, 2³² − 1] (what PRNGKey keeps), or ValueError."""
  if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
    raise ValueError(f"{name} must be an integer in [0, 2**32 - 1], got {seed!r}")
  return int(seed)


def collect_results(outcomes: Sequence[Outcome], images: Sequence[np.ndarray], sizes: Sequence[int],
                    config: ml_collections.ConfigDict, keep_candidate_images: bool = False
                    ) -> list[FitResult]:
  """One FitResult per image: its chosen candidate (x from G_x, or from a non-blind deconvolution of
  y with the chosen kernel when `candidates.output == "nonblind"`) and every candidate's record."""
  results = []
  for image, (y, size) in enumerate(zip(images, sizes)):
    indices = [i for i, o in enumerate(outcomes) if o.spec.image == image]
    winner = choose(outcomes, image)
    status = "ok" if winner is not None else "failed"
    if winner is None:  # every candidate failed: report the one that got furthest
      winner = max(indices, key=lambda i: outcomes[i].steps)
    best = outcomes[winner]
    x, x_latent, kernel = best.x, best.x_latent, best.kernel
    if status == "ok":
      x, x_latent, kernel = output_stage(y, x, x_latent, kernel, size, config)
    candidates = [Candidate(seed=o.spec.seed, restart=o.spec.restart, kernel_size=o.spec.kernel_size,
                            steps=o.steps, status=o.status, score=o.score,
                            final_loss=float(o.loss_history[o.steps - 1]) if o.steps else float("nan"),
                            kernel=o.kernel, x=o.x if keep_candidate_images else None)
                  for o in (outcomes[i] for i in indices)]
    results.append(FitResult(x=x, kernel=kernel, loss_history=best.loss_history, x_latent=x_latent,
                             kernel_size=int(kernel.shape[0]), seed=best.spec.seed, config=config,
                             requested_kernel_size=size, chosen=indices.index(winner),
                             candidates=candidates, status=status))
  return results


def output_stage(y: np.ndarray, x: np.ndarray, x_latent: np.ndarray | None, kernel: np.ndarray, size: int,
                 config: ml_collections.ConfigDict) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
  """(x, x_latent, kernel) returned for a finished candidate with G_x's image x (latent x_latent) and
  `kernel`, asked at `size`: the kernel centred at that size where `candidates.centre_kernel`, and y
  deconvolved with it where `candidates.output == "nonblind"` (clipped to [0, 1], the range of an
  image); G_x's images otherwise."""
  if config.candidates.centre_kernel:
    kernel = output_kernel(kernel, size)
  if config.candidates.output == "nonblind":
    x_latent = np.clip(np.asarray(deconv_sparse_latent(jnp.asarray(y), jnp.asarray(kernel),
                                                       float(config.candidates.nonblind_weight))), 0, 1)
    x = np.asarray(crop_to_image(x_latent, y.shape))
  return x, x_latent, kernel


def _per_problem(value: Any, count: int, name: str) -> list:
  if isinstance(value, numbers.Integral) or not isinstance(value, Sequence | np.ndarray):
    return [value] * count
  value = list(value)
  if len(value) != count:
    raise ValueError(f"{name} has {len(value)} entries for {count} images; give one, or one per image")
  return value


def group_by_shape(shapes: Sequence[tuple[int, ...]], max_batch_size: int | None) -> list[list[int]]:
  """Indices of equal shapes together, in input order, each group split to at most max_batch_size."""
  buckets: dict[tuple[int, ...], list[int]] = {}
  for i, shape in enumerate(shapes):
    buckets.setdefault(tuple(shape), []).append(i)
  return [indices[j:j + (max_batch_size or len(indices))]
          for indices in buckets.values() for j in range(0, len(indices), max_batch_size or len(indices))]
