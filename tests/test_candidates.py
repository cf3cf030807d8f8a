"""Candidates of one image (restarts, kernel sizes) in batched programs; early stopping; the selector."""

import inspect

import numpy as np
import pytest
from conftest import TINY

from selfdeblur_jax import fit_batch, fit_selfdeblur
from selfdeblur_jax.candidates import SELECTORS, CandidateSearch, CandidateSpec, candidate_sizes, score_candidates
from selfdeblur_jax.candidates import search as search_module
from selfdeblur_jax.candidates.search import candidate_plan, plan_candidates
from selfdeblur_jax.candidates.selection import gradient_l1l2, kernel_distance
from selfdeblur_jax.config import final_data_term_at, resolve_config
from selfdeblur_jax.physics import motion_kernel
from selfdeblur_jax.physics.kernel_shape import border_mass
from selfdeblur_jax.physics.blur import blur_np
from selfdeblur_jax.train import compiled_runner, program_config


def tiny(**candidates):
  return {**TINY, "candidates": candidates}


@pytest.fixture(scope="session")
def searched(small_image):
  """One image, 2 restarts × sizes 5 and 7, no early stopping, every candidate's image kept."""
  return fit_selfdeblur(small_image, 5, config=tiny(restarts=2, size_margins=(0, 1)), seed=3,
                        keep_candidate_images=True)


@pytest.mark.xdist_group("candidates_searched")  # shares the module fixture searched
def test_every_candidate_equals_that_candidate_run_alone(small_image, searched):
  """Candidates share programs with each other, yet each one's result is its own run's, bit for bit."""
  config = resolve_config(TINY)
  assert [(c.kernel_size, c.restart) for c in searched.candidates] == [(5, 0), (5, 1), (7, 0), (7, 1)]
  for c in searched.candidates:
    alone = CandidateSearch([small_image], [CandidateSpec(0, c.kernel_size, c.seed, c.restart)], config)
    alone.run()
    (outcome,) = alone.outcomes()
    np.testing.assert_array_equal(c.x, outcome.x)
    np.testing.assert_array_equal(c.kernel, outcome.kernel)
    assert c.status == "finished" and c.steps == TINY["num_steps"]


@pytest.mark.xdist_group("candidates_searched")  # shares the module fixture searched
def test_restart_zero_is_the_plain_run_and_the_winner_is_reported(small_image, searched):
  plain = fit_selfdeblur(small_image, 5, config=TINY, seed=3)
  np.testing.assert_array_equal(searched.candidates[0].x, plain.x)
  assert len(plain.candidates) == 1 and plain.chosen == 0 and plain.kernel_size == 5
  winner = searched.candidates[searched.chosen]
  np.testing.assert_array_equal(searched.kernel, winner.kernel)
  np.testing.assert_array_equal(searched.x, winner.x)
  assert searched.kernel_size == winner.kernel_size == searched.kernel.shape[0]
  assert searched.requested_kernel_size == 5
  assert searched.chosen == int(np.nanargmin([c.score for c in searched.candidates]))
  # The reported kernel and latent image still satisfy the blur model exactly.
  assert blur_np(searched.x_latent, searched.kernel).shape == small_image.shape


def test_early_stopping_halves_and_leaves_survivors_unchanged(small_image):
  config = tiny(restarts=4, halving_fractions=(1 / 3, 2 / 3))  # steps 4 and 8 of 12
  runner = compiled_runner(program_config(resolve_config(config)), 5, 1)
  compiled_before = runner.jitted._cache_size()  # other tests may have compiled other batch sizes
  result = fit_selfdeblur(small_image, 5, config=config, seed=0, keep_candidate_images=True)
  steps = sorted(c.steps for c in result.candidates)
  assert steps == [4, 4, 8, 12]
  assert [c.status for c in result.candidates].count("finished") == 1
  assert result.candidates[result.chosen].status == "finished"
  search = CandidateSearch([small_image], [CandidateSpec(0, 5, 0, r) for r in range(4)],
                           resolve_config(config))
  assert search.planned_work() == 4 * 4 + 2 * 4 + 1 * 4  # of 4 × 12 without early stopping
  # Halving edits the states between stages without compiling the step again (it once compiled
  # three times: uncommitted arrays at the start, committed ones after an edit).
  assert runner.jitted._cache_size() - compiled_before <= 1
  # The survivor ran exactly as it would have without early stopping.
  full = fit_selfdeblur(small_image, 5, config=tiny(restarts=4), seed=0, keep_candidate_images=True)
  np.testing.assert_array_equal(result.x, full.candidates[result.chosen].x)


def test_an_image_gives_the_same_result_alone_and_among_other_sizes(small_image, photo):
  """Issue #10, item 0: the result depends on the image, its settings and seed, not its batch-mates."""
  other = np.ascontiguousarray(photo[300:320, 100:120])
  together = fit_batch([other, small_image], [7, 5], config=TINY, seeds=[1, 2])
  alone = fit_selfdeblur(small_image, 5, config=TINY, seed=2)
  np.testing.assert_array_equal(together[1].x, alone.x)
  np.testing.assert_array_equal(together[1].kernel, alone.kernel)
  assert together[1].x_latent.shape == (24, 24)


def test_the_selector_cannot_see_ground_truth():
  params = list(inspect.signature(score_candidates).parameters)
  assert params == ["selector", "y", "xs", "kernels", "losses", "nonblind_weight", "handicaps", "fit_gate"]
  for name, scorer in SELECTORS.items():
    assert list(inspect.signature(scorer).parameters) == ["y", "xs", "kernels", "losses", "weight",
                                                          "handicaps"], name


def test_a_handicap_multiplies_the_energy_before_ties_are_found(photo):
  """A handicapped candidate loses to one whose energy is within the handicap of its own."""
  k = motion_kernel(11, seed=2)
  y = np.clip(blur_np(photo[100:238, 150:288], k), 0, 1)
  candidates = [k, np.roll(k, 1, axis=0) * 0.5 + k * 0.5]
  energy = score_candidates("nonblind_energy", y, [y] * 2, candidates, [0.0] * 2)
  assert energy[0] < energy[1]
  handicap = 1.5 * energy[1] / energy[0]
  handicapped = score_candidates("nonblind_energy", y, [y] * 2, candidates, [0.0] * 2,
                                 handicaps=[handicap, 1.0])
  np.testing.assert_allclose(handicapped, [energy[0] * handicap, energy[1]], rtol=1e-12)
  hybrid = score_candidates("nonblind_energy_l1l2", y, [y] * 2, candidates, [0.0] * 2,
                            handicaps=[handicap, 1.0])
  assert int(np.argmin(hybrid)) == 1
  with pytest.raises(ValueError, match="handicaps"):
    score_candidates("nonblind_energy", y, [y] * 2, candidates, [0.0] * 2, handicaps=[0.5, 1.0])


def test_the_search_handicaps_only_candidates_of_another_size_than_asked(small_image, monkeypatch):
  seen = []
  real = search_module.score_candidates

  def spy(*args, **kwargs):
    seen.append(list(args[6]))
    return real(*args, **kwargs)

  monkeypatch.setattr(search_module, "score_candidates", spy)
  result = fit_selfdeblur(small_image, 7, config=tiny(size_factors=(1.0, 0.5), size_handicap=0.25), seed=1)
  assert [c.kernel_size for c in result.candidates] == [7, 5]
  assert seen and all(h == [1.0, 1.25] for h in seen)


def test_kernel_distance_is_shift_invariant_and_border_mass_finds_a_cornered_kernel():
  k = motion_kernel(9, seed=1)
  shifted = np.zeros((13, 13))
  shifted[1:10, 3:12] = k
  assert kernel_distance(k, shifted) < 1e-9
  assert kernel_distance(k, k[::-1, ::-1]) > 0.05
  cornered = np.zeros((9, 9))
  cornered[:3, :3] = 1 / 9
  assert border_mass(cornered) > 0.5 > border_mass(np.pad(np.ones((3, 3)) / 9, 3))


def test_sharp_images_have_sparser_gradients_than_blurred_ones(photo):
  sharp = photo[100:228, 150:278]
  assert gradient_l1l2(sharp) < gradient_l1l2(blur_np(sharp, motion_kernel(11, seed=0)))


def test_nonblind_l1l2_prefers_the_true_kernel_to_wrong_ones(photo):
  """On a blurred photo, deconvolving with the true kernel gives the sparsest gradients."""
  k = motion_kernel(11, seed=2)
  y = np.clip(blur_np(photo[100:238, 150:288], k), 0, 1)
  wrong = [k[::-1, ::-1], np.pad(np.ones((3, 3)) / 9, 4), np.full((11, 11), 1 / 121)]
  scores = score_candidates("nonblind_l1l2", y, [y] * 4, [k, *wrong], [0.0] * 4)
  assert int(np.argmin(scores)) == 0, scores


def test_nonblind_energy_ranks_the_true_kernel_first_and_a_delta_last(photo):
  """Among estimates of one blur the MAP energy prefers the true kernel; a delta kernel, which joint
  MAP would prefer (no blur, weak gradients), is ranked last."""
  k = motion_kernel(11, seed=2)
  y = np.clip(blur_np(photo[100:238, 150:288], k), 0, 1)
  delta = np.pad(np.ones((1, 1)), 5)
  candidates = [k, k[::-1, ::-1], np.roll(k, 1, axis=0) * 0.5 + k * 0.5, delta]
  scores = score_candidates("nonblind_energy", y, [y] * 4, candidates, [0.0] * 4)
  assert int(np.argmin(scores)) == 0 and int(np.argmax(scores)) == 3, scores
  only_delta = score_candidates("nonblind_energy", y, [y], [delta], [0.0])
  assert only_delta[0] < 1.0  # no penalty when every candidate is trivial


@pytest.mark.parametrize("seed", [0, 1])
def test_l1l2_ranks_a_truncated_kernel_after_the_true_one(photo, seed):
  """The robust mode's selector: a kernel too small for the blur (the true one cut to 13×13 and
  renormalised) scores worse than the true 21×21 one. The MAP energy prefers less blur; on seed 0
  it ranks the truncated kernel first, the bias that made the robust mode use ℓ1/ℓ2."""
  k = motion_kernel(21, seed=seed, length=30)
  y = np.clip(blur_np(photo[100:238, 150:288], k), 0, 1)
  inner = k[4:-4, 4:-4]
  assert inner.sum() < 0.8  # a real truncation: over a fifth of the blur's mass is cut off
  small = inner / inner.sum()
  l1l2 = score_candidates("nonblind_l1l2", y, [y] * 2, [k, small], [0.0] * 2)
  assert l1l2[0] < l1l2[1]
  if seed == 0:
    energy = score_candidates("nonblind_energy", y, [y] * 2, [k, small], [0.0] * 2)
    assert energy[1] < energy[0]


def test_l1l2_fit_ranks_candidates_that_fit_y_badly_after_the_others(photo):
  """`nonblind_l1l2_fit`: ℓ1/ℓ2 order among the candidates whose data term is at most FIT_GATE times
  the lowest, then the others in ℓ1/ℓ2 order; equal to `nonblind_l1l2` when all fit."""
  from selfdeblur_jax.candidates.selection import FIT_GATE
  k = motion_kernel(11, seed=2)
  y = np.clip(blur_np(photo[100:238, 150:288], k), 0, 1)
  candidates = [k, k[::-1, ::-1], np.full((11, 11), 1 / 121)]
  l1l2 = score_candidates("nonblind_l1l2", y, [y] * 3, candidates, [0.0] * 3)
  fit = [1e-3, 1.5e-3, 1.9e-3]
  np.testing.assert_allclose(score_candidates("nonblind_l1l2_fit", y, [y] * 3, candidates, fit), l1l2)
  unfit = [FIT_GATE * 1e-3 * 1.01, 1e-3, 1.5e-3]  # the true kernel fits more than twice worse
  gated = score_candidates("nonblind_l1l2_fit", y, [y] * 3, candidates, unfit)
  assert int(np.argmax(gated)) == 0 and np.all(gated[1:] < 1.0)
  np.testing.assert_allclose(gated, l1l2 + np.array([1.0, 0.0, 0.0]))
  failed = score_candidates("nonblind_l1l2_fit", y, [y] * 3, candidates, [np.nan, 1e-3, 1e-3])
  assert int(np.argmax(failed)) == 0
  # Without comparable data terms (a stop in the MSE phase) the gate is off: plain ℓ1/ℓ2.
  ungated = score_candidates("nonblind_l1l2_fit", y, [y] * 3, candidates, unfit, fit_gate=False)
  np.testing.assert_allclose(ungated, l1l2)


def test_final_data_term_starts_after_the_switch_to_ssim():
  config = resolve_config({**TINY, "loss": {"switch_step": 6}})
  assert [final_data_term_at(config, s) for s in (1, 6, 7, 12)] == [False, False, True, True]
  assert final_data_term_at(resolve_config({**TINY, "loss": {"data_term": "mse"}}), 1)


def test_the_search_gates_by_fit_only_at_stops_past_the_switch(small_image, monkeypatch):
  """TINY switches from MSE to 1 − SSIM at step 6: the stop at step 4 scores without the fit gate,
  the stop at step 8 with it (one candidate is left after it, so there is no final choice)."""
  seen = []
  real = search_module.score_candidates

  def spy(*args, **kwargs):
    seen.append(kwargs["fit_gate"])
    return real(*args, **kwargs)

  monkeypatch.setattr(search_module, "score_candidates", spy)
  fit_selfdeblur(small_image, 5, config=tiny(restarts=4, halving_fractions=(1 / 3, 2 / 3),
                                             selector="nonblind_l1l2_fit"), seed=0)
  assert seen == [False, True]  # one candidate is left at the end: nothing to choose


def test_energy_l1l2_breaks_near_ties_of_the_energy_by_l1l2_and_keeps_energy_order_otherwise(photo):
  """Candidates within ENERGY_TIE of the lowest energy are ranked by ℓ1/ℓ2, first; the rest by energy."""
  from selfdeblur_jax.candidates.selection import ENERGY_TIE
  k = motion_kernel(11, seed=2)
  y = np.clip(blur_np(photo[100:238, 150:288], k), 0, 1)
  delta = np.pad(np.ones((1, 1)), 5)
  candidates = [k, k[::-1, ::-1], np.roll(k, 1, axis=0) * 0.5 + k * 0.5, delta]
  energy = score_candidates("nonblind_energy", y, [y] * 4, candidates, [0.0] * 4)
  l1l2 = score_candidates("nonblind_l1l2", y, [y] * 4, candidates, [0.0] * 4)
  hybrid = score_candidates("nonblind_energy_l1l2", y, [y] * 4, candidates, [0.0] * 4)
  tied = energy <= energy.min() * (1 + ENERGY_TIE)
  order = sorted(range(4), key=lambda i: (not tied[i], l1l2[i] if tied[i] else energy[i]))
  assert list(np.argsort(hybrid, kind="stable")) == order
  assert int(np.argmax(hybrid)) == 3  # the delta stays last


@pytest.mark.parametrize("candidates,message", [
    ({"restarts": 0}, "restarts"),
    ({"size_margins": (0, 0)}, "size_margins"),
    ({"size_margins": (-1,)}, "size_margins"),
    ({"size_factors": ()}, "size_factors"),
    ({"size_factors": (1.0, 1.0)}, "size_factors"),
    ({"size_factors": (0.0,)}, "size_factors"),
    ({"size_factors": (-0.5,)}, "size_factors"),
    ({"size_restarts": (2, 1)}, "size_restarts"),  # one count per factor: tiny() has one factor
    ({"size_restarts": (0,)}, "size_restarts"),
    ({"size_factors": (1.0, 0.5), "size_restarts": (1, 1.5)}, "size_restarts"),
    ({"size_handicap": -0.1}, "size_handicap"),
    ({"size_handicap": float("nan")}, "size_handicap"),
    ({"halving_fractions": (0.6, 0.3)}, "halving_fractions"),
    ({"halving_fractions": (1.0,)}, "halving_fractions"),
    ({"halving_fractions": (0.5, 0.51)}, "halving_fractions"),  # both on step 6
    ({"halving_rate": 1.0}, "halving_rate"),  # keeps every candidate: no stop would stop any
    ({"halving_rate": float("inf")}, "halving_rate"),
    ({"selector": "psnr"}, "selector"),
    ({"output": "best"}, "output"),
])
def test_bad_candidate_settings_are_refused(small_image, candidates, message):
  with pytest.raises(ValueError, match=message):
    fit_selfdeblur(small_image, 5, config=tiny(**candidates))


@pytest.mark.parametrize("given,factors,margins,sizes", [
    (33, (1.0, 2 / 3), (0,), [33, 23]),  # 22 rounds up to odd
    (21, (1.0, 2 / 3), (0,), [21, 15]),  # 14 → 15
    (27, (2 / 3,), (0, 1), [19, 21]),  # 18 → 19, then + 2m
    (5, (1.0, 2 / 3), (0,), [5]),  # ⌈3.33⌉ = 4 → 5: the repeat is dropped
    (3, (0.1,), (0,), [1]),
    (15, (1.5,), (0,), [23]),
])
def test_candidate_sizes_scale_the_given_size_and_stay_odd(given, factors, margins, sizes):
  config = resolve_config(tiny(size_factors=factors, size_margins=margins))
  assert candidate_sizes(given, config) == sizes


@pytest.mark.parametrize("given,factors,counts,plan", [
    (19, (1.0, 2 / 3, 4 / 9), (2, 1, 1), [(19, 2), (13, 1), (9, 1)]),  # a ladder below the given size
    (29, (1.0, 2 / 3, 4 / 9), (2, 1, 1), [(29, 2), (21, 1), (13, 1)]),
    (5, (1.0, 2 / 3, 4 / 9), (1, 3, 1), [(5, 3), (3, 1)]),  # 5 twice: the larger count
    (19, (1.0, 2 / 3), (), [(19, 2), (13, 2)]),  # (): `restarts` (2 here) for every size
])
def test_size_restarts_give_each_size_its_own_number_of_draws(given, factors, counts, plan):
  config = resolve_config(tiny(restarts=2, size_factors=factors, size_restarts=counts))
  assert candidate_plan(given, config) == plan
  specs = plan_candidates([given], [7], config)
  assert [(s.kernel_size, s.restart) for s in specs] == [(k, r) for k, n in plan for r in range(n)]
  assert all(s.seed == 7 and s.given_size == given for s in specs)


def test_a_smaller_candidate_size_runs_and_its_size_is_reported(small_image):
  result = fit_selfdeblur(small_image, 7, config=tiny(size_factors=(1.0, 0.5)), seed=1)
  assert [c.kernel_size for c in result.candidates] == [7, 5]
  ladder = fit_selfdeblur(small_image, 7, config=tiny(size_factors=(1.0, 0.5), size_restarts=(2, 1)), seed=1)
  assert [(c.kernel_size, c.restart) for c in ladder.candidates] == [(7, 0), (7, 1), (5, 0)]
  assert result.requested_kernel_size == 7
  assert result.kernel.shape == (result.kernel_size,) * 2
  assert result.kernel_size == result.candidates[result.chosen].kernel_size


def test_a_candidate_size_larger_than_the_image_is_refused(small_image):
  with pytest.raises(ValueError, match="candidate size 21"):
    fit_selfdeblur(small_image, 5, config=tiny(size_margins=(0, 8)))


def test_a_problem_whose_loss_turns_non_finite_stops_and_the_others_go_on(small_image):
  config = resolve_config(TINY)
  search = CandidateSearch([small_image, small_image[::-1].copy()],
                           [CandidateSpec(0, 5, 0, 0), CandidateSpec(1, 5, 0, 0)], config)
  search.initialise()
  (group,) = search.groups
  poisoned = group.states.params["k"]["Dense_0"]["bias"].at[0].set(float("nan"))
  params = {**group.states.params, "k": {**group.states.params["k"],
                                         "Dense_0": {**group.states.params["k"]["Dense_0"],
                                                     "bias": poisoned}}}
  group.states = group.states.replace(params=params)
  search.run()
  bad, good = search.outcomes()
  assert bad.status == "failed" and bad.steps == 0 and np.isnan(bad.loss_history[0])
  assert good.status == "finished" and np.all(np.isfinite(good.loss_history))
  alone = fit_selfdeblur(small_image[::-1].copy(), 5, config=TINY, seed=0)
  np.testing.assert_array_equal(good.x, alone.x)


def test_a_diverging_fit_is_reported_as_failed(small_image):
  result = fit_selfdeblur(small_image, 5, config={**TINY, "optim": {**TINY["optim"], "lr_x": 1e38}})
  assert result.status == "failed"
  assert result.candidates[0].status == "failed" and result.candidates[0].steps < TINY["num_steps"]
