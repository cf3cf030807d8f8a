"""The benchmark tools: run each from the repository root as `python -m benchmarks.<tool>`."""
