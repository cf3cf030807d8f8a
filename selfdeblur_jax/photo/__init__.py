"""Whole photos (issue #9): estimate the kernel with SelfDeblur on a window of the photo, then restore
the whole photo at its own size by non-blind deconvolution with that kernel."""

from selfdeblur_jax.photo.pipeline import PhotoResult, deblur_photo, luma
from selfdeblur_jax.photo.restore import restore_nonblind
from selfdeblur_jax.photo.window import choose_window, edge_energy

__all__ = ["PhotoResult", "choose_window", "deblur_photo", "edge_energy", "luma", "restore_nonblind"]
