"""Spreading a batch of independent problems over every local device.

Problems share nothing, so each device runs its own slice of the batch with no communication: the
batched program is wrapped in `jax.shard_map` over a one-axis 'batch' mesh (XLA's automatic SPMD
partitioning of vmapped, grouped convolutions is not relied on).
"""

from __future__ import annotations

from typing import Callable, TypeVar

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

Tree = TypeVar("Tree")
_BATCH = PartitionSpec("batch")


def num_shards(batch_size: int) -> int:
  """How many devices a batch is split over: all of them when they divide it, else one."""
  devices = jax.device_count()
  return devices if devices > 1 and batch_size % devices == 0 else 1


def batch_mesh() -> Mesh:
  return Mesh(np.array(jax.devices()), ("batch",))


def shard_batch(tree: Tree) -> Tree:
  """Place a batch-first pytree with its batch axis split over all devices (see `num_shards`)."""
  batch = jax.tree.leaves(tree)[0].shape[0]
  if num_shards(batch) == 1:
    return tree
  return jax.device_put(tree, NamedSharding(batch_mesh(), _BATCH))


def per_device(fn: Callable, shards: int, num_batched_args: int, num_replicated_args: int = 0
               ) -> Callable:
  """`fn` run by each device on its slice of the batch-first arguments (replicated ones whole)."""
  if shards == 1:
    return fn
  in_specs = (_BATCH,) * num_batched_args + (PartitionSpec(),) * num_replicated_args
  return jax.shard_map(fn, mesh=batch_mesh(), in_specs=in_specs, out_specs=_BATCH,
                       check_vma=False)
