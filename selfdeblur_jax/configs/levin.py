"""Levin et al. (CVPR 2009): 32 blurry 255×255 grey images, kernel size per file (SPEC §4), 5000 steps.

  deblur --config=configs/levin.py --config.data_dir=../shared/datasets/levin --workdir=runs/levin
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  config = get_base_config()
  config.data_dir = "../shared/datasets/levin"
  config.pattern = "im*_kernel*_img.png"
  config.kernel_rule = "levin"  # kernel1..8 -> 17, 15, 13, 27, 11, 19, 21, 21
  config.max_batch_size = 32
  return apply_preset(config, arg)
