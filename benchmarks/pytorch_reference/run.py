"""Mini-Levin runs of the PyTorch original and of our engine, each started from either one's initial draw.

  pip install torch   # not a dependency of selfdeblur-jax; only this check needs it
  python -m benchmarks.pytorch_reference.run --reference_code=SelfDeblur --engine=torch --init=torch \
      --image=im1_kernel2 --seeds=0,1,2,3
  python -m benchmarks.pytorch_reference.run --reference_code=SelfDeblur --engine=jax --init=torch --seeds=0

--reference_code: a checkout of the authors' repository (csdwren/SelfDeblur), whose networks and SSIM
loss are imported from there. --engine: which code trains — `torch` (the released selfdeblur_levin.py's
loop: its networks, SSIM loss, Adam and MultiStepLR, on the CPU, 2 threads) or `jax` (selfdeblur_jax's
`train`).
--init: whose initial draw (z_x, z_k and both networks' parameters) it starts from — `torch`
(`torch.manual_seed(seed)`, then the draws in the released script's order) or `jax` (our
`create_train_state(PRNGKey(seed))`). Swapping inits separates "the code" from "the seed".
The per-step input perturbation comes from the engine's own generator.

Profile: configs/mini_levin.py (SPEC §6); scored with the Levin protocol (max_shift 5). One JSON per run
in --out_dir (default benchmarks/results/pytorch_reference/), named <engine>_from_<init>_<image>_seed<s>.
Its `seconds` are the training loop's wall time; with --engine=jax they include XLA's compilation, so
take our speed from benchmarks/throughput.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import torch

from benchmarks.common import LEVIN_DATA, RESULTS, config_file
from benchmarks.pytorch_reference import bridge
from selfdeblur_jax import train as jt
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.data import center_crop, levin_kernel_size, read_image
from selfdeblur_jax.evaluation import evaluate
from selfdeblur_jax.io import write_json
from selfdeblur_jax.physics import kernel_support
from selfdeblur_jax.physics.blur import crop_to_image

# Smooth, low-contrast test photos of our own (issue #11: is a loss there luck or a code difference?):
# a 144×144 crop of a photo bundled with matplotlib, its contrast scaled about its mean, blurred
# ('valid') by a seeded 17×17 motion kernel to 128×128, rounded to 8 bit.
SMOOTH = {
    "smooth_face": ("grace_hopper.jpg", (250, 200), 0.5, 3),  # chin and cheek of the demo's photo
    "smooth_dem": ("jacksboro_fault_dem.npz", (192, 128), 0.6, 4),  # a terrain elevation map
}


def smooth_problem(name: str) -> tuple[np.ndarray, np.ndarray, int]:
  """(blurry y, sharp crop aligned with y, kernel size) of one SMOOTH image."""
  import matplotlib.cbook  # noqa: PLC0415

  from selfdeblur_jax.physics import motion_kernel  # noqa: PLC0415
  from selfdeblur_jax.physics.blur import blur_np  # noqa: PLC0415

  file, (top, left), contrast, kernel_seed = SMOOTH[name]
  path = matplotlib.cbook.get_sample_data(file, asfileobj=False)
  if file.endswith(".npz"):
    image = np.load(path)["elevation"].astype(np.float64)
    image = (image - image.min()) / (image.max() - image.min())
  else:
    image = read_image(path, mode="rgb").astype(np.float64) @ np.array([0.299, 0.587, 0.114])
  size, kernel_size = 144, 17
  sharp = image[top:top + size, left:left + size]
  sharp = np.clip(sharp.mean() + contrast * (sharp - sharp.mean()), 0, 1)
  y = blur_np(sharp.astype(np.float32), motion_kernel(kernel_size, seed=kernel_seed))
  y = (np.round(np.clip(y, 0, 1) * 255) / 255).astype(np.float32)
  offset = (kernel_size - 1) // 2
  return y, sharp[offset:offset + 128, offset:offset + 128], kernel_size


def initial_draw(init: str, seed: int, config, shape, kernel_size):
  """Torch nets, z_x (NHWC numpy), z_k and our TrainState, all holding the same initial values."""
  height, width = shape[0] + kernel_size - 1, shape[1] + kernel_size - 1
  torch.manual_seed(seed)
  z_x = torch.zeros(1, 8, height, width).uniform_() * 0.1  # the released script's draw order
  gx = bridge.torch_gx(int(config.model_x.channels), int(config.model_x.skip_channels))
  z_k = (torch.zeros(200, 1, 1).uniform_() * 0.1).squeeze()
  gk = bridge.torch_gk(kernel_size)
  state = jt.create_train_state(jax.random.PRNGKey(seed), shape, kernel_size, config)
  mapping = bridge.param_mapping(gx, gk, config, kernel_size, np.asarray(state.z_x))
  if init == "torch":
    params = bridge.torch_to_flax(mapping, state.params)
    optimizers = jt.make_optimizers(config)
    state = state.replace(params=params, z_x=jnp.asarray(z_x.numpy().transpose(0, 2, 3, 1)),
                          z_k=jnp.asarray(z_k.numpy()),
                          opt_state={n: optimizers[n].init(params[n]) for n in optimizers})
  else:
    bridge.flax_to_torch(mapping, state.params)
    z_x = torch.from_numpy(np.ascontiguousarray(np.asarray(state.z_x).transpose(0, 3, 1, 2)))
    z_k = torch.from_numpy(np.asarray(state.z_k).copy())
  # Both sides now hold one draw: their first outputs must agree (float32 rounding apart).
  generate_x, generate_k = jt.make_generators(config, kernel_size)
  x_ours, _ = generate_x(state.params["x"], state.batch_stats, state.z_x)
  k_ours = generate_k(state.params["k"], state.z_k, jnp.asarray(kernel_support(kernel_size, kernel_size)))
  with torch.no_grad():
    saved = {k: v.clone() for k, v in gx.state_dict().items()}
    x_torch = gx(z_x)[0, 0].numpy()
    gx.load_state_dict(saved)  # keep BatchNorm's running statistics untouched
    k_torch = gk(z_k).view(kernel_size, kernel_size).numpy()[::-1, ::-1]
  x_gap, k_gap = np.abs(np.asarray(x_ours) - x_torch).max(), np.abs(np.asarray(k_ours) - k_torch).max()
  assert x_gap < 1e-4 and k_gap < 1e-7, f"initial outputs differ: x {x_gap:.2e}, k {k_gap:.2e}"
  return gx, gk, z_x, z_k, state


def train_torch(gx, gk, z_x, z_k, y, config, kernel_size):
  """SelfDeblur_levin.py's loop at the profile's sizes: returns the H'×W' x of the last step and k.

  The perturbations continue torch's global stream after the initial draw, as in the released script.
  """
  target = torch.from_numpy(y)[None, None]
  mse, ssim = torch.nn.MSELoss(), bridge.tr.SSIM()
  optimizer = torch.optim.Adam([{"params": gx.parameters()},
                                {"params": gk.parameters(), "lr": float(config.optim.lr_k)}],
                               lr=float(config.optim.lr_x))
  scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.optim.boundaries),
                                                   gamma=float(config.optim.decay))
  losses = []
  for step in range(int(config.num_steps)):
    net_input = z_x + float(config.model_x.input_perturbation) * torch.zeros(z_x.shape).normal_()
    optimizer.zero_grad()
    out_x = gx(net_input)
    out_k = gk(z_k)
    out_y = torch.nn.functional.conv2d(out_x, out_k.view(-1, 1, kernel_size, kernel_size))
    loss = mse(out_y, target) if step < int(config.loss.switch_step) else 1 - ssim(out_y, target)
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
  kernel = out_k.detach().numpy().reshape(kernel_size, kernel_size)[::-1, ::-1]  # as a convolution
  return out_x.detach().numpy()[0, 0], kernel, np.asarray(losses)


def train_jax(state, y, config, kernel_size):
  states = jax.tree_util.tree_map(lambda a: a[None], state)
  support = jnp.asarray(kernel_support(kernel_size, kernel_size))
  problems = jt.Problem(y=jnp.asarray(y)[None], support=support[None], tv_weight=jnp.zeros((1,), jnp.float32))
  states = jt.train(states, problems, config, kernel_size)
  x, k = jt.compiled_outputs(jt.program_config(config), kernel_size)(states, problems)
  return np.asarray(x[0]), np.asarray(k[0]), np.asarray(states.loss_history[0])


def table(out_dir: Path, image: str) -> str:
  """Markdown: per seed, each code from each init (PSNR dB / SSIM), then the means; from the JSONs.

  The "ours, our init" column falls back to benchmarks/levin.py's results in
  benchmarks/results/levin_mini_<image>/ (`levin.py --images=<image> --out_dir=...`).
  """
  runs = {}
  for path in sorted(out_dir.glob(f"*_from_*_{image}_seed*.json")):
    row = json.loads(path.read_text())
    runs[(row["engine"], row["init"], row["seed"])] = row
  # Ours from our own init is what benchmarks/levin.py runs: take its results where this script has none.
  for path in sorted((RESULTS / f"levin_mini_{image}").glob(f"seed*/{image}.json")):
    row = json.loads(path.read_text())
    runs.setdefault(("jax", "jax", row["seed"]), row["SelfDeblur"])
  columns = [("jax", "jax", "ours, our init"), ("torch", "torch", "original, its init"),
             ("jax", "torch", "ours, original's init"), ("torch", "jax", "original, our init")]
  seeds = sorted({seed for _, _, seed in runs})
  lines = [f"{image}, mini-Levin profile, PSNR dB / SSIM (Levin protocol, max_shift 5)", "",
           "| seed | " + " | ".join(title for _, _, title in columns) + " |",
           "|---" * (1 + len(columns)) + "|"]
  for seed in seeds:
    cells = [f"{runs[(e, i, seed)]['psnr']:.2f} / {runs[(e, i, seed)]['ssim']:.4f}"
             if (e, i, seed) in runs else "–" for e, i, _ in columns]
    lines.append(f"| {seed} | " + " | ".join(cells) + " |")
  means = []
  for e, i, _ in columns:
    have = [runs[(e, i, s)]["psnr"] for s in seeds if (e, i, s) in runs]
    means.append(f"{np.mean(have):.2f} ({len(have)} runs)" if have else "–")
  lines.append("| **mean** | " + " | ".join(means) + " |")
  return "\n".join(lines) + "\n"


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--table", action="store_true",
                      help="print the table of the runs in --out_dir; run nothing")
  parser.add_argument("--reference_code",
                      help="a checkout of the authors' code (csdwren/SelfDeblur)")
  parser.add_argument("--image", default="im1_kernel2",
                      help=f"a Levin image, or one of our smooth test photos: {', '.join(SMOOTH)}")
  parser.add_argument("--seeds", default="0")
  parser.add_argument("--engine", choices=("torch", "jax"), default="torch")
  parser.add_argument("--init", choices=("torch", "jax"), default="torch")
  parser.add_argument("--num_steps", type=int, default=0, help="0: the profile's 1500 (fewer: smoke test)")
  parser.add_argument("--data_dir", default=str(LEVIN_DATA))
  parser.add_argument("--out_dir", default=str(RESULTS / "pytorch_reference"))
  args = parser.parse_args()
  if args.table:
    print(table(Path(args.out_dir), args.image), end="")
    return
  if not args.reference_code:
    parser.error("--reference_code is required (a checkout of csdwren/SelfDeblur)")
  bridge.load_reference(args.reference_code)
  data = Path(args.data_dir)
  if not data.is_dir():
    sys.exit(f"run.py: error: Levin data not found at {data} (give --data_dir)")
  torch.set_num_threads(2)
  Path(args.out_dir).mkdir(parents=True, exist_ok=True)
  profile = load_config_file(config_file("mini_levin.py"))
  config, crop = engine_config(profile), int(profile.crop)
  if args.num_steps:
    config.num_steps = args.num_steps
  if args.image in SMOOTH:
    y, gt, kernel_size = smooth_problem(args.image)
  else:
    y = center_crop(read_image(data / f"{args.image}_img.png"), crop).astype(np.float32)
    gt = center_crop(read_image(data / "gt" / f"{args.image.split('_')[0]}.png"), crop)
    kernel_size = levin_kernel_size(args.image)
  blurry = evaluate(y, gt, 5)
  for seed in (int(s) for s in args.seeds.split(",")):
    gx, gk, z_x, z_k, state = initial_draw(args.init, seed, config, y.shape, kernel_size)
    start = time.perf_counter()
    if args.engine == "torch":
      x, kernel, losses = train_torch(gx, gk, z_x, z_k, y, config, kernel_size)
    else:
      x, kernel, losses = train_jax(state, y, config, kernel_size)
    seconds = time.perf_counter() - start
    score = evaluate(np.clip(np.asarray(crop_to_image(x, y.shape)), 0, 1), gt, 5)
    row = {"image": args.image, "seed": seed, "engine": args.engine, "init": args.init,
           "psnr": float(score.psnr), "ssim": float(score.ssim), "blurry_psnr": float(blurry.psnr),
           "final_loss": float(losses[-1]), "seconds": seconds,
           "seconds_per_step": seconds / int(config.num_steps), "torch": torch.__version__,
           "jax": jax.__version__, "kernel": np.asarray(kernel).round(6).tolist()}
    write_json(Path(args.out_dir) / f"{args.engine}_from_{args.init}_{args.image}_seed{seed}.json", row)
    print(f"{args.engine} engine, {args.init} init, {args.image} seed {seed}: {row['psnr']:.2f} dB / "
          f"{row['ssim']:.4f} (blurry {row['blurry_psnr']:.2f}), final loss {row['final_loss']:.5f}, "
          f"{seconds:.0f} s", flush=True)


if __name__ == "__main__":
  main()
