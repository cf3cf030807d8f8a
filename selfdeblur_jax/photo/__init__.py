"""Whole photos (issues #9, #29): estimate the kernel with SelfDeblur on a window of the photo, restore
the whole photo at its own size by non-blind deconvolution with that kernel in linear light, and keep
the input when a no-reference check finds the result no better."""

from selfdeblur_jax.photo.check import Verdict, check_restoration, gradient_sparsity
from selfdeblur_jax.photo.pipeline import (STATUS_DEBLURRED, STATUS_NOT_IMPROVED, PhotoResult, PhotoSettings,
                                           deblur_photo, finish_photo, luma, prepare_photo)
from selfdeblur_jax.photo.restore import restore_nonblind
from selfdeblur_jax.photo.window import choose_window, edge_energy, structure_energy

__all__ = ["STATUS_DEBLURRED", "STATUS_NOT_IMPROVED", "PhotoResult", "PhotoSettings", "Verdict",
           "check_restoration", "choose_window", "deblur_photo", "edge_energy", "finish_photo",
           "gradient_sparsity", "luma", "prepare_photo", "restore_nonblind", "structure_energy"]
