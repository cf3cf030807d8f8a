"""Lai et al. (CVPR 2016): deblur the Y channel, kernel sizes 31/51/55/75 by kernel index (files named
`<category>_<nn>_kernel_<kk>.png`), SSIM from step 500. The dataset is not shipped:

  deblur --config=configs/lai.py --config.data_dir=PATH/TO/LAI/blurry
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  config = get_base_config()
  config.pattern = "*_kernel_*.png"
  config.kernel_rule = "lai"
  config.color_mode = "ycbcr"
  config.loss.switch_step = 500
  config.max_batch_size = 4
  return apply_preset(config, arg)
