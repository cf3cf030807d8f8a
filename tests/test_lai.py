"""The Lai et al. scorer (issue #9) against float64 references written from the definitions of MATLAB's
rgb2ycbcr and imfilter and of Wang et al.'s ssim.m."""

import imageio.v3 as iio
import numpy as np
import pytest
from scipy import signal

from selfdeblur_jax.evaluation.align import _shifted
from selfdeblur_jax.evaluation.lai import (
  box_downsample,
  downsampling_factor,
  lai_files,
  lai_scores,
  matlab_luma,
  ssim_downsampled,
)


def test_matlab_luma_is_bt601_studio_swing():
  rgb = np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.4, 0.6]]])
  expected = np.array([[235.0, 16.0, 16 + 65.481, 16 + 65.481 * 0.2 + 128.553 * 0.4 + 24.966 * 0.6]]) / 255
  np.testing.assert_allclose(matlab_luma(rgb), expected, atol=1e-4 / 255)
  grey = np.random.default_rng(0).random((5, 6))
  np.testing.assert_array_equal(matlab_luma(grey), grey)


@pytest.mark.parametrize("shape,f", [((255, 255), 1), ((383, 500), 1), ((384, 500), 2),
                                     ((640, 960), 3), ((800, 1200), 3), ((896, 1024), 4)])
def test_ssim_downsampling_factor(shape, f):
  assert downsampling_factor(shape) == f


def reference_box_downsample(img: np.ndarray, f: int) -> np.ndarray:
  """imfilter(img, ones(f)/f², 'symmetric', 'same') then img(1:f:end, 1:f:end), 1-based as MATLAB."""
  h, w = img.shape
  c = (f + 1) // 2  # the kernel's centre, 1-based

  def at(i, j):  # symmetric extension of a 1-based index
    i = (i - 1) % (2 * h)
    j = (j - 1) % (2 * w)
    return img[i if i < h else 2 * h - 1 - i, j if j < w else 2 * w - 1 - j]

  out = np.zeros((h, w))
  for i in range(1, h + 1):
    for j in range(1, w + 1):
      out[i - 1, j - 1] = sum(at(i + k - c, j + m - c) for k in range(1, f + 1)
                              for m in range(1, f + 1)) / f**2
  return out[::f, ::f]


@pytest.mark.parametrize("f", [2, 3, 4])
def test_box_downsample_matches_imfilter_symmetric_same(f):
  img = np.random.default_rng(f).random((13, 17))
  np.testing.assert_allclose(box_downsample(img, f), reference_box_downsample(img, f), atol=1e-12)


def reference_ssim(a: np.ndarray, b: np.ndarray) -> float:
  g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
  window = np.outer(g, g) / np.outer(g, g).sum()
  filt = lambda x: signal.correlate2d(x, window, mode="valid")  # noqa: E731 (filter2 'valid')
  mu_a, mu_b = filt(a), filt(b)
  var_a, var_b = filt(a * a) - mu_a**2, filt(b * b) - mu_b**2
  cov = filt(a * b) - mu_a * mu_b
  c1, c2 = 0.01**2, 0.03**2
  return float(np.mean((2 * mu_a * mu_b + c1) * (2 * cov + c2)
                       / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))))


def test_ssim_with_downsampling_matches_a_float64_reference(photo):
  a = photo[:520, :512].astype(np.float64)  # min side 512: f = 2
  b = np.clip(a + np.random.default_rng(1).normal(0, 0.05, a.shape), 0, 1)
  f = downsampling_factor(a.shape)
  assert f == 2
  expected = reference_ssim(reference_box_downsample(a, f), reference_box_downsample(b, f))
  assert abs(ssim_downsampled(b, a) - expected) < 2e-4
  assert abs(ssim_downsampled(b, a) - reference_ssim(b, a)) > 0.01  # downsampling matters here


def test_lai_scores_align_up_to_ten_pixels_on_y(photo):
  rgb = np.stack([photo[:200, :240], photo[:200, :240] ** 1.2, photo[:200, :240] * 0.7], -1)
  luma = matlab_luma(rgb)
  shifted = _shifted(np.pad(luma, 10, mode="edge"), 3.0, -8.0, 10, luma.shape)  # moved by (3, −8)
  scores = lai_scores(shifted, rgb)
  assert scores.shift == (-3.0, 8.0) and scores.psnr > 60 and scores.ssim > 0.999
  assert lai_scores(shifted, rgb, max_shift=5).psnr < 40  # out of reach of a ±5 search


def test_lai_files_reads_the_layout(tmp_path):
  (tmp_path / "ground_truth").mkdir()
  pixels = np.zeros((8, 8, 3), np.uint8)
  for name in ("manmade_01_kernel_01", "text_03_kernel_04"):
    iio.imwrite(tmp_path / f"{name}.png", pixels)
  iio.imwrite(tmp_path / "ground_truth" / "manmade_01.png", pixels)
  with pytest.raises(ValueError, match="text_03_kernel_04.*no ground truth"):
    lai_files(tmp_path)
  iio.imwrite(tmp_path / "ground_truth" / "text_03.png", pixels)
  files = lai_files(tmp_path)
  assert [(p.stem, t.name, k) for p, t, k in files] == [("manmade_01_kernel_01", "manmade_01.png", 31),
                                                        ("text_03_kernel_04", "text_03.png", 75)]
  with pytest.raises(ValueError, match="layout"):
    lai_files(tmp_path / "ground_truth")
