"""Named candidate settings that config files switch on (e.g. `--config=configs/levin.py:robust`)."""

from __future__ import annotations

import ml_collections


def robust(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode: a ladder of kernel sizes, the requested K (2 restarts), ⌈2K/3⌉ and ⌈4K/9⌉ (odd;
  1 restart each), early stopping, the no-reference selector `nonblind_l1l2`, and the winner's kernel,
  centred at the requested size, applied by non-blind deconvolution.

  Chosen by measurement on mini-Levin's first subset (benchmarks/RESULTS.md, "Candidates",
  "Kernel-size candidates" and "A ladder of kernel sizes"): the selector's scores at 40 % of the run already
  rank the candidates as their final PSNR does (at 20 % they lose the one good draw of im2_kernel6), so
  early stopping there and at 60 % costs about 2.4 runs for 4 candidates; y deconvolved with the chosen
  kernel scored higher than G_x's own image in every pooled run; centring that kernel on its centroid
  changed the result by −0.05 to +10.03 dB (mean +1.61) on the pool's 36 final kernels.
  The smaller sizes guard against a kernel size guessed too large, SelfDeblur's commonest way to fail:
  asked at 1.5× their true size, every draw of three images at that size failed, and on im2_kernel6
  (K 29 asked, 19 true) every draw at ⌈2K/3⌉ = 21 failed too, while its 13-pixel draws succeeded; a
  kernel too small for the blur is ranked after the right one by the selector, the ℓ1/ℓ2 ratio of the
  deconvolution's gradients (Krishnan et al. 2011), which does not prefer blur as the MAP energy
  (`nonblind_energy_l1l2`) does. On the pool, the ladder with one restart per smaller size lost at
  most 0.53 dB to the best of its candidates on nine true-size sets and none on three over-sized ones,
  and none ended below its input.
  """
  with config.unlocked():
    config.candidates.restarts = 1
    config.candidates.size_factors = (1.0, 2 / 3, 4 / 9)
    config.candidates.size_restarts = (2, 1, 1)
    config.candidates.size_margins = (0,)
    config.candidates.size_handicap = 0.0
    config.candidates.halving_fractions = (0.4, 0.6)
    config.candidates.selector = "nonblind_l1l2"
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
