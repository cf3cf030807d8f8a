"""What a run writes for each image: its result files (the image's record, `records`, follows them).
Every file is written atomically (`io`); what they hold is computed before (runner.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ml_collections
import numpy as np

from selfdeblur_jax.color import ycbcr_to_rgb
from selfdeblur_jax.figures import photo_figure, progress_figure
from selfdeblur_jax.io import write_npz, write_png
from selfdeblur_jax.photo.pipeline import STATUS_DEBLURRED
from selfdeblur_jax.problems import Item
from selfdeblur_jax.results import FitResult

OUTPUT_SUFFIXES = ("_x.png", "_k.png", ".npz", "_progress.png")


def output_names(name: str) -> list[str]:
  """The files of one image's result, relative to the workdir."""
  return [f"{name}{suffix}" for suffix in OUTPUT_SUFFIXES]


def write_result(out: Path, item: Item, result: FitResult, snapshots: list,
                 engine: ml_collections.ConfigDict, photo: tuple | None = None) -> dict[str, Any]:
  """An image's files: `<name>_x.png`, `_k.png`, `.npz` and `_progress.png` (photo mode: `photo`, what
  `photo.pipeline.finish_photo` made of the whole photo, at the photo's scale), in the directory `out`.

  Returns the fields the image's summary entry gets from what was written ({} outside photo mode).
  """
  x = result.x
  if item.photo is not None:  # photo mode: the whole photo, restored with the window's kernel, or kept
    restored, kernel, status, reason, details = photo
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
