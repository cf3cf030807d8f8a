"""An image's summary entry (its record, records.py): what made its outputs (the fingerprint, the
batch), the chosen candidate and every candidate, the kernel's shape, and what its writer reported."""

from __future__ import annotations

from typing import Any

import numpy as np

from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.outputs import output_names
from selfdeblur_jax.photo.scale import photo_kernel_size
from selfdeblur_jax.physics.kernel_shape import main_path_mass, path_border_mass
from selfdeblur_jax.problems import Item
from selfdeblur_jax.results import FitResult


def summary_entry(item: Item, result: FitResult, written: dict[str, Any], fingerprint: dict[str, Any],
                  batch: int) -> dict[str, Any]:
  """The entry of a finished image of batch `batch`, whose files the writer wrote (`written`: the fields
  it reports, photo mode's status "deblurred" or "not improved" among them)."""
  entry = {"source": item.source, "kernel_size": result.kernel_size,
           "fingerprint": fingerprint,
           "requested_kernel_size": item.kernel_size, "seed": result.seed,
           "final_loss": float(result.loss_history[-1]), "batch": batch,
           "chosen": result.chosen,
           "candidates": [{"seed": c.seed, "restart": c.restart, "kernel_size": c.kernel_size,
                           "steps": c.steps, "status": c.status, "final_loss": c.final_loss,
                           "score": None if np.isnan(c.score) else c.score}
                          for c in result.candidates],
           "outputs": output_names(item.name)}
  if item.photo is not None:  # the kernel written is at the photo's scale
    entry["kernel_size"] = photo_kernel_size(result.kernel_size, item.estimate_scale)
    entry["requested_kernel_size"] = photo_kernel_size(item.kernel_size, item.estimate_scale)
    entry["estimate_scale"] = item.estimate_scale
    entry["estimate_kernel_size"] = result.kernel_size
  entry["kernel_main_path_mass"] = main_path_mass(result.kernel)
  entry["kernel_border_mass"] = path_border_mass(result.kernel)
  if item.sharp is not None:  # synthetic: score against the sharp crop, Levin-style alignment
    border = max(item.y.shape) // 10
    entry["psnr_blurry"] = float(evaluate(item.y, item.sharp, 5, border).psnr)
    entry["psnr_deblurred"] = float(evaluate(np.clip(result.x, 0, 1), item.sharp, 5, border).psnr)
  entry.update(written)
  return entry
