"""The default configuration (SPEC §2–3, the authors' released Levin code) and its validation."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import ml_collections
from ml_collections import config_dict

# The no-reference selectors of candidates/selection.py (config.candidates.selector). Named here, as the
# other choices' names are, so that the config's checks need nothing from the layers above it.
SELECTOR_NAMES = ("loss", "nonblind_l1l2", "nonblind_energy", "nonblind_energy_l1l2", "nonblind_l1l2_fit",
                  "network_l1l2", "agreement", "border_mass")

# The released code's schedule as fractions of its 5000 steps: 1 − SSIM from 20 %, learning-rate
# halvings at 40, 60 and 80 %. The default `loss.switch_step` and `optim.boundaries` are these
# fractions of `num_steps`, so that `num_steps` alone scales the schedule.
SWITCH_FRACTION = 0.2
BOUNDARY_FRACTIONS = (0.4, 0.6, 0.8)


def steps_at(fractions: Sequence[float], num_steps: int) -> tuple[int, ...]:
  """round(f·num_steps) for each fraction f, repeats and step 0 dropped (a very short run)."""
  steps = (int(round(float(f) * int(num_steps))) for f in fractions)
  return tuple(sorted({step for step in steps if step >= 1}))


def _following_num_steps(config: ml_collections.ConfigDict, fn, field_type: type):
  """A field whose value is fn(num_steps), computed when read: it follows later changes of num_steps
  (a config file's, a command-line flag's, a dict of overrides') until it is set to a value itself."""
  num_steps = config.get_ref("num_steps")
  # FieldReference(default, field_type, op): `op.fn(default, *op.args)` with the args resolved.
  return config_dict.FieldReference(field_type(), field_type=field_type,
                                    op=config_dict._Op(lambda _, n: fn(n), [num_steps]))  # noqa: SLF001


def get_default_config() -> ml_collections.ConfigDict:
  """Every number of SelfDeblur's method, set as the released code sets it for Levin."""
  config = ml_collections.ConfigDict()
  config.num_steps = 5000
  config.seed = 0
  config.chunk_size = 100  # steps per host call: progress, callbacks and checkpoints happen between
  config.batch_strategy = "auto"  # "vmap", "map" (loop over problems in one program), "chunked"
  # (loop over groups of batch_chunk problems, vmapped within); "auto": map on the CPU, else vmap
  config.batch_chunk = 4
  config.precision = "highest"  # convs/matmuls: "highest" (float32), "default" (the backend's, TF32
  # on an H100's convolutions), "bfloat16" (G_x computed in bfloat16; parameters and Adam in float32)

  config.model_x = ml_collections.ConfigDict()
  config.model_x.input_depth = 8
  config.model_x.input_scale = 0.1  # z_x ~ U(0, 1) · 0.1
  config.model_x.input_perturbation = 0.001  # fed z_x + 0.001·N(0, 1), fresh every step
  config.model_x.num_scales = 5
  config.model_x.channels = 128  # down and up
  config.model_x.skip_channels = 16
  config.model_x.filter_size_down = 3
  config.model_x.filter_size_up = 3
  config.model_x.filter_size_skip = 1
  config.model_x.upsample_mode = "bilinear"
  config.model_x.padding = "reflection"
  config.model_x.activation = "LeakyReLU"
  config.model_x.use_nonlocal = True  # released code; the paper's Fig. 2 has none
  config.model_x.nonlocal_from_scale = 2
  config.model_x.need_1x1_up = True
  config.model_x.remat = False  # True: recompute G_x's activations in the backward pass (memory for time)

  config.model_k = ml_collections.ConfigDict()
  config.model_k.input_dim = 200
  config.model_k.input_scale = 0.1  # z_k ~ U(0, 1) · 0.1, never perturbed
  config.model_k.hidden = (1000,)  # () is the paper's SelfDeblur_k−, (1000, 1000) its k+
  # "fcn": the fully-connected G_k above; "dip": the paper's Double-DIP variant, a SkipNet on a K×K
  # noise image of input_dim channels with a softmax output (models/dip_kernel_net.py).
  config.model_k.kind = "fcn"
  config.model_k.dip_channels = 32
  config.model_k.dip_skip_channels = 4
  config.model_k.dip_scales = 3  # needs kernels of at least 2**dip_scales + 1 pixels

  config.loss = ml_collections.ConfigDict()
  config.loss.data_term = "mse_then_ssim"  # released code; the paper's Eq. (6) is "mse"
  # 1 − SSIM from this step on: by default SWITCH_FRACTION of num_steps (1000 of 5000), following
  # num_steps; set a step to fix it.
  config.loss.switch_step = _following_num_steps(
      config, lambda n: int(round(SWITCH_FRACTION * n)), int)
  config.loss.ssim_window = 11
  config.loss.ssim_sigma = 1.5
  config.loss.tv_weight = 0.0  # λ of Eq. (6); the paper uses 1e-6 on Levin
  config.loss.tv_weight_from_noise = False  # True: λ = tv_noise_factor · σ̂ per image
  config.loss.tv_noise_factor = 0.1
  config.loss.kernel_center_weight = 0.0  # > 0: penalise the kernel centroid's offset from the centre

  config.optim = ml_collections.ConfigDict()
  config.optim.mode = "joint"  # "joint" (Algorithm 2) or "alternating" (Algorithm 1)
  config.optim.lr_x = 0.01
  config.optim.lr_k = 1e-4  # released code; the paper says 0.01
  # Halve the learning rates at these steps: by default BOUNDARY_FRACTIONS of num_steps
  # ((2000, 3000, 4000) of 5000), following num_steps; set steps to fix them.
  config.optim.boundaries = _following_num_steps(
      config, lambda n: steps_at(BOUNDARY_FRACTIONS, n), tuple)
  config.optim.decay = 0.5
  config.optim.b1 = 0.9
  config.optim.b2 = 0.999
  config.optim.eps = 1e-8

  # Candidates of one image (issue #11): restarts and kernel sizes run as problems of one batched
  # program; a no-reference selector picks one. The defaults are one plain run.
  config.candidates = ml_collections.ConfigDict()
  config.candidates.restarts = 1  # R draws per size: problem_key(seed, r), r = 0..R−1 (or size_restarts)
  # Candidate kernel sizes: for each factor f and margin m, the odd size ⌈f·K⌉ (rounded up to odd) + 2m,
  # K the given size; repeats dropped. Factors below 1 guard against an over-estimated K.
  config.candidates.size_factors = (1.0,)
  config.candidates.size_margins = (0,)
  # Restarts per size factor, in size_factors' order (e.g. (2, 1, 1): two draws at the given size, one
  # at each smaller one); () gives every size `restarts` draws.
  config.candidates.size_restarts = ()
  # A candidate of another size than the given one has its selector score (energy) multiplied by
  # 1 + size_handicap: the given size is trusted unless another size explains y clearly better.
  config.candidates.size_handicap = 0.0
  config.candidates.halving_fractions = ()  # at each fraction of num_steps, keep the better part
  # Of an image's candidates, 1/halving_rate still run after each stop (2: halving, 6 -> 3 -> 2 -> 1;
  # 3: 6 -> 2 -> 1), rounded up, never fewer than one.
  config.candidates.halving_rate = 2.0
  config.candidates.selector = "nonblind_energy_l1l2"  # see candidates/selection.py
  config.candidates.output = "network"  # the winner's x: "network" (G_x) or "nonblind" (deconv. of y)
  config.candidates.nonblind_weight = 0.003  # prior weight of the non-blind deconvolution
  # True (with output "nonblind"): the winner's kernel moved so that its centroid is at the support's
  # centre before y is deconvolved with it (physics/kernel_centre.py): an output registered with y.
  config.candidates.centre_kernel = False
  return config


def _is_tree(value: Any) -> bool:
  return isinstance(value, (Mapping, ml_collections.ConfigDict))


def _unknown_keys(config: Mapping[str, Any], default: Mapping[str, Any], prefix: str = "") -> list[str]:
  unknown = []
  for key, value in config.items():
    if key not in default:
      unknown.append(prefix + key)
    elif _is_tree(default[key]) and _is_tree(value):
      unknown += _unknown_keys(value, default[key], f"{prefix}{key}.")
  return unknown


def _check_sections(config: Mapping[str, Any], default: Mapping[str, Any], prefix: str = "") -> None:
  """ValueError for a section (model_x, loss, ...) given as something else than a mapping."""
  for key, value in config.items():
    if key in default and _is_tree(default[key]):
      if not _is_tree(value):
        example = {k: default[key][k] for k in list(default[key].keys())[:1]}
        raise ValueError(f"{prefix}{key} must be a mapping of its settings (e.g. {example}, or leave it "
                         f"out for the defaults), got {value!r}")
      _check_sections(value, default[key], f"{prefix}{key}.")


def resolve_config(config: Mapping[str, Any] | None,
                   base: ml_collections.ConfigDict | None = None) -> ml_collections.ConfigDict:
  """`base` (default: get_default_config()) updated with `config`; unknown keys raise ValueError.

  `config` may be a full ConfigDict or a nested dict of overrides. Keys the engine does not know are
  allowed only when `base` has them; a program config (configs/*.py) goes through
  `app_config.resolve_engine` (`selfdeblur_jax.resolve_config`), which takes its engine part.
  """
  # Overrides go onto the unresolved base, so that a new num_steps moves the steps that follow it.
  resolved = get_default_config() if base is None else copy.deepcopy(base)
  if config is None:
    return resolved.copy_and_resolve_references()
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  _check_sections(config, resolved)
  unknown = _unknown_keys(config, resolved)
  if unknown:
    raise ValueError(f"unknown config key(s) {', '.join(sorted(unknown))}; known top-level keys: "
                     f"{', '.join(sorted(resolved.keys()))}")
  try:
    with resolved.unlocked():
      resolved.update_from_flattened_dict(flatten(config))
  except TypeError as error:  # a value of the wrong type, e.g. a string for num_steps
    raise ValueError(f"bad config value: {error}") from None
  resolved = resolved.copy_and_resolve_references()  # plain values from here on
  try:
    _check(resolved)
  except (TypeError, IndexError, KeyError) as error:  # a value of a type no check expected
    raise ValueError(f"bad config value: {error}") from None
  return resolved


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
  """{'a': {'b': 1}} -> {'a.b': 1}: a nested mapping (a ConfigDict, a config's JSON) as dotted keys."""
  flat = {}
  for key, value in tree.items():
    if isinstance(value, Mapping):
      flat.update(flatten(value, f"{prefix}{key}."))
    else:
      flat[prefix + key] = value
  return flat


def _check(config: ml_collections.ConfigDict) -> None:
  """Value checks that would otherwise fail deep inside XLA."""
  _positive_int(config, "num_steps")
  _positive_int(config, "chunk_size")
  if config.loss.data_term not in ("mse_then_ssim", "mse", "ssim"):
    raise ValueError(f"loss.data_term must be 'mse_then_ssim', 'mse' or 'ssim', got "
                     f"{config.loss.data_term!r}")
  if config.batch_strategy not in ("auto", "vmap", "map", "chunked"):
    raise ValueError(f"batch_strategy must be 'auto', 'vmap', 'map' or 'chunked', got "
                     f"{config.batch_strategy!r}")
  _positive_int(config, "batch_chunk")
  if config.precision not in ("highest", "default", "bfloat16"):
    raise ValueError(f"precision must be 'highest', 'default' or 'bfloat16', got {config.precision!r}")
  if config.optim.mode not in ("joint", "alternating"):
    raise ValueError(f"optim.mode must be 'joint' or 'alternating', got {config.optim.mode!r}")
  for name in ("model_x.input_depth", "model_x.num_scales", "model_x.channels", "model_x.skip_channels",
               "model_x.filter_size_down", "model_x.filter_size_up", "model_x.filter_size_skip",
               "model_k.input_dim", "loss.ssim_window", "model_k.dip_channels",
               "model_k.dip_skip_channels", "model_k.dip_scales"):
    _positive_int(config, name)
  if config.model_k.kind not in ("fcn", "dip"):
    raise ValueError(f"model_k.kind must be 'fcn' or 'dip', got {config.model_k.kind!r}")
  if any(int(h) < 1 for h in config.model_k.hidden):
    raise ValueError(f"model_k.hidden must hold positive widths, got {tuple(config.model_k.hidden)}")
  for name in ("optim.lr_x", "optim.lr_k", "optim.decay", "optim.eps", "loss.ssim_sigma",
               "model_x.input_scale", "model_k.input_scale"):
    _finite(config, name, positive=True)
  for name in ("model_x.input_perturbation", "loss.tv_weight", "loss.tv_noise_factor",
               "loss.kernel_center_weight"):
    _finite(config, name, positive=False)
  for name in ("optim.b1", "optim.b2"):
    if not 0 <= float(_get(config, name)) < 1:
      raise ValueError(f"{name} must lie in [0, 1), got {_get(config, name)}")
  boundaries = [int(b) for b in config.optim.boundaries]
  if boundaries != sorted(set(boundaries)) or any(b < 1 for b in boundaries):
    raise ValueError(f"optim.boundaries must be increasing positive steps, got {tuple(boundaries)}; "
                     f"leave them unset to halve at {', '.join(f'{f:.0%}' for f in BOUNDARY_FRACTIONS)} of "
                     "num_steps")
  if config.loss.data_term == "mse_then_ssim" and not 0 <= int(config.loss.switch_step) <= int(config.num_steps):
    raise ValueError(f"loss.switch_step must lie in [0, num_steps={config.num_steps}], got "
                     f"{config.loss.switch_step}; leave it unset to switch at {SWITCH_FRACTION:.0%} of "
                     "num_steps")
  if isinstance(config.seed, bool) or not isinstance(config.seed, int) or not 0 <= config.seed <= 2**32 - 1:
    raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {config.seed}")
  _check_candidates(config)


def _get(config: ml_collections.ConfigDict, name: str) -> Any:
  for part in name.split("."):
    config = config[part]
  return config


def _positive_int(config: ml_collections.ConfigDict, name: str) -> None:
  value = _get(config, name)
  if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 1:
    raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _finite(config: ml_collections.ConfigDict, name: str, positive: bool) -> None:
  value = _get(config, name)
  if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
      value <= 0 if positive else value < 0):
    raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")


def final_data_term_at(config: ml_collections.ConfigDict, step: int) -> bool:
  """Whether the loss of `step` steps' training (its last step, `step` − 1) is the run's final data term:
  not the MSE that `mse_then_ssim` uses before `loss.switch_step`. Data terms are compared between
  candidates (the fit gate) only then."""
  return config.loss.data_term != "mse_then_ssim" or step - 1 >= int(config.loss.switch_step)


def halving_steps(config: ml_collections.ConfigDict) -> tuple[int, ...]:
  """The steps at which candidates are halved: candidates.halving_fractions of num_steps, rounded."""
  return tuple(int(round(float(f) * int(config.num_steps))) for f in config.candidates.halving_fractions)


def _check_candidates(config: ml_collections.ConfigDict) -> None:
  c = config.candidates
  if int(c.restarts) < 1:
    raise ValueError(f"candidates.restarts must be >= 1, got {c.restarts}")
  margins = tuple(c.size_margins)
  if not margins or any(int(m) < 0 for m in margins) or len(set(margins)) != len(margins):
    raise ValueError(f"candidates.size_margins must be distinct non-negative integers, got {margins}")
  factors = tuple(c.size_factors)
  if not factors or len(set(factors)) != len(factors) or any(
      isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 4 for f in factors):
    raise ValueError(f"candidates.size_factors must be distinct numbers in (0, 4], got {factors}")
  counts = tuple(c.size_restarts)
  if counts and (len(counts) != len(factors) or any(
      isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in counts)):
    raise ValueError(f"candidates.size_restarts must be () or one integer >= 1 per size factor "
                     f"({len(factors)}), got {counts}")
  handicap = c.size_handicap
  if isinstance(handicap, bool) or not isinstance(handicap, (int, float)) or not 0 <= handicap < math.inf:
    raise ValueError(f"candidates.size_handicap must be a finite number >= 0, got {handicap!r}")
  fractions = tuple(float(f) for f in c.halving_fractions)
  steps = halving_steps(config)
  if any(not 0 < f < 1 for f in fractions) or list(steps) != sorted(set(steps)) or (
      steps and (steps[0] <= 0 or steps[-1] >= int(config.num_steps))):
    raise ValueError(f"candidates.halving_fractions must increase strictly within (0, 1) and fall on "
                     f"distinct steps, got {tuple(c.halving_fractions)}")
  rate = c.halving_rate
  if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 1 < rate < math.inf:
    raise ValueError(f"candidates.halving_rate must be a finite number > 1, got {rate!r}")
  if c.selector not in SELECTOR_NAMES:
    raise ValueError(f"candidates.selector must be one of {sorted(SELECTOR_NAMES)}, got {c.selector!r}")
  if c.output not in ("network", "nonblind"):
    raise ValueError(f"candidates.output must be 'network' or 'nonblind', got {c.output!r}")
  if not float(c.nonblind_weight) > 0:
    raise ValueError(f"candidates.nonblind_weight must be > 0, got {c.nonblind_weight}")
  if c.centre_kernel and c.output != "nonblind":
    raise ValueError("candidates.centre_kernel needs candidates.output='nonblind' (G_x's own image "
                     "stays paired with its uncentred kernel)")
