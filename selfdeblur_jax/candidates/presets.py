"""Named candidate settings that config files switch on (e.g. `--config=configs/levin.py:robust`)."""

from __future__ import annotations

import ml_collections


def robust(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode: 4 restarts on the requested kernel size, early stopping, the no-reference
  selector (`nonblind_energy_l1l2`), and the winner's kernel applied by non-blind deconvolution.

  Chosen by measurement on a labelled pool of mini-Levin runs (benchmarks/RESULTS.md, "Candidates"):
  the selector's scores at 40 % of the run already rank the candidates as their final PSNR does, so
  early stopping there and at 60 % costs about 2.4 runs for 4 restarts; the non-blind deconvolution of
  y with the chosen kernel scored higher than G_x's own image in every pooled run. A support 4 px
  wider than asked (size_margins=(2,)) did worse on the pool than the requested size, so the reported
  kernel has the requested size. Of the selectors, `nonblind_energy_l1l2` lost least to the best
  candidate under this schedule (seven sets of four: worst 0.55 dB, against 3.49 for the energy alone
  and 5.95 for ℓ1/ℓ2 alone). The winner's kernel is centred on its centroid before the deconvolution
  (`centre_kernel`): on the pool's 36 final kernels it changed the result by −0.05 to +10.03 dB (mean +1.61),
  and it turned the one robust run that ended below its input (im2_kernel6, seed 1: an output displaced
  9 px) from 19.79 into 29.88 dB (benchmarks/kernel_centring.py).
  """
  with config.unlocked():
    config.candidates.restarts = 2
    config.candidates.size_factors = (1.0, 2 / 3)
    config.candidates.size_margins = (0,)
    config.candidates.halving_fractions = (0.4, 0.6)
    config.candidates.selector = "nonblind_energy_l1l2"
    config.candidates.output = "nonblind"
    config.candidates.centre_kernel = True
  return config


PRESETS = {"robust": robust}


def apply_preset(config: ml_collections.ConfigDict, name: str | None) -> ml_collections.ConfigDict:
  """`config` with the named preset applied (None or '': unchanged); ValueError for unknown names."""
  if not name:
    return config
  if name not in PRESETS:
    raise ValueError(f"unknown config argument {name!r}; known: {', '.join(sorted(PRESETS))}")
  return PRESETS[name](config)
