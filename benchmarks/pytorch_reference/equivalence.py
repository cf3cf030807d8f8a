"""Our Flax port against the authors' PyTorch code, same weights: outputs, gradients, a short training run.

  pip install torch   # only this check needs it
  python -m benchmarks.pytorch_reference.equivalence --reference_code=SelfDeblur --x64
  python -m benchmarks.pytorch_reference.equivalence --reference_code=SelfDeblur \
      --image=128 --kernel=15 --channels=64 --skip=16

SelfDeblur: a checkout of the authors' repository (csdwren/SelfDeblur); its code is not part of this project.

Both sides get the same weights (torch's init, copied by bridge.py), the same z_x, z_k and y, and no
input perturbation. Printed: max |difference| of G_x and G_k outputs; for the MSE and the 1 − SSIM data
terms the loss and every parameter gradient (relative to the tensor's largest gradient); then the losses
of a --steps long joint Adam run (MSE until --switch, then 1 − SSIM, learning rates halved at a third,
two thirds and five sixths of the run) on both sides.
"""

from __future__ import annotations

import argparse


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--reference_code", required=True, help="a checkout of csdwren/SelfDeblur")
parser.add_argument("--image", type=int, default=40, help="y is image×image")
parser.add_argument("--kernel", type=int, default=7)
parser.add_argument("--channels", type=int, default=16)
parser.add_argument("--skip", type=int, default=4)
parser.add_argument("--steps", type=int, default=30)
parser.add_argument("--switch", type=int, default=15)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--x64", action="store_true", help="float64 on both sides")
args = parser.parse_args()

import jax  # noqa: E402

if args.x64:
  jax.config.update("jax_enable_x64", True)
from benchmarks.pytorch_reference import bridge  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

bridge.load_reference(args.reference_code)
import selfdeblur_jax.losses as losses  # noqa: E402
from selfdeblur_jax import train as jt  # noqa: E402
from selfdeblur_jax.config import resolve_config  # noqa: E402

if args.x64:  # our SSIM window is built in float32; use torch's own window so float64 is exact
  window = bridge.tr.create_window(11, 1)[0, 0].double().numpy()
  losses.gaussian_window = lambda size=11, sigma=1.5: window

np_dtype, torch_dtype = (np.float64, torch.float64) if args.x64 else (np.float32, torch.float32)
size, K = args.image, args.kernel
torch.set_num_threads(2)
torch.manual_seed(args.seed)
config = resolve_config({"num_steps": max(args.steps, 1), "seed": args.seed,
                         "model_x": {"channels": args.channels, "skip_channels": args.skip,
                                     "input_perturbation": 0.0},
                         "loss": {"switch_step": args.switch},
                         # learning-rate halvings inside the short run, so the schedule is compared too
                         "optim": {"boundaries": (args.steps // 3, 2 * args.steps // 3,
                                                  5 * args.steps // 6)}})
state = jt.create_train_state(jax.random.PRNGKey(args.seed), (size, size), K, config)
torch_x = bridge.torch_gx(args.channels, args.skip).to(torch_dtype)
torch_k = bridge.torch_gk(K).to(torch_dtype)
rng = np.random.default_rng(1000 + args.seed)
z_x = (rng.uniform(size=state.z_x.shape).astype(np.float32) * np.float32(0.1)).astype(np_dtype)
z_k = (rng.uniform(size=state.z_k.shape).astype(np.float32) * np.float32(0.1)).astype(np_dtype)
tz_x, tz_k = torch.tensor(z_x.transpose(0, 3, 1, 2)), torch.tensor(z_k)
mapping = bridge.param_mapping(torch_x, torch_k, config, K, z_x)
to_flax = lambda: bridge.torch_to_flax(mapping, state.params, np_dtype)
print(f"y {size}×{size}, K {K}, channels {args.channels}, skip {args.skip}, {np.dtype(np_dtype).name}; "
      f"{len(mapping)} parameter tensors mapped")

generate_x, generate_k = jt.make_generators(config, K)
support = jnp.ones((K, K), bool)
params = to_flax()
x_ours, _ = generate_x(params["x"], state.batch_stats, jnp.asarray(z_x))
k_ours = generate_k(params["k"], jnp.asarray(z_k), support)
with torch.no_grad():
  x_torch = torch_x(tz_x)[0, 0].numpy()
  k_torch = torch_k(tz_k).view(K, K).numpy()[::-1, ::-1]
print(f"[forward] G_x max|diff| {np.abs(np.asarray(x_ours) - x_torch).max():.2e}; "
      f"G_k max|diff| {np.abs(np.asarray(k_ours) - k_torch).max():.2e}")

rng = np.random.default_rng(123)  # a smooth random y in [0, 1]
y = rng.uniform(0, 1, (size, size))
y = (0.25 * (y + np.roll(y, 1, 0) + np.roll(y, 1, 1) + np.roll(y, (1, 1), (0, 1)))).astype(np_dtype)
torch_y = torch.tensor(y)[None, None]
problem = jt.Problem(y=jnp.asarray(y), support=support, tv_weight=jnp.asarray(0.0, np_dtype))
torch_mse, torch_ssim = torch.nn.MSELoss(), bridge.tr.SSIM()


def torch_loss(kind: str):
  out_y = torch.nn.functional.conv2d(torch_x(tz_x), torch_k(tz_k).view(-1, 1, K, K))
  return torch_mse(out_y, torch_y) if kind == "mse" else 1 - torch_ssim(out_y, torch_y)


def our_loss_and_grad(kind: str):
  loss_config = config.loss.copy_and_resolve_references()
  loss_config.data_term = kind

  def loss(p):
    x, _ = generate_x(p["x"], state.batch_stats, jnp.asarray(z_x))
    k = generate_k(p["k"], jnp.asarray(z_k), support)
    return losses.objective(x, k, problem.y, jnp.asarray(0), loss_config, problem.tv_weight)

  return jax.jit(jax.value_and_grad(loss))(to_flax())


for kind in ("mse", "ssim"):
  torch_x.zero_grad()
  torch_k.zero_grad()
  reference = torch_loss(kind)
  reference.backward()
  value, grads = our_loss_and_grad(kind)
  rows = []
  for tree, path, tp, layout in mapping:
    ours = np.asarray(bridge.parent_node(grads[tree], path)[path[-1]])
    theirs = layout(tp.grad.detach()).numpy() if tp.grad is not None else np.zeros_like(ours)
    scale = np.abs(theirs).max()
    relative = np.abs(ours - theirs).max() / scale if scale > 0 else 0.0
    rows.append((relative, scale, f"{tree}/{'/'.join(path)}"))
  largest = max(r[1] for r in rows)
  # The rest are zero in exact arithmetic (e.g. biases right before a BatchNorm): rounding noise only.
  real = [r for r in rows if r[1] > 1e-5 * largest]
  worst = max(real)
  print(f"[gradient {kind}] loss torch {reference.item():.8e} ours {float(value):.8e}; over {len(real)} "
        f"tensors with a real gradient, worst max|diff|/max|grad| {worst[0]:.2e} ({worst[2]})")

if args.steps > 0:
  params = to_flax()
  optimizers = jt.make_optimizers(config)
  state = state.replace(params=params, z_x=jnp.asarray(z_x), z_k=jnp.asarray(z_k),
                        opt_state={n: optimizers[n].init(params[n]) for n in optimizers})
  step = jax.jit(jt.make_train_step(config, K))
  optimizer = torch.optim.Adam([{"params": torch_x.parameters()},
                                {"params": torch_k.parameters(), "lr": float(config.optim.lr_k)}],
                               lr=float(config.optim.lr_x))
  scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.optim.boundaries),
                                                   gamma=float(config.optim.decay))
  theirs, ours = [], []
  for s in range(args.steps):
    optimizer.zero_grad()
    out_y = torch.nn.functional.conv2d(torch_x(tz_x), torch_k(tz_k).view(-1, 1, K, K))
    loss = torch_mse(out_y, torch_y) if s < args.switch else 1 - torch_ssim(out_y, torch_y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    theirs.append(loss.item())
    state, metrics = step(state, problem)
    ours.append(float(metrics["loss"]))
  rel = np.abs(np.asarray(theirs) - np.asarray(ours)) / np.abs(np.asarray(theirs))
  print(f"[training, {args.steps} steps, 1 − SSIM from step {args.switch}, learning rates halved at "
        f"{tuple(config.optim.boundaries)}] max relative loss difference: "
        f"MSE phase {rel[:args.switch].max():.2e}, SSIM phase {rel[args.switch:].max():.2e}")
