"""Spreading a batch of independent problems over every local device."""

from __future__ import annotations

from typing import TypeVar

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

Tree = TypeVar("Tree")


def shard_batch(tree: Tree) -> Tree:
  """Place a batch-first pytree so its batch axis is split over all devices (when it divides evenly).

  Problems are independent, so jit partitions the vmapped program along that axis with no
  communication. With one device, or a batch that does not divide, the tree stays on the default device.
  """
  devices = jax.devices()
  batch = jax.tree.leaves(tree)[0].shape[0]
  if len(devices) == 1 or batch % len(devices):
    return tree
  mesh = Mesh(np.array(devices), ("batch",))
  return jax.device_put(tree, NamedSharding(mesh, PartitionSpec("batch")))
