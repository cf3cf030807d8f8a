"""selfdeblur_jax: SelfDeblur (Ren et al., CVPR 2020) in JAX/Flax, batched with vmap."""

from selfdeblur_jax.api import FitResult, fit_batch, fit_selfdeblur
from selfdeblur_jax.app_config import resolve_engine as resolve_config  # program configs: their engine part
from selfdeblur_jax.config import get_default_config
from selfdeblur_jax.physics import blur, motion_kernel
from selfdeblur_jax.solver import Solver, make_solver, solve

__all__ = ["FitResult", "Solver", "blur", "fit_batch", "fit_selfdeblur", "get_default_config",
           "make_solver", "motion_kernel", "resolve_config", "solve"]
__version__ = "0.1.0"
