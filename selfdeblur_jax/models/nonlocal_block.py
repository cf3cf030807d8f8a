"""The non-local block of SelfDeblur's released G_x ("dot product" form, Wang et al. 2018)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from selfdeblur_jax.models.layers import PaddedConv, batch_norm

Array = jax.Array


def _max_pool_2x2(x: Array) -> Array:
  # PyTorch MaxPool2d(2): floor mode, odd trailing rows/columns dropped.
  return nn.max_pool(x, (2, 2), strides=(2, 2), padding="VALID")


class NonLocalBlock(nn.Module):
  """z = W(f·g) + x with f = θᵀφ / N; φ and g max-pooled 2×2; W = 1×1 conv + BN started at zero."""

  @nn.compact
  def __call__(self, x: Array) -> Array:
    batch, height, width, channels = x.shape
    inter = max(channels // 2, 1)
    theta = PaddedConv(inter, 1, name="theta")(x).reshape(batch, -1, inter)
    phi = _max_pool_2x2(PaddedConv(inter, 1, name="phi")(x)).reshape(batch, -1, inter)
    g = _max_pool_2x2(PaddedConv(inter, 1, name="g")(x)).reshape(batch, -1, inter)
    f = jnp.einsum("bqc,bkc->bqk", theta, phi) / phi.shape[1]
    y = jnp.einsum("bqk,bkc->bqc", f, g).reshape(batch, height, width, inter)
    w_y = batch_norm(name="W_bn", zero_init=True)(PaddedConv(channels, 1, name="W_conv")(y))
    return w_y + x
