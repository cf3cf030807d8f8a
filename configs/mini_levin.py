"""Mini-Levin (SPEC §6), the profile that runs on a 2-core CPU.

The shipped config `selfdeblur_jax/configs/mini_levin.py` (also `deblur --config=mini_levin`, from any directory).
"""

from selfdeblur_jax.configs.mini_levin import get_config  # noqa: F401
