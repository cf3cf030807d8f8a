"""Spreading a batch of independent problems over every local device.

Problems share nothing, so each device runs its own slice of the batch with no communication: the
batched program is wrapped in `jax.shard_map` over a one-axis 'batch' mesh of this process's devices
(XLA's automatic SPMD partitioning of vmapped, grouped convolutions is not relied on).
A batch is padded to a multiple of the device count (`padded_size`) by the candidate search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

Tree = TypeVar("Tree")
_BATCH = PartitionSpec("batch")


def num_shards(batch_size: int) -> int:
  """How many devices a batch is split over: all local ones when they divide it, else one
  (`padded_size` gives the size that they divide)."""
  devices = jax.local_device_count()
  return devices if devices > 1 and batch_size % devices == 0 else 1


def padded_size(batch_size: int) -> int:
  """The batch size rounded up to a multiple of the local device count."""
  devices = jax.local_device_count()
  return -(-batch_size // devices) * devices


def batch_mesh() -> Mesh:
  return Mesh(np.array(jax.local_devices()), ("batch",))


def shard_batch(tree: Tree) -> Tree:
  """Place a batch-first pytree with its batch axis split over all devices (see `num_shards`).

  A batch on one device is committed to it as well: jit keys its compilations on whether arguments
  are committed, so a program first called with uncommitted arrays (fresh from `init`) compiled
  again when later called with committed ones (e.g. after early stopping edits a state).
  """
  batch = jax.tree.leaves(tree)[0].shape[0]
  if num_shards(batch) == 1:
    return jax.device_put(tree, jax.local_devices()[0])
  return jax.device_put(tree, NamedSharding(batch_mesh(), _BATCH))


def per_device(fn: Callable, shards: int, num_batched_args: int, num_replicated_args: int = 0
               ) -> Callable:
  """`fn` run by each device on its slice of the batch-first arguments (replicated ones whole)."""
  if shards == 1:
    return fn
  in_specs = (_BATCH,) * num_batched_args + (PartitionSpec(),) * num_replicated_args
  return jax.shard_map(fn, mesh=batch_mesh(), in_specs=in_specs, out_specs=_BATCH,
                       check_vma=False)
