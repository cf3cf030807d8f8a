"""The authors' released Levin code (SPEC §3): MSE, then 1 − SSIM from step 1000; no TV; 5000 steps.

The shipped config `selfdeblur_jax/configs/default.py` (also `deblur --config=default`, from any directory).
"""

from selfdeblur_jax.configs.default import get_config  # noqa: F401
