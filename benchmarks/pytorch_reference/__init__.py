"""Side-by-side runs of the authors' PyTorch code: `python -m benchmarks.pytorch_reference.<script>`."""
