"""A blurry photo, whole and in colour: the kernel from SelfDeblur on the photo's most textured
256×256 window (its Y channel), then the whole photo, at its own size, by non-blind deconvolution of
each RGB channel with that kernel (benchmarks/RESULTS.md, "Whole photos"). Set the kernel size:

  deblur --config=photo --config.data_dir=photo.jpg --config.kernel_size=25 --workdir=out
  deblur --config=photo:robust ...    # 4 candidates for the kernel, the selector picks one
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  config = get_base_config()
  config.color_mode = "ycbcr"  # read in colour; the kernel is estimated on Y
  config.restore = "nonblind"
  config.estimate_window = 256
  config.restore_colour = "rgb"
  config.kernel_size = 25
  config.num_steps = 2500  # the released code's count for real photos
  config.loss.switch_step = 500
  config.optim.boundaries = (1000, 1500, 2000)
  config.max_batch_size = 4
  return apply_preset(config, arg)
