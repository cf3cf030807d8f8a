"""Named candidate settings that config files switch on (e.g. `--config=configs/levin.py:robust`)."""

from __future__ import annotations

import ml_collections


def robust(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode: 2 restarts on each of two kernel sizes, the requested K and ⌈2K/3⌉ (odd), early
  stopping, the no-reference selector `nonblind_l1l2`, and the winner's kernel, centred at the
  requested size, applied by non-blind deconvolution.

  Chosen by measurement on mini-Levin's first subset (benchmarks/RESULTS.md, "Candidates" and
  "Kernel-size candidates"): the selector's scores at 40 % of the run already rank the candidates as
  their final PSNR does (at 20 % they lose the one good draw of im2_kernel6), so early stopping there
  and at 60 % costs about 2.4 runs for 4 candidates; y deconvolved with the chosen kernel scored higher
  than G_x's own image in every pooled run; centring that kernel on its centroid changed the result
  by −0.05 to +10.03 dB (mean +1.61) on the pool's 36 final kernels.
  The smaller size guards against a kernel size guessed too large: asked at 1.5× their true size,
  every restart of two images failed at that size, and their ⌈2K/3⌉ candidates gave 37.22 and 30.46 dB.
  The selector is the ℓ1/ℓ2 ratio of the deconvolution's gradients (Krishnan et al. 2011), which does
  not prefer blur: the MAP energy (`nonblind_energy_l1l2`, the earlier choice) also prefers a kernel
  too small, chose a 19-pixel kernel for a 27-pixel blur even with the other size's energy handicapped
  by 25 % (a run that ended below its input in SSIM), and without the handicap lost up to 6.15 dB on
  the pool's twelve two-size sets, where `nonblind_l1l2` without a handicap lost at most 1.23 and never
  ended below the input.
  """
  with config.unlocked():
    config.candidates.restarts = 2
    config.candidates.size_factors = (1.0, 2 / 3)
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
