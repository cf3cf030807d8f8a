"""Photos as cameras make them (issue #29): the sRGB curve, clipped highlights, sensor noise, the
estimation window's choice, and the no-reference check that keeps a photo the program cannot improve."""

import json
import os
import subprocess

import numpy as np
import pytest
from conftest import REPO, TINY

from selfdeblur_jax.evaluation import psnr
from selfdeblur_jax.photo import (STATUS_DEBLURRED, STATUS_NOT_IMPROVED, PhotoSettings, check_restoration,
                                  choose_window, deblur_photo, finish_photo, gradient_sparsity, prepare_photo,
                                  restore_nonblind)
from selfdeblur_jax.photo.pipeline import clipped_pixels
from selfdeblur_jax.physics import motion_kernel
from selfdeblur_jax.physics.camera import (blur_same_reflect, camera_photo, decode_jpeg, drifting_kernel,
                                           linear_to_srgb, srgb_to_linear)


def test_the_srgb_curve_round_trips_and_matches_the_standard():
  s = np.linspace(0, 1, 1001)
  assert np.max(np.abs(linear_to_srgb(srgb_to_linear(s)) - s)) < 1e-12
  assert srgb_to_linear(0.5) == pytest.approx(0.214041, abs=1e-6)  # IEC 61966-2-1
  assert srgb_to_linear(0.04045) == pytest.approx(0.04045 / 12.92)
  assert linear_to_srgb(1.0) == pytest.approx(1.0) and linear_to_srgb(-0.1) == 0.0
  # continuous at the knee
  assert abs(float(linear_to_srgb(0.0031308 + 1e-9)) - float(linear_to_srgb(0.0031308 - 1e-9))) < 1e-6


def test_a_camera_photo_is_blurred_in_linear_light_then_clipped_and_encoded(photo):
  sharp = np.stack([photo[100:180, 100:196]] * 3, -1)
  k = motion_kernel(9, seed=3, length=6)
  jpeg, truth = camera_photo(sharp, k, photons=1e9, seed=0, read_noise=0.0, jpeg_quality=100)
  lin = srgb_to_linear(sharp) * 1.08
  expected = linear_to_srgb(np.clip(blur_same_reflect(lin, k), 0, 1))
  assert np.max(np.abs(decode_jpeg(jpeg) - expected)) < 6 / 255  # JPEG at quality 100, 8-bit rounding
  assert np.allclose(truth, np.round(linear_to_srgb(np.clip(lin, 0, 1)) * 255) / 255, atol=1e-6)
  again, _ = camera_photo(sharp, k, photons=200, seed=7)
  assert again == camera_photo(sharp, k, photons=200, seed=7)[0]  # seeded
  # drifting: k at the left edge, 0.65·k + 0.35·rot90(k) at the right
  k2 = drifting_kernel(k)
  assert k2.sum() == pytest.approx(1.0) and np.allclose(k2, 0.65 * k + 0.35 * np.rot90(k))


def test_restoring_in_linear_light_beats_the_srgb_values_for_a_camera_blur(photo):
  sharp = photo[150:246, 150:246].astype(np.float64)
  k = motion_kernel(11, seed=4, length=8)
  y = linear_to_srgb(blur_same_reflect(srgb_to_linear(sharp), k)).astype(np.float32)
  truth = sharp[20:-20, 20:-20]
  linear = restore_nonblind(y, k, 0.001, linear=True)[20:-20, 20:-20]
  srgb = restore_nonblind(y, k, 0.001, linear=False)[20:-20, 20:-20]
  assert psnr(linear, truth) > psnr(srgb, truth) + 1.0


def test_clipped_highlights_are_found_and_left_out_of_the_data_term(photo):
  """A bright light blurred in linear light and clipped breaks y = k ⊛ x; leaving its pixels out of the
  data term restores its surroundings better than fitting them."""
  sharp = srgb_to_linear(photo[150:246, 150:246].astype(np.float64)) * 0.8
  sharp[40:52, 40:52] = 4.0  # a lamp, 4× over full scale
  k = motion_kernel(9, seed=2, length=6)
  y = linear_to_srgb(np.clip(blur_same_reflect(sharp, k), 0, 1)).astype(np.float32)
  clipped = clipped_pixels(y, 0.98)
  assert clipped[46, 46] and not clipped[80, 10] and 0.01 < clipped.mean() < 0.2
  truth = linear_to_srgb(np.clip(sharp, 0, 1))
  near = np.zeros_like(clipped)
  near[25:70, 25:70] = True
  near &= ~clipped
  masked = restore_nonblind(y, k, 0.001, linear=True, mask=(~clipped).astype(np.float32))
  unmasked = restore_nonblind(y, k, 0.001, linear=True)
  err = lambda im: float(np.sqrt(np.mean((im[near] - truth[near]) ** 2)))  # noqa: E731
  assert err(masked) < 0.8 * err(unmasked), (err(masked), err(unmasked))


def test_the_window_goes_to_the_edges_not_to_the_noise_in_the_shadows(photo):
  """A dark corner of sensor noise (after the sRGB curve, strong pixel-to-pixel gradients) and an
  edge-rich region: raw gradient energy picks the noise; the smoothed structure picks the edges."""
  rng = np.random.default_rng(0)
  image = np.full((160, 240), 0.5, np.float32)
  image[10:70, 10:70] = np.clip(0.06 + 0.06 * rng.normal(size=(60, 60)), 0, 1)  # noise in the shadows
  image[90:150, 160:220] = photo[200:260, 200:260] * 0.6 + 0.2  # the edges
  assert choose_window(image, 60) == (10, 10)  # the old rule: fooled by the noise
  top, left = choose_window(image, 60, sigma=2.0)
  assert abs(top - 90) <= 10 and abs(left - 160) <= 10
  # clipped pixels do not count: excluding the edges region sends the window elsewhere
  exclude = np.zeros(image.shape, bool)
  exclude[80:160, 150:240] = True
  top, left = choose_window(image, 60, sigma=2.0, exclude=exclude)
  assert not (top + 60 > 80 and left + 60 > 150)


def test_prepare_photo_estimates_in_linear_light_away_from_clipped_pixels(photo):
  rgb = np.stack([photo[100:260, 100:300]] * 3, -1).astype(np.float32)
  rgb[:, :90] = 1.0  # a clipped band on the left
  prepared = prepare_photo(rgb, 9, PhotoSettings(window=64, max_kernel=0))
  top, left, height, width = prepared.estimate.box
  assert left >= 90 and (height, width) == (64, 64)
  window = rgb[top:top + 64, left:left + 64, 0]
  assert np.allclose(prepared.estimate.grey, srgb_to_linear(window), atol=1e-5)
  assert not prepared.observed[:, :90].any() and prepared.observed[:, 95:].all()
  assert prepared.noise_sigma < 0.01


def test_a_pure_noise_photo_is_kept_not_made_worse():
  rng = np.random.default_rng(1)
  noise = np.clip(0.5 + 0.1 * rng.normal(size=(96, 96, 3)), 0, 1).astype(np.float32)
  settings = PhotoSettings(window=48, max_kernel=0)
  prepared = prepare_photo(noise, 9, settings)
  out, kernel, status, reason, details = finish_photo(noise, motion_kernel(9, seed=0), 9, prepared, settings)
  assert status == STATUS_NOT_IMPROVED and np.array_equal(out, noise)
  assert reason.startswith("nothing to deblur") and details["structure_to_noise"] < 1.5
  # with the check off the restoration is returned, and it is no better
  out, _, status, _, _ = finish_photo(noise, motion_kernel(9, seed=0), 9, prepared,
                                      PhotoSettings(window=48, max_kernel=0, check=False))
  assert status == STATUS_DEBLURRED and not np.array_equal(out, noise)


def test_the_check_passes_a_good_restoration_and_stops_a_scattered_kernel(photo):
  sharp = photo[150:278, 150:278].astype(np.float64)
  k = motion_kernel(11, seed=4, length=8)
  y = blur_same_reflect(sharp, k).astype(np.float32)
  good = restore_nonblind(y, k, 0.002)
  assert check_restoration(y, good, k, 0.002).improved
  assert gradient_sparsity(good) < gradient_sparsity(y)
  scattered = np.zeros((11, 11))
  scattered[tuple(np.random.default_rng(0).integers(0, 11, (2, 30)))] = 1.0
  verdict = check_restoration(y, restore_nonblind(y, scattered / scattered.sum(), 0.002),
                              scattered / scattered.sum(), 0.002)
  assert not verdict.improved and "scattered" in verdict.reason
  blob = np.ones((11, 11)) / 121
  verdict = check_restoration(y, restore_nonblind(y, blob, 0.002), blob, 0.002)
  assert not verdict.improved and "diffuse" in verdict.reason
  noisy = np.clip(y + np.random.default_rng(1).normal(0, 0.05, y.shape), 0, 1).astype(np.float32)
  amplified = restore_nonblind(noisy, k, 1e-5)  # far too weak a prior: the noise is amplified
  verdict = check_restoration(noisy, amplified, k, 0.05)
  assert not verdict.improved and "not sharper" in verdict.reason


@pytest.mark.xdist_group("photo_fit")
def test_the_cli_keeps_a_pure_noise_photo_and_says_so(tmp_path):
  from PIL import Image
  from test_cli import DEBLUR, TINY_FLAGS

  rng = np.random.default_rng(2)
  noise = np.round(np.clip(0.5 + 0.1 * rng.normal(size=(64, 80, 3)), 0, 1) * 255).astype(np.uint8)
  Image.fromarray(noise).save(tmp_path / "noise.png")
  result = subprocess.run([*DEBLUR, "--config=photo", f"--config.data_dir={tmp_path / 'noise.png'}",
                           "--config.kernel_size=5", "--config.estimate_window=40", "--quiet", *TINY_FLAGS,
                           f"--workdir={tmp_path / 'w'}"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
  assert result.returncode == 0, result.stderr
  assert "noise: not improved, so the input is kept" in result.stderr
  assert np.array_equal(np.asarray(Image.open(tmp_path / "w" / "noise_x.png")), noise)
  entry = json.loads((tmp_path / "w" / "summary.json").read_text())["images"]["noise"]
  assert entry["status"] == STATUS_NOT_IMPROVED and entry["reason"]


@pytest.mark.xdist_group("photo_fit")
def test_deblur_photo_reports_its_status(photo):
  rng = np.random.default_rng(3)
  noise = np.clip(0.5 + 0.1 * rng.normal(size=(64, 64)), 0, 1).astype(np.float32)
  result = deblur_photo(noise, 5, config=TINY, window=32)
  assert result.status == STATUS_NOT_IMPROVED and np.array_equal(result.image, noise)
  assert {"noise_sigma", "restore_weight", "sparsity_ratio"} <= set(result.details)


def test_a_kernel_size_left_out_is_five_percent_of_the_longer_side():
  from selfdeblur_jax.configs.photo import get_config
  from selfdeblur_jax.photo.scale import auto_kernel_size
  from selfdeblur_jax.problems import kernel_size_for

  assert [auto_kernel_size(s) for s in [(600, 512), (300, 451), (400, 600), (512, 512), (3000, 4000), (80, 60)]] \
      == [31, 23, 31, 27, 201, 11]
  config = get_config("cpu")
  assert config.kernel_size == 0 and kernel_size_for("shot", config, (300, 451)) == 23
  config.kernel_size = 25  # a size given is used as given
  assert kernel_size_for("shot", config, (300, 451)) == 25
