"""The per-image figure (as the paper's Fig. 3): x and k at a few iterations, and the loss curve."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from selfdeblur_jax.io import write_bytes  # noqa: E402


def progress_figure(path: str | os.PathLike, title: str, blurry: np.ndarray,
                    snapshots: Sequence[tuple[int, np.ndarray, np.ndarray]],
                    loss_history: np.ndarray, switch_step: int | None = None) -> None:
  """Top row: y, then x at each snapshot step; bottom row: the loss, then k at each snapshot step."""
  columns = 1 + len(snapshots)
  fig, axes = plt.subplots(2, columns, figsize=(2.6 * columns, 5.6), squeeze=False)
  axes[0, 0].imshow(blurry, cmap="gray", vmin=0, vmax=1)
  axes[0, 0].set_title("blurry y")
  for column, (step, x, k) in enumerate(snapshots, start=1):
    axes[0, column].imshow(x, cmap="gray", vmin=0, vmax=1)
    axes[0, column].set_title(f"x, step {step}")
    axes[1, column].imshow(k / max(float(k.max()), 1e-12), cmap="gray", vmin=0, vmax=1)
    axes[1, column].set_title(f"k, step {step}")
  for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
  loss_ax = axes[1, 0]
  steps = np.arange(1, len(loss_history) + 1)
  loss_ax.semilogy(steps, np.maximum(loss_history, 1e-12), lw=0.8)
  if switch_step:
    loss_ax.axvline(switch_step, color="gray", ls=":", lw=0.8)
  loss_ax.set_title("loss (MSE, then 1−SSIM)" if switch_step else "loss")
  loss_ax.set_xlabel("step")
  loss_ax.tick_params(labelsize=7)
  loss_ax.set_xticks([0, len(loss_history)])
  fig.suptitle(title)
  fig.tight_layout()
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=90)
  plt.close(fig)
  write_bytes(path, buffer.getvalue())


def photo_figure(path: str | os.PathLike, title: str, blurry: np.ndarray, restored: np.ndarray,
                 kernel: np.ndarray, window: tuple[int, int, int, int] | None = None) -> None:
  """Blurry photo (with the estimation window outlined) | restored photo | kernel."""
  fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1, 1, 0.45]})
  grey = {"cmap": "gray", "vmin": 0, "vmax": 1}
  axes[0].imshow(np.clip(blurry, 0, 1), **(grey if blurry.ndim == 2 else {}))
  axes[0].set_title("blurry")
  if window is not None:
    top, left, height, width = window
    axes[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), width, height, fill=False, ec="yellow",
                                    lw=1))
  axes[1].imshow(np.clip(restored, 0, 1), **(grey if restored.ndim == 2 else {}))
  axes[1].set_title("deblurred")
  axes[2].imshow(kernel / max(float(kernel.max()), 1e-12), cmap="gray", vmin=0, vmax=1)
  axes[2].set_title(f"kernel {kernel.shape[0]}×{kernel.shape[1]}")
  for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
  fig.suptitle(title)
  fig.tight_layout()
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=100)
  plt.close(fig)
  write_bytes(path, buffer.getvalue())
