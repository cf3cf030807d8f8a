"""A blurry photo, whole and in colour: the kernel from a window, the photo by non-blind deconvolution.

The shipped config `selfdeblur_jax/configs/photo.py` (also `deblur --config=photo`, from any directory).
"""

from selfdeblur_jax.configs.photo import get_config  # noqa: F401
