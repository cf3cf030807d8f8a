"""Public entry points: `fit_selfdeblur` for one blurry image, `fit_batch` for many.

Problems of one image shape and kernel size run together as one batched XLA program (vmap, or a
loop inside the program on the CPU); an image's candidates (config.candidates) are problems too.
The work is done below (fitting.py, results.py, validation.py); this module is the face that users
and the benchmarks see, and within the package only its __init__ imports it (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from selfdeblur_jax import fitting
from selfdeblur_jax.fitting import ProgressCallback
from selfdeblur_jax.results import Candidate, FitResult

__all__ = ["Candidate", "FitResult", "ProgressCallback", "fit_batch", "fit_selfdeblur"]


def fit_selfdeblur(y: Any, kernel_size: int, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                   callback: ProgressCallback | None = None,
                   keep_candidate_images: bool = False) -> FitResult:
  """Blind deconvolution of one blurry grey image y (H×W in [0, 1]) with a K×K kernel, K odd.

  `config` is a ConfigDict (e.g. `configs/levin.py`'s) or a nested dict of overrides of
  `get_default_config()`. `callback(step, state)` runs between chunks of `config.chunk_size` steps.
  With `config.candidates` (restarts, sizes) several candidates run and one is chosen (`fit_batch`).
  """
  return fitting.fit_image(y, kernel_size, config, seed, callback, keep_candidate_images)


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
  return fitting.fit_images(ys, kernel_sizes, config, seeds, callback, max_batch_size, support_size,
                            keep_candidate_images)
