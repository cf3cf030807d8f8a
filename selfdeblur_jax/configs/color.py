"""Real colour photos (released code): deblur Y of YCbCr, put the original Cb/Cr back; 2500 steps, SSIM
from step 500. Kernel sizes run from 25 to 75 in the released code: set one with --config.kernel_size
(per photo with --config.kernel_sizes). `downscale` and `crop` keep a CPU run short, e.g.

  deblur --config=configs/color.py --config.data_dir=../shared/datasets/real/house.jpg \
         --config.downscale=4 --config.crop=96 --config.kernel_size=9 --config.num_steps=300
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  config = get_base_config()
  config.data_dir = "../shared/datasets/real"
  config.pattern = "*.jpg"
  config.color_mode = "ycbcr"
  config.kernel_size = 25
  config.num_steps = 2500
  config.loss.switch_step = 500
  config.optim.boundaries = (2000, 3000, 4000)  # the released code's: one halving within 2500 steps
  config.max_batch_size = 1
  return apply_preset(config, arg)
