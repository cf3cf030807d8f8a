"""Mini-Levin (SPEC §6), the profile that runs on a 2-core CPU; exactly these numbers, so figures compare:
128×128 centre crops, G_x with 64 channels (skip 16, 5 scales, non-local blocks), 1500 steps, SSIM from
step 300, learning-rate halvings at 600/900/1200, Levin kernel sizes, the subset of 8 images.

  deblur --config=configs/mini_levin.py --config.data_dir=../shared/datasets/levin
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def mini_network(config):
  """SPEC §6's network and schedule: 64-channel G_x, 1500 steps, SSIM from 300, halvings at 600/900/1200."""
  config.model_x.channels = 64
  config.num_steps = 1500
  config.loss.switch_step = 300
  config.optim.boundaries = (600, 900, 1200)
  return config


def get_config(arg: str | None = None):
  config = get_base_config()
  config.data_dir = "../shared/datasets/levin"
  config.files = ("im1_kernel1_img.png", "im2_kernel2_img.png", "im3_kernel3_img.png",
                  "im4_kernel4_img.png", "im1_kernel5_img.png", "im2_kernel6_img.png",
                  "im3_kernel7_img.png", "im4_kernel8_img.png")
  config.kernel_rule = "levin"
  config.crop = 128
  mini_network(config)
  config.max_batch_size = 8
  return apply_preset(config, arg)
