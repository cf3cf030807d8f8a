"""Lai et al. (CVPR 2016): deblur the Y channel, kernel sizes 31/51/55/75 by kernel index (files named

The shipped config `selfdeblur_jax/configs/lai.py` (also `deblur --config=lai`, from any directory).
"""

from selfdeblur_jax.configs.lai import get_config  # noqa: F401
