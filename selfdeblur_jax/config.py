"""The default configuration (SPEC §2–3, the authors' released Levin code) and its validation."""

from __future__ import annotations

from typing import Any, Mapping

import ml_collections


def get_default_config() -> ml_collections.ConfigDict:
  """Every number of SelfDeblur's method, set as the released code sets it for Levin."""
  config = ml_collections.ConfigDict()
  config.num_steps = 5000
  config.seed = 0
  config.chunk_size = 100  # steps per host call: progress, callbacks and checkpoints happen between
  config.batch_strategy = "auto"  # "vmap", "map" (loop over problems in one program), "auto": map on CPU

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

  config.model_k = ml_collections.ConfigDict()
  config.model_k.input_dim = 200
  config.model_k.input_scale = 0.1  # z_k ~ U(0, 1) · 0.1, never perturbed
  config.model_k.hidden = (1000,)  # () is the paper's SelfDeblur_k−, (1000, 1000) its k+

  config.loss = ml_collections.ConfigDict()
  config.loss.data_term = "mse_then_ssim"  # released code; the paper's Eq. (6) is "mse"
  config.loss.switch_step = 1000
  config.loss.ssim_window = 11
  config.loss.ssim_sigma = 1.5
  config.loss.tv_weight = 0.0  # λ of Eq. (6); the paper uses 1e-6 on Levin
  config.loss.tv_weight_from_noise = False  # True: λ = tv_noise_factor · σ̂ per image
  config.loss.tv_noise_factor = 0.1

  config.optim = ml_collections.ConfigDict()
  config.optim.mode = "joint"  # "joint" (Algorithm 2) or "alternating" (Algorithm 1)
  config.optim.lr_x = 0.01
  config.optim.lr_k = 1e-4  # released code; the paper says 0.01
  config.optim.boundaries = (2000, 3000, 4000)
  config.optim.decay = 0.5
  config.optim.b1 = 0.9
  config.optim.b2 = 0.999
  config.optim.eps = 1e-8
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


def resolve_config(config: Mapping[str, Any] | None,
                   base: ml_collections.ConfigDict | None = None) -> ml_collections.ConfigDict:
  """`base` (default: get_default_config()) updated with `config`; unknown keys raise ValueError.

  `config` may be a full ConfigDict (e.g. from configs/*.py) or a nested dict of overrides.
  Keys the engine does not know (such as a CLI's data settings) are allowed only when `base` has them.
  """
  resolved = get_default_config() if base is None else base.copy_and_resolve_references()
  if config is None:
    return resolved
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  unknown = _unknown_keys(config, resolved)
  if unknown:
    raise ValueError(f"unknown config key(s) {', '.join(sorted(unknown))}; known top-level keys: "
                     f"{', '.join(sorted(resolved.keys()))}")
  try:
    with resolved.unlocked():
      resolved.update_from_flattened_dict(_flatten(config))
  except TypeError as error:  # a value of the wrong type, e.g. a string for num_steps
    raise ValueError(f"bad config value: {error}") from None
  _check(resolved)
  return resolved


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, Mapping):
      flat.update(_flatten(value, f"{prefix}{key}."))
    else:
      flat[prefix + key] = value
  return flat


def _check(config: ml_collections.ConfigDict) -> None:
  """Value checks that would otherwise fail deep inside XLA."""
  if int(config.num_steps) < 1:
    raise ValueError(f"num_steps must be >= 1, got {config.num_steps}")
  if int(config.chunk_size) < 1:
    raise ValueError(f"chunk_size must be >= 1, got {config.chunk_size}")
  if config.loss.data_term not in ("mse_then_ssim", "mse", "ssim"):
    raise ValueError(f"loss.data_term must be 'mse_then_ssim', 'mse' or 'ssim', got "
                     f"{config.loss.data_term!r}")
  if config.batch_strategy not in ("auto", "vmap", "map"):
    raise ValueError(f"batch_strategy must be 'auto', 'vmap' or 'map', got {config.batch_strategy!r}")
  if config.optim.mode not in ("joint", "alternating"):
    raise ValueError(f"optim.mode must be 'joint' or 'alternating', got {config.optim.mode!r}")
  if int(config.model_x.num_scales) < 1:
    raise ValueError(f"model_x.num_scales must be >= 1, got {config.model_x.num_scales}")
