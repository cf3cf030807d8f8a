"""G_k: the fully-connected kernel generator with a softmax output (SelfDeblur's `fcn`)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from selfdeblur_jax.models.layers import torch_dense

Array = jax.Array


class KernelNet(nn.Module):
  """Maps a noise vector z_k to a K×K blur kernel that is non-negative and sums to 1.

  `hidden=(1000,)` is the released G_k; `()` is the paper's SelfDeblur_k−, `(1000, 1000)` its k+.
  An optional boolean `support` mask (K×K) restricts the kernel to a smaller centred window: logits
  outside it are set to −inf, so a batch of problems with different kernel sizes can share one K_max.
  """

  kernel_size: int
  hidden: Sequence[int] = (1000,)

  @nn.compact
  def __call__(self, z: Array, support: Array | None = None) -> Array:
    h, fan_in = z, z.shape[-1]
    for width in self.hidden:
      h = nn.relu6(torch_dense(width, fan_in)(h))
      fan_in = width
    logits = torch_dense(self.kernel_size**2, fan_in)(h)
    if support is not None:
      logits = jnp.where(support.reshape(-1), logits, -jnp.inf)
    return jax.nn.softmax(logits).reshape(self.kernel_size, self.kernel_size)
