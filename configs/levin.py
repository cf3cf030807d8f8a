"""Levin et al. (CVPR 2009): 32 blurry 255×255 grey images, kernel size per file (SPEC §4), 5000 steps.

The shipped config `selfdeblur_jax/configs/levin.py` (also `deblur --config=levin`, from any directory).
"""

from selfdeblur_jax.configs.levin import get_config  # noqa: F401
