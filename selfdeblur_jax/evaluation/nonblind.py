"""Moved to selfdeblur_jax/restoration/nonblind.py (the non-blind deconvolution is a part of the method);
these names stay importable from here until the benchmarks import them from there."""

from selfdeblur_jax.restoration.nonblind import (DERIVATIVE_WEIGHTS, deconv_sparse, deconv_sparse_latent,
                                                 derivatives, fast_fft_size, fft_blur_operators)

__all__ = ["DERIVATIVE_WEIGHTS", "deconv_sparse", "deconv_sparse_latent", "derivatives", "fast_fft_size",
           "fft_blur_operators"]
