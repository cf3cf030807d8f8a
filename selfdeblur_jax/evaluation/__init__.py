"""Evaluation: Levin-protocol alignment and scores, PSNR/SSIM, and non-blind deconvolution."""

from selfdeblur_jax.evaluation.align import Alignment, Scores, align, error_ratio, evaluate
from selfdeblur_jax.evaluation.metrics import psnr, ssim
from selfdeblur_jax.evaluation.nonblind import deconv_sparse

__all__ = ["Alignment", "Scores", "align", "deconv_sparse", "error_ratio", "evaluate", "psnr",
           "ssim"]
