"""Checkpoints of a whole batched training state (Flax msgpack serialisation, written atomically)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from selfdeblur_jax.io import write_bytes


def save(path: str | os.PathLike, states: Any, extra: dict[str, Any]) -> None:
  """Write `states` (any pytree, e.g. a batched TrainState) and host-side `extra` arrays/values."""
  payload = {"states": serialization.to_state_dict(jax.device_get(states)), "extra": extra}
  write_bytes(path, serialization.msgpack_serialize(payload))


class CheckpointError(Exception):
  """A checkpoint file that cannot be read."""


def read(path: str | os.PathLike) -> dict[str, Any]:
  """The raw payload of a checkpoint file ({"states": ..., "extra": ...}); CheckpointError if unreadable."""
  try:
    payload = serialization.msgpack_restore(Path(path).read_bytes())
  except Exception as error:  # msgpack raises several types for truncated or corrupt input
    raise CheckpointError(str(error) or type(error).__name__) from None
  if not isinstance(payload, dict) or "states" not in payload or "extra" not in payload:
    raise CheckpointError("not a selfdeblur-jax checkpoint")
  return payload


def restore(path: str | os.PathLike, template: Any) -> tuple[Any, dict[str, Any]]:
  """Read a checkpoint into the structure of `template` (a freshly initialised state of the batch)."""
  return restore_payload(read(path), template)


def restore_payload(payload: dict[str, Any], template: Any) -> tuple[Any, dict[str, Any]]:
  """A payload from `read` in the structure of `template`."""
  states = serialization.from_state_dict(template, payload["states"])
  states = jax.tree.map(lambda t, v: np.asarray(v, dtype=np.asarray(t).dtype), template, states)
  return states, payload["extra"]
