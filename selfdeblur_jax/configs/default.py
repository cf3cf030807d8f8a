"""The authors' released Levin code (SPEC §3): MSE, then 1 − SSIM from step 1000; no TV; 5000 steps.

  deblur --config=configs/default.py --config.data_dir=PATH --config.kernel_size=21
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  return apply_preset(get_base_config(), arg)
