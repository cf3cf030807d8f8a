"""The step's pieces, each timed in two formulations: the one the step used before issue #8's changes
and the one it uses now (the figures behind the docstrings of losses.ssim, physics.blur,
models.conv and models.skip_net).
Backs benchmarks/RESULTS.md, "Speed on this CPU".

  python -m experiments.speed.cpu_kernels [--out=benchmarks/results/cpu_kernels.json]

Every case runs inside a jitted `fori_loop` (as the training step does), forward and backward unless
it says forward; the two formulations of a case run one after the other, median of 5 timings. Prints
a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from benchmarks.common import RESULTS
from selfdeblur_jax.io import write_json
from selfdeblur_jax.losses import gaussian_window, ssim, ssim_from_moments
from selfdeblur_jax.models import conv as conv_module
from selfdeblur_jax.models.skip_net import _upsample_2x
from selfdeblur_jax.physics import blur

DIMS = ("NHWC", "HWIO", "NHWC")


def timed(fn: Callable, args: tuple, iterations: int, gradient: bool) -> float:
  """Median milliseconds of one call of fn (with its gradient w.r.t. every argument) in a loop."""
  if gradient:
    grad = jax.grad(lambda *a: jnp.sum(jnp.sin(fn(*a))), argnums=tuple(range(len(args))))
    body = lambda _, c: tuple(a + 1e-6 * g for a, g in zip(c, grad(*c)))
  else:
    body = lambda _, c: (c[0] + 1e-6 * jnp.mean(fn(*c)),) + tuple(c[1:])
  run = jax.jit(lambda c: lax.fori_loop(0, iterations, body, c))
  jax.block_until_ready(run(args))
  times = []
  for _ in range(5):
    start = time.perf_counter()
    jax.block_until_ready(run(args))
    times.append((time.perf_counter() - start) / iterations * 1e3)
  return float(np.median(times))


def ssim_2d_window(a, b):
  """The former SSIM: one 11×11 convolution of the five maps."""
  window = jnp.asarray(gaussian_window(), a.dtype)[None, None]
  stack = jnp.stack([a, b, a * a, b * b, a * b])[:, None]
  return ssim_from_moments(lax.conv_general_dilated(stack, window, (1, 1), [(5, 5), (5, 5)])[:, 0])


def blur_single_channel(x, k):
  """The former blur: one K×K convolution of a single-channel image."""
  return lax.conv_general_dilated(x[None, None], k[::-1, ::-1][None, None], (1, 1), "VALID")[0, 0]


def upsample_resize(x):
  n, h, w, c = x.shape
  return jax.image.resize(x, (n, 2 * h, 2 * w, c), method="bilinear")


def weight_gradient_taps(x, dy):
  """The former weight gradient: one matrix product per kernel tap (3×3, stride 1)."""
  h, w, o = dy.shape[1], dy.shape[2], dy.shape[3]
  d = dy.reshape(-1, o)
  return jnp.stack([lax.dot_general(x[:, a:a + h, b:b + w, :].reshape(-1, x.shape[-1]), d,
                                    (((0,), (0,)), ((), ()))) for a in range(3) for b in range(3)])


def weight_gradient_blocks(block_bytes: int):
  return lambda x, dy: conv_module._weight_gradient(x, dy, 3, 1, block_bytes)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", type=Path, default=RESULTS / "cpu_kernels.json")
  args = parser.parse_args()
  jax.config.update("jax_default_matmul_precision", "highest")
  rng = np.random.default_rng(0)
  r = lambda *shape: jnp.asarray(rng.random(shape), jnp.float32)
  rows = []

  def case(name, before, after, args, iterations, gradient=True, labels=("before", "after")):
    t0, t1 = timed(before, args, iterations, gradient), timed(after, args, iterations, gradient)
    rows.append({"case": name, labels[0]: t0, labels[1]: t1, "ratio": t0 / t1,
                 "names": list(labels), "gradient": gradient})
    print(f"| {name} | {labels[0]} {t0:.3f} ms | {labels[1]} {t1:.3f} ms | {t0 / t1:.2f}× |", flush=True)

  print("| case | before | after | before / after |\n|---|---|---|---|")
  for n in (128, 255):
    case(f"SSIM loss {n}², 11×11 window vs two 1-D passes", ssim_2d_window, ssim, (r(n, n), r(n, n)), 30)
  for h, k in ((128, 15), (255, 15), (255, 27), (128, 75)):
    case(f"blur {h}², K={k}: K×K single-channel vs 1×K over K row channels", blur_single_channel, blur,
         (r(h + k - 1, h + k - 1), r(k, k) / k**2), 10)
  case("×2 bilinear 71²×64: jax.image.resize vs stencil", upsample_resize,
       lambda x: _upsample_2x(x, "bilinear"), (r(1, 71, 71, 64),), 30)
  w = r(3, 3, 80, 64)
  case("3×3 conv 144²×80→64, forward: VALID vs padded by one and cropped",
       lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=DIMS),
       lambda x, w: conv_module._valid(x, w, 1), (r(1, 144, 144, 80), w), 20, gradient=False)
  for s, i, o in ((142, 80, 64), (269, 144, 128)):
    x, dy = r(1, s + 2, s + 2, i), r(1, s, s, o)
    case(f"3×3 weight gradient {s}²×{i}→{o}: per-tap matmuls vs one swapped-role conv",
         weight_gradient_taps, weight_gradient_blocks(1 << 40), (x, dy), 3, gradient=False,
         labels=("taps", "one conv"))
    case(f"3×3 weight gradient {s}²×{i}→{o}: per-tap matmuls vs 1 MiB blocks of dy rows",
         weight_gradient_taps, weight_gradient_blocks(1 << 20), (x, dy), 3, gradient=False,
         labels=("taps", "blocks"))
  write_json(args.out, {"machine": platform.processor() or platform.machine(), "jax": jax.__version__,
                        "cases": rows})


if __name__ == "__main__":
  main()
