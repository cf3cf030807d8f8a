"""Between the authors' PyTorch code and our Flax modules: load it, build both, map parameters.

The PyTorch code is not part of this project: `load_reference(path)` imports it from a checkout of the
authors' repository (csdwren/SelfDeblur: `networks/skip.py`, `networks/fcn.py`, `SSIM.py`).

The mapping pairs torch's Conv2d / BatchNorm2d / non-local modules with our PaddedConv / BatchNorm /
NonLocalBlock modules in execution order (forward hooks on one side, a Flax method interceptor on the
other), checks every shape, and converts layouts: conv weights (O, I, kh, kw) ↔ (kh, kw, I, O), linear
weights transposed, and G_k's output units reversed, because torch's conv2d is a correlation and our
blur a convolution (our kernel is torch's rotated by 180°).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import torch

from selfdeblur_jax import train as jt

tr = types.SimpleNamespace()  # the reference's skip, fcn, SSIM, create_window, NONLocalBlock2D


def _import_from(root: Path, name: str) -> None:
  """Imports the top-level module or package `name` from the folder `root` (its submodules then import
  as usual, relative imports included)."""
  spec = importlib.machinery.PathFinder.find_spec(name, [str(root)])
  if spec is None:
    raise SystemExit(f"error: no {name} in {root}")
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  if spec.loader is not None:  # None for a folder without __init__.py (a namespace package)
    spec.loader.exec_module(module)


def load_reference(path: str) -> types.SimpleNamespace:
  """Import the released code's networks and SSIM loss from a checkout of the authors' repository."""
  root = Path(path).expanduser().resolve()
  missing = [f for f in ("networks/skip.py", "networks/fcn.py", "SSIM.py") if not (root / f).is_file()]
  if missing:
    raise SystemExit(f"error: {root} is not a checkout of csdwren/SelfDeblur (missing {', '.join(missing)}); "
                     "give --reference_code=DIR")
  for name in ("networks", "SSIM"):  # the checkout's top-level package and module, found in it alone
    _import_from(root, name)
  skip_module = importlib.import_module("networks.skip")
  ssim_module = importlib.import_module("SSIM")
  tr.skip, tr.NONLocalBlock2D = skip_module.skip, skip_module.NONLocalBlock2D
  tr.fcn = importlib.import_module("networks.fcn").fcn
  tr.SSIM, tr.create_window = ssim_module.SSIM, ssim_module.create_window
  return tr


def torch_gx(channels: int, skip_channels: int, scales: int = 5) -> torch.nn.Module:
  """The released code's `skip(...)` G_x, initialised from torch's global RNG."""
  return tr.skip(8, 1, num_channels_down=[channels] * scales, num_channels_up=[channels] * scales,
               num_channels_skip=[skip_channels] * scales, upsample_mode="bilinear", need_sigmoid=True,
               need_bias=True, pad="reflection", act_fun="LeakyReLU")


def torch_gk(kernel_size: int) -> torch.nn.Module:
  """The released code's `fcn(200, K²)` G_k, initialised from torch's global RNG."""
  return tr.fcn(200, kernel_size * kernel_size)


def _plain(tree):
  return {k: _plain(v) for k, v in tree.items()} if hasattr(tree, "items") else tree


def param_mapping(torch_gx, torch_gk, config, kernel_size: int, z_x_nhwc: np.ndarray):
  """[(tree, path, torch parameter, torch→flax layout function)] for every parameter of both nets."""
  gx, _ = jt.create_models(config, kernel_size)
  inner = set()
  for m in torch_gx.modules():
    if isinstance(m, tr.NONLocalBlock2D):
      inner |= {id(s) for s in m.modules()}
  torch_order, hooks = [], []
  for m in torch_gx.modules():
    if isinstance(m, tr.NONLocalBlock2D) or (
        isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d)) and id(m) not in inner):
      hooks.append(m.register_forward_hook(lambda mod, i, o: torch_order.append(mod)))
  state = {k: v.clone() for k, v in torch_gx.state_dict().items()}
  with torch.no_grad():
    probe = torch.from_numpy(np.ascontiguousarray(z_x_nhwc.transpose(0, 3, 1, 2)))
    torch_gx(probe.to(next(torch_gx.parameters()).dtype))
  torch_gx.load_state_dict(state)  # the probe must not move BatchNorm's running statistics
  for h in hooks:
    h.remove()
  flax_order = []

  def interceptor(next_fun, args, kwargs, context):
    if context.method_name == "__call__" and len(context.module.scope.path) == 1:
      flax_order.append(context.module.scope.path[0])
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(interceptor):
    gx.init(jax.random.PRNGKey(0), jnp.asarray(z_x_nhwc))
  assert len(torch_order) == len(flax_order), (len(torch_order), len(flax_order))

  conv = lambda w: w.permute(2, 3, 1, 0)
  same = lambda w: w
  mapping = []
  for tm, name in zip(torch_order, flax_order):
    if isinstance(tm, torch.nn.Conv2d):
      assert name.startswith("PaddedConv_"), name
      mapping += [("x", (name, "kernel"), tm.weight, conv), ("x", (name, "bias"), tm.bias, same)]
    elif isinstance(tm, torch.nn.BatchNorm2d):
      assert name.startswith("BatchNorm_"), name
      mapping += [("x", (name, "scale"), tm.weight, same), ("x", (name, "bias"), tm.bias, same)]
    else:
      assert name.startswith("NonLocalBlock_"), name
      for sub, c in (("theta", tm.theta), ("phi", tm.phi[0]), ("g", tm.g[0]), ("W_conv", tm.W[0])):
        mapping += [("x", (name, sub, "kernel"), c.weight, conv), ("x", (name, sub, "bias"), c.bias, same)]
      mapping += [("x", (name, "W_bn", "scale"), tm.W[1].weight, same),
                  ("x", (name, "W_bn", "bias"), tm.W[1].bias, same)]
  hidden, out = torch_gk[0], torch_gk[2]
  mapping += [("k", ("Dense_0", "kernel"), hidden.weight, lambda w: w.t()),
              ("k", ("Dense_0", "bias"), hidden.bias, same),
              ("k", ("Dense_1", "kernel"), out.weight, lambda w: w.t().flip(1)),
              ("k", ("Dense_1", "bias"), out.bias, lambda w: w.flip(0))]
  return mapping


def parent_node(tree, path):
  """The dict that holds the leaf at `path` (a tuple of keys)."""
  for key in path[:-1]:
    tree = tree[key]
  return tree


def torch_to_flax(mapping, template_params, dtype=np.float32):
  """Flax parameters (the template's structure) holding the torch nets' current values."""
  params = _plain(jax.tree_util.tree_map(np.asarray, template_params))
  for tree, path, tp, to_flax in mapping:
    node = parent_node(params[tree], path)
    value = to_flax(tp.detach()).numpy().astype(dtype)
    assert node[path[-1]].shape == value.shape, (tree, path)
    node[path[-1]] = jnp.asarray(value)
  assert len(jax.tree_util.tree_leaves(params)) == len(mapping)
  return params


def flax_to_torch(mapping, params) -> None:
  """Write Flax parameter values into the torch nets (inverting each layout function by index)."""
  params = _plain(jax.tree_util.tree_map(np.asarray, params))
  with torch.no_grad():
    for tree, path, tp, to_flax in mapping:
      value = np.array(parent_node(params[tree], path)[path[-1]], np.float32).ravel()
      index = to_flax(torch.arange(tp.numel(), dtype=torch.float64).reshape(tp.shape))
      flat = tp.detach().clone().view(-1)
      flat[torch.from_numpy(index.numpy().astype(np.int64).ravel())] = torch.from_numpy(value)
      tp.copy_(flat.view(tp.shape))
