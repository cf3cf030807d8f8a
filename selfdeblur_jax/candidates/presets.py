"""Named candidate settings that config files switch on (e.g. `--config=configs/levin.py:robust`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ml_collections


def robust(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode: a ladder of kernel sizes, the requested K and ⌈2K/3⌉ (2 restarts each) and ⌈4K/9⌉
  (odd; 1 restart), early stopping at 20, 40 and 60 % of the run (5 → 3 → 2 → 1 candidates: the compute
  of 2.4 runs), the no-reference selector `nonblind_l1l2_fit` (ℓ1/ℓ2 among the candidates that fit y
  within twice the best data term; the fit gate only at stops past `loss.switch_step`, where the data
  term is the final one, see `config.final_data_term_at`), and the winner's kernel, centred at the
  requested size, applied by non-blind deconvolution.

  Why each part: the smaller sizes guard against a kernel size guessed too large, SelfDeblur's commonest
  way to fail; ℓ1/ℓ2 of the deconvolution's gradients (Krishnan et al. 2011) ranks a kernel too small
  for the blur after the right one; the fit gate ranks last the draws whose data term is over twice the best (a
  corner-pushed kernel); gating only on the final data term keeps a draw that is slow under the MSE
  phase but best under 1 − SSIM. Chosen by measurement on mini-Levin's first subset only; the versions
  (v1–v8) and their figures are in benchmarks/RESULTS.md ("Robust mode", "Candidates and the selector"
  and the changelog appendix).
  """
  with config.unlocked():
    config.candidates.restarts = 1
    config.candidates.size_factors = (1.0, 2 / 3, 4 / 9)
    config.candidates.size_restarts = (2, 2, 1)
    config.candidates.size_margins = (0,)
    config.candidates.size_handicap = 0.0
    config.candidates.halving_fractions = (0.2, 0.4, 0.6)
    config.candidates.selector = "nonblind_l1l2_fit"
    config.candidates.output = "nonblind"
    config.candidates.centre_kernel = True
  return config


def robust_wide(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The robust mode with its ladder widened upward, for a size given as the blur's measured extent
  (issue #35; under trial, not the default): K (2 restarts), ⌈4K/3⌉ (1), ⌈2K/3⌉ (2) and ⌈4K/9⌉ (1),
  each rounded up to odd, with early stopping at 20 and 60 % of the run keeping a third each time
  (6 → 2 → 1 candidates: the same 2.4 runs of compute as `robust`); selector and output as `robust`.

  Why: a size given at the blur's extent leaves the kernel no room (the blur fills its support), and
  `robust`'s ladder only goes down from it; keeping a third at two stops instead of half at three pays
  for the sixth candidate and held the quality when replayed on the labelled pool. Its figures so far
  are in benchmarks/RESULTS.md ("Kernel size").
  """
  config = robust(config)
  with config.unlocked():
    config.candidates.size_factors = (1.0, 4 / 3, 2 / 3, 4 / 9)
    config.candidates.size_restarts = (2, 1, 2, 1)
    config.candidates.halving_fractions = (0.2, 0.6)
    config.candidates.halving_rate = 3.0
  return config


PRESETS = {"robust": robust, "robust_wide": robust_wide}


def apply_preset(config: ml_collections.ConfigDict, name: str | None,
                 own: Mapping[str, Callable[[ml_collections.ConfigDict], ml_collections.ConfigDict]] | None = None
                 ) -> ml_collections.ConfigDict:
  """`config` with the named presets applied, in order: one name or several joined by commas (None or
  '': unchanged); `own` are a config file's own presets (photo's `cpu`). ValueError for an unknown
  name, listing the known ones."""
  presets = {**PRESETS, **(own or {})}
  for part in (name or "").split(","):
    if not part:
      continue
    if part not in presets:
      raise ValueError(f"unknown config argument {part!r}; known: {', '.join(sorted(presets))} "
                       "(several: joined by commas)")
    config = presets[part](config)
  return config
