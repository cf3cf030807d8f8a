"""The forward model: blur against SciPy, TV against float64 NumPy, kernel supports, motion kernels."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from selfdeblur_jax.physics import (
  blur,
  estimate_noise_sigma,
  kernel_support,
  latent_shape,
  motion_kernel,
  total_variation,
)
from selfdeblur_jax.physics.blur import crop_to_image, crop_to_kernel


@pytest.mark.parametrize("shape,size", [((40, 37), 5), ((64, 64), 15), ((31, 50), 1), ((30, 30), 27)])
def test_blur_equals_scipy_convolve2d_valid(shape, size):
  rng = np.random.default_rng(size)
  x = rng.random(latent_shape(shape, size))
  k = rng.random((size, size))
  k /= k.sum()
  got = np.asarray(blur(jnp.asarray(x, jnp.float32), jnp.asarray(k, jnp.float32)))
  want = signal.convolve2d(x, k, mode="valid")
  assert got.shape == shape
  np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_blur_is_a_convolution_not_a_correlation():
  x = np.zeros((9, 9), np.float32)
  x[4, 4] = 1.0
  k = np.zeros((3, 3), np.float32)
  k[0, 2] = 1.0  # convolution: out[i, j] = Σ x[i+2−a, j+2−b]·k[a, b] = x[i+2, j]
  out = np.asarray(blur(jnp.asarray(x), jnp.asarray(k)))
  assert out[2, 4] == 1.0 and out.sum() == 1.0  # a correlation would put it at out[4, 2]


def test_total_variation_matches_float64_numpy():
  x = np.random.default_rng(0).random((23, 31))
  want = np.abs(np.diff(x, axis=0)).sum() + np.abs(np.diff(x, axis=1)).sum()
  got = float(total_variation(jnp.asarray(x, jnp.float32)))
  assert got == pytest.approx(want, rel=1e-5)


def test_total_variation_of_constant_is_zero():
  assert float(total_variation(jnp.full((8, 8), 0.3))) == 0.0


def test_kernel_support_is_centred_window():
  mask = kernel_support(3, 7)
  assert mask.sum() == 9 and mask[2:5, 2:5].all()
  with pytest.raises(ValueError):
    kernel_support(4, 7)
  with pytest.raises(ValueError):
    kernel_support(9, 7)


def test_crops_take_the_centre():
  x = np.arange(100).reshape(10, 10)
  assert np.array_equal(crop_to_image(x, (6, 6)), x[2:8, 2:8])
  assert np.array_equal(crop_to_kernel(x[:9, :9], 5), x[2:7, 2:7])


@pytest.mark.parametrize("size", [3, 9, 15, 27])
def test_motion_kernel_is_a_seeded_normalised_kernel(size):
  k = motion_kernel(size, seed=3)
  assert k.shape == (size, size)
  assert k.min() >= 0 and k.sum() == pytest.approx(1.0, abs=1e-12)
  assert np.array_equal(k, motion_kernel(size, seed=3))
  assert not np.array_equal(k, motion_kernel(size, seed=4))
  assert (k > 0).sum() > size  # a path, not a point


@pytest.mark.parametrize("size", [0, 4, -3, 2.5])
def test_motion_kernel_rejects_bad_sizes(size):
  with pytest.raises(ValueError, match="odd integer"):
    motion_kernel(size)


@pytest.mark.parametrize("sigma", [0.003, 0.01, 0.03])
def test_noise_estimate_recovers_white_noise_level(sigma):
  """Immerkær's estimator assumes the Laplacian-difference mask cancels the image: true of smooth
  images (a linear ramp plus a smooth bump here), not of fine texture, which it reads as noise."""
  r, c = np.mgrid[0:256, 0:256] / 255.0
  clean = 0.2 + 0.3 * r + 0.2 * c + 0.2 * np.exp(-((r - 0.5) ** 2 + (c - 0.4) ** 2) / 0.05)
  noisy = clean + np.random.default_rng(0).normal(0, sigma, clean.shape)
  assert estimate_noise_sigma(noisy) == pytest.approx(sigma, rel=0.05)
  assert estimate_noise_sigma(clean) < 1e-4


def test_kernel_shape_tells_a_motion_path_from_scattered_dots():
  from selfdeblur_jax.physics.kernel_shape import is_scattered, main_path_mass
  path = motion_kernel(21, seed=0)
  assert main_path_mass(path) > 0.9 and not is_scattered(path)
  dots = np.zeros((21, 21))
  dots[::5, ::5] = 1.0  # 25 isolated dots of equal mass
  assert main_path_mass(dots) == pytest.approx(1 / 25) and is_scattered(dots)
  two = np.zeros((9, 9))
  two[1, 1:4] = 1.0  # a stroke of 3 pixels
  two[7, 7] = 1.0  # and one far dot
  assert main_path_mass(two) == pytest.approx(0.75)
  assert main_path_mass(np.full((5, 5), 0.04)) == pytest.approx(1.0)  # a box is one connected set
  with pytest.raises(ValueError):
    main_path_mass(np.zeros((3, 3)))
