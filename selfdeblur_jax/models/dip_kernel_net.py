"""G_k as a DIP encoder–decoder with a softmax output: the paper's Double-DIP variant (Table 2).

Double-DIP (Gandelsman et al. 2019) models both layers with DIP networks; SelfDeblur's Table 2 compares
it with the fully-connected G_k and finds it worse ("the DIP network is limited to capture the prior of
blur kernel"). Here the kernel is the same `SkipNet` as G_x, without non-local blocks, applied to a
K×K noise image; its single output channel is taken as logits and turned into a kernel by a softmax
over all K² pixels, as `KernelNet` does, so the kernel is non-negative and sums to 1.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from selfdeblur_jax.models.skip_net import SkipNet

Array = jax.Array


def smallest_dip_kernel(num_scales: int) -> int:
  """The smallest odd kernel size that `num_scales` stride-2 scales can take: the coarsest grid must
  keep at least 2 pixels for the reflection padding of its 3×3 convolutions."""
  return 2**num_scales + 1


class DipKernelNet(nn.Module):
  """Maps a noise image z (1, K, K, C) to a K×K blur kernel (≥ 0, sum 1).

  BatchNorm normalises with the current statistics (PyTorch training mode, as in G_x), so running
  averages are never read: call `apply(..., mutable=["batch_stats"])` and drop the updates.
  """

  kernel_size: int
  channels: int = 32
  skip_channels: int = 4
  num_scales: int = 3

  @nn.compact
  def __call__(self, z: Array, support: Array | None = None) -> Array:
    if self.kernel_size < smallest_dip_kernel(self.num_scales):
      raise ValueError(f"a DIP G_k of {self.num_scales} scales needs a kernel of at least "
                       f"{smallest_dip_kernel(self.num_scales)} pixels, got {self.kernel_size}; lower "
                       "model_k.dip_scales")
    net = SkipNet(channels_down=(self.channels,) * self.num_scales,
                  channels_up=(self.channels,) * self.num_scales,
                  channels_skip=(self.skip_channels,) * self.num_scales,
                  out_channels=1, nonlocal_from_scale=None, need_sigmoid=False)
    logits = net(z)[0, :, :, 0].reshape(-1)  # K×K: the top scale's skip branch keeps z's size
    if support is not None:
      logits = jnp.where(support.reshape(-1), logits, -jnp.inf)
    return jax.nn.softmax(logits).reshape(self.kernel_size, self.kernel_size)
