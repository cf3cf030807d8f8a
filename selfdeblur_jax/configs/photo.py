"""A blurry photo, whole and in colour: the kernel from SelfDeblur on the photo's most textured
window (its Y channel), then the whole photo, at its own size, by non-blind deconvolution of
each RGB channel with that kernel (benchmarks/RESULTS.md, "Whole photos"). Set the kernel size:

  deblur --config=photo --config.data_dir=photo.jpg --config.kernel_size=25 --workdir=out
  deblur --config=photo:cpu ...         # a 128×128 window and the mini network: ~10 min on 2 cores
  deblur --config=photo:cpu,robust ...  # and 4 candidates for the kernel, the selector picks one

A kernel larger than 27×27 (the largest of Levin's set, on which the method is measured) is
estimated on a copy of the photo downscaled until the kernel is 27 wide, then upscaled.

The default (a 256×256 window, the full 128-channel network, 2500 steps: the released code's
settings for real photos) is meant for a GPU; on a 2-core CPU it takes hours.
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset
from selfdeblur_jax.configs.mini_levin import mini_network


def cpu(config):
  """A window of 128×128 and mini-Levin's network and schedule (SPEC §6): 64 channels, 1500 steps."""
  config.estimate_window = 128
  return mini_network(config)


def get_config(arg: str | None = None):
  config = get_base_config()
  config.color_mode = "ycbcr"  # read in colour; the kernel is estimated on Y
  config.restore = "nonblind"
  config.estimate_window = 256
  config.estimate_max_kernel = 27  # larger kernels: estimated on a downscaled copy (photo/scale.py)
  config.restore_colour = "rgb"
  config.kernel_size = 0  # 0: 5 % of the photo's longer side (photo/scale.auto_kernel_size)
  config.num_steps = 2500  # the released code's count for real photos
  config.loss.switch_step = 500
  config.optim.boundaries = (1000, 1500, 2000)
  config.max_batch_size = 4
  return apply_preset(config, arg, {"cpu": cpu})
