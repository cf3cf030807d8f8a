"""Turn a program config into deblurring problems: which images, prepared how, with which kernel size."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import matplotlib.cbook
import ml_collections
import numpy as np

from selfdeblur_jax.candidates import candidate_sizes
from selfdeblur_jax.color import rgb_to_ycbcr
from selfdeblur_jax.data import KERNEL_RULES, ImageError, center_crop, downscale, expand_inputs, image_shape, read_image
from selfdeblur_jax.photo.pipeline import PhotoSettings, PreparedPhoto, prepare_photo
from selfdeblur_jax.photo.scale import auto_kernel_size, downscaled_shape, estimate_scale
from selfdeblur_jax.physics import motion_kernel
from selfdeblur_jax.physics.blur import blur_np
from selfdeblur_jax.validation import validate_kernel_size


@dataclasses.dataclass
class Item:
  """One problem: a grey image to deblur, its kernel size, and what is needed to write results."""

  name: str
  y: np.ndarray  # H×W in [0, 1]: the image to deblur (Y channel in colour mode)
  kernel_size: int
  source: str
  chroma: np.ndarray | None = None  # H×W×2 Cb/Cr kept from the input in colour mode
  sharp: np.ndarray | None = None  # ground truth, for synthetic problems
  true_kernel: np.ndarray | None = None
  photo: np.ndarray | None = None  # restore="nonblind": the whole photo (H×W or H×W×3) to restore
  window: tuple[int, int, int, int] | None = None  # (top, left, height, width) of y in the photo
  estimate_scale: float = 1.0  # y is the photo's window downscaled by this (large kernels, photo/scale.py)
  prepared: PreparedPhoto | None = None  # photo mode: the window, noise level and clipped pixels


def check_kernel_size(size: object, where: str) -> int:
  """`size` as an int, or ImageError naming `where` unless it is a positive odd integer."""
  try:
    return validate_kernel_size(size, name=f"{where}: kernel size")
  except ValueError as error:
    raise ImageError(f"{error} (--config.kernel_size or kernel_sizes)") from None


def kernel_size_for(name: str, config: ml_collections.ConfigDict, shape: tuple[int, ...] | None = None) -> int:
  """The kernel size of one file: the per-file mapping, else the single size, else the dataset rule,
  else in photo mode 5 % of the photo's longer side (`shape`, after downscaling: photo/scale.py)."""
  if name in config.kernel_sizes:
    size = config.kernel_sizes[name]
  elif config.kernel_size:
    size = config.kernel_size
  elif config.kernel_rule:
    if config.kernel_rule not in KERNEL_RULES:
      raise ImageError(f"kernel_rule {config.kernel_rule!r} is unknown; use one of "
                       f"{sorted(KERNEL_RULES)} or set --config.kernel_size")
    size = KERNEL_RULES[config.kernel_rule](name)
  elif config.restore == "nonblind" and shape is not None:
    size = auto_kernel_size(shape)
  else:
    raise ImageError(f"{name}: no kernel size; set --config.kernel_size=K (odd), a kernel_rule or "
                     "kernel_sizes")
  return check_kernel_size(size, name)


def check_kernel_sizes(config: ml_collections.ConfigDict, names: list[str]) -> None:
  """ImageError for a `kernel_sizes` key that names no input: a typo would leave its image with the
  default size (or none), found out only once the run is over."""
  unknown = sorted(set(config.kernel_sizes.keys()) - set(names))
  if unknown:
    shown = ", ".join(names[:6]) + (f", ... ({len(names)} inputs)" if len(names) > 6 else "")
    raise ImageError(f"kernel_sizes names {', '.join(map(repr, unknown))}, which is no input's name "
                     f"(the inputs: {shown}); write the file's name without its extension, or drop the key")


def synthetic_item(config: ml_collections.ConfigDict) -> Item:
  """The demo problem: a crop of matplotlib's bundled photo, blurred with a seeded motion kernel."""
  s = config.synthetic
  path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
  grey = read_image(path, mode="rgb") @ np.array([0.299, 0.587, 0.114], np.float32)
  kernel = motion_kernel(s.kernel_size, seed=s.kernel_seed)
  size = s.size + s.kernel_size - 1
  sharp = grey[s.top:s.top + size, s.left:s.left + size]
  if sharp.shape != (size, size):
    raise ImageError(f"synthetic crop at ({s.top}, {s.left}) of size {size} leaves the "
                     f"{grey.shape[0]}×{grey.shape[1]} photo; move synthetic.top/left")
  y = blur_np(sharp, kernel)
  if s.noise_sigma:
    y = y + np.random.default_rng(s.kernel_seed).normal(0, s.noise_sigma, y.shape).astype(np.float32)
  offset = (s.kernel_size - 1) // 2
  return Item(name="grace_hopper_blurred", y=np.clip(y, 0, 1).astype(np.float32),
              kernel_size=config.kernel_size or s.kernel_size, source=str(path),
              sharp=sharp[offset:offset + s.size, offset:offset + s.size], true_kernel=kernel)


def input_paths(config: ml_collections.ConfigDict) -> list[Path]:
  """The files the config names: data_dir as a file, glob, or directory filtered by files/pattern."""
  if not config.data_dir:
    raise ImageError("no input: set --config.data_dir=FILE, DIRECTORY or 'GLOB'")
  root = Path(config.data_dir)
  if root.is_dir() and config.files:
    missing = [f for f in config.files if not (root / f).is_file()]
    if missing:
      raise ImageError(f"{root}: missing {', '.join(missing)}; check data_dir")
    return [root / f for f in config.files]
  if root.is_dir() and config.pattern not in ("", "*"):
    return expand_inputs(str(root / config.pattern))
  return expand_inputs(config.data_dir)


def output_names(paths: list[Path]) -> list[str]:
  """A distinct output name per input: its stem; where stems collide (grey.jpg, grey.tif), the file
  name with its suffix (grey_jpg); where those collide too (a/blurry.png, b/blurry.png), the path's
  folders as well (a_blurry_png)."""
  def collides(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}

  names = [p.stem for p in paths]
  clash = collides(names)
  names = [f"{p.stem}_{p.suffix.lstrip('.')}" if n in clash else n for p, n in zip(paths, names)]
  clash = collides(names)
  if clash:
    parts = [p.resolve().parts for p in paths]
    common = 0  # drop the folders all paths share
    while all(len(q) > common + 1 and q[common] == parts[0][common] for q in parts):
      common += 1
    names = ["_".join([*q[common:-1], n]) if n in clash else n for q, n in zip(parts, names)]
  return names


@dataclasses.dataclass(frozen=True)
class Source:
  """One input planned from its file's header alone: what forming batches needs, without the pixels.

  Every process plans all inputs (cheap), forms the same batches, and reads only its own."""

  name: str
  path: Path | None  # None: the embedded synthetic problem
  shape: tuple[int, int]  # of the prepared y (the estimation window in photo mode)
  kernel_size: int  # of the prepared y (at the estimation scale in photo mode)


def prepared_shape(path: Path, shape: tuple[int, ...], kernel_size: int,
                   config: ml_collections.ConfigDict) -> tuple[tuple[int, int], int]:
  """(shape of y, its kernel size) once an image of `shape` is prepared as `load_item` does (downscale,
  crop, estimation window at its scale); ImageError naming the file where the result cannot be used."""
  h, w = int(shape[0]), int(shape[1])
  factor = int(config.downscale)
  if factor > 1:
    h, w = h // factor, w // factor
  crop = int(config.crop)
  if crop:
    if crop > min(h, w):
      raise ImageError(f"{path}: crop {crop} is larger than the image ({h}×{w}); use a smaller crop "
                       "(0: the whole image)")
    h = w = crop
  size, scale, where = kernel_size, 1.0, "image"
  if config.restore == "nonblind":
    scale, size = estimate_scale(kernel_size, int(config.estimate_max_kernel))
    h, w = downscaled_shape((h, w), scale)
    window = int(config.estimate_window)
    h, w, where = min(window, h), min(window, w), "estimation window"
  largest = max(candidate_sizes(size, config))
  if largest >= min(h, w):
    what = f"{size}×{size} kernel" + (f" (candidates up to {largest})" if largest != size else "")
    if scale != 1:
      what += f" at the estimation scale 1/{scale:.2f}"
    raise ImageError(f"{path}: {where} {h}×{w} is not larger than its {what}; use a smaller kernel_size "
                     f"or a larger {where}")
  return (h, w), size


def _downscaled(shape: tuple[int, ...], config: ml_collections.ConfigDict) -> tuple[int, int]:
  """An image's H×W after the config's integer downscale (what photo mode's automatic kernel size reads)."""
  factor = max(int(config.downscale), 1)
  return int(shape[0]) // factor, int(shape[1]) // factor


def load_item(path: Path, config: ml_collections.ConfigDict, name: str | None = None) -> Item:
  """Read and prepare one image file; ImageError names the file and the fix."""
  name = name or path.stem
  colour = config.color_mode == "ycbcr"
  image = read_image(path, mode="rgb" if colour else "grey")
  size = kernel_size_for(name, config, _downscaled(image.shape, config))
  shape, _ = prepared_shape(path, image.shape, size, config)  # refuses what cannot be used, up front
  image = center_crop(downscale(image, int(config.downscale)), int(config.crop))
  chroma, photo, window, scale, prepared = None, None, None, 1.0, None
  if config.restore == "nonblind":  # estimate on a window (photo/pipeline.py), restore the whole photo
    photo = image
    prepared = prepare_photo(image, size, PhotoSettings.from_config(config))
    estimate = prepared.estimate
    image, size, scale, window = estimate.grey, estimate.kernel_size, estimate.scale, estimate.box
  elif colour:
    ycbcr = rgb_to_ycbcr(image)
    image, chroma = ycbcr[..., 0], ycbcr[..., 1:]
  assert image.shape == shape, (image.shape, shape)  # prepared_shape mirrors the steps above
  return Item(name=name, y=np.ascontiguousarray(image, np.float32), kernel_size=size,
              source=str(path), chroma=chroma, photo=photo, window=window, estimate_scale=scale,
              prepared=prepared)


def check_program(config: ml_collections.ConfigDict) -> None:
  """ImageError (one line) for program settings that no input could be prepared with."""
  if int(config.crop) < 0:
    raise ImageError(f"crop must be >= 0 (0: the whole image), got {config.crop}")
  if int(config.downscale) < 1:
    raise ImageError(f"downscale must be an integer >= 1 (1: none), got {config.downscale}")
  if config.restore not in ("network", "nonblind"):
    raise ImageError(f"restore {config.restore!r} is unknown; use 'network' (G_x's image) or "
                     "'nonblind' (kernel from a window, whole photo by non-blind deconvolution)")
  if config.restore_colour not in ("rgb", "y"):
    raise ImageError(f"restore_colour {config.restore_colour!r} is unknown; use 'rgb' or 'y'")
  if int(config.estimate_window) < 3:
    raise ImageError(f"estimate_window must be >= 3 pixels, got {config.estimate_window}")
  if int(config.estimate_max_kernel) < 0 or int(config.estimate_max_kernel) in (1, 2):
    raise ImageError(f"estimate_max_kernel must be 0 (never downscale) or >= 3, got {config.estimate_max_kernel}")
  if config.color_mode not in ("grey", "ycbcr"):
    raise ImageError(f"color_mode {config.color_mode!r} is unknown; use 'grey' or 'ycbcr'")


def plan_sources(config: ml_collections.ConfigDict) -> tuple[list[Source], list[str]]:
  """Every input of a run planned from file headers (no pixels read), and one error line per file that
  cannot be used (the rest still run)."""
  check_program(config)
  if config.synthetic.enabled:
    s = config.synthetic
    return [Source("grace_hopper_blurred", None, (int(s.size), int(s.size)),
                   int(config.kernel_size or s.kernel_size))], []
  sources, errors = [], []
  paths = input_paths(config)
  names = output_names(paths)
  check_kernel_sizes(config, names)
  for path, name in zip(paths, names):
    try:
      full = image_shape(path)
      shape, size = prepared_shape(path, full, kernel_size_for(name, config, _downscaled(full, config)), config)
      sources.append(Source(name, path, shape, size))
    except ImageError as error:
      errors.append(str(error))
  return sources, errors


def load_source(source: Source, config: ml_collections.ConfigDict) -> Item:
  """The problem of a planned input, read now; ImageError if the file cannot be used or no longer
  matches its plan (changed since, or a header that disagrees with its pixels)."""
  item = synthetic_item(config) if source.path is None else load_item(source.path, config, source.name)
  if (item.y.shape, item.kernel_size) != (source.shape, source.kernel_size):
    raise ImageError(f"{source.path}: its pixels give a {item.y.shape[0]}×{item.y.shape[1]} problem with a "
                     f"{item.kernel_size}×{item.kernel_size} kernel, its header "
                     f"{source.shape[0]}×{source.shape[1]} with {source.kernel_size}×{source.kernel_size} "
                     "(was it changed during the run?); re-save it and run again")
  return item


def load_sources(sources: list[Source], config: ml_collections.ConfigDict) -> tuple[list[Item], list[str]]:
  """The problems of these planned inputs, read now, and one error line per file that cannot be used."""
  items, errors = [], []
  for source in sources:
    try:
      items.append(load_source(source, config))
    except ImageError as error:
      errors.append(str(error))
  return items, errors


def group_by_shape(shapes: Sequence[tuple[int, ...]], max_batch_size: int | None) -> list[list[int]]:
  """Indices of equal shapes together, in input order, each group split to at most max_batch_size."""
  buckets: dict[tuple[int, ...], list[int]] = {}
  for i, shape in enumerate(shapes):
    buckets.setdefault(tuple(shape), []).append(i)
  return [indices[j:j + (max_batch_size or len(indices))]
          for indices in buckets.values() for j in range(0, len(indices), max_batch_size or len(indices))]
