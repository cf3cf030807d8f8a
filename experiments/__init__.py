"""One-off studies behind benchmarks/RESULTS.md.

Run each from the repository root: `python -m experiments.<topic>.<study>`.
"""
