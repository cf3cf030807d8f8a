"""Generators: G_x (`SkipNet`) for the sharp image and G_k (`KernelNet`) for the blur kernel."""

from selfdeblur_jax.models.kernel_net import KernelNet
from selfdeblur_jax.models.nonlocal_block import NonLocalBlock
from selfdeblur_jax.models.skip_net import SkipNet

__all__ = ["KernelNet", "NonLocalBlock", "SkipNet"]
