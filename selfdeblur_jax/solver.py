"""A pure SelfDeblur solver for JAX programs: `make_solver` (init, step, outputs, optax-style) and `solve`.

Everything here is a function of arrays in jnp, with the config's precision set inside the traced
code and no side effects, so it runs under the caller's `jax.jit`, `jax.vmap` and `lax.scan`, e.g. over
keys and a stack of equal-shaped images:

  solve_all = jax.jit(jax.vmap(functools.partial(solve, kernel_size=21, config=config)))
  xs, ks, histories = solve_all(jax.random.split(key, len(ys)), ys)

`fit_selfdeblur` and `fit_batch` are the host layer on the same pieces (train.py): NumPy inputs,
integer seeds, chunks with callbacks and checkpoints, candidates and their selection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
from jax import lax

from selfdeblur_jax.app_config import resolve_engine
from selfdeblur_jax.physics.blur import crop_to_image, kernel_support
from selfdeblur_jax.train import (Problem, TrainState, create_train_state, make_active_step, make_outputs,
                                  make_problem, program_config)
from selfdeblur_jax.validation import validate_kernel_size

Array = jax.Array


class Solver(NamedTuple):
  """SelfDeblur on one blurry image y (H, W), as pure functions of arrays.

  init(key, y) -> state: noise inputs and both networks' parameters drawn from `key`.
  step(state, y) -> state: one optimisation step (a problem whose loss turned non-finite keeps its last
    finite state and stops: `state.active` is False).
  outputs(state) -> (x, k): G_x's image cropped to y's H×W (aligned with y) and the K×K kernel.
  """

  init: Callable[[Array, Array], TrainState]
  step: Callable[[TrainState, Array], TrainState]
  outputs: Callable[[TrainState], tuple[Array, Array]]


def make_solver(config: Mapping[str, Any] | ml_collections.ConfigDict | None, kernel_size: int) -> Solver:
  """The solver of `config` (a ConfigDict or a dict of overrides of the default) for K×K kernels.

  The same per-step computation as `fit_batch`: problem b of `fit_batch(..., seeds=[s])` is
  `init(jax.random.PRNGKey(s), y)` followed by `config.num_steps` steps. λ from the noise level
  (`loss.tv_weight_from_noise`) is estimated in float32 here, in float64 by `fit_batch`.
  """
  config = resolve_engine(config)
  kernel_size = validate_kernel_size(kernel_size)
  active_step = make_active_step(config, kernel_size)
  outputs_of = make_outputs(config, kernel_size)

  def init(key: Array, y: Array) -> TrainState:
    return create_train_state(key, _image_shape(y, kernel_size), kernel_size, config)

  def step(state: TrainState, y: Array) -> TrainState:
    return active_step(state, make_problem(y, kernel_size, kernel_size, config))

  def outputs(state: TrainState) -> tuple[Array, Array]:
    # Of the problem only the kernel's support enters the outputs.
    support = Problem(y=None, support=jnp.asarray(kernel_support(kernel_size, kernel_size)), tv_weight=None)
    x_latent, k = outputs_of(state, support)
    return crop_to_image(x_latent, _shape_of(state, kernel_size)), k

  return Solver(init, step, outputs)


def solve(key: Array, y: Array, kernel_size: int,
          config: Mapping[str, Any] | ml_collections.ConfigDict | None = None
          ) -> tuple[Array, Array, Array]:
  """Blind deconvolution of y (H, W) in [0, 1] with a K×K kernel: (x (H, W), k (K, K), loss history
  (num_steps,)). `config` as for `make_solver`; `kernel_size` and `config` are static.

  Pure and traced once per config, kernel size and image shape: a jitted program (cached) that runs
  `config.num_steps` steps in one loop; under a caller's `jit` or `vmap` it becomes part of theirs.
  """
  config = resolve_engine(config)
  return _compiled_solve(program_config(config), validate_kernel_size(kernel_size))(key, y)


@functools.lru_cache(maxsize=16)
def _compiled_solve(config: ml_collections.FrozenConfigDict, kernel_size: int
                    ) -> Callable[[Array, Array], tuple[Array, Array, Array]]:
  solver = make_solver(config, kernel_size)
  num_steps = int(config.num_steps)

  def run(key: Array, y: Array) -> tuple[Array, Array, Array]:
    y = jnp.asarray(y, jnp.float32)
    problem_step = functools.partial(_step_with, solver.step, y)
    state = lax.fori_loop(0, num_steps, problem_step, solver.init(key, y))
    x, k = solver.outputs(state)
    return x, k, state.loss_history

  return jax.jit(run)


def _step_with(step: Callable[[TrainState, Array], TrainState], y: Array, _: Array,
               state: TrainState) -> TrainState:
  return step(state, y)


def _image_shape(y: Array, kernel_size: int) -> tuple[int, int]:
  """y's (H, W), or ValueError unless y is a 2-D image larger than the kernel."""
  if jnp.ndim(y) != 2:
    raise ValueError(f"y must be a 2-D H×W grey image, got shape {jnp.shape(y)} (vmap over a stack "
                     "of images; deblur colour images' Y channel)")
  shape = tuple(int(n) for n in jnp.shape(y))
  if kernel_size >= min(shape):
    raise ValueError(f"kernel_size {kernel_size} is not smaller than the image ({shape[0]}×{shape[1]}); "
                     "use a smaller kernel or a larger image")
  return shape


def _shape_of(state: TrainState, kernel_size: int) -> tuple[int, int]:
  """The image shape (H, W) of a state: its latent z_x is (H+K−1)×(W+K−1)."""
  return state.z_x.shape[1] - kernel_size + 1, state.z_x.shape[2] - kernel_size + 1
