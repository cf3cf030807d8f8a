"""What a workdir holds, image by image: `records/<name>.json` is an image's summary entry (what made
its outputs: the fingerprint; the chosen candidate, ...), written after all of its output files, by one
atomic rename, and removed before they are rewritten. A run killed at any instant therefore leaves
each image either complete and recorded or unrecorded (redone by --resume), and processes or runs that
share a workdir never overwrite each other's records. `summary.json` is derived from the records, so
it is never the only copy of anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax

from selfdeblur_jax.io import TEMPORARIES, write_json

RECORDS = "records"


def record_path(workdir: Path, name: str) -> Path:
  return workdir / RECORDS / f"{name}.json"


def write_record(workdir: Path, name: str, entry: dict[str, Any]) -> None:
  """Record a finished image, once every file of its result is in place."""
  write_json(record_path(workdir, name), entry)


def forget(workdir: Path, name: str) -> None:
  """Drop an image's record before its outputs are rewritten: a crash part-way leaves it unrecorded."""
  record_path(workdir, name).unlink(missing_ok=True)


def read_record(workdir: Path, name: str) -> dict[str, Any] | None:
  """An image's record, or None where there is none (or it cannot be read: then it is redone)."""
  try:
    entry = json.loads(record_path(workdir, name).read_text())
  except (OSError, ValueError):
    return None
  return entry if isinstance(entry, dict) else None


def complete(workdir: Path, entry: dict[str, Any] | None) -> bool:
  """Whether a record's output files are all in the workdir."""
  outputs = (entry or {}).get("outputs")
  return bool(outputs) and all((workdir / name).exists() for name in outputs)


def recorded_images(workdir: Path) -> dict[str, dict[str, Any]]:
  """Every recorded image whose outputs are all there (by name, sorted): what summary.json lists."""
  images = {}
  for path in sorted((workdir / RECORDS).glob("*.json")):
    entry = read_record(workdir, path.stem)
    if complete(workdir, entry):
      images[path.stem] = entry
  return images


def summary_path(workdir: Path) -> Path:
  """summary.json, or with several processes this process's part of it (merged by process 0)."""
  if jax.process_count() == 1:
    return workdir / "summary.json"
  return workdir / f"summary.process{jax.process_index()}.json"


def write_summary(workdir: Path, run: dict[str, Any], batches: list, errors: list[str]) -> None:
  """summary.json: this run's settings (`run`), batches and errors, and every recorded image."""
  write_json(summary_path(workdir), {**run, "images": recorded_images(workdir), "batches": batches,
                                     "errors": errors})


def merge_summaries(workdir: Path, count: int) -> None:
  """Process 0, after all processes are done: one summary.json from every process's part."""
  paths = [path for i in range(count) if (path := workdir / f"summary.process{i}.json").exists()]
  if not paths:
    return
  parts = [json.loads(path.read_text()) for path in paths]
  merged = {**parts[0], "images": recorded_images(workdir), "batches": [], "errors": [], "processes": count}
  for part in parts:
    merged["batches"] += part["batches"]
    merged["errors"] += part["errors"]
  write_json(workdir / "summary.json", merged)
  for path in paths:  # summary.json now holds them
    path.unlink()


def remove_temporaries(workdir: Path) -> None:
  """Delete the temporary files that killed runs left (only while no other run writes here)."""
  for folder in (workdir, workdir / "checkpoints", workdir / RECORDS):
    for path in folder.glob(TEMPORARIES):
      path.unlink(missing_ok=True)
