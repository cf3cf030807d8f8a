"""The paper's Eq. (6): MSE + λ·TV(x) throughout, with λ = 0.1·σ̂ from a noise estimate per image, and

The shipped config `selfdeblur_jax/configs/paper.py` (also `deblur --config=paper`, from any directory).
"""

from selfdeblur_jax.configs.paper import get_config  # noqa: F401
