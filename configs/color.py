"""Real colour photos (released code): deblur Y of YCbCr, put the original Cb/Cr back; 2500 steps, SSIM

The shipped config `selfdeblur_jax/configs/color.py` (also `deblur --config=color`, from any directory).
"""

from selfdeblur_jax.configs.color import get_config  # noqa: F401
