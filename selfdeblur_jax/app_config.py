"""The command line's settings on top of the engine's config: where the images are, their kernel sizes,
how to prepare them, batching and checkpoints.
"""

from __future__ import annotations

import ml_collections

from selfdeblur_jax.config import get_default_config


def get_base_config() -> ml_collections.ConfigDict:
  """The engine's default config plus the program's fields: what every configs/*.py starts from."""
  return add_app_fields(get_default_config())


def add_app_fields(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`config` with the program's fields at their defaults (one directory, one kernel size)."""
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
    config.restore = "network"  # "nonblind": kernel from a window, whole photo by non-blind deconvolution
    config.estimate_window = 256  # side of that window (where the photo has the most edges)
    config.estimate_max_kernel = 0  # larger kernels: estimated on a downscaled copy (photo/scale.py); 0: off
    config.restore_colour = "rgb"  # "rgb": deconvolve each channel; "y": luma only, Cb/Cr kept
    config.photo_linear = True  # photo mode: estimate and restore in linear light (sRGB decoded first)
    config.clip_level = 0.98  # photo mode: an sRGB value at or above this counts as a clipped highlight
    config.window_sigma = 2.0  # photo mode: the window's structure on the luma smoothed by this (px)
    config.restore_weight = 0.0  # photo mode: the restoration's prior weight; 0: from the noise level
    config.check_result = True  # photo mode: keep the input when the result is not better (no reference)
    config.max_batch_size = 8  # problems of one shape per XLA program
    config.checkpoint_every = 500  # steps; 0: no checkpoints
    config.figure_steps = 4  # snapshots of x and k in the per-image figure
    config.synthetic = ml_collections.ConfigDict()  # demo: blur a bundled photo (see configs/demo.py)
    config.synthetic.enabled = False
    config.synthetic.size = 0  # crop size of the sharp photo (the blurry image has this size)
    config.synthetic.top = 0  # crop position in matplotlib's grace_hopper.jpg (600×512)
    config.synthetic.left = 0
    config.synthetic.kernel_size = 0
    config.synthetic.kernel_seed = 0
    config.synthetic.noise_sigma = 0.0
  return config


def engine_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The part of a program config that `fit_batch` takes: everything but config.PROGRAM_KEYS."""
  engine = get_default_config()
  with engine.unlocked():
    for key in engine.keys():
      engine[key] = config[key]
  return engine


def load_config_file(path: str, arg: str | None = None) -> ml_collections.ConfigDict:
  """`get_config()` (or `get_config(arg)`) of a config file such as configs/levin.py: what
  --config=FILE (or --config=FILE:arg) loads."""
  import importlib.util

  spec = importlib.util.spec_from_file_location("_selfdeblur_config", path)
  if spec is None or spec.loader is None:
    raise FileNotFoundError(path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config() if arg is None else module.get_config(arg)
