"""`bin/deblur`: outputs, bad inputs (one line, exit status, nothing else lost) and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import REPO, grey_photo

DEBLUR = [sys.executable, str(REPO / "bin" / "deblur")]
# A tiny network and few steps: these tests are about the program, not the method.
TINY_FLAGS = ["--config.model_x.channels=4", "--config.model_x.skip_channels=2",
              "--config.model_x.num_scales=2", "--config.model_x.use_nonlocal=False",
              "--config.model_k.hidden=(16,)", "--config.num_steps=4", "--config.chunk_size=2",
              "--config.loss.switch_step=2", "--config.figure_steps=2", "--config.checkpoint_every=2"]


def deblur(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
  return subprocess.run([*DEBLUR, "--config=" + str(REPO / "configs" / "default.py"), *args],
                        capture_output=True, text=True, timeout=timeout, cwd=REPO,
                        env={**os.environ, "PYTHONPATH": str(REPO)})


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
  return [line for line in result.stderr.splitlines() if line.startswith("deblur: error:")]


def assert_one_line_error(result: subprocess.CompletedProcess, status: int, *fragments: str) -> None:
  assert result.returncode == status, result.stderr
  assert "Traceback" not in result.stderr
  lines = error_lines(result)
  assert len(lines) == 1, result.stderr
  for fragment in fragments:
    assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
  """A directory with one good image and one file for each kind of bad input."""
  d = tmp_path_factory.mktemp("inputs")
  photo = grey_photo()
  good = (photo[200:224, 230:254] * 255).astype(np.uint8)
  iio.imwrite(d / "good.png", good)
  (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
  iio.imwrite(d / "sixteen.png", (good.astype(np.uint16) * 257))
  iio.imwrite(d / "rgba.png", np.dstack([good, good, good, np.full_like(good, 255)]))
  iio.imwrite(d / "colour.png", np.dstack([good, good[::-1], good[:, ::-1]]))
  iio.imwrite(d / "tiny.png", good[:4, :4])
  return d


@pytest.fixture(scope="session")
def mixed_run(inputs, tmp_path_factory):
  """One run over the whole directory: the good image is processed, each bad one reported."""
  workdir = tmp_path_factory.mktemp("work")
  (workdir / "earlier_x.png").write_bytes(b"a result from an earlier run")
  result = deblur(f"--config.data_dir={inputs}", "--config.kernel_size=5", f"--workdir={workdir}",
                  "--quiet", *TINY_FLAGS)
  return result, workdir


@pytest.mark.xdist_group("cli_mixed_run")  # shares the module fixture mixed_run
@pytest.mark.parametrize("name,fragments", [
    ("corrupt.png", ("not a readable image", "re-save")),
    ("sixteen.png", ("uint16", "16-bit", "convert it to 8-bit")),
    ("rgba.png", ("alpha channel", "RGBA")),
    ("colour.png", ("colour image", "configs/color.py")),
    ("tiny.png", ("4×4", "not larger than its 5×5 kernel")),
])
def test_bad_file_is_reported_and_the_rest_still_runs(mixed_run, name, fragments):
  result, workdir = mixed_run
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  lines = [line for line in error_lines(result) if name in line]
  assert len(lines) == 1, result.stderr
  for fragment in fragments:
    assert fragment in lines[0], lines[0]
  # Nothing else lost: the good image's results are complete, an earlier file is untouched.
  for suffix in ("_x.png", "_k.png", ".npz", "_progress.png"):
    assert (workdir / f"good{suffix}").is_file()
  assert (workdir / "earlier_x.png").read_bytes() == b"a result from an earlier run"
  summary = json.loads((workdir / "summary.json").read_text())
  assert list(summary["images"]) == ["good"] and len(summary["errors"]) == 5
  assert 0 < summary["images"]["good"]["kernel_main_path_mass"] <= 1  # the kernel-shape diagnostic


@pytest.mark.xdist_group("cli_mixed_run")  # shares the module fixture mixed_run
def test_outputs_of_a_good_run(mixed_run):
  _, workdir = mixed_run
  x = iio.imread(workdir / "good_x.png")
  assert x.shape == (24, 24) and x.dtype == np.uint8
  k = iio.imread(workdir / "good_k.png")
  assert k.shape == (5, 5) and k.max() == 255
  saved = np.load(workdir / "good.npz")
  assert saved["loss_history"].shape == (4,)
  assert abs(float(saved["k"].sum()) - 1.0) < 1e-6
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["config"]["kernel_size"] == 5 and summary["versions"]["jax"]
  assert summary["batches"][0]["compile_seconds"] > 0
  assert not list(workdir.glob(".*.tmp"))  # no temporary file left behind


def test_missing_path(tmp_path):
  result = deblur(f"--config.data_dir={tmp_path / 'nowhere'}", "--config.kernel_size=5",
                  f"--workdir={tmp_path / 'w'}")
  assert_one_line_error(result, 2, "no such file or directory", "nowhere")


def test_empty_directory(tmp_path):
  (tmp_path / "empty").mkdir()
  result = deblur(f"--config.data_dir={tmp_path / 'empty'}", "--config.kernel_size=5",
                  f"--workdir={tmp_path / 'w'}")
  assert_one_line_error(result, 2, "holds no image", "empty")


@pytest.mark.parametrize("size", ["4", "-3", "-1"])
def test_bad_kernel_size(inputs, tmp_path, size):
  result = deblur(f"--config.data_dir={inputs / 'good.png'}", f"--config.kernel_size={size}",
                  f"--workdir={tmp_path / 'w'}")
  assert_one_line_error(result, 2, "kernel_size", "positive odd integer")
  assert not (tmp_path / "w").exists()  # refused before anything was written


def test_no_kernel_size(inputs, tmp_path):
  """kernel_size 0 (the default of configs/default.py) means: none given, and no rule to derive one."""
  result = deblur(f"--config.data_dir={inputs / 'good.png'}", f"--workdir={tmp_path / 'w'}")
  assert_one_line_error(result, 2, "good", "no kernel size", "--config.kernel_size")


def test_unknown_config_key(inputs, tmp_path):
  result = deblur(f"--config.data_dir={inputs / 'good.png'}", "--config.kernel_sise=5",
                  f"--workdir={tmp_path / 'w'}")
  assert result.returncode != 0
  assert "Traceback" not in result.stderr
  assert "kernel_sise" in result.stderr
  assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_workdir_that_cannot_be_written(inputs, tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("not a directory")
  result = deblur(f"--config.data_dir={inputs / 'good.png'}", "--config.kernel_size=5",
                  f"--workdir={blocker / 'sub'}")
  assert_one_line_error(result, 2, "cannot be written", "--workdir")
  assert blocker.read_text() == "not a directory"


def test_resume_after_a_kill_gives_the_uninterrupted_result(inputs, tmp_path):
  """Kill the run (SIGKILL) after its first checkpoint, resume, compare with an uninterrupted run.

  Tolerance: exact. On the CPU the resumed run executes the same compiled program on the same
  state (parameters, Adam moments, PRNG key, step), so every float is identical.
  """
  flags = [f"--config.data_dir={inputs / 'good.png'}", "--config.kernel_size=5", "--quiet",
           *TINY_FLAGS, "--config.num_steps=400", "--config.chunk_size=4",
           "--config.checkpoint_every=8"]
  whole = deblur(*flags, f"--workdir={tmp_path / 'whole'}")
  assert whole.returncode == 0, whole.stderr

  workdir = tmp_path / "killed"
  process = subprocess.Popen([*DEBLUR, "--config=" + str(REPO / "configs" / "default.py"), *flags,
                              f"--workdir={workdir}"], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 240
  while (not list((workdir / "checkpoints").glob("batch_*.msgpack")) and process.poll() is None
         and time.time() < deadline):
    time.sleep(0.005)
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not (workdir / "good.npz").exists(), "the run finished before it could be killed"

  resumed = deblur(*flags, f"--workdir={workdir}", "--resume")
  assert resumed.returncode == 0, resumed.stderr
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["batches"][0]["start_step"] > 0  # it really continued
  a, b = np.load(tmp_path / "whole" / "good.npz"), np.load(workdir / "good.npz")
  for key in ("x", "k", "loss_history"):
    np.testing.assert_array_equal(a[key], b[key])

  # Resuming a finished run recomputes nothing.
  again = deblur(*flags, f"--workdir={workdir}", "--resume")
  assert again.returncode == 0
  assert json.loads((workdir / "summary.json").read_text())["batches"] == []
