"""The command line's settings on top of the engine's config, and the one split between the two.

A program config (configs/*.py) is the engine's config (config.py) plus the fields `add_app_fields` adds:
where the images are, their kernel sizes, how to prepare them (photo mode included), batching and
checkpoints. Which keys are the program's is read off those functions, never listed by hand.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

import ml_collections

from selfdeblur_jax.config import get_default_config, resolve_config


def get_base_config() -> ml_collections.ConfigDict:
  """The engine's default config plus the program's fields: what every configs/*.py starts from."""
  return add_app_fields(get_default_config())


def add_input_fields(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Which images, their kernel sizes and how each is read (one directory, one kernel size)."""
  with config.unlocked():
    config.data_dir = ""  # a file, a directory or a glob
    config.pattern = "*"  # within a directory: which files
    config.files = ()  # within a directory: exactly these files (overrides pattern)
    config.kernel_size = 0  # one size for every image; 0: use kernel_rule or kernel_sizes
    config.kernel_rule = ""  # "levin" or "lai": size from the file name (SPEC §4)
    config.kernel_sizes = ml_collections.ConfigDict()  # per-file mapping, e.g. {"photo": 31}
    config.crop = 0  # centre crop to crop×crop before deblurring; 0: whole image
    config.downscale = 1  # integer box-downscale factor applied first (colour photos on a CPU)
    config.color_mode = "grey"  # "grey", or "ycbcr": deblur Y and keep the original Cb/Cr
  return config


def add_photo_fields(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Photo mode: how a photo is prepared and restored (these enter a photo's fingerprint)."""
  with config.unlocked():
    config.restore = "network"  # "nonblind": kernel from a window, whole photo by non-blind deconvolution
    config.estimate_window = 256  # side of that window (where the photo has the most edges)
    config.estimate_max_kernel = 0  # larger kernels: estimated on a downscaled copy (photo/scale.py); 0: off
    config.restore_colour = "rgb"  # "rgb": deconvolve each channel; "y": luma only, Cb/Cr kept
    config.photo_linear = True  # photo mode: estimate and restore in linear light (sRGB decoded first)
    config.clip_level = 0.98  # photo mode: an sRGB value at or above this counts as a clipped highlight
    config.window_sigma = 2.0  # photo mode: the window's structure on the luma smoothed by this (px)
    config.restore_weight = 0.0  # photo mode: the restoration's prior weight; 0: from the noise level
    config.check_result = True  # photo mode: keep the input when the result is not better (no reference)
  return config


def add_run_fields(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Batching, checkpoints and figures."""
  with config.unlocked():
    config.max_batch_size = 8  # problems of one shape per XLA program
    config.checkpoint_every = 500  # steps; 0: no checkpoints
    config.figure_steps = 4  # snapshots of x and k in the per-image figure
  return config


def add_synthetic_fields(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The demo's problem: a bundled photo blurred with a seeded motion kernel (see configs/demo.py)."""
  with config.unlocked():
    config.synthetic = ml_collections.ConfigDict()
    config.synthetic.enabled = False
    config.synthetic.size = 0  # crop size of the sharp photo (the blurry image has this size)
    config.synthetic.top = 0  # crop position in matplotlib's grace_hopper.jpg (600×512)
    config.synthetic.left = 0
    config.synthetic.kernel_size = 0
    config.synthetic.kernel_seed = 0
    config.synthetic.noise_sigma = 0.0
  return config


def add_app_fields(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`config` with the program's fields at their defaults (one directory, one kernel size)."""
  for add in (add_input_fields, add_photo_fields, add_run_fields, add_synthetic_fields):
    config = add(config)
  return config


def _added_keys(add: Callable[[ml_collections.ConfigDict], ml_collections.ConfigDict]) -> tuple[str, ...]:
  """The top-level keys `add` puts into an empty config."""
  return tuple(sorted(add(ml_collections.ConfigDict()).keys()))


# The program's top-level keys, and those of photo mode (they enter a photo's fingerprint).
PROGRAM_KEYS = _added_keys(add_app_fields)
PHOTO_KEYS = _added_keys(add_photo_fields)


def split(config: Mapping[str, Any]) -> tuple[Any, Any]:
  """(engine, program): a config's top-level fields that `add_app_fields` adds are the program's, all
  others the engine's (its checks refuse those it does not know). A ConfigDict gives two ConfigDicts
  (sharing the values), a mapping two dicts."""
  engine = {key: value for key, value in config.items() if key not in PROGRAM_KEYS}
  program = {key: value for key, value in config.items() if key in PROGRAM_KEYS}
  if isinstance(config, ml_collections.ConfigDict):
    return _config_dict(engine), _config_dict(program)
  return engine, program


def _config_dict(fields: dict[str, Any]) -> ml_collections.ConfigDict:
  out = ml_collections.ConfigDict()
  for key, value in fields.items():
    out[key] = value
  return out


def resolve_engine(config: Mapping[str, Any] | None,
                   base: ml_collections.ConfigDict | None = None) -> ml_collections.ConfigDict:
  """`config.resolve_config` of any config the public functions take: a program config (configs/*.py)
  gives its engine part, its program fields ignored; a nested dict of overrides, a ConfigDict or None
  as they are. With `base` (a config of its own keys) nothing is split off."""
  if config is not None and base is None:
    if isinstance(config, ml_collections.ConfigDict):
      config = config.to_dict()
    config, _ = split(config)
  return resolve_config(config, base)


def engine_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The engine's part of a whole program config, on the engine's own keys: what `fit_batch` takes.
  A key that a config file adds and neither part knows is left out (the command line never read it)."""
  fields, _ = split(config)
  engine = get_default_config()
  with engine.unlocked():
    for key in engine.keys():
      engine[key] = fields[key]
  return engine


def load_config_file(path: str, arg: str | None = None) -> ml_collections.ConfigDict:
  """`get_config()` (or `get_config(arg)`) of a config file such as configs/levin.py: what
  --config=FILE (or --config=FILE:arg) loads."""
  spec = importlib.util.spec_from_file_location("_selfdeblur_config", path)
  if spec is None or spec.loader is None:
    raise FileNotFoundError(path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config() if arg is None else module.get_config(arg)
