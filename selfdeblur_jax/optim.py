"""Optimisers: Adam for G_x and for G_k, each with a piecewise-constant learning-rate schedule."""

from __future__ import annotations

import ml_collections
import optax


def learning_rate_schedule(base_rate: float, boundaries, decay: float) -> optax.Schedule:
  """Rate at step s = base_rate · decay^(number of boundaries ≤ s), as torch's MultiStepLR."""
  return optax.piecewise_constant_schedule(base_rate, {int(b): decay for b in boundaries})


def make_optimizers(config: ml_collections.ConfigDict) -> dict[str, optax.GradientTransformation]:
  """One Adam per generator ('x': G_x, 'k': G_k), sharing the schedule's boundaries."""
  opt = config.optim

  def adam(rate: float) -> optax.GradientTransformation:
    schedule = learning_rate_schedule(rate, opt.boundaries, opt.decay)
    return optax.adam(schedule, b1=opt.b1, b2=opt.b2, eps=opt.eps)

  return {"x": adam(opt.lr_x), "k": adam(opt.lr_k)}
