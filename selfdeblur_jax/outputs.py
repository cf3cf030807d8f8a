"""What a run writes: each image's result files, and summary.json (one per process, merged at the end).
Every file is written atomically (`io`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import ml_collections
import numpy as np

from selfdeblur_jax.api import FitResult
from selfdeblur_jax.color import ycbcr_to_rgb
from selfdeblur_jax.figures import photo_figure, progress_figure
from selfdeblur_jax.io import write_json, write_npz, write_png
from selfdeblur_jax.photo.pipeline import STATUS_DEBLURRED, PhotoSettings, finish_photo
from selfdeblur_jax.problems import Item, Source

OUTPUT_SUFFIXES = ("_x.png", "_k.png", ".npz", "_progress.png")


def output_names(name: str) -> list[str]:
  """The files of one image's result, relative to the workdir."""
  return [f"{name}{suffix}" for suffix in OUTPUT_SUFFIXES]


def outputs_complete(workdir: Path, item: Item | Source) -> bool:
  """Whether every file of the image's result is in workdir (a finished image, skipped on --resume)."""
  return all((workdir / name).exists() for name in output_names(item.name))


def write_result(out: Path, item: Item, result: FitResult, snapshots: list,
                 engine: ml_collections.ConfigDict, config: ml_collections.ConfigDict) -> dict[str, Any]:
  """An image's files: `<name>_x.png`, `_k.png`, `.npz` and `_progress.png` (photo mode: the whole
  photo restored with the window's kernel, at the photo's scale), in the directory `out`.

  Returns the fields the image's summary entry gets from what was written ({} outside photo mode).
  """
  x = result.x
  if item.photo is not None:  # photo mode: the whole photo, restored with the window's kernel, or kept
    restored, kernel, status, reason, details = finish_photo(item.photo, result.kernel, result.kernel_size,
                                                             item.prepared, PhotoSettings.from_config(config))
    write_png(out / f"{item.name}_x.png", restored)
    write_png(out / f"{item.name}_k.png", kernel / max(float(kernel.max()), 1e-12))
    write_npz(out / f"{item.name}.npz", k=kernel, window=np.asarray(item.window), x_window=x, y_window=item.y,
              k_window=result.kernel, estimate_scale=item.estimate_scale, loss_history=result.loss_history)
    title = f"{item.name} (K={kernel.shape[0]})" + ("" if status == STATUS_DEBLURRED else ": not improved, kept")
    photo_figure(out / f"{item.name}_progress.png", title, item.photo, restored, kernel, item.window)
    return {"status": status, "reason": reason, "photo_check": details}
  if item.chroma is not None:
    write_png(out / f"{item.name}_x.png", ycbcr_to_rgb(np.concatenate([x[..., None], item.chroma], -1)))
  else:
    write_png(out / f"{item.name}_x.png", x)
  write_png(out / f"{item.name}_k.png", result.kernel / max(float(result.kernel.max()), 1e-12))
  candidate_kernels = {f"candidate_k{j}": c.kernel for j, c in enumerate(result.candidates)}
  write_npz(out / f"{item.name}.npz", x=x, k=result.kernel, x_latent=result.x_latent,
            loss_history=result.loss_history, y=item.y, **candidate_kernels)
  switch = engine.loss.switch_step if engine.loss.data_term == "mse_then_ssim" else None
  progress_figure(out / f"{item.name}_progress.png", f"{item.name} (K={result.kernel_size})", item.y,
                  snapshots, result.loss_history, switch)
  return {}


def summary_path(workdir: Path) -> Path:
  """summary.json, or with several processes this process's part of it (merged by process 0)."""
  if jax.process_count() == 1:
    return workdir / "summary.json"
  return workdir / f"summary.process{jax.process_index()}.json"


def merge_summaries(workdir: Path, count: int) -> None:
  """Process 0, after all processes are done: one summary.json from every process's part."""
  paths = [path for i in range(count) if (path := workdir / f"summary.process{i}.json").exists()]
  if not paths:
    return
  parts = [json.loads(path.read_text()) for path in paths]
  merged = {**parts[0], "images": {}, "batches": [], "errors": [], "processes": count}
  for part in parts:
    merged["images"].update(part["images"])
    merged["batches"] += part["batches"]
    merged["errors"] += part["errors"]
  write_json(workdir / "summary.json", merged)
  for path in paths:  # summary.json now holds them
    path.unlink()


def read_summary(workdir: Path) -> dict[str, Any]:
  """The images recorded in an earlier run's summary.json ({} if there is none or it is unreadable)."""
  try:
    images = json.loads((workdir / "summary.json").read_text()).get("images", {})
  except (OSError, ValueError, AttributeError):
    return {}
  return images if isinstance(images, dict) else {}
