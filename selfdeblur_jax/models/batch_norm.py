"""BatchNorm in training mode with a hand-written gradient: the same numbers as Flax's, fewer passes.

G_x normalises every activation with the statistics of the current image (PyTorch's training mode),
so each BatchNorm reduces over the whole tensor twice on the way forward (mean, then the two-pass
variance PyTorch uses) and autodiff adds several more passes on the way back. The backward pass
here is the closed form: two sums (Σdy, Σdy·x̂) and one elementwise pass. Parameters and running
statistics have Flax's names and update rule, so checkpoints and the PyTorch weight bridge are
unchanged. On the CPU it took 1.7 % off a mini-Levin step and 8 % off a full-size one
(experiments/speed/step_history.py; RESULTS.md, "Speed on this CPU").
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import linen as nn

Array = jax.Array
_AXES = (0, 1, 2)  # NHWC: statistics per channel over the batch and the image


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def normalize(x: Array, scale: Array, bias: Array, epsilon: float) -> tuple[Array, Array, Array]:
  """(scale·(x − mean)/sqrt(var + ε) + bias, mean, var), statistics over N, H, W (var: two-pass)."""
  return _forward(x, scale, bias, epsilon)[0]


def _forward(x, scale, bias, epsilon):
  dtype = jnp.promote_types(x.dtype, jnp.float32)  # statistics in at least float32, as Flax
  xf = x.astype(dtype)
  mean = xf.mean(_AXES)
  centred = xf - mean
  var = jnp.mean(centred * centred, _AXES)
  inv = jax.lax.rsqrt(var + epsilon)
  y = centred * (inv * scale) + bias
  out_dtype = jnp.result_type(x, scale, bias)
  return (y.astype(out_dtype), mean, var), (centred, inv, scale, jnp.zeros((), x.dtype))


def _backward(epsilon, residuals, cotangents):
  del epsilon
  centred, inv, scale, x_like = residuals
  dy, dmean, dvar = cotangents
  dy = dy.astype(centred.dtype)
  count = centred.size // centred.shape[-1]
  x_hat = centred * inv
  dbias = dy.sum(_AXES)
  dscale = (dy * x_hat).sum(_AXES)
  # d/dx of scale·x̂ + bias through the batch statistics, plus the statistics' own cotangents.
  dx = (scale * inv) * (dy - (dbias + x_hat * dscale) / count)
  dx = dx + (dmean + 2.0 * dvar * centred) / count
  return dx.astype(x_like.dtype), dscale.astype(scale.dtype), dbias.astype(scale.dtype)


normalize.defvjp(_forward, _backward)


class BatchNorm(nn.Module):
  """Flax's `nn.BatchNorm(use_running_average=False, use_fast_variance=False)` on NHWC inputs.

  Same parameters (`scale`, `bias`) and running statistics (`mean`, `var`, updated as
  momentum·old + (1 − momentum)·batch, with the biased variance), same outputs; the gradient is the
  closed form of `normalize`.
  """

  momentum: float = 0.9
  epsilon: float = 1e-5
  zero_init: bool = False  # scale and bias start at 0 (the non-local block's W)

  @nn.compact
  def __call__(self, x: Array) -> Array:
    features = (x.shape[-1],)
    scale = self.param("scale", nn.initializers.zeros if self.zero_init else nn.initializers.ones,
                       features, jnp.float32)
    bias = self.param("bias", nn.initializers.zeros, features, jnp.float32)
    ra_mean = self.variable("batch_stats", "mean", lambda: jnp.zeros(features, jnp.float32))
    ra_var = self.variable("batch_stats", "var", lambda: jnp.ones(features, jnp.float32))
    y, mean, var = normalize(x, scale, bias, self.epsilon)
    if not self.is_initializing():
      ra_mean.value = self.momentum * ra_mean.value + (1 - self.momentum) * mean
      ra_var.value = self.momentum * ra_var.value + (1 - self.momentum) * var
    return y
