"""The out-of-the-box demo; no data to fetch. A 96×96 crop of the photo bundled with matplotlib is

The shipped config `selfdeblur_jax/configs/demo.py` (also `deblur --config=demo`, from any directory).
"""

from selfdeblur_jax.configs.demo import get_config  # noqa: F401
