"""Whole photos (issue #9): the estimation window, non-blind restoration of whole images (borders,
colour), and the photo pipeline."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY

from selfdeblur_jax.color import rgb_to_ycbcr
from selfdeblur_jax.evaluation import psnr
from selfdeblur_jax.photo import choose_window, deblur_photo, restore_nonblind
from selfdeblur_jax.photo.scale import downscale_image, estimate_scale, photo_kernel_size, upscale_kernel
from selfdeblur_jax.physics import motion_kernel
from selfdeblur_jax.physics.blur import blur_np


def test_the_window_goes_where_the_edges_are():
  rng = np.random.default_rng(0)
  image = np.full((120, 200), 0.5, np.float32)
  image[70:110, 20:60] = rng.random((40, 40))  # the only texture
  top, left = choose_window(image, 40)
  assert (top, left) == (70, 20)
  assert choose_window(np.full((60, 80), 0.3), 20) == (20, 30)  # flat: the centre
  assert choose_window(image, 500) == (0, 0)  # larger than the photo: all of it


@pytest.fixture(scope="module")
def blurred(photo):
  """A 160×200 crop blurred ('valid') by a 15×15 motion kernel: (sharp latent, y, kernel)."""
  k = motion_kernel(15, seed=5)
  sharp = photo[150:324, 150:364].astype(np.float32)  # (160 + 14) × (200 + 14)
  return sharp, np.clip(blur_np(sharp, k), 0, 1), k


def test_whole_image_restoration_has_no_ringing_band_at_the_borders(blurred):
  """The error within 15 px of the border is no worse than 1.5× the interior's: the 'valid' model
  leaves no periodic wrap-around (a circular FFT deconvolution of the same image rings there)."""
  sharp, y, k = blurred
  truth = sharp[7:-7, 7:-7]
  restored = restore_nonblind(y, k, 0.003)
  assert restored.shape == y.shape
  error = (restored - truth) ** 2
  band = np.ones_like(error, bool)
  band[15:-15, 15:-15] = False
  border, interior = np.sqrt(error[band].mean()), np.sqrt(error[~band].mean())
  assert border <= 1.5 * interior, (border, interior)
  assert psnr(restored, truth) > psnr(y, truth) + 5
  # The naive alternative: Wiener deconvolution on the periodic grid rings at the borders.
  k_fft = np.fft.fft2(k, y.shape)
  naive = np.real(np.fft.ifft2(np.fft.fft2(y) * np.conj(k_fft) / (np.abs(k_fft) ** 2 + 1e-3)))
  naive = np.roll(naive, (7, 7), axis=(0, 1))
  naive_error = (naive - truth) ** 2
  assert np.sqrt(naive_error[band].mean()) > 2 * np.sqrt(naive_error[~band].mean())


@pytest.mark.parametrize("colour", ["rgb", "y"])
def test_colour_photos_are_restored_per_channel_or_on_luma(photo, colour):
  k = motion_kernel(9, seed=2)
  grey = photo[100:188, 100:208]
  rgb = np.stack([grey, grey[::-1, ::-1] * 0.8, np.clip(grey * 1.1, 0, 1)], -1).astype(np.float32)
  y = np.stack([np.clip(blur_np(rgb[..., c], k), 0, 1) for c in range(3)], -1)
  restored = restore_nonblind(y, k, 0.003, colour)
  truth = rgb[4:-4, 4:-4]
  assert restored.shape == y.shape and 0 <= restored.min() and restored.max() <= 1
  luma = lambda im: rgb_to_ycbcr(im)[..., 0]  # noqa: E731
  assert psnr(luma(restored), luma(truth)) > psnr(luma(y), luma(truth)) + 3


@pytest.mark.xdist_group("photo_fit")  # both fit a 32² window with K = 5: one compile
def test_deblur_photo_estimates_on_a_window_and_returns_the_whole_photo(photo):
  k = motion_kernel(5, seed=1)
  sharp = np.stack([photo[200:268, 150:254]] * 3, -1).astype(np.float32)
  y = np.stack([np.clip(blur_np(sharp[..., c], k), 0, 1) for c in range(3)], -1)
  result = deblur_photo(y, 5, config=TINY, window=32)
  assert result.image.shape == y.shape
  top, left, height, width = result.window
  assert (height, width) == (32, 32) and 0 <= top <= y.shape[0] - 32 and 0 <= left <= y.shape[1] - 32
  assert result.kernel.shape == (5, 5) and abs(float(result.kernel.sum()) - 1) < 1e-5
  assert result.fit.x.shape == (32, 32)
  with pytest.raises(ValueError, match="kernel_size"):
    deblur_photo(y, 41, config=TINY, window=32, max_kernel=0)  # 0: never downscaled


def test_the_photo_mode_of_the_cli_returns_the_whole_photo_upright(photo, tmp_path):
  """configs/photo.py: a colour photo with an EXIF rotation comes back whole, in colour, upright."""
  import json
  import os
  import subprocess

  from PIL import Image
  from test_cli import DEBLUR, TINY_FLAGS

  k = motion_kernel(5, seed=1)
  sharp = np.stack([photo[200:268, 150:254], photo[200:268, 150:254] * 0.9,
                    photo[200:268, 150:254] ** 2], -1).astype(np.float32)
  y = np.stack([np.clip(blur_np(sharp[..., c], k), 0, 1) for c in range(3)], -1)  # 64×100×3
  image = Image.fromarray(np.round(y * 255).astype(np.uint8))
  exif = image.getexif()
  exif[274] = 6  # displayed rotated by 90°: 100×64
  image.save(tmp_path / "shot.jpg", exif=exif, quality=95)
  from conftest import REPO
  # a 9×9 kernel estimated 5 wide on a copy downscaled by 9/5 (photo/scale.py), written 9 wide
  result = subprocess.run([*DEBLUR, "--config=photo", f"--config.data_dir={tmp_path / 'shot.jpg'}",
                           "--config.kernel_size=9", "--config.estimate_max_kernel=5",
                           "--config.estimate_window=40", "--quiet", *TINY_FLAGS,
                           f"--workdir={tmp_path / 'w'}"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
  assert result.returncode == 0, result.stderr
  out = np.asarray(Image.open(tmp_path / "w" / "shot_x.png"))
  assert out.shape == (100, 64, 3)
  assert (tmp_path / "w" / "shot_progress.png").is_file()
  saved = np.load(tmp_path / "w" / "shot.npz")
  assert saved["k"].shape == (9, 9) and saved["k_window"].shape == (5, 5)
  assert saved["y_window"].shape == (40, 36)  # the 100×64 photo is 56×36 at scale 1/1.8
  entry = json.loads((tmp_path / "w" / "summary.json").read_text())["images"]["shot"]
  assert (entry["kernel_size"], entry["estimate_kernel_size"], entry["estimate_scale"]) == (9, 5, 1.8)


def test_the_photo_config_has_a_cpu_variant_that_combines_with_robust():
  from selfdeblur_jax.configs.photo import get_config

  default, cpu, both = get_config(), get_config("cpu"), get_config("cpu,robust")
  assert (default.estimate_window, default.model_x.channels, default.num_steps) == (256, 128, 2500)
  assert (cpu.estimate_window, cpu.model_x.channels, cpu.num_steps) == (128, 64, 1500)
  assert tuple(cpu.optim.boundaries) == (600, 900, 1200) and cpu.loss.switch_step == 300
  assert tuple(cpu.candidates.size_factors) == (1.0,) and len(both.candidates.size_factors) == 3
  assert both.estimate_window == 128
  with pytest.raises(ValueError, match="unknown config argument"):
    get_config("gpu")


@pytest.mark.parametrize("size", [29, 41, 51, 55, 75])
def test_large_kernels_are_estimated_at_a_scale_where_they_are_27_wide(size):
  scale, small = estimate_scale(size, 27)
  assert small == 27 and scale == pytest.approx(size / 27) and photo_kernel_size(small, scale) == size
  assert estimate_scale(size, 0) == (1.0, size) and estimate_scale(25, 27) == (1.0, 25)
  assert estimate_scale(size, 28) == (size / 27, 27)  # the coarse size is odd


def test_an_upscaled_kernel_keeps_its_centre_grows_by_the_scale_and_sums_to_one():
  scale = 41 / 27
  for offset in (0, 3, 7):
    small = np.zeros((27, 27), np.float32)
    small[13, 13 + offset] = 1
    big = upscale_kernel(small, scale, 41)
    rows, cols = np.mgrid[:41, :41]
    assert big.shape == (41, 41) and big.min() >= 0 and abs(float(big.sum()) - 1) < 1e-6
    assert abs(float((big * rows).sum()) - 20) < 1e-4
    assert abs(float((big * cols).sum()) - (20 + offset * scale)) < 0.1


def test_a_blur_seen_at_a_coarser_scale_is_the_shrunk_kernel_on_the_shrunk_image(photo):
  """What estimating at scale 1/s rests on: downscale(x ∗ k) ≈ downscale(x) ∗ k_s, where k_s is k
  shrunk by s; and upscale_kernel brings k_s back to k's place and extent."""
  kernel, scale = motion_kernel(41, seed=3), 41 / 27
  sharp = photo[100:400, 100:400].astype(np.float32)
  shrink = (27 - 41 / scale) / 2
  small = np.asarray(jax.image.scale_and_translate(kernel, (27, 27), (0, 1), jnp.full(2, 1 / scale),
                                                   jnp.full(2, shrink), "linear", antialias=True))
  small = small / small.sum()
  coarse_blurry = downscale_image(blur_np(sharp, kernel), scale)  # 171²: 260² shrunk by s
  coarse_model = blur_np(downscale_image(sharp, scale), small)  # 172²: (198 − 26)²
  h, w = coarse_blurry.shape
  error = np.sqrt(np.mean((coarse_blurry - coarse_model[:h, :w]) ** 2))  # same origin to 0.2 coarse pixels
  assert error < 0.05 * np.std(coarse_blurry)
  back = upscale_kernel(small, scale, 41)
  rows, cols = np.mgrid[:41, :41]
  for grid in (rows, cols):
    assert abs(float((back * grid).sum() - (kernel * grid).sum())) < 0.1


@pytest.mark.xdist_group("photo_fit")  # both fit a 32² window with K = 5: one compile
def test_deblur_photo_estimates_a_large_kernel_on_a_downscaled_window(photo):
  k = motion_kernel(9, seed=1)
  sharp = photo[200:290, 150:290].astype(np.float32)
  y = np.clip(blur_np(sharp, k), 0, 1)  # 82×132
  result = deblur_photo(y, 9, config=TINY, window=32, max_kernel=5)
  assert result.scale == pytest.approx(1.8) and result.fit.x.shape == (32, 32)
  assert result.kernel.shape == (9, 9) and abs(float(result.kernel.sum()) - 1) < 1e-5
  top, left, height, width = result.window  # in the photo's pixels
  assert (height, width) == (58, 58) and top + height <= 82 and left + width <= 132
  assert result.image.shape == y.shape
