"""G_x: Deep Image Prior's "skip" encoder–decoder (Ulyanov et al.), as SelfDeblur's released code builds it."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from selfdeblur_jax.models.layers import PaddedConv, activation, batch_norm, center_crop
from selfdeblur_jax.models.nonlocal_block import NonLocalBlock

Array = jax.Array


def _bilinear_2x_axis(x: Array, axis: int) -> Array:
  """×2 along `axis`, half-pixel bilinear: output 2i is ¾·x[i] + ¼·x[i−1], 2i+1 is ¾·x[i] + ¼·x[i+1],
  the edges clamped (PyTorch's Upsample(scale_factor=2, mode='bilinear', align_corners=False))."""
  n = x.shape[axis]
  first, last = lax.slice_in_dim(x, 0, 1, axis=axis), lax.slice_in_dim(x, n - 1, n, axis=axis)
  previous = jnp.concatenate([first, lax.slice_in_dim(x, 0, n - 1, axis=axis)], axis)
  following = jnp.concatenate([lax.slice_in_dim(x, 1, n, axis=axis), last], axis)
  pair = jnp.stack([0.75 * x + 0.25 * previous, 0.75 * x + 0.25 * following], axis + 1)
  return pair.reshape(x.shape[:axis] + (2 * n,) + x.shape[axis + 1:])


def _upsample_2x(x: Array, mode: str) -> Array:
  if mode == "bilinear":
    # The fixed two-tap stencil equals jax.image.resize's half-pixel bilinear for ×2 (tested). Being
    # elementwise it fuses with the concatenation and BatchNorm that follow; resize runs as two
    # interpolation matmuls with transposes. Alone it is no faster, but in the training step it
    # took 3.7 % off a mini step (experiments/speed/step_history.py; RESULTS.md, "Speed on this CPU").
    return _bilinear_2x_axis(_bilinear_2x_axis(x, 1), 2)
  batch, height, width, channels = x.shape
  return jax.image.resize(x, (batch, 2 * height, 2 * width, channels), method=mode)


class SkipNet(nn.Module):
  """Maps a noise tensor (N, H, W, C_in) to an image (N, H, W, C_out) in [0, 1].

  At each scale i: skip = act(BN(conv_skip(x))); deeper = conv↓2 → BN → act → [non-local]
  → conv → BN → act → [scale i+1] → upsample ×2; then BN(concat(skip, deeper)) → conv → BN → act
  → conv 1×1 → BN → act.
  """

  channels_down: Sequence[int] = (128,) * 5
  channels_up: Sequence[int] = (128,) * 5
  channels_skip: Sequence[int] = (16,) * 5
  out_channels: int = 1
  filter_size_down: int = 3
  filter_size_up: int = 3
  filter_size_skip: int = 1
  upsample_mode: str = "bilinear"
  padding: str = "reflection"
  activation: str = "LeakyReLU"
  nonlocal_from_scale: int | None = 2  # released code: non-local blocks at scales >= 2; None: none
  need_sigmoid: bool = True
  need_1x1_up: bool = True

  def _conv(self, features: int, size: int, stride: int = 1) -> PaddedConv:
    return PaddedConv(features, size, stride, self.padding)

  def _scale(self, x: Array, i: int) -> Array:
    act = activation(self.activation)
    last = len(self.channels_down) - 1
    skip = None
    if self.channels_skip[i]:
      skip = act(batch_norm()(self._conv(self.channels_skip[i], self.filter_size_skip)(x)))

    deeper = act(batch_norm()(self._conv(self.channels_down[i], self.filter_size_down, 2)(x)))
    if self.nonlocal_from_scale is not None and i >= self.nonlocal_from_scale:
      deeper = NonLocalBlock()(deeper)
    deeper = act(batch_norm()(self._conv(self.channels_down[i], self.filter_size_down)(deeper)))
    if i < last:
      deeper = self._scale(deeper, i + 1)
    deeper = _upsample_2x(deeper, self.upsample_mode)

    if skip is not None:
      height = min(skip.shape[1], deeper.shape[1])
      width = min(skip.shape[2], deeper.shape[2])
      x = jnp.concatenate([center_crop(skip, height, width), center_crop(deeper, height, width)], -1)
    else:
      x = deeper
    x = batch_norm()(x)
    x = act(batch_norm()(self._conv(self.channels_up[i], self.filter_size_up)(x)))
    if self.need_1x1_up:
      x = act(batch_norm()(self._conv(self.channels_up[i], 1)(x)))
    return x

  @nn.compact
  def __call__(self, z: Array) -> Array:
    if not len(self.channels_down) == len(self.channels_up) == len(self.channels_skip):
      raise ValueError("channels_down, channels_up and channels_skip need one entry per scale")
    x = self._conv(self.out_channels, 1)(self._scale(z, 0))
    return nn.sigmoid(x) if self.need_sigmoid else x
