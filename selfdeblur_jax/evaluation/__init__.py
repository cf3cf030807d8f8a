"""Evaluation: Levin-protocol alignment and scores, PSNR/SSIM.

`deconv_sparse` (now selfdeblur_jax.restoration) stays importable from here until the benchmarks
import it from there."""

from selfdeblur_jax.evaluation.align import Alignment, Scores, align, error_ratio, evaluate
from selfdeblur_jax.evaluation.metrics import psnr, ssim
from selfdeblur_jax.restoration import deconv_sparse

__all__ = ["Alignment", "Scores", "align", "deconv_sparse", "error_ratio", "evaluate", "psnr",
           "ssim"]
