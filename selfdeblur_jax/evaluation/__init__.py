"""Evaluation: Levin-protocol alignment and scores, PSNR/SSIM."""

from selfdeblur_jax.evaluation.align import Alignment, Scores, align, error_ratio, evaluate
from selfdeblur_jax.evaluation.metrics import psnr, ssim

__all__ = ["Alignment", "Scores", "align", "error_ratio", "evaluate", "psnr", "ssim"]
