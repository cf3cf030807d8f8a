"""What a fit returns: each image's chosen candidate, finished by the output stage (its kernel centred,
y deconvolved with it, as the config asks), with every candidate's record. Shared by the public
functions, the command line's batches (runner.py) and the benchmarks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax.numpy as jnp
import ml_collections
import numpy as np

from selfdeblur_jax.candidates import Outcome, choose
from selfdeblur_jax.physics.blur import crop_to_image
from selfdeblur_jax.physics.kernel_centre import output_kernel
from selfdeblur_jax.restoration import deconv_sparse_latent


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
