"""Whole photos (issue #9): the estimation window, non-blind restoration of whole images (borders,
colour), and the photo pipeline."""

import numpy as np
import pytest
from conftest import TINY

from selfdeblur_jax.color import rgb_to_ycbcr
from selfdeblur_jax.evaluation import psnr
from selfdeblur_jax.photo import choose_window, deblur_photo, restore_nonblind
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
    deblur_photo(y, 41, config=TINY, window=32)


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
  result = subprocess.run([*DEBLUR, "--config=photo", f"--config.data_dir={tmp_path / 'shot.jpg'}",
                           "--config.kernel_size=5", "--config.estimate_window=40", "--quiet", *TINY_FLAGS,
                           f"--workdir={tmp_path / 'w'}"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
  assert result.returncode == 0, result.stderr
  out = np.asarray(Image.open(tmp_path / "w" / "shot_x.png"))
  assert out.shape == (100, 64, 3)
  assert (tmp_path / "w" / "shot_progress.png").is_file()
  saved = np.load(tmp_path / "w" / "shot.npz")
  assert saved["k"].shape == (5, 5) and saved["y_window"].shape == (40, 40)
  summary = json.loads((tmp_path / "w" / "summary.json").read_text())
  assert summary["images"]["shot"]["kernel_size"] == 5


def test_the_photo_config_has_a_cpu_variant_that_combines_with_robust():
  from selfdeblur_jax.configs.photo import get_config

  default, cpu, both = get_config(), get_config("cpu"), get_config("cpu,robust")
  assert (default.estimate_window, default.model_x.channels, default.num_steps) == (256, 128, 2500)
  assert (cpu.estimate_window, cpu.model_x.channels, cpu.num_steps) == (128, 64, 1500)
  assert tuple(cpu.optim.boundaries) == (600, 900, 1200) and cpu.loss.switch_step == 300
  assert cpu.candidates.restarts == 1 and both.candidates.restarts == 4 and both.estimate_window == 128
  with pytest.raises(ValueError, match="unknown config argument"):
    get_config("gpu")
