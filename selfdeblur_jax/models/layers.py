"""Building blocks shared by G_x and G_k: PyTorch-initialised convs and dense layers.

SelfDeblur's behaviour depends on its initialisation (a deep image prior *is* its random init), so the
layers reproduce PyTorch's defaults: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from selfdeblur_jax.models.batch_norm import BatchNorm
from selfdeblur_jax.models.conv import conv2d

Array = jax.Array
_PAD_MODES = {"reflection": "reflect", "zero": "constant"}

# U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's kaiming_uniform(a=sqrt(5)) for weights.
torch_kernel_init = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")


def torch_bias_init(fan_in: int) -> Callable:
  """PyTorch's default bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
  bound = 1.0 / math.sqrt(fan_in)

  def init(key: Array, shape: Sequence[int], dtype=jnp.float32) -> Array:
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def torch_dense(features: int, in_features: int, name: str | None = None) -> nn.Dense:
  return nn.Dense(features, kernel_init=torch_kernel_init, bias_init=torch_bias_init(in_features),
                  name=name)


def pad_image(x: Array, pad: int, mode: str) -> Array:
  """NHWC `x` padded by `pad` pixels on each side, by reflection or with zeros."""
  return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode=_PAD_MODES[mode])


class PaddedConv(nn.Module):
  """A square conv with explicit 'reflection' or 'zero' padding of (size-1)//2, as DIP's `conv()`.

  Parameters are Flax's usual `kernel` (K, K, I, O) and `bias` (O,); the convolution itself is
  `conv2d`, whose gradient stays fast inside XLA loops on the CPU.
  """

  features: int
  kernel_size: int
  stride: int = 1
  padding: str = "reflection"
  use_bias: bool = True

  @nn.compact
  def __call__(self, x: Array) -> Array:
    pad = (self.kernel_size - 1) // 2
    if pad:
      if self.padding not in _PAD_MODES:
        raise ValueError(f"unknown padding {self.padding!r}; choose one of {sorted(_PAD_MODES)}")
      x = pad_image(x, pad, self.padding)
    fan_in = x.shape[-1] * self.kernel_size**2
    kernel = self.param("kernel", torch_kernel_init,
                        (self.kernel_size, self.kernel_size, x.shape[-1], self.features))
    y = conv2d(x, kernel, self.stride)
    if self.use_bias:
      y = y + self.param("bias", torch_bias_init(fan_in), (self.features,))
    return y


def batch_norm(name: str | None = None, zero_init: bool = False) -> BatchNorm:
  """BatchNorm that always normalises with the current batch's statistics (PyTorch training mode).

  Under `jax.vmap` over problems, each problem's batch is its own single image, so problems never
  share statistics. Flax's `nn.BatchNorm` numbers with a closed-form gradient (`batch_norm.py`).
  """
  return BatchNorm(momentum=0.9, epsilon=1e-5, zero_init=zero_init, name=name)


def activation(name: str) -> Callable[[Array], Array]:
  """DIP's activation names."""
  table = {
      "LeakyReLU": lambda x: nn.leaky_relu(x, 0.2),
      "ReLU": nn.relu,
      "ELU": nn.elu,
      "Swish": nn.swish,
      "none": lambda x: x,
  }
  if name not in table:
    raise ValueError(f"unknown activation {name!r}; choose one of {sorted(table)}")
  return table[name]


def center_crop(x: Array, height: int, width: int) -> Array:
  """Crop NHWC `x` to `height`×`width` around its centre (DIP's Concat rule)."""
  dh = (x.shape[1] - height) // 2
  dw = (x.shape[2] - width) // 2
  return x[:, dh:dh + height, dw:dw + width, :]
