"""Public entry points: `fit_selfdeblur` for one blurry image, `fit_batch` for many.

Problems of one image shape run together as one vmapped XLA program; problems with different kernel
sizes share the batch's largest kernel support K_max, each kernel masked to its own K×K centre.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.physics import estimate_noise_sigma, kernel_support
from selfdeblur_jax.physics.blur import crop_to_image, crop_to_kernel
from selfdeblur_jax.sharding import num_shards, shard_batch
from selfdeblur_jax.train import Problem, TrainState, compiled_init, compiled_outputs, train

ProgressCallback = Callable[[int, TrainState], None]


@dataclasses.dataclass
class FitResult:
  """What one SelfDeblur fit returns."""

  x: np.ndarray  # H×W sharp estimate: the centre crop of the latent image, aligned with y
  kernel: np.ndarray  # K×K convolution kernel: blur(x_latent, kernel) ≈ y; ≥ 0, sums to 1
  loss_history: np.ndarray  # (num_steps,) loss at each step
  x_latent: np.ndarray  # (H+K_max−1)×(W+K_max−1) full output of G_x
  kernel_size: int
  seed: int
  config: ml_collections.ConfigDict


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
    raise ValueError(f"{name} must have values in [0, 1], got [{array.min():.4g}, {array.max():.4g}]; "
                     "scale 8-bit images by 1/255")
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
                   callback: ProgressCallback | None = None) -> FitResult:
  """Blind deconvolution of one blurry grey image y (H×W in [0, 1]) with a K×K kernel, K odd.

  `config` is a ConfigDict (e.g. `configs/levin.py`'s) or a nested dict of overrides of
  `get_default_config()`. `callback(step, state)` runs between chunks of `config.chunk_size` steps.
  """
  return fit_batch([y], [kernel_size], config=config, seeds=[seed], callback=callback)[0]


def fit_batch(ys: Sequence[Any], kernel_sizes: int | Sequence[int], *,
              config: Mapping[str, Any] | None = None, seeds: int | Sequence[int] | None = None,
              callback: ProgressCallback | None = None, max_batch_size: int | None = None,
              support_size: int | None = None) -> list[FitResult]:
  """Fit B independent problems; equal-shaped ones run together as one vmapped XLA program.

  Args:
    ys: B blurry grey images (H×W in [0, 1]; shapes may differ between images).
    kernel_sizes: one odd kernel size for all, or one per image.
    config: ConfigDict or nested dict of overrides of the default config.
    seeds: one seed for all (default `config.seed`), or one per image. Each problem's noise inputs,
      initial parameters and perturbations depend on its own seed only.
    callback: `callback(step, states)` after each chunk of each bucket.
    max_batch_size: split a bucket into sub-batches of at most this many problems.
    support_size: run every problem on this kernel support (odd, ≥ each kernel size) instead of the
      sub-batch's largest kernel size.

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
  seed_list = _per_problem(config.seed if seeds is None else seeds, count, "seeds")
  for i, seed in enumerate(seed_list):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
      raise ValueError(f"seeds[{i}] must be a non-negative integer, got {seed!r}")
  if support_size is not None:
    validate_kernel_size(support_size, name="support_size")
    if support_size < max(sizes):
      raise ValueError(f"support_size {support_size} is smaller than kernel size {max(sizes)}")
  if max_batch_size is not None and max_batch_size < 1:
    raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")

  results: list[FitResult | None] = [None] * count
  for indices in _batches(images, max_batch_size):
    support = support_size or max(sizes[i] for i in indices)  # odd: every size was validated
    batch = [(images[i], sizes[i], int(seed_list[i])) for i in indices]
    states, problems = init_batch(batch, support, config)
    states = train(states, problems, config, support, callback)
    for i, result in zip(indices, collect_results(states, problems, batch, support, config)):
      results[i] = result
  return results  # type: ignore[return-value]


def init_batch(batch: Sequence[tuple[np.ndarray, int, int]], support_size: int,
               config: ml_collections.ConfigDict) -> tuple[TrainState, Problem]:
  """Initial states and problems of equal-shaped (y, kernel_size, seed) triples, batch axis first."""
  shape = batch[0][0].shape
  keys = jnp.stack([jax.random.PRNGKey(seed) for _, _, seed in batch])
  states = compiled_init(ml_collections.FrozenConfigDict(config), tuple(shape), support_size)(keys)
  problems = Problem(
      y=jnp.stack([y for y, _, _ in batch]),
      support=jnp.stack([kernel_support(k, support_size) for _, k, _ in batch]),
      tv_weight=jnp.asarray([_tv_weight(y, config) for y, _, _ in batch], jnp.float32),
  )
  return shard_batch(states), shard_batch(problems)


def collect_results(states: TrainState, problems: Problem, batch: Sequence[tuple[np.ndarray, int, int]],
                    support_size: int, config: ml_collections.ConfigDict) -> list[FitResult]:
  """Final x and k of each problem, as host arrays cropped to its image and kernel size."""
  outputs = compiled_outputs(ml_collections.FrozenConfigDict(config), support_size,
                             num_shards(len(batch)))
  x_latent, kernels, history = jax.device_get((*outputs(states, problems), states.loss_history))
  return [
      FitResult(x=np.asarray(crop_to_image(x_latent[b], y.shape)),
                kernel=np.asarray(crop_to_kernel(kernels[b], k)),
                loss_history=np.asarray(history[b]), x_latent=np.asarray(x_latent[b]),
                kernel_size=k, seed=seed, config=config)
      for b, (y, k, seed) in enumerate(batch)
  ]


def _tv_weight(y: np.ndarray, config: ml_collections.ConfigDict) -> float:
  if config.loss.tv_weight_from_noise:
    return float(config.loss.tv_noise_factor) * estimate_noise_sigma(y)
  return float(config.loss.tv_weight)


def _per_problem(value: Any, count: int, name: str) -> list:
  if isinstance(value, numbers.Integral) or not isinstance(value, Sequence | np.ndarray):
    return [value] * count
  value = list(value)
  if len(value) != count:
    raise ValueError(f"{name} has {len(value)} entries for {count} images; give one, or one per image")
  return value


def _batches(images: Sequence[np.ndarray], max_batch_size: int | None) -> list[list[int]]:
  """Indices grouped by image shape (one XLA program per shape), split to at most max_batch_size."""
  return group_by_shape([image.shape for image in images], max_batch_size)


def group_by_shape(shapes: Sequence[tuple[int, ...]], max_batch_size: int | None) -> list[list[int]]:
  """Indices of equal shapes together, in input order, each group split to at most max_batch_size."""
  buckets: dict[tuple[int, ...], list[int]] = {}
  for i, shape in enumerate(shapes):
    buckets.setdefault(tuple(shape), []).append(i)
  return [indices[j:j + (max_batch_size or len(indices))]
          for indices in buckets.values() for j in range(0, len(indices), max_batch_size or len(indices))]
