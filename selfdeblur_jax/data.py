"""Loading blurry images and the dataset rules that give each image its kernel size."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import imageio.v3 as iio
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

# Kernel sizes the authors use for Levin et al.'s kernel1..8 (SPEC §4).
LEVIN_KERNEL_SIZES = {1: 17, 2: 15, 3: 13, 4: 27, 5: 11, 6: 19, 7: 21, 8: 21}
# Levin's gt/kernel{j}.png files are stored in two orientations: these six rotated by 180° (MATLAB's
# conv2(x, rot90(k, 2)) convention), kernel4 and kernel8 as convolution kernels. Found by fitting each
# blurry image from its sharp one; the same split holds on all four images.
LEVIN_ROTATED_KERNELS = frozenset({1, 2, 3, 5, 6, 7})
# Kernel sizes for Lai et al.'s kernel_01..04 (SPEC §4).
LAI_KERNEL_SIZES = {1: 31, 2: 51, 3: 55, 4: 75}


class ImageError(ValueError):
  """An input file that cannot be used, with a message naming the file and the fix."""


def expand_inputs(spec: str) -> list[Path]:
  """The image files named by a file, a directory (its images, sorted) or a glob pattern. A path that
  exists is taken as it is, also where its name holds glob characters (`shot[1].png`); a pattern's
  folders are not images: skipped."""
  path = Path(spec)
  if not path.exists() and any(ch in spec for ch in "*?["):
    matches = sorted(Path(p) for p in glob.glob(spec))
    paths = [p for p in matches if p.is_file()]
    if not paths and matches:
      raise ImageError(f"{spec}: the pattern matches {len(matches)} folder(s) and no file; match the "
                       f"images in them, e.g. '{Path(spec) / '*.png'}'")
    if not paths:
      raise ImageError(f"{spec}: the pattern matches no file; check the path and quoting")
    return paths
  if path.is_dir():
    paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
      raise ImageError(f"{spec}: the directory holds no image ({', '.join(IMAGE_SUFFIXES)}); "
                       "point data_dir at the images")
    return paths
  if not path.exists():
    raise ImageError(f"{spec}: no such file or directory; check data_dir")
  return [path]


# EXIF orientations that turn the stored picture by 90° (transpose, rotate 90/270, transverse).
_EXIF_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def image_shape(path: str | os.PathLike) -> tuple[int, int]:
  """(H, W) of an image file as `read_image` returns it (EXIF orientation applied), from its header
  alone: no pixel data is decoded, so a process can plan every input and read only its own."""
  try:
    height, width = iio.improps(path).shape[:2]
  except Exception as error:  # imageio raises many types for unreadable files
    raise ImageError(f"{path}: not a readable image ({type(error).__name__}); re-save it as 8-bit PNG "
                     "or JPEG") from None
  try:
    orientation = iio.immeta(path, exclude_applied=False).get("Orientation", 1)
  except Exception:  # a reader without EXIF (e.g. TIFF's): read_image does not rotate either
    orientation = 1
  return (int(width), int(height)) if orientation in _EXIF_QUARTER_TURNS else (int(height), int(width))


def read_image(path: str | os.PathLike, mode: str = "grey") -> np.ndarray:
  """An 8-bit image file as float32 in [0, 1]: H×W for mode 'grey', H×W×3 for mode 'rgb'.

  Grey mode refuses colour files (use a colour config) and both refuse 16-bit or alpha images,
  whose intended display is ambiguous, with a message that says how to convert them.
  """
  try:
    try:
      image = iio.imread(path, rotate=True)  # as displayed: EXIF orientation applied (camera photos)
    except TypeError:  # a reader without EXIF orientation (e.g. TIFF's)
      image = iio.imread(path)
  except Exception as error:  # imageio raises many types for unreadable files
    raise ImageError(f"{path}: not a readable image ({type(error).__name__}); re-save it as 8-bit PNG "
                     "or JPEG") from None
  if image.dtype != np.uint8:
    raise ImageError(f"{path}: {image.dtype} pixels ({image.dtype.itemsize * 8}-bit); convert it to "
                     "8-bit, e.g. with imageio: (im / 257).astype('uint8')")
  if image.ndim == 3 and image.shape[-1] == 4 and _mode(path) == "CMYK":
    raise ImageError(f"{path}: is a CMYK image (print colours); convert it to RGB, e.g. with Pillow: "
                     "Image.open(path).convert('RGB').save('photo.png')")
  if image.ndim == 3 and image.shape[-1] == 4:
    raise ImageError(f"{path}: has an alpha channel (RGBA); flatten it onto a background and save "
                     "as RGB or grey")
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  if image.ndim == 3 and image.shape[-1] == 3:
    if mode == "grey":
      if np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]):
        image = image[..., 0]
      else:
        raise ImageError(f"{path}: is a colour image but the config deblurs grey images; use "
                         "--config=configs/color.py or convert it to grey")
  elif image.ndim != 2:
    raise ImageError(f"{path}: unsupported image shape {image.shape}; expected grey or RGB")
  if mode == "rgb" and image.ndim == 2:
    image = np.repeat(image[..., None], 3, axis=-1)
  return image.astype(np.float32) / 255.0


def _mode(path: str | os.PathLike) -> str | None:
  """The file's colour mode as Pillow names it ("RGBA", "CMYK", ...), None where it has none."""
  try:
    return iio.immeta(path).get("mode")
  except Exception:  # a reader without modes
    return None


def center_crop(image: np.ndarray, size: int | None) -> np.ndarray:
  """The size×size centre crop (rows/columns (H−size)//2 …), or the image itself for size None/0."""
  if not size:
    return image
  h, w = image.shape[:2]
  if size > min(h, w):
    raise ImageError(f"crop {size} is larger than the image ({h}×{w})")
  top, left = (h - size) // 2, (w - size) // 2
  return image[top:top + size, left:left + size]


def levin_kernel_size(name: str) -> int:
  """Kernel size for a Levin file name `im{i}_kernel{j}_img` (SPEC §4)."""
  match = re.search(r"kernel(\d+)", name)
  if not match or int(match.group(1)) not in LEVIN_KERNEL_SIZES:
    raise ImageError(f"{name}: not a Levin name (im<i>_kernel<1-8>_img); set kernel_size explicitly")
  return LEVIN_KERNEL_SIZES[int(match.group(1))]


def lai_kernel_size(name: str) -> int:
  """Kernel size for a Lai file name `<category>_<nn>_kernel_<kk>` (SPEC §4)."""
  match = re.search(r"kernel_?(\d+)", name)
  if not match or int(match.group(1)) not in LAI_KERNEL_SIZES:
    raise ImageError(f"{name}: not a Lai name (<category>_<nn>_kernel_<01-04>); set kernel_size "
                     "explicitly")
  return LAI_KERNEL_SIZES[int(match.group(1))]


KERNEL_RULES = {"levin": levin_kernel_size, "lai": lai_kernel_size}


def downscale(image: np.ndarray, factor: int) -> np.ndarray:
  """Box-downscale by an integer factor (the image is first cropped to a multiple of it)."""
  if factor <= 1:
    return image
  h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
  image = image[:h, :w]
  return image.reshape(h // factor, factor, w // factor, factor, *image.shape[2:]).mean(axis=(1, 3))


def levin_true_kernel(data_dir: str | os.PathLike, index: int) -> np.ndarray:
  """Levin's true kernel `index` (1..8) as a convolution kernel (scipy convolve2d) summing to 1."""
  k = iio.imread(Path(data_dir) / "gt" / f"kernel{index}.png").astype(np.float64)
  if k.ndim == 3:
    k = k[..., 0]
  k = k[::-1, ::-1] if index in LEVIN_ROTATED_KERNELS else k
  return np.ascontiguousarray(k / k.sum())
