"""Restoring an image with a known kernel: non-blind deconvolution, a part of the method."""

from selfdeblur_jax.restoration.nonblind import (DERIVATIVE_WEIGHTS, deconv_sparse, deconv_sparse_latent,
                                                 derivatives, fast_fft_size, fft_blur_operators)

__all__ = ["DERIVATIVE_WEIGHTS", "deconv_sparse", "deconv_sparse_latent", "derivatives", "fast_fft_size",
           "fft_blur_operators"]
