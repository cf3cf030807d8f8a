"""Checkpoint formats, timed."""
