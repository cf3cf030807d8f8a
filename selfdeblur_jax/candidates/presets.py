"""Named candidate settings that config files switch on (e.g. `--config=configs/levin.py:robust`)."""

from __future__ import annotations

import ml_collections


def robust(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode: 4 restarts on a kernel support 4 px wider than asked, early stopping, the
  no-reference selector, and the winner's kernel applied by non-blind deconvolution.

  Chosen by measurement on mini-Levin (benchmarks/RESULTS.md, "Robust mode"): the wider support keeps
  the kernel off the support's edges; the selector's scores at 40 % of the run already rank the
  candidates as their final PSNR does, so early stopping there and at 60 % costs about 2.4 runs for
  4 restarts; the non-blind deconvolution of y with the chosen kernel is sharper and less noisy than
  G_x's own image. The reported kernel has the size K + 4 (FitResult.kernel_size says so).
  """
  with config.unlocked():
    config.candidates.restarts = 4
    config.candidates.size_margins = (2,)
    config.candidates.halving_fractions = (0.4, 0.6)
    config.candidates.selector = "nonblind_l1l2"
    config.candidates.output = "nonblind"
  return config


PRESETS = {"robust": robust}


def apply_preset(config: ml_collections.ConfigDict, name: str | None) -> ml_collections.ConfigDict:
  """`config` with the named preset applied (None or '': unchanged); ValueError for unknown names."""
  if not name:
    return config
  if name not in PRESETS:
    raise ValueError(f"unknown config argument {name!r}; known: {', '.join(sorted(PRESETS))}")
  return PRESETS[name](config)
