"""The kernel size errs both ways (issue #35): the blur's extent, a cramped kernel and what the program
says about it, and the robust mode's ladder on both sides of the given size."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import LEVIN, grey_photo
from scipy import signal
from test_cli import TINY_FLAGS, deblur

from selfdeblur_jax.candidates.presets import robust, robust_wide
from selfdeblur_jax.candidates.search import CandidateSearch, candidate_plan, halving_keep, plan_candidates
from selfdeblur_jax.config import get_default_config
from selfdeblur_jax.physics.kernel_shape import (CRAMPED_ABOVE, border_mass, is_cramped, kernel_extent,
                                                 path_border_mass, roomier_size, scaled_size)


def diagonal(size: int) -> np.ndarray:
  """A straight diagonal streak that touches all four sides of its size×size support."""
  return np.eye(size, dtype=np.float32) / size


def test_a_streak_that_fills_its_support_is_cramped_and_with_a_margin_is_not():
  streak = diagonal(9)
  assert kernel_extent(streak) == 9
  assert border_mass(streak) == pytest.approx(2 / 9) and is_cramped(streak)
  roomy = np.pad(streak, 2)
  assert kernel_extent(roomy) == 9 and border_mass(roomy) == 0 and not is_cramped(roomy)
  floor = roomy + 0.02 * roomy.max()  # an estimate's diffuse floor: 2 % of the peak everywhere
  assert border_mass(floor) > 0.07 and path_border_mass(floor) == 0 and not is_cramped(floor)
  assert [roomier_size(k) for k in (7, 9, 13, 23, 27)] == [11, 13, 19, 31, 37]  # ⌈4K/3⌉, odd


def test_the_extent_ignores_entries_below_one_percent_of_the_peak():
  k = np.pad(diagonal(5), 3)
  k[0, 0] = 0.009 * k.max()  # a faint speck at the corner is not part of the streak
  assert kernel_extent(k) == 5
  k[0, 0] = 0.011 * k.max()
  assert kernel_extent(k) == 8  # rows and columns 0..7


@pytest.mark.skipif(not LEVIN.is_dir(), reason=f"needs the Levin images in {LEVIN} (../shared)")
def test_levin_kernels_have_room_in_their_supports_and_fill_the_box_of_their_extent():
  from selfdeblur_jax.data import levin_true_kernel

  extents = []
  for j in range(1, 9):
    k = levin_true_kernel(LEVIN, j)
    assert not is_cramped(k)
    rows, cols = np.nonzero(k >= 0.01 * k.max())
    extents.append(kernel_extent(k))
    box = k[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert border_mass(box) > 0  # cut to its extent, the blur reaches the edge
  assert [scaled_size(e, 1.0) for e in extents] == [13, 13, 9, 23, 9, 17, 19, 19]  # the sizes


def test_the_wide_ladder_holds_sizes_above_and_below_the_given_one_at_the_robust_mode_s_compute():
  planned = {}
  for preset in (robust, robust_wide):
    config = preset(get_default_config())
    config.num_steps = 1500
    search = CandidateSearch([np.zeros((64, 64), np.float32)], plan_candidates([23], [0], config), config)
    planned[preset.__name__] = (candidate_plan(23, config), search.planned_work())
  assert planned["robust"][0] == [(23, 2), (17, 2), (11, 1)]  # only down from the given size
  assert planned["robust_wide"][0] == [(23, 2), (31, 1), (17, 2), (11, 1)]
  assert planned["robust"][1] == planned["robust_wide"][1] == 2.4 * 1500  # 5 → 3 → 2 → 1 and 6 → 2 → 1


@pytest.mark.parametrize("total,rate,kept", [(5, 2, [3, 2, 1]), (6, 2, [3, 2, 1]), (6, 3, [2, 1, 1]),
                                             (5, 3, [2, 1, 1]), (1, 3, [1, 1, 1]), (9, 3, [3, 1, 1])])
def test_each_stop_keeps_a_rate_th_of_the_candidates_rounded_up(total, rate, kept):
  assert [halving_keep(total, stage, rate) for stage in range(3)] == kept


def test_a_blur_that_fills_the_given_support_comes_back_with_room_or_the_program_says_so(tmp_path):
  """Acceptance 4 of issue #35: the kernel fills the given 7×7 support exactly; the result's kernel is
  off the border, or the program names the size to try (a tiny network cannot find it in 4 steps,
  so here it says so)."""
  sharp = grey_photo()[200:240, 230:270].astype(np.float64)
  blurry = signal.convolve2d(sharp, diagonal(7), mode="valid")
  folder = tmp_path / "in"
  folder.mkdir()
  iio.imwrite(folder / "streak.png", np.round(np.clip(blurry, 0, 1) * 255).astype(np.uint8))
  result = deblur(f"--config.data_dir={folder}", f"--workdir={tmp_path / 'out'}", "--config.kernel_size=7",
                  *TINY_FLAGS)
  assert result.returncode == 0, result.stderr
  entry = json.loads((tmp_path / "out" / "summary.json").read_text())["images"]["streak"]
  size = entry["kernel_size"]
  kernel = np.load(tmp_path / "out" / "streak.npz")["k"]
  assert kernel.shape == (size, size) and entry["kernel_border_mass"] == path_border_mass(kernel)
  if entry["kernel_border_mass"] > CRAMPED_ABOVE:
    said = [line for line in result.stderr.splitlines() if "fills its" in line]
    assert said and f"{size}×{size} support" in said[0] and f"try kernel_size {roomier_size(size)}" in said[0]
  else:
    assert "fills its" not in result.stderr
