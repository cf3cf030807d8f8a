"""How a camera makes a blurry photo (SPEC §8), and the sRGB curve to undo it.

A camera blurs in *linear light*: the scene's radiance is integrated along the shake path, then the
sensor adds photon (Poisson) and read (Gaussian) noise, the highlights clip, the sRGB curve is applied
and the result is quantised and JPEG-compressed. So `y = k ⊛ x` holds in linear light and only where
the sensor did not clip; in the sRGB values a photo file holds it does not (the curve is not linear,
and a clipped light's blur is cut off at 1).
"""

from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np

SRGB_KNEE = 0.04045  # below: the linear toe of the sRGB curve
LINEAR_KNEE = 0.0031308


def srgb_to_linear(s: np.ndarray) -> np.ndarray:
  """The standard sRGB decoding (IEC 61966-2-1): s/12.92 below 0.04045, ((s + 0.055)/1.055)^2.4 above."""
  s = np.asarray(s, np.float64)
  return np.where(s <= SRGB_KNEE, s / 12.92, ((np.maximum(s, SRGB_KNEE) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
  """The sRGB encoding, the inverse of `srgb_to_linear` on [0, 1] (negative values map to 0)."""
  lin = np.maximum(np.asarray(lin, np.float64), 0.0)
  return np.where(lin <= LINEAR_KNEE, 12.92 * lin, 1.055 * np.maximum(lin, LINEAR_KNEE) ** (1 / 2.4) - 0.055)


def blur_same_reflect(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
  """Each channel of an H×W(×C) image convolved with `kernel`, output of the input's size, borders
  reflected (float64; an FFT of the padded image, exact up to rounding)."""
  image = np.asarray(image, np.float64)
  kernel = np.asarray(kernel, np.float64)
  kh, kw = kernel.shape
  ph, pw = (kh - 1) // 2, (kw - 1) // 2
  channels = image[..., None] if image.ndim == 2 else image
  h, w = channels.shape[:2]
  padded = np.pad(channels, ((ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)), mode="reflect")
  shape = (padded.shape[0] + kh - 1, padded.shape[1] + kw - 1)
  spectrum = np.fft.rfft2(padded, shape, axes=(0, 1)) * np.fft.rfft2(kernel, shape)[..., None]
  full = np.fft.irfft2(spectrum, shape, axes=(0, 1))
  out = full[kh - 1:kh - 1 + h, kw - 1:kw - 1 + w]  # the 'valid' part of the padded image
  return out[..., 0] if image.ndim == 2 else out


def drifting_kernel(kernel: np.ndarray) -> np.ndarray:
  """k₂ = 0.65·k + 0.35·rot90(k): the blur at the right edge of a drifting (rotating-shake) photo."""
  kernel = np.asarray(kernel, np.float64)
  return 0.65 * kernel + 0.35 * np.rot90(kernel)


def camera_photo(sharp_srgb: np.ndarray, kernel: np.ndarray, *, photons: float, seed: int,
                 drifting: bool = False, read_noise: float = 0.004, gain: float = 1.08,
                 jpeg_quality: int = 90) -> tuple[bytes, np.ndarray]:
  """A blurry camera photo made exactly as SPEC §8 says, from an 8-bit sRGB photo as floats in [0, 1].

  Linear light l = sRGB⁻¹(s)·gain; blurred by `kernel` ('same', reflected borders) or, drifting, blended
  linearly from k at the left edge to `drifting_kernel(k)` at the right; Poisson noise of `photons` at
  full scale plus Gaussian read noise; clipped to [0, 1], sRGB-encoded, rounded to 8 bit, JPEG-encoded.
  Returns (the JPEG file's bytes, the ground truth sRGB(clip(l)) rounded to 8 bit, as floats).
  """
  linear = srgb_to_linear(sharp_srgb) * gain
  blurred = blur_same_reflect(linear, kernel)
  if drifting:
    t = np.linspace(0.0, 1.0, linear.shape[1])[None, :, None]
    blurred = (1 - t) * blurred + t * blur_same_reflect(linear, drifting_kernel(kernel))
  rng = np.random.default_rng(seed)
  noisy = rng.poisson(np.maximum(blurred, 0.0) * photons) / photons + read_noise * rng.normal(size=blurred.shape)
  pixels = np.round(linear_to_srgb(np.clip(noisy, 0.0, 1.0)) * 255).astype(np.uint8)
  jpeg = iio.imwrite("<bytes>", pixels, extension=".jpg", quality=int(jpeg_quality))
  truth = np.round(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255) / 255
  return jpeg, truth.astype(np.float32)


def decode_jpeg(data: bytes) -> np.ndarray:
  """JPEG bytes as float32 RGB in [0, 1]."""
  return (iio.imread(io.BytesIO(data), extension=".jpg").astype(np.float32) / 255.0)
