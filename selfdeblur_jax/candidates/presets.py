"""Named candidate settings that config files switch on (e.g. `--config=configs/levin.py:robust`)."""

from __future__ import annotations

import ml_collections


def robust(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode: 2 restarts on each of two kernel sizes, the requested K and ⌈2K/3⌉ (odd), early
  stopping, the no-reference selector (`nonblind_energy_l1l2`) with the smaller size handicapped, and
  the winner's kernel, centred, applied by non-blind deconvolution.

  Chosen by measurement on mini-Levin (benchmarks/RESULTS.md, "Candidates"): the selector's scores at
  40 % of the run already rank the candidates as their final PSNR does, so early stopping there and
  at 60 % costs about 2.4 runs for 4 candidates; the non-blind deconvolution of y with the chosen
  kernel scored higher than G_x's own image in every pooled run. Of the selectors,
  `nonblind_energy_l1l2` lost least to the best candidate. The winner's kernel is centred on its
  centroid before the deconvolution (`centre_kernel`): on the pool's 36 final kernels it changed the
  result by −0.05 to +10.03 dB (mean +1.61; benchmarks/kernel_centring.py).
  The smaller size guards against a kernel size guessed too large: asked at 1.5× their true size,
  two images failed with every restart at that size (18.91 and 17.56 dB, below their input), and their
  ⌈2K/3⌉ candidates gave 37.22 and 30.46. The MAP energy prefers less blur, so it also prefers a kernel
  that is too small; a candidate of another size than the one asked therefore has its energy
  multiplied by 1 + `size_handicap` (0.25): the requested size is trusted unless another size explains
  y clearly better. Without it the selector chose a 19-pixel kernel for a 27-pixel blur (20.58 dB
  against 29.76 for the best one of the requested size). At the first halving the oversize runs'
  requested-size candidates scored 42–98 % above the lowest energy, those of the runs at the true size
  3–28 %. Seed 0 with this preset: 31.07 dB mean at the true sizes, none below the input; 31.32 with
  every size asked 1.5× too large, one (im2_kernel6, all four candidates failed) below its input.
  """
  with config.unlocked():
    config.candidates.restarts = 2
    config.candidates.size_factors = (1.0, 2 / 3)
    config.candidates.size_margins = (0,)
    config.candidates.size_handicap = 0.25
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
