"""Generators: G_x (`SkipNet`) for the sharp image and G_k (`KernelNet`, or `DipKernelNet` for the
paper's Double-DIP variant) for the blur kernel."""

from selfdeblur_jax.models.dip_kernel_net import DipKernelNet
from selfdeblur_jax.models.kernel_net import KernelNet
from selfdeblur_jax.models.nonlocal_block import NonLocalBlock
from selfdeblur_jax.models.skip_net import SkipNet

__all__ = ["DipKernelNet", "KernelNet", "NonLocalBlock", "SkipNet"]
