"""Kernel centring (issue #11): the kernel stays a kernel (≥ 0, sums to 1, same size), its centroid
moves to the centre, and blurring with it is blurring with the original kernel up to the same shift."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve2d

from selfdeblur_jax.results import collect_results
from selfdeblur_jax.candidates.search import CandidateSpec, Outcome
from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.restoration import deconv_sparse_latent
from selfdeblur_jax.physics import motion_kernel
from selfdeblur_jax.physics.blur import crop_to_image
from selfdeblur_jax.physics.kernel_centre import centre_kernel, centroid_offset, pad_kernel


def off_centre(size: int = 15, seed: int = 3) -> np.ndarray:
  """A motion kernel of size 9 placed in a corner of a size×size support."""
  k = np.zeros((size, size))
  k[1:10, 5:14] = motion_kernel(9, seed=seed)
  return k / k.sum()


def test_centring_keeps_a_kernel_and_centres_it():
  k = off_centre()
  c = centre_kernel(k)
  assert c.kernel.shape == k.shape and c.kernel.min() >= 0
  assert c.kernel.sum() == pytest.approx(1.0, abs=1e-6)
  assert max(abs(v) for v in centroid_offset(c.kernel)) <= 0.5
  assert c.shift == tuple(int(np.round(v)) for v in centroid_offset(k)) and c.shift != (0, 0)
  assert c.lost_mass == 0.0  # the 9×9 path fits once centred
  again = centre_kernel(c.kernel)  # idempotent
  assert again.shift == (0, 0)
  np.testing.assert_array_equal(again.kernel, c.kernel)


def test_blur_with_the_centred_kernel_is_the_same_blur_shifted():
  """full-convolution(x, k_c)[p] = full-convolution(x, k)[p + shift]: the blur model stays exact."""
  rng = np.random.default_rng(0)
  x = rng.random((40, 36))
  k = off_centre()
  c = centre_kernel(k)
  dy, dx = c.shift
  a, b = convolve2d(x, c.kernel.astype(np.float64)), convolve2d(x, k)
  h, w = a.shape
  np.testing.assert_allclose(a[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)],
                             b[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)], atol=1e-6)


def test_mass_that_leaves_the_support_is_reported_and_the_rest_renormalised():
  k = np.zeros((5, 5))
  k[0, 0], k[0, 1], k[4, 4] = 0.45, 0.45, 0.1  # centroid (-1.6, -1.15) from the centre
  c = centre_kernel(k)
  assert c.shift == (-2, -1) and c.lost_mass == pytest.approx(0.1)  # k[4, 4] leaves
  assert c.kernel.sum() == pytest.approx(1.0, abs=1e-6)


def test_centring_repeats_until_the_centroid_stays_put():
  """Dropping mass moves the centroid; the move repeats, so centring a centred kernel changes nothing."""
  k = np.zeros((7, 7))
  k[0, 0], k[0, 1], k[1, 0], k[6, 6] = 0.3, 0.3, 0.2, 0.2  # the far corner leaves on the first move
  c = centre_kernel(k)
  assert max(abs(v) for v in centroid_offset(c.kernel)) <= 0.5
  again = centre_kernel(c.kernel)
  assert again.shift == (0, 0)
  np.testing.assert_array_equal(again.kernel, c.kernel)


def test_bad_kernels_are_refused():
  for bad in (np.zeros((5, 5)), -np.ones((5, 5)), np.full((5, 5), np.nan), np.ones(5)):
    with pytest.raises(ValueError, match="kernel"):
      centre_kernel(bad)


def _outcome(y: np.ndarray, k: np.ndarray) -> Outcome:
  latent = np.zeros((y.shape[0] + k.shape[0] - 1,) * 2, np.float32)
  return Outcome(CandidateSpec(0, k.shape[0], 0, 0), y, latent, k.astype(np.float32), np.ones(3, np.float32),
                 3, "finished", 0.0)


def test_the_robust_output_deconvolves_with_the_centred_kernel(small_image):
  y = np.ascontiguousarray(small_image[:18, :18])
  k = np.pad(motion_kernel(3, seed=1), ((0, 4), (4, 0)))  # a 3×3 path in a 7×7 corner
  config = resolve_config({"candidates": {"output": "nonblind", "centre_kernel": True}})
  [result] = collect_results([_outcome(y, k)], [y], [7], config)
  expected = centre_kernel(k).kernel
  np.testing.assert_array_equal(result.kernel, expected)
  latent = np.asarray(deconv_sparse_latent(y, expected, 0.003))
  np.testing.assert_allclose(result.x, crop_to_image(latent, y.shape), atol=1e-6)
  [plain] = collect_results([_outcome(y, k)], [y], [7], resolve_config({"candidates": {"output": "nonblind"}}))
  np.testing.assert_array_equal(plain.kernel, k.astype(np.float32))


def test_a_smaller_chosen_kernel_is_padded_to_the_requested_size_before_centring(small_image):
  """Centred on its own tight support, an off-centre 5×5 kernel would lose mass; padded to the
  requested 9×9 it only moves, and the output uses that kernel."""
  y = np.ascontiguousarray(small_image[:20, :20])
  k = np.zeros((5, 5))
  k[2] = [0.6, 0.1, 0.1, 0.1, 0.1]  # edge to edge, centroid 1 px left of the centre
  assert centre_kernel(k).lost_mass > 0
  config = resolve_config({"candidates": {"output": "nonblind", "centre_kernel": True}})
  [result] = collect_results([_outcome(y, k)], [y], [9], config)
  assert result.kernel.shape == (9, 9) and result.kernel_size == result.requested_kernel_size == 9
  assert result.candidates[result.chosen].kernel_size == 5
  moved = centre_kernel(pad_kernel(k, 9))
  assert moved.lost_mass == 0.0
  np.testing.assert_array_equal(result.kernel, moved.kernel)
  np.testing.assert_allclose(np.sort(result.kernel[result.kernel > 0]), np.sort(k[k > 0]), rtol=1e-6)
  latent = np.asarray(deconv_sparse_latent(y, moved.kernel, 0.003))
  np.testing.assert_allclose(result.x, crop_to_image(latent, y.shape), atol=1e-6)


def test_pad_kernel_refuses_to_shrink_or_to_change_parity():
  k = motion_kernel(5, seed=0)
  np.testing.assert_array_equal(pad_kernel(k, 9)[2:7, 2:7], k)
  for size in (3, 8):
    with pytest.raises(ValueError, match="cannot pad"):
      pad_kernel(k, size)


def test_centring_needs_the_nonblind_output():
  with pytest.raises(ValueError, match="centre_kernel needs"):
    resolve_config({"candidates": {"centre_kernel": True}})
