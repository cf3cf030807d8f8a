"""The workdir as a store (issue #31): per-image records that --resume trusts instead of summary.json,
runs that share a workdir, a workdir that is the input folder, a workdir that cannot be written,
and SIGTERM."""

from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import time

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import REPO, grey_photo
from test_cli import DEBLUR, TINY_FLAGS, assert_one_line_error, deblur


@pytest.fixture(scope="module")
def finished_pair(tmp_path_factory):
  """A finished tiny run of two images (one batch), as a workdir to copy."""
  root = tmp_path_factory.mktemp("pair")
  inputs = root / "in"
  inputs.mkdir()
  for name, (top, left) in (("a", (200, 230)), ("b", (300, 100))):
    iio.imwrite(inputs / f"{name}.png", (grey_photo()[top:top + 24, left:left + 24] * 255).astype(np.uint8))
  flags = [f"--config.data_dir={inputs}", "--config.kernel_size=5", "--quiet", *TINY_FLAGS]
  result = deblur(*flags, f"--workdir={root / 'work'}")
  assert result.returncode == 0, result.stderr
  return root, flags


def copy_of(finished_pair, tmp_path):
  root, flags = finished_pair
  shutil.copytree(root / "work", tmp_path / "work")
  return tmp_path / "work", flags


def summary_of(workdir):
  return json.loads((workdir / "summary.json").read_text())


def test_each_image_has_a_record_that_is_its_summary_entry(finished_pair):
  root, _ = finished_pair
  summary = summary_of(root / "work")
  for name in ("a", "b"):
    assert json.loads((root / "work" / "records" / f"{name}.json").read_text()) == summary["images"][name]


def test_resume_without_summary_json_skips_the_recorded_images(finished_pair, tmp_path):
  """Issue #31, item 1: the outputs used to count as finished by their existence while what made them
  was only in summary.json, so a workdir without it (Ctrl-C during the final writes) was refused."""
  workdir, flags = copy_of(finished_pair, tmp_path)
  before = summary_of(workdir)["images"]
  (workdir / "summary.json").unlink()
  resumed = deblur(*flags, f"--workdir={workdir}", "--resume")
  assert resumed.returncode == 0, resumed.stderr
  summary = summary_of(workdir)
  assert summary["batches"] == [] and summary["images"] == before  # nothing recomputed, all listed


def test_resume_redoes_an_image_whose_outputs_have_no_record(finished_pair, tmp_path):
  """Outputs without a record (a run killed between an image's outputs and its record) are redone,
  to the same result; the other image stays as it was."""
  workdir, flags = copy_of(finished_pair, tmp_path)
  x = np.load(workdir / "b.npz")["x"]
  (workdir / "records" / "b.json").unlink()
  resumed = deblur(*flags, f"--workdir={workdir}", "--resume")
  assert resumed.returncode == 0, resumed.stderr
  summary = summary_of(workdir)
  assert [r["images"] for r in summary["batches"]] == [["b"]]
  assert sorted(summary["images"]) == ["a", "b"]
  np.testing.assert_array_equal(np.load(workdir / "b.npz")["x"], x)


def test_two_runs_started_together_on_one_workdir_both_end_in_the_summary(finished_pair, tmp_path):
  """Issue #31, item 2: two runs on one workdir each rewrote summary.json whole, and one's image was
  lost. Both wait here, saying so, while the workdir's lock is held (as a first run holds it); then
  they run one after the other and both images are recorded and listed."""
  root, flags = finished_pair
  workdir = tmp_path / "work"
  workdir.mkdir()
  logs = [tmp_path / "a.log", tmp_path / "b.log"]
  with open(workdir / ".deblur.lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    lock.write("4242\n")
    lock.flush()
    runs = [subprocess.Popen([*DEBLUR, "--config=default", f"--config.data_dir={root / 'in' / name}",
                              *flags[1:], f"--workdir={workdir}"], stdout=subprocess.DEVNULL,
                             stderr=log.open("w"), cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
            for name, log in zip(("a.png", "b.png"), logs)]
    deadline = time.time() + 120
    while (not all("in use by another run (pid 4242)" in log.read_text() for log in logs)
           and all(run.poll() is None for run in runs) and time.time() < deadline):
      time.sleep(0.1)
    waiting = [log.read_text() for log in logs]
  for run, log in zip(runs, logs):
    assert run.wait(timeout=300) == 0, log.read_text()
  for text in waiting:
    assert "is in use by another run (pid 4242); waiting for it to end" in text, text
  assert sorted(summary_of(workdir)["images"]) == ["a", "b"]
  assert sorted(p.name for p in (workdir / "records").iterdir()) == ["a.json", "b.json"]


def test_the_input_folder_as_workdir_is_refused_in_one_line(finished_pair, tmp_path):
  """Issue #31, item 3: the outputs landed among the inputs, and the next run deblurred them."""
  root, flags = finished_pair
  inputs = tmp_path / "in"
  shutil.copytree(root / "in", inputs)
  result = deblur(f"--config.data_dir={inputs}", *flags[1:], f"--workdir={inputs}")
  assert_one_line_error(result, 2, "is the folder of the input images", "choose another --workdir")
  assert sorted(p.name for p in inputs.iterdir()) == ["a.png", "b.png"]  # nothing written there


def test_a_workdir_that_takes_no_output_exits_2_with_one_line(finished_pair, tmp_path):
  """Issue #31, item 5: a full disk exited 1 although nothing was written. Files here may not grow past
  2 kB (RLIMIT_FSIZE; Python ignores SIGXFSZ), so the first checkpoint's write fails as on a full disk."""
  root, flags = finished_pair

  def small_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

  result = subprocess.run([*DEBLUR, "--config=default", *flags, f"--workdir={tmp_path / 'work'}"],
                          capture_output=True, text=True, timeout=300, cwd=REPO, preexec_fn=small_files,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
  assert_one_line_error(result, 2, "cannot be written", "File too large", "batch_", "--workdir")
  assert not list((tmp_path / "work" / "records").iterdir())


def test_sigterm_ends_the_run_as_ctrl_c_does(finished_pair, tmp_path):
  """Issue #31, item 5: SIGTERM ended the run silently; it now says how to continue, as SIGINT does."""
  root, flags = finished_pair
  workdir = tmp_path / "work"
  # One image with test_cli's kill test's settings: the same program (compiled once per suite).
  run = subprocess.Popen([*DEBLUR, "--config=default", f"--config.data_dir={root / 'in' / 'a.png'}",
                          *flags[1:], "--config.num_steps=400",
                          "--config.chunk_size=4", "--config.checkpoint_every=8", f"--workdir={workdir}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
  deadline = time.time() + 240
  while (not list((workdir / "checkpoints").glob("batch_*.msgpack")) and run.poll() is None
         and time.time() < deadline):
    time.sleep(0.01)
  run.send_signal(signal.SIGTERM)
  _, stderr = run.communicate(timeout=120)
  assert run.returncode == 143, stderr
  assert "Traceback" not in stderr
  assert [line for line in stderr.splitlines() if line.startswith("deblur: error:")] == [
      "deblur: error: interrupted; continue with --resume"]
