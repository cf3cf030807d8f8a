"""The forward model y = k ⊛ x (+ noise) and the image-side regulariser."""

from selfdeblur_jax.physics.blur import blur, kernel_support, latent_shape
from selfdeblur_jax.physics.motion import motion_kernel
from selfdeblur_jax.physics.noise import estimate_noise_sigma
from selfdeblur_jax.physics.tv import total_variation

__all__ = ["blur", "estimate_noise_sigma", "kernel_support", "latent_shape", "motion_kernel",
           "total_variation"]
