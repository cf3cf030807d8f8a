"""Fitting checked problems: each image's candidates planned, run as batched XLA programs (problems of
one image shape and kernel size together), one chosen per image. What the public functions (api.py) and
the photo pipeline run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import ml_collections
import numpy as np

from selfdeblur_jax.app_config import resolve_engine
from selfdeblur_jax.candidates import CandidateSearch, plan_candidates
from selfdeblur_jax.results import FitResult, collect_results
from selfdeblur_jax.train import TrainState
from selfdeblur_jax.validation import per_problem, validate_image, validate_kernel_size, validate_seed

ProgressCallback = Callable[[int, TrainState], None]


def fit_image(y: Any, kernel_size: int, config: Mapping[str, Any] | None, seed: int = 0,
              callback: ProgressCallback | None = None, keep_candidate_images: bool = False) -> FitResult:
  """`api.fit_selfdeblur`: one image, its arguments checked."""
  y = validate_image(y, "y")
  kernel_size = validate_kernel_size(kernel_size, y.shape, "kernel_size")
  seed = validate_seed(seed, "seed")
  return fit([y], [kernel_size], [seed], resolve_engine(config), ["y"], callback=callback,
             keep_candidate_images=keep_candidate_images)[0]


def fit_images(ys: Sequence[Any], kernel_sizes: int | Sequence[int], config: Mapping[str, Any] | None,
               seeds: int | Sequence[int] | None = None, callback: ProgressCallback | None = None,
               max_batch_size: int | None = None, support_size: int | None = None,
               keep_candidate_images: bool = False) -> list[FitResult]:
  """`api.fit_batch`: B images, their arguments checked."""
  config = resolve_engine(config)
  if isinstance(ys, np.ndarray | jax.Array) and ys.ndim == 2:
    raise ValueError("ys must be a sequence of H×W images (or a B×H×W array); for one image use "
                     "fit_selfdeblur")
  images = [validate_image(y, f"ys[{i}]") for i, y in enumerate(ys)]
  if not images:
    raise ValueError("ys is empty: give at least one image")
  count = len(images)
  sizes = per_problem(kernel_sizes, count, "kernel_sizes")
  sizes = [validate_kernel_size(k, im.shape, f"kernel_sizes[{i}]")
           for i, (k, im) in enumerate(zip(sizes, images))]
  seed_list = [validate_seed(seed, f"seeds[{i}]") for i, seed in
               enumerate(per_problem(config.seed if seeds is None else seeds, count, "seeds"))]
  return fit(images, sizes, seed_list, config, [f"ys[{i}]" for i in range(count)], callback=callback,
             max_batch_size=max_batch_size, support_size=support_size,
             keep_candidate_images=keep_candidate_images)


def fit(images: list[np.ndarray], sizes: list[int], seeds: list[int], config: ml_collections.ConfigDict,
        labels: list[str], *, callback: ProgressCallback | None = None, max_batch_size: int | None = None,
        support_size: int | None = None, keep_candidate_images: bool = False) -> list[FitResult]:
  """fit_batch on checked images, sizes and seeds and a resolved config; `labels` name the images in
  error messages (`y` for fit_selfdeblur, `ys[i]` for fit_batch)."""
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
