"""The paper's Eq. (6): MSE + λ·TV(x) throughout, with λ = 0.1·σ̂ from a noise estimate per image, and
the paper's learning rate 0.01 for G_k.

A fixed λ instead: --config.loss.tv_weight_from_noise=False --config.loss.tv_weight=1e-6 (the paper's
Levin value).
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  config = get_base_config()
  config.loss.data_term = "mse"
  config.loss.tv_weight_from_noise = True
  config.loss.tv_noise_factor = 0.1
  config.optim.lr_k = 0.01
  return apply_preset(config, arg)
