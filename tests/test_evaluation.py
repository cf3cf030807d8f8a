"""Tests of the evaluation package: Levin alignment, PSNR/SSIM, error ratio, non-blind deblurring."""

from __future__ import annotations

import itertools
from pathlib import Path

import imageio.v3 as iio
import jax.numpy as jnp
import matplotlib.cbook
import numpy as np
import pytest
from scipy import ndimage, signal

from selfdeblur_jax.data import levin_true_kernel, read_image
from selfdeblur_jax.evaluation import align, error_ratio, evaluate, psnr, ssim
from selfdeblur_jax.restoration import deconv_sparse, fast_fft_size, fft_blur_operators

REPO = Path(__file__).resolve().parents[1]
LEVIN = REPO.parent / "shared" / "datasets" / "levin"


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
  """A 200×200 grey float64 crop of matplotlib's bundled Grace Hopper photo, in [0, 1]."""
  rgb = iio.imread(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
  grey = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
  return grey[150:350, 150:350]


def bilinear(img: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
  """Independent reference interpolation: img sampled at (rows[r], cols[c]), order-1 splines."""
  rr, cc = np.meshgrid(rows, cols, indexing="ij")
  return ndimage.map_coordinates(img, [rr, cc], order=1, mode="nearest")


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
  """fspecial('gaussian', 11, 1.5)."""
  t = np.arange(size) - (size - 1) / 2
  g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
  return g / g.sum()


def ssim_reference(a: np.ndarray, b: np.ndarray) -> float:
  """Wang et al.'s ssim_index.m in float64 ('valid' filtering, L = 1)."""
  w, c1, c2 = gaussian_window(), 0.01**2, 0.03**2
  f = lambda z: signal.correlate2d(z, w, mode="valid")
  mu_a, mu_b = f(a), f(b)
  var_a, var_b = f(a * a) - mu_a**2, f(b * b) - mu_b**2
  cov = f(a * b) - mu_a * mu_b
  m = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
  return float(m.mean())


def test_psnr_and_ssim_match_float64_references(photo):
  rng = np.random.default_rng(0)
  a = photo[:96, :96]
  b = np.clip(a + 0.03 * rng.standard_normal(a.shape), 0, 1)
  assert float(psnr(b, a)) == pytest.approx(10 * np.log10(1 / np.mean((b - a) ** 2)), abs=1e-4)
  assert float(ssim(b, a)) == pytest.approx(ssim_reference(b, a), abs=2e-5)
  assert float(ssim(a, a)) == pytest.approx(1.0, abs=1e-6)
  batch = ssim(np.stack([b, a]), np.stack([a, a]))
  np.testing.assert_allclose(np.asarray(batch), [ssim_reference(b, a), 1.0], atol=2e-5)


def test_whole_pixel_shift_is_realigned_exactly(photo):
  gt = photo[20:120, 30:130]
  estimate = photo[22:122, 27:127]  # the estimate is gt moved by (+2, −3)
  al = align(estimate, gt, max_shift=5)
  assert al.shift == (-2.0, 3.0)
  assert al.ssd < 1e-20
  assert evaluate(estimate, gt, max_shift=5).psnr >= 60.0


def test_quarter_pixel_shift_is_found(photo):
  estimate = photo[20:120, 30:130]
  s0 = (0.25, -1.75)
  gt = bilinear(photo, 20 + np.arange(100) + s0[0], 30 + np.arange(100) + s0[1])
  al = align(estimate, gt, max_shift=3)
  assert al.shift == s0
  assert al.ssd < 1e-20


def test_alignment_equals_direct_exhaustive_search(photo):
  rng = np.random.default_rng(1)
  gt = photo[40:90, 40:90]
  estimate = ndimage.gaussian_filter(photo[41:91, 38:88], 1.0)
  estimate += 0.02 * rng.standard_normal(gt.shape)
  m, b = 2, 15
  best = min(
      (float(np.sum((bilinear(estimate, b + np.arange(20) + sy, b + np.arange(20) + sx)
                     - gt[b:-b, b:-b]) ** 2)), (sy, sx))
      for sy, sx in itertools.product(np.arange(-m, m + 0.125, 0.25), repeat=2))
  al = align(estimate, gt, max_shift=m)
  assert al.shift == best[1]
  assert al.ssd == pytest.approx(best[0], rel=1e-12)


def test_error_ratio_of_known_kernel_result_against_itself_is_one(photo):
  rng = np.random.default_rng(2)
  gt = photo[:80, :80]
  known = gt + 0.01 * rng.standard_normal(gt.shape)
  worse = gt + 0.03 * rng.standard_normal(gt.shape)
  assert error_ratio(known, known, gt) == 1.0
  assert error_ratio(known, known, gt, squared=False) == 1.0
  ratio = error_ratio(worse, known, gt)
  assert 6.0 < ratio < 12.0  # SSD grows with the noise variance: about (0.03 / 0.01)² = 9
  assert error_ratio(worse, known, gt, squared=False) == pytest.approx(np.sqrt(ratio))


def motion_kernel() -> np.ndarray:
  """An asymmetric 9×9 'camera shake' kernel (an L-shaped stroke, heavier at one end)."""
  k = np.zeros((9, 9))
  k[2, 2:7] = [4, 3, 2, 1, 1]
  k[3:7, 6] = [1, 1, 0.5, 0.5]
  return k / k.sum()


def test_nonblind_deconvolution_beats_blurry_input(photo):
  rng = np.random.default_rng(3)
  k = motion_kernel()
  latent = photo[:104, :104]  # (96 + 9 − 1)²: its 'valid' blur is 96×96
  gt = latent[4:100, 4:100]  # the centre crop, offset (K − 1) // 2
  y = signal.convolve2d(latent, k, mode="valid") + 0.002 * rng.standard_normal(gt.shape)
  blurry = evaluate(y, gt, max_shift=2)
  restored = evaluate(np.asarray(deconv_sparse(y, k)), gt, max_shift=2)
  rotated = evaluate(np.asarray(deconv_sparse(y, k[::-1, ::-1])), gt, max_shift=2)
  assert restored.shift == (0.0, 0.0)
  assert restored.psnr > blurry.psnr + 5.0  # measured: 25.1 -> 35.7 dB
  assert restored.ssim > blurry.ssim + 0.1
  assert restored.psnr > rotated.psnr + 3.0  # the kernel is a convolution kernel, not rotated


@pytest.mark.skipif(not LEVIN.is_dir(), reason=f"Levin data set not found at {LEVIN}")
def test_levin_true_kernel_orientation_and_known_k_deconvolution():
  sharp = read_image(LEVIN / "gt/im1.png").astype(np.float64)

  def fit_psnr(blurry: np.ndarray, k: np.ndarray) -> float:
    """PSNR of the 'same' blur of the sharp image against y at the best integer shift ≤ 6 px."""
    pred, c = signal.fftconvolve(sharp, k, mode="same"), 20
    return max(float(psnr(pred[c + dy:-c + dy, c + dx:-c + dx], blurry[c:-c, c:-c]))
               for dy, dx in itertools.product(range(-6, 7), repeat=2))

  for j in (4, 5):  # one kernel stored as a convolution kernel, one stored rotated
    blurry = read_image(LEVIN / f"im1_kernel{j}_img.png").astype(np.float64)
    k = levin_true_kernel(LEVIN, j)
    assert fit_psnr(blurry, k) > fit_psnr(blurry, k[::-1, ::-1]) + 3.0

  blurry = read_image(LEVIN / "im1_kernel5_img.png").astype(np.float64)
  scores = evaluate(np.clip(np.asarray(deconv_sparse(blurry, levin_true_kernel(LEVIN, 5))), 0, 1),
                    sharp, max_shift=5)
  assert scores.psnr > 34.0 and scores.ssim > 0.94  # measured 36.13 / 0.9623; blurry 27.15 dB


@pytest.mark.parametrize("image_shape, kernel_shape", [((40, 33), (9, 7)), ((31, 52), (5, 11))])
def test_fft_blur_operators_are_the_valid_convolution_and_its_adjoint(image_shape, kernel_shape):
  """On a zero-padded grid of fast FFT sizes (e.g. 48 × 39 → 48 × 40), still exactly scipy's 'valid'
  convolution, and its adjoint passes the dot-product test."""
  rng = np.random.default_rng(0)
  k = rng.random(kernel_shape)
  latent = (image_shape[0] + kernel_shape[0] - 1, image_shape[1] + kernel_shape[1] - 1)
  x = rng.random(latent)
  r = rng.random(image_shape)
  blur_valid, blur_adjoint = fft_blur_operators(image_shape, jnp.asarray(k, jnp.float32))
  forward = np.asarray(blur_valid(jnp.asarray(x, jnp.float32)), np.float64)
  np.testing.assert_allclose(forward, signal.convolve2d(x, k, mode="valid"), rtol=1e-5, atol=1e-4)
  adjoint = np.asarray(blur_adjoint(jnp.asarray(r, jnp.float32)), np.float64)
  assert adjoint.shape == latent
  np.testing.assert_allclose(np.sum(adjoint * x), np.sum(signal.convolve2d(x, k, mode="valid") * r),
                             rtol=1e-5)
  assert [fast_fft_size(n) for n in (1, 7, 11, 31, 4020, 4096)] == [1, 8, 12, 32, 4050, 4096]
