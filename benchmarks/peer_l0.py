"""Pan et al.'s L0 prior beside SelfDeblur (issue #36): the classical method users would pick instead.

Runs the IPOL C++ port of Pan et al.'s L0-regularised intensity-and-gradient prior (Anger, Facciolo,
Delbracio, IPOL 2019, "Blind Image Deblurring using the l0 Gradient Prior") on the project's three
benchmark sets, scored exactly as our own runs are, and writes one table and one figure beside this
project's stored results and the PyTorch original's figures:

  mini    SPEC §6's 8 mini-Levin crops (128², authors' kernel sizes), Levin scoring with m = 5
  full    all 32 Levin images at full size, Levin scoring with m = 10
  photos  SPEC §8's 16 camera-realistic photos (benchmarks/photo_realistic.py), the kernel size a user
          would guess, scored on luma (m = 10, 30-px border)

Each image runs `estimate-kernel K BLURRY KERNEL.pfm` then `deconv BLURRY KERNEL.pfm OUT.pfm`, at the
deconvolution's default weight (alpha 3000) and at `--alpha=50`; the time per image is both programs'
wall time together. The L0 programs are not a dependency of the project; build them once:

  apt-get install g++ make libfftw3-dev libtiff-dev libpng-dev libjpeg-dev
  # planetlabs/radiometric_normalization at commit ae238c5, folder planetscope_sharpness/;
  # g++ 12 needs `#include <array>` added at the top of src/vec2.hpp
  make -C planetscope_sharpness          # about 30 s: estimate-kernel and deconv

  python -m benchmarks.peer_l0 --l0-bin=planetscope_sharpness            # all three sets (~15 min)
  python -m benchmarks.peer_l0 --l0-bin=DIR --sets=mini --out_dir=/tmp/l0
  python -m benchmarks.peer_l0 --table_only                              # table + figure, no runs

Resumable: <out_dir>/<set>/<setting>/<image>.json is written per image and not recomputed. An L0 run
that fails (non-zero exit, no output) is recorded as failed, scored as the blurry input and counted.
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks import levin, photo_realistic  # noqa: E402
from benchmarks.common import LEVIN_DATA, RESULTS  # noqa: E402
from selfdeblur_jax.data import read_image  # noqa: E402
from selfdeblur_jax.evaluation.align import evaluate  # noqa: E402
from selfdeblur_jax.io import write_bytes, write_json  # noqa: E402

SETS = ("mini", "full", "photos")
SETTINGS = {"default": None, "alpha50": 50.0}  # deconv's --alpha (None: the program's default, 3000)
PROGRAMS = ("estimate-kernel", "deconv")
TIMEOUT_S = 600

# This project's stored runs and the original's figures that stand beside L0 in the table.
# Each with where and when it ran (RESULTS.md has the commands), since times compare only on one machine.
OURS = {
    "mini": {"plain": (RESULTS / "levin_mini_plain", "Xeon, 2026-12-06, a shared CPU: time an upper bound"),
             "robust": (RESULTS / "levin_mini_robust_v8", "EPYC 26, 2026-11-28")},
    "photos": {"photo mode (photo:cpu)": (RESULTS / "photo_realistic", "Xeon, 2026-12-06, a shared CPU")},
}
SPEC_ORIGINAL_MINI_STEP_S = 0.097  # SPEC §6: the PyTorch original, this kind of CPU, mini profile
SPEC_ORIGINAL_FULL_STEP_S = 1.1  # SPEC §6: the same at full size
SET_NAMES = {"mini": "mini-Levin, 8 crops", "full": "Levin, 32 images", "photos": "camera-realistic photos, 16"}


class PeerError(RuntimeError):
  """The L0 programs cannot be used (missing, not executable): one line for the user."""


@dataclass(frozen=True)
class Task:
  """One blurry image of a set: what L0 is given and what it is scored against."""
  name: str
  blurry: np.ndarray  # what our own runs are given: float32 in [0, 1], H×W or H×W×3
  truth: np.ndarray
  kernel_size: int
  file: Path | None = None  # the user's file itself where there is one (the photos' JPEGs)


def check_programs(bin_dir: Path) -> dict[str, Path]:
  """The two L0 executables in `bin_dir`, or PeerError naming what is missing."""
  found = {}
  for name in PROGRAMS:
    path = Path(bin_dir) / name
    if not path.is_file():
      raise PeerError(f"no {name} in {bin_dir}: build the L0 programs first (see --help)")
    if not path.stat().st_mode & 0o111:
      raise PeerError(f"{path} is not executable")
    found[name] = path
  return found


def read_pfm(path: Path) -> np.ndarray:
  """A Portable Float Map (what the L0 programs write for a .pfm name: float, grey or colour) as float64."""
  data = Path(path).read_bytes()
  header, rest = data.split(b"\n", 1)
  size, rest = rest.split(b"\n", 1)
  scale, pixels = rest.split(b"\n", 1)
  channels = {b"Pf": 1, b"PF": 3}.get(header.strip())
  if channels is None:
    raise ValueError(f"{path}: not a PFM file")
  width, height = (int(v) for v in size.split())
  dtype = "<f4" if float(scale) < 0 else ">f4"
  image = np.frombuffer(pixels, dtype=dtype, count=width * height * channels).astype(np.float64)
  image = image.reshape(height, width, channels)  # imscript writes the top row first (checked against TIFF)
  return image[..., 0] if channels == 1 else image


def run_l0(programs: dict[str, Path], task: Task, alpha: float | None, work: Path) -> dict:
  """L0's kernel estimate and deconvolution of one image: {'status', 'image' (in [0, 1]), seconds, error}."""
  blurry_file = task.file
  if blurry_file is None:
    blurry_file = work / f"{task.name}.png"
    iio.imwrite(blurry_file, np.round(np.clip(task.blurry, 0, 1) * 255).astype(np.uint8))
  kernel_file, out_file = work / f"{task.name}_kernel.pfm", work / f"{task.name}_out.pfm"
  commands = [[str(programs["estimate-kernel"]), str(task.kernel_size), str(blurry_file), str(kernel_file)],
              [str(programs["deconv"]), str(blurry_file), str(kernel_file), str(out_file)]
              + ([f"--alpha={alpha:g}"] if alpha is not None else [])]
  start = time.perf_counter()
  for command in commands:
    try:
      done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
      return {"status": "failed", "error": f"{Path(command[0]).name} ran past {TIMEOUT_S} s"}
    if done.returncode != 0:
      last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
      return {"status": "failed", "error": f"{Path(command[0]).name} exited {done.returncode}: {last}"}
  seconds = time.perf_counter() - start
  if not out_file.exists():
    return {"status": "failed", "error": "deconv wrote no output"}
  try:
    image = read_pfm(out_file) / 255.0  # the programs keep the 8-bit input's range
    kernel = read_pfm(kernel_file)
  except (OSError, ValueError) as error:
    return {"status": "failed", "error": f"unreadable output: {error}"}
  if image.shape != task.blurry.shape:
    return {"status": "failed", "error": f"output shape {image.shape}, input {task.blurry.shape}"}
  return {"status": "ok", "image": np.clip(image, 0, 1), "seconds": seconds,
          "kernel": kernel}


def score(set_name: str, image: np.ndarray, truth: np.ndarray) -> dict:
  """The set's own scoring: Levin's protocol (m = 5 mini, 10 full) or the photo benchmark's luma score."""
  if set_name == "photos":
    return photo_realistic.score(image, truth)
  s = evaluate(image, truth, max_shift=5 if set_name == "mini" else 10)
  return {"psnr": float(s.psnr), "ssim": float(s.ssim), "shift": list(s.shift)}


def tasks(set_name: str, data_dir: Path, inputs: Path, only: tuple[str, ...] = ()) -> list[Task]:
  """The set's images, as our own benchmarks load them."""
  if set_name in ("mini", "full"):
    names = levin.MINI_SUBSET if set_name == "mini" else levin.image_names("all")
    crop = int(levin.profile_config("mini").crop) if set_name == "mini" else 0  # SPEC §6: 128
    out = []
    for name in names:
      if only and name not in only:
        continue
      y, sharp, size = levin.load_problem(name, data_dir, crop)
      out.append(Task(name, y, sharp, size))
    return out
  if set_name == "photos":
    out = []
    for recipe in photo_realistic.test_photos():
      if only and recipe["name"] not in only:
        continue
      path, truth, _ = photo_realistic.make_inputs(recipe, inputs)
      out.append(Task(recipe["name"], read_image(path, mode="rgb"), truth, recipe["given_size"], file=path))
    return out
  raise ValueError(f"unknown set {set_name!r}; one of {SETS}")


def run_set(programs: dict[str, Path], set_name: str, out_dir: Path, data_dir: Path,
            only: tuple[str, ...] = ()) -> None:
  """Every image of a set at both settings; a stored image is skipped."""
  with tempfile.TemporaryDirectory(prefix="peer_l0_") as tmp:
    work = Path(tmp)
    for task in tasks(set_name, data_dir, work / "inputs", only):
      blurry = None
      for setting, alpha in SETTINGS.items():
        path = out_dir / set_name / setting / f"{task.name}.json"
        if path.exists():
          continue
        blurry = blurry or score(set_name, task.blurry, task.truth)
        run = run_l0(programs, task, alpha, work)
        restored = score(set_name, run["image"], task.truth) if run["status"] == "ok" else blurry
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"image": task.name, "set": set_name, "setting": setting, "alpha": alpha,
                  "kernel_size": task.kernel_size, "status": run["status"], "error": run.get("error"),
                  "blurry": blurry, "restored": restored, "seconds": run.get("seconds"),
                  "date": time.strftime("%Y-%m-%d")}
        write_json(path, record)
        state = f"{restored['psnr']:.2f} dB, {run['seconds']:.1f} s" if run["status"] == "ok" else run["error"]
        print(f"  {set_name} {task.name} {setting}: blurry {blurry['psnr']:.2f} -> {state}", flush=True)


# ---------------------------------------------------------------------------------------------------
# The table: L0 beside the original and this project, one row per method and mode.

def _below(restored: dict, blurry: dict) -> bool:
  return restored["psnr"] < blurry["psnr"] - 1e-9 or restored["ssim"] < blurry["ssim"] - 1e-9


def _row(method: str, pairs: list[tuple[dict, dict]], seconds: list[float] | None, failures: int = 0,
         note: str = "") -> dict:
  """A table row from (restored, blurry) score pairs: means, the count below the input, s/image."""
  return {"method": method, "n": len(pairs),
          "psnr": float(np.mean([r["psnr"] for r, _ in pairs])),
          "ssim": float(np.mean([r["ssim"] for r, _ in pairs])),
          "below": sum(_below(r, b) for r, b in pairs), "failures": failures,
          "seconds": float(np.mean(seconds)) if seconds else None, "note": note}


def l0_rows(out_dir: Path, set_name: str) -> list[dict]:
  """The blurry row and one row per L0 setting, from the stored JSON files."""
  rows = []
  for setting, alpha in SETTINGS.items():
    records = [json.loads(Path(p).read_text()) for p in sorted(glob.glob(str(out_dir / set_name / setting / "*.json")))]
    if not records:
      continue
    if not rows:
      rows.append({**_row("blurry input", [(r["blurry"], r["blurry"]) for r in records], None),
                   "below": None, "failures": None})
    label = "L0, defaults (alpha 3000)" if alpha is None else f"L0, --alpha={alpha:g}"
    rows.append(_row(label, [(r["restored"], r["blurry"]) for r in records],
                     [r["seconds"] for r in records if r["seconds"] is not None],
                     failures=sum(r["status"] != "ok" for r in records)))
  return rows


def _levin_rows(folder: Path) -> list[dict]:
  return [json.loads(Path(p).read_text()) for p in sorted(glob.glob(str(folder / "seed*" / "*.json")))]


def ours_rows(set_name: str) -> list[dict]:
  """This project's stored runs of the set (plain and robust where measured) and the original's figures."""
  rows = []
  if set_name == "mini":
    reference = [levin.MINI_REFERENCE[n] for n in levin.MINI_SUBSET]
    pairs = [({"psnr": ref[seed][0], "ssim": ref[seed][1]}, {"psnr": ref[0][0], "ssim": ref[0][1]})
             for ref in reference for seed in (1, 2)]
    rows.append(_row("PyTorch original (SPEC §6, seeds 0, 1)", pairs,
                     [1500 * SPEC_ORIGINAL_MINI_STEP_S], note="time: SPEC §6's 0.097 s/step × 1500"))
    for mode, (folder, where) in OURS["mini"].items():
      records = _levin_rows(folder)
      if records:
        seeds = sorted({r["seed"] for r in records})
        rows.append(_row(f"this project, {mode} (seed{'s' if len(seeds) > 1 else ''} "
                         f"{', '.join(map(str, seeds))})",
                         [(r["SelfDeblur"], r["blurry"]) for r in records], [r["seconds"] for r in records],
                         failures=sum(r.get("status", "ok") == "failed" for r in records), note=where))
  elif set_name == "full":
    rows.append({"method": "PyTorch original (paper, Titan V)", "n": 32, "psnr": levin.PAPER_FULL["SelfDeblur"][0],
                 "ssim": levin.PAPER_FULL["SelfDeblur"][1], "below": None, "failures": None, "seconds": 224.0,
                 "note": f"the paper's Table 3; on this CPU about {SPEC_ORIGINAL_FULL_STEP_S} s/step × 5000"})
  elif set_name == "photos":
    for mode, (folder, where) in OURS["photos"].items():
      records = [json.loads(Path(p).read_text()) for p in sorted(glob.glob(str(folder / "*.json")))]
      if records:
        rows.append(_row(f"this project, {mode}", [(r["restored"], r["blurry"]) for r in records],
                         [r["seconds"] for r in records],
                         note=f"{sum(r['status'] != 'deblurred' for r in records)} kept as not improved; {where}"))
  return rows


def table(out_dir: Path) -> tuple[str, dict]:
  """Markdown: per set, blurry / L0 (two settings) / the original / ours; and the rows as JSON."""
  lines, rows_by_set = [], {}
  for set_name in SETS:
    rows = l0_rows(out_dir, set_name) + ours_rows(set_name)
    if not rows:
      continue
    rows_by_set[set_name] = rows
    lines += [f"**{SET_NAMES[set_name]}**", "",
              "| method | PSNR dB | SSIM | below the input | failures | s / image | note |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
      below = "—" if r["below"] is None else f"{r['below']}/{r['n']}"
      failures = "—" if r["failures"] is None else str(r["failures"])
      seconds = "—" if r["seconds"] is None else (f"{r['seconds']:.1f}" if r["seconds"] < 10 else f"{r['seconds']:.0f}")
      lines.append(f"| {r['method']} | {r['psnr']:.2f} | {r['ssim']:.4f} | {below} | {failures} | {seconds} | "
                   f"{r['note']} |")
    lines.append("")
  return "\n".join(lines), rows_by_set


def figure(rows_by_set: dict, path: Path) -> None:
  """PSNR against seconds per image (log scale), one point per method and mode, a panel per set."""
  panels = [s for s in SETS if any(r["seconds"] for r in rows_by_set.get(s, []))]
  if not panels:
    return
  fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
  for ax, set_name in zip(axes[0], panels):
    rows = rows_by_set[set_name]
    for r in rows:
      if r["method"] == "blurry input":
        ax.axhline(r["psnr"], color="grey", linestyle="--", linewidth=1)
        ax.text(0.02, r["psnr"], " blurry input", transform=ax.get_yaxis_transform(), va="bottom", fontsize=8,
                color="grey")
      elif r["seconds"]:
        marker = "s" if r["method"].startswith("L0") else ("^" if "original" in r["method"] else "o")
        ax.scatter(r["seconds"], r["psnr"], marker=marker, s=50)
        ax.annotate(r["method"].replace("this project, ", "ours, "), (r["seconds"], r["psnr"]),
                    textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("seconds per image (log scale)")
    ax.set_ylabel("mean PSNR, dB")
    ax.set_title(SET_NAMES[set_name], fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    lo = min(r["seconds"] for r in rows if r["seconds"])
    hi = max(r["seconds"] for r in rows if r["seconds"])
    ax.set_xlim(lo / 3, hi * 8)
  fig.tight_layout()
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=90)
  plt.close(fig)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--l0-bin", "--l0_bin", dest="l0_bin", type=Path, default=None,
                      help="folder with the built estimate-kernel and deconv programs")
  parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
  parser.add_argument("--only", default="", help="comma-separated image names (default: every image of a set)")
  parser.add_argument("--data_dir", type=Path, default=LEVIN_DATA)
  parser.add_argument("--out_dir", type=Path, default=RESULTS / "peer_l0")
  parser.add_argument("--table_only", action="store_true", help="the table and figure from stored runs")
  args = parser.parse_args(argv)
  sets = tuple(s for s in args.sets.split(",") if s)
  unknown = [s for s in sets if s not in SETS]
  if unknown:
    parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
  if not args.table_only:
    if args.l0_bin is None:
      parser.error("--l0-bin DIR is needed to run L0 (or --table_only)")
    try:
      programs = check_programs(args.l0_bin)
    except PeerError as error:
      print(f"peer_l0: error: {error}", file=sys.stderr)
      return 2
    if any(s in ("mini", "full") for s in sets) and not args.data_dir.is_dir():
      print(f"peer_l0: error: no Levin data at {args.data_dir}; pass --data_dir", file=sys.stderr)
      return 2
    only = tuple(n for n in args.only.split(",") if n)
    for set_name in sets:
      run_set(programs, set_name, args.out_dir, args.data_dir, only)
  markdown, rows_by_set = table(args.out_dir)
  write_bytes(args.out_dir / "table.md", markdown.encode())
  write_json(args.out_dir / "table.json", rows_by_set)
  figure(rows_by_set, args.out_dir / "figure.png")
  print(markdown)
  return 0


if __name__ == "__main__":
  sys.exit(main())
