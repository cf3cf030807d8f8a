"""A 2-D NHWC convolution whose forward and backward passes are all canonical convolutions.

Why: XLA's CPU backend runs a convolution fast only in the canonical NHWC × HWIO → NHWC form. Outside
loops it rewrites the gradient convolutions that autodiff produces into that form, but inside a
`while` loop (our `fori_loop` over training steps) it does not, and they run about 100× slower
(jax-ml/jax#12868). This `conv2d` spells out its VJP with canonical convolutions and explicit
transposes, so a whole training chunk runs inside one XLA loop at full speed. The numbers are the
same as `lax.conv_general_dilated` (tested).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

Array = jax.Array
_DIMS = ("NHWC", "HWIO", "NHWC")


def _canonical(lhs: Array, rhs: Array, stride: int = 1, padding=((0, 0), (0, 0))) -> Array:
  return lax.conv_general_dilated(lhs, rhs, (stride, stride), padding, dimension_numbers=_DIMS)


def _dilate(x: Array, stride: int) -> Array:
  """Insert stride−1 zeros between the rows and columns of an NHWC tensor."""
  if stride == 1:
    return x
  n, h, w, c = x.shape
  out = jnp.zeros((n, (h - 1) * stride + 1, (w - 1) * stride + 1, c), x.dtype)
  return out.at[:, ::stride, ::stride, :].set(x)


def _valid(x: Array, w: Array, stride: int) -> Array:
  """The 'VALID' convolution, computed as one padded by a row and a column at the far end and cropped.

  Why: XLA:CPU's convolution library runs a convolution that has padding faster than the same one
  without (a 3×3, 80 → 64 channels on 144²: 5.1 ms against 7.1 ms; experiments/speed/cpu_kernels.py,
  RESULTS.md "Speed on this CPU"). The extra row and column cost 1–2 % more arithmetic; the crop
  keeps exactly the 'VALID' outputs, which do not read the padding.
  """
  size = w.shape[0]
  out_h = (x.shape[1] - size) // stride + 1
  out_w = (x.shape[2] - size) // stride + 1
  return _canonical(x, w, stride, ((0, 1), (0, 1)))[:, :out_h, :out_w, :]


def conv2d(x: Array, w: Array, stride: int = 1) -> Array:
  """'VALID' correlation of x (N, H, W, I) with w (K, K, I, O) at the given stride.

  A 1×1 convolution at stride 1 is a matrix product over the channels and runs as one (plain
  autodiff: matrix products stay fast inside loops); larger ones go through `_conv2d`.
  """
  if w.shape[0] == 1 and w.shape[1] == 1 and stride == 1:
    return jnp.einsum("nhwi,io->nhwo", x, w[0, 0])
  return _conv2d(x, w, stride)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _conv2d(x: Array, w: Array, stride: int = 1) -> Array:
  return _valid(x, w, stride)


def _conv2d_fwd(x: Array, w: Array, stride: int):
  return _valid(x, w, stride), (x, w)


# dy rows per weight-gradient convolution: blocks of about this many bytes stay in cache (see below).
_DW_BLOCK_BYTES = 1 << 20


def _weight_gradient(x: Array, dy: Array, size: int, stride: int, block_bytes: int | None = None) -> Array:
  """dw[a, b, i, o] = Σ_{n,h,w} x[n, s·h+a, s·w+b, i] dy[n, h, w, o], as forward convolutions.

  Each is a canonical-layout convolution with the roles swapped: x's channels are the batch, dy
  (dilated by the stride) is the kernel, and n is contracted with the kernel's window. Inside a
  loop this runs at full speed (autodiff's own weight-gradient convolution does not), and it reads x
  once instead of copying it once per tap as a matrix product per tap does. dy is cut into blocks
  of rows of about `block_bytes` (default `_DW_BLOCK_BYTES`) whose results are summed: a whole
  269² × 128 dy as one kernel falls out of cache and runs 3.4× slower than the per-tap products
  (experiments/speed/cpu_kernels.py).
  """
  batch, out_h, out_w, features = dy.shape
  block_bytes = _DW_BLOCK_BYTES if block_bytes is None else block_bytes
  rows = max(1, block_bytes // (batch * out_w * features * dy.dtype.itemsize))
  blocks = -(-out_h // rows)
  rows = -(-out_h // blocks)  # balanced blocks
  dw = None
  for start in range(0, out_h, rows):
    stop = min(out_h, start + rows)
    x_rows = x[:, stride * start:stride * (stop - 1) + size]
    part = lax.conv_general_dilated(
        jnp.transpose(x_rows, (3, 1, 2, 0)), jnp.transpose(dy[:, start:stop], (1, 2, 0, 3)), (1, 1),
        "VALID", rhs_dilation=(stride, stride), dimension_numbers=_DIMS)  # (I, K, ≥K, O)
    part = part[:, :size, :size, :]
    dw = part if dw is None else dw + part
  return jnp.transpose(dw, (1, 2, 0, 3))


def _conv2d_bwd(stride: int, residuals, dy: Array):
  x, w = residuals
  size = w.shape[0]
  height, width = x.shape[1], x.shape[2]
  dy_full = _dilate(dy, stride)  # the output grid at stride 1
  # dx: full correlation of dy with the flipped kernel, in/out channels swapped.
  extra_h = height - (dy_full.shape[1] + size - 1)
  extra_w = width - (dy_full.shape[2] + size - 1)
  w_t = jnp.swapaxes(w[::-1, ::-1], 2, 3)
  dx = _canonical(dy_full, w_t, 1, ((size - 1, size - 1 + extra_h), (size - 1, size - 1 + extra_w)))
  dw = _weight_gradient(x, dy, size, stride)
  return dx, dw


_conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)
