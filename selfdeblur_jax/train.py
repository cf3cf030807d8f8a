"""The training loop: state, one jitted train step, and many steps per host call, vmapped over problems.

Everything that belongs to one problem (parameters, BatchNorm statistics, optimiser states, noise
inputs, PRNG key, loss history) lives in one `TrainState`; a batch of independent problems is the same
pytree with a leading batch axis, and `jax.vmap(train_step)` runs them as one XLA program.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax import struct
from jax import lax

from selfdeblur_jax.losses import objective
from selfdeblur_jax.models import DipKernelNet, KernelNet, SkipNet
from selfdeblur_jax.optim import make_optimizers
from selfdeblur_jax.physics import estimate_noise_sigma, kernel_support, latent_shape
from selfdeblur_jax.physics.noise import noise_sigma
from selfdeblur_jax.sharding import num_shards, per_device, shard_batch

Array = jax.Array


@struct.dataclass
class TrainState:
  """Everything one problem's optimisation carries from step to step."""

  step: Array  # int32 scalar: steps taken so far
  params: dict[str, Any]  # {"x": G_x parameters, "k": G_k parameters}
  batch_stats: Any  # G_x BatchNorm running statistics (kept for completeness; training mode ignores them)
  opt_state: dict[str, optax.OptState]  # {"x": ..., "k": ...}
  key: Array  # PRNG key for the per-step perturbation of z_x
  z_x: Array  # (1, H+K−1, W+K−1, C): G_x's fixed noise input
  z_k: Array  # (n_k,), or (1, K, K, C) for a DIP G_k: G_k's fixed noise input
  loss_history: Array  # (num_steps,): loss at each step, filled as steps are taken
  active: Array  # bool scalar: False once stopped (early stopping) or failed (non-finite loss)


@struct.dataclass
class Problem:
  """The data of one problem: what the optimisation fits but never changes."""

  y: Array  # (H, W) blurry grey image
  support: Array  # (K_max, K_max) bool: where the kernel may be non-zero
  tv_weight: Array  # float scalar: λ of Eq. (6)


def create_models(config: ml_collections.ConfigDict, support_size: int
                  ) -> tuple[SkipNet, KernelNet | DipKernelNet]:
  """G_x and G_k as the config describes them; G_k outputs a support_size² kernel."""
  mx = config.model_x
  scales = int(mx.num_scales)
  gx = SkipNet(
      channels_down=(int(mx.channels),) * scales,
      channels_up=(int(mx.channels),) * scales,
      channels_skip=(int(mx.skip_channels),) * scales,
      out_channels=1,
      filter_size_down=int(mx.filter_size_down),
      filter_size_up=int(mx.filter_size_up),
      filter_size_skip=int(mx.filter_size_skip),
      upsample_mode=mx.upsample_mode,
      padding=mx.padding,
      activation=mx.activation,
      nonlocal_from_scale=int(mx.nonlocal_from_scale) if mx.use_nonlocal else None,
      need_sigmoid=True,
      need_1x1_up=bool(mx.need_1x1_up),
  )
  mk = config.model_k
  if mk.kind == "dip":  # the paper's Double-DIP variant
    gk = DipKernelNet(kernel_size=support_size, channels=int(mk.dip_channels),
                      skip_channels=int(mk.dip_skip_channels), num_scales=int(mk.dip_scales))
  else:
    gk = KernelNet(kernel_size=support_size, hidden=tuple(int(h) for h in mk.hidden))
  return gx, gk


def z_k_shape(config: ml_collections.ConfigDict, support_size: int) -> tuple[int, ...]:
  """G_k's noise input: a vector for the FCN, a K×K image of `input_dim` channels for a DIP G_k."""
  if config.model_k.kind == "dip":
    return (1, support_size, support_size, int(config.model_k.input_dim))
  return (int(config.model_k.input_dim),)


def create_train_state(key: Array, image_shape: tuple[int, int], support_size: int,
                       config: ml_collections.ConfigDict) -> TrainState:
  """Draw z_x, z_k and both networks' parameters from `key`; empty optimiser states."""
  gx, gk = create_models(config, support_size)
  key_zx, key_zk, key_x, key_k, key_noise = jax.random.split(key, 5)
  height, width = latent_shape(image_shape, support_size)
  z_x = jax.random.uniform(key_zx, (1, height, width, int(config.model_x.input_depth)))
  z_x = z_x * config.model_x.input_scale
  z_k = jax.random.uniform(key_zk, z_k_shape(config, support_size)) * config.model_k.input_scale
  variables_x = gx.init(key_x, z_x)
  params = {"x": variables_x["params"], "k": gk.init(key_k, z_k)["params"]}
  optimizers = make_optimizers(config)
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      params=params,
      batch_stats=variables_x["batch_stats"],
      opt_state={name: optimizers[name].init(params[name]) for name in optimizers},
      key=key_noise,
      z_x=z_x,
      z_k=z_k,
      loss_history=jnp.zeros((int(config.num_steps),), jnp.float32),
      active=jnp.ones((), bool),
  )


MAX_SEED = 2**32 - 1


def problem_key(seed: int, restart: int = 0) -> Array:
  """The PRNG key of a problem: `PRNGKey(seed)` for restart 0, an independent fold-in for restart r.

  Restart 0 of seed s is exactly the plain run with seed s; restarts of different seeds are
  independent draws. Seeds are integers in [0, 2³² − 1] (`PRNGKey` keeps 32 bits of its seed).
  """
  key = jax.random.PRNGKey(seed)
  return key if restart == 0 else jax.random.fold_in(key, restart)


# Settings that never reach a compiled program: keys come from init, chunk lengths are traced values,
# and candidates are planned on the host. Leaving them out of the cache keys lets, e.g., every
# candidate configuration share one compiled train step.
_HOST_ONLY_KEYS = ("seed", "chunk_size", "candidates")


def program_config(config: ml_collections.ConfigDict) -> ml_collections.FrozenConfigDict:
  """The part of a config that shapes the compiled programs, frozen (hashable: a cache key)."""
  if isinstance(config, ml_collections.FrozenConfigDict) and not any(k in config for k in _HOST_ONLY_KEYS):
    return config
  return ml_collections.FrozenConfigDict({k: v for k, v in config.items() if k not in _HOST_ONLY_KEYS})


@functools.lru_cache(maxsize=16)
def compiled_init(config: ml_collections.FrozenConfigDict, image_shape: tuple[int, int],
                  support_size: int) -> Callable[[Array], TrainState]:
  """Jitted keys (B, 2) -> batched initial TrainState; problem b depends on keys[b] only."""
  return jax.jit(jax.vmap(lambda key: create_train_state(key, image_shape, support_size, config)))


def init_batch(batch: Sequence[tuple], support_size: int,
               config: ml_collections.ConfigDict) -> tuple[TrainState, Problem]:
  """Initial states and problems of equal-shaped (y, kernel_size, seed[, restart]) tuples, batch first.

  Problem b's noise inputs and weights come from `problem_key(seed, restart)` alone.
  """
  shape = batch[0][0].shape
  keys = jnp.stack([problem_key(int(spec[2]), int(spec[3]) if len(spec) > 3 else 0) for spec in batch])
  states = compiled_init(program_config(config), tuple(shape), support_size)(keys)
  problems = Problem(
      y=jnp.stack([spec[0] for spec in batch]),
      support=jnp.stack([kernel_support(spec[1], support_size) for spec in batch]),
      tv_weight=jnp.asarray([_tv_weight(spec[0], config) for spec in batch], jnp.float32),
  )
  return shard_batch(states), shard_batch(problems)


def _tv_weight(y, config: ml_collections.ConfigDict) -> float:
  """λ of one image on the host (float64 noise estimate): what `fit_batch` uses."""
  if config.loss.tv_weight_from_noise:
    return float(config.loss.tv_noise_factor) * estimate_noise_sigma(y)
  return float(config.loss.tv_weight)


def tv_weight(y: Array, config: ml_collections.ConfigDict) -> Array:
  """λ of one image in jnp (float32 noise estimate, traceable): what the solver uses."""
  if config.loss.tv_weight_from_noise:
    return jnp.float32(config.loss.tv_noise_factor) * noise_sigma(y)
  return jnp.float32(config.loss.tv_weight)


def make_problem(y: Array, kernel_size: int, support_size: int, config: ml_collections.ConfigDict
                 ) -> Problem:
  """The Problem of one image y (H, W) in jnp, traceable: the kernel support and λ."""
  return Problem(y=y, support=jnp.asarray(kernel_support(kernel_size, support_size)),
                 tv_weight=tv_weight(y, config))


def make_generators(config: ml_collections.ConfigDict, support_size: int):
  """Pure functions G_x(params, batch_stats, z) -> (x (H', W'), new stats) and G_k(params, z, support)."""
  gx, gk = create_models(config, support_size)

  compute = jnp.bfloat16 if config.precision == "bfloat16" else None

  @with_precision(config)
  def generate_x(params_x, batch_stats, z):
    dtype = z.dtype  # x comes back in z's dtype (float32; float64 under jax_enable_x64 checks)
    if compute is not None:  # bfloat16 compute; parameters, optimiser and loss stay float32
      params_x = jax.tree.map(lambda p: p.astype(compute), params_x)
      z = z.astype(compute)
    out, updates = gx.apply({"params": params_x, "batch_stats": batch_stats}, z,
                            mutable=["batch_stats"])
    stats = jax.tree.map(lambda new, old: new.astype(old.dtype), updates["batch_stats"], batch_stats)
    return out[0, :, :, 0].astype(dtype), stats

  if config.model_x.remat:  # keep no activations for the backward pass: recompute G_x's forward
    generate_x = jax.checkpoint(generate_x)

  @with_precision(config)
  def generate_k(params_k, z_k, support):
    # A DIP G_k has BatchNorm in training mode: its running statistics are never read, so they are
    # created afresh and dropped (an FCN G_k has none).
    return gk.apply({"params": params_k}, z_k, support, mutable=["batch_stats"])[0]

  return generate_x, generate_k


def make_train_step(config: ml_collections.ConfigDict, support_size: int
                    ) -> Callable[[TrainState, Problem], tuple[TrainState, dict[str, Array]]]:
  """Build the pure per-problem `train_step(state, problem) -> (state, metrics)`."""
  generate_x, generate_k = make_generators(config, support_size)
  optimizers = make_optimizers(config)
  alternating = config.optim.mode == "alternating"
  loss_config = config.loss
  perturbation = float(config.model_x.input_perturbation)

  def apply_update(name, grads, state_params, opt_state):
    updates, opt_state = optimizers[name].update(grads, opt_state, state_params)
    return optax.apply_updates(state_params, updates), opt_state

  @with_precision(config)
  def train_step(state: TrainState, problem: Problem) -> tuple[TrainState, dict[str, Array]]:
    key, noise_key = jax.random.split(state.key)
    z = state.z_x + perturbation * jax.random.normal(noise_key, state.z_x.shape)

    def loss_of(params_x, params_k):
      x, batch_stats = generate_x(params_x, state.batch_stats, z)
      k = generate_k(params_k, state.z_k, problem.support)
      return objective(x, k, problem.y, state.step, loss_config, problem.tv_weight), batch_stats

    params, opt_state = dict(state.params), dict(state.opt_state)
    if alternating:  # Algorithm 1: G_k with x fixed, then G_x with the new k.
      x_fixed = lax.stop_gradient(generate_x(params["x"], state.batch_stats, z)[0])
      grads_k = jax.grad(lambda pk: objective(x_fixed, generate_k(pk, state.z_k, problem.support),
                                              problem.y, state.step, loss_config,
                                              problem.tv_weight))(params["k"])
      params["k"], opt_state["k"] = apply_update("k", grads_k, params["k"], opt_state["k"])
      (loss, batch_stats), grads_x = jax.value_and_grad(
          lambda px: loss_of(px, params["k"]), has_aux=True)(params["x"])
      params["x"], opt_state["x"] = apply_update("x", grads_x, params["x"], opt_state["x"])
    else:  # Algorithm 2 (default): one Adam step on both generators.
      (loss, batch_stats), grads = jax.value_and_grad(
          lambda p: loss_of(p["x"], p["k"]), has_aux=True)(params)
      for name in ("x", "k"):
        params[name], opt_state[name] = apply_update(name, grads[name], params[name], opt_state[name])

    new_state = state.replace(
        step=state.step + 1,
        params=params,
        batch_stats=batch_stats,
        opt_state=opt_state,
        key=key,
        loss_history=state.loss_history.at[state.step].set(loss),
    )
    # Non-finite guard: a problem whose loss is NaN/inf keeps its last finite state and stops
    # (active=False) at that step; the loss history records the bad value where it happened.
    finite = jnp.isfinite(loss)
    kept = jax.tree.map(lambda new, old: jnp.where(finite, new, old), new_state,
                        state.replace(loss_history=new_state.loss_history))
    return kept.replace(active=finite), {"loss": loss}

  return train_step


def make_active_step(config: ml_collections.ConfigDict, support_size: int
                     ) -> Callable[[TrainState, Problem], TrainState]:
  """`train_step` for an active problem, nothing for one that stopped or failed (`state.active`)."""
  train_step = make_train_step(config, support_size)

  def step_if_active(state: TrainState, problem: Problem) -> TrainState:
    # Under `map` an inactive problem costs nothing; under `vmap` the cond becomes a select.
    return lax.cond(state.active, lambda: train_step(state, problem)[0], lambda: state)

  return step_if_active


def make_outputs(config: ml_collections.ConfigDict, support_size: int
                 ) -> Callable[[TrainState, Problem], tuple[Array, Array]]:
  """`outputs(state, problem) -> (x latent (H', W'), kernel (K, K))`, G_x fed z_x unperturbed."""
  generate_x, generate_k = make_generators(config, support_size)

  def outputs(state: TrainState, problem: Problem) -> tuple[Array, Array]:
    x, _ = generate_x(state.params["x"], state.batch_stats, state.z_x)
    return x, generate_k(state.params["k"], state.z_k, problem.support)

  return outputs


def batch_strategy(config: ml_collections.ConfigDict) -> str:
  """'vmap', 'map' or 'chunked': how a batch of problems shares one XLA program.

  'vmap' batches every operation across problems, which is what fills an accelerator. On the CPU,
  vmapping convolutions over per-problem weights makes them grouped convolutions that XLA runs about
  1.7× slower per problem (benchmarks/RESULTS.md), so 'auto' picks 'map' there: the same program loops
  over the problems inside each step. 'chunked' loops over groups of `batch_chunk` problems, vmapped
  within a group. All give the same numbers up to float rounding (tested).
  """
  strategy = config.batch_strategy
  if strategy == "auto":
    return "map" if jax.default_backend() == "cpu" else "vmap"
  if strategy not in BATCH_STRATEGIES:
    raise ValueError(f"batch_strategy must be 'auto' or one of {BATCH_STRATEGIES}, got {strategy!r}")
  return strategy


BATCH_STRATEGIES = ("vmap", "map", "chunked")


def batched(fn: Callable, config: ml_collections.ConfigDict) -> Callable:
  """`fn(state, problem)` over a batch-first (states, problems) by the config's batch strategy."""
  strategy = batch_strategy(config)
  if strategy == "vmap":
    return jax.vmap(fn)
  size = int(config.batch_chunk) if strategy == "chunked" else None
  return lambda states, problems: lax.map(lambda sp: fn(*sp), (states, problems), batch_size=size)


def _in_precision_scope(fn: Callable, config: ml_collections.ConfigDict) -> Callable:
  """`fn` (jitted) called, and therefore traced and compiled, under `precision_scope(config)`.

  The traced functions set the precision themselves (`with_precision`); the scope around the call
  changes nothing in the program and keeps `.lower` and `.jitted` for benchmarks and tests.
  """
  def call(*args):
    with precision_scope(config):
      return fn(*args)

  def lower(*args):  # for cost and memory analyses (benchmarks)
    with precision_scope(config):
      return fn.lower(*args)

  call.lower = lower
  call.jitted = fn  # the jitted function itself (its compilation cache, for tests)
  return call


def precision_scope(config: ml_collections.ConfigDict):
  """The matmul/convolution precision to trace and compile under: 'highest' (full float32) for
  `precision="highest"`, the backend's default otherwise ('default'; 'bfloat16' computes G_x in
  bfloat16 on top, see `make_generators`)."""
  return jax.default_matmul_precision("highest" if config.precision == "highest" else None)


def with_precision(config: ml_collections.ConfigDict) -> Callable[[Callable], Callable]:
  """Decorator: the function's body runs under `precision_scope(config)`. The precision is a
  parameter of each convolution and matmul recorded while tracing, so the body sets it itself and a
  caller's own `jax.jit` or `vmap` gets the configured precision, not the backend's default."""
  def decorate(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
      with precision_scope(config):
        return fn(*args, **kwargs)
    return wrapped
  return decorate


@functools.lru_cache(maxsize=16)
def compiled_runner(config: ml_collections.FrozenConfigDict, support_size: int, shards: int = 1
                    ) -> Callable[[TrainState, Problem, int], TrainState]:
  """Jitted `run_steps(states, problems, n)`: n steps of the batched train step, n not static.

  The step count is a traced value (a `fori_loop` trip count), so chunks of any length reuse one
  compilation; only a new image shape, batch size or config compiles again. With `shards` > 1 each
  device runs its slice of the batch (`sharding.per_device`).
  """
  batched_step = batched(make_active_step(config, support_size), config)

  def run_steps(states: TrainState, problems: Problem, num_steps) -> TrainState:
    return lax.fori_loop(0, num_steps, lambda _, s: batched_step(s, problems), states)

  return _in_precision_scope(jax.jit(per_device(run_steps, shards, num_batched_args=2,
                                                num_replicated_args=1)), config)


@functools.lru_cache(maxsize=16)
def compiled_outputs(config: ml_collections.FrozenConfigDict, support_size: int, shards: int = 1):
  """Jitted (states, problems) -> (x latent (B, H', W'), kernel (B, K, K)), from z_x unperturbed.

  Batched the same way as training (see `batch_strategy`).
  """
  outputs = make_outputs(config, support_size)
  return _in_precision_scope(jax.jit(per_device(batched(outputs, config), shards, num_batched_args=2)),
                             config)


def train(states: TrainState, problems: Problem, config: ml_collections.ConfigDict,
          support_size: int, callback: Callable[[int, TrainState], None] | None = None,
          until: int | None = None) -> TrainState:
  """Run a batch's active problems from their step to `until` (default `config.num_steps`).

  Steps go `config.chunk_size` per host call; `callback(step, states)` runs on the host after every
  chunk (progress, checkpoints); the device runs the chunk without any Python in between.
  """
  run_steps = compiled_runner(program_config(config), support_size, num_shards(problems.y.shape[0]))
  steps, active = jax.device_get((states.step, states.active))
  step = int(steps[active].max()) if active.any() else int(config.num_steps)
  total = int(config.num_steps) if until is None else min(int(until), int(config.num_steps))
  chunk = int(config.chunk_size)
  while step < total:
    n = min(chunk, total - step)
    states = run_steps(states, problems, jnp.int32(n))
    step += n
    if callback is not None:
      jax.block_until_ready(states.step)  # so the callback sees (and times) finished work
      callback(step, states)
  return states
