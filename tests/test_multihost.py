"""Several processes (hosts) share one run (issue #10): two processes on this CPU, talking over
localhost through jax.distributed, each with two simulated devices, give the results of one process;
a checkpoint written under one process and device count restores under another."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
from conftest import REPO, grey_photo
from test_cli import DEBLUR, TINY_FLAGS, assert_one_line_error, deblur

FLAGS = ["--config=default", "--config.kernel_size=5", "--config.max_batch_size=1", "--quiet", *TINY_FLAGS]


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def env(devices: int) -> dict:
  flags = os.environ.get("XLA_FLAGS", "")
  return {**os.environ, "PYTHONPATH": str(REPO),
          "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={devices}"}


def test_two_processes_give_the_one_process_results_and_checkpoints_cross_process_counts(tmp_path):
  inputs = tmp_path / "in"
  inputs.mkdir()
  photo = grey_photo()
  for i, (top, left) in enumerate([(200, 230), (300, 100), (50, 400)]):
    iio.imwrite(inputs / f"im{i}.png", (photo[top:top + 24, left:left + 24] * 255).astype(np.uint8))
  data = f"--config.data_dir={inputs}"
  one = subprocess.run([*DEBLUR, *FLAGS, data, f"--workdir={tmp_path / 'one'}"], capture_output=True,
                       text=True, timeout=600, env=env(2))
  assert one.returncode == 0, one.stderr[-2000:]

  port = free_port()
  two = [subprocess.Popen([*DEBLUR, *FLAGS, data, f"--workdir={tmp_path / 'two'}", "--num_processes=2",
                           f"--process_id={i}", f"--coordinator=localhost:{port}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(2))
         for i in range(2)]
  for process in two:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-2000:]
  summary = json.loads((tmp_path / "two" / "summary.json").read_text())
  assert sorted(summary["images"]) == ["im0", "im1", "im2"] and summary["processes"] == 2
  assert sorted(b["batch"] for b in summary["batches"]) == [0, 1, 2]
  assert not list((tmp_path / "two").glob("summary.process*.json"))  # merged into summary.json
  for name in ("im0", "im1", "im2"):
    a, b = np.load(tmp_path / "one" / f"{name}.npz"), np.load(tmp_path / "two" / f"{name}.npz")
    for key in ("x", "k", "loss_history"):
      np.testing.assert_array_equal(a[key], b[key])

  # Written by two processes of two devices each; resumed by one process with one device.
  (tmp_path / "two" / "im1_x.png").unlink()
  resumed = subprocess.run([*DEBLUR, *FLAGS, data, f"--workdir={tmp_path / 'two'}", "--resume"],
                           capture_output=True, text=True, timeout=600, env=env(1))
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  record = json.loads((tmp_path / "two" / "summary.json").read_text())["batches"]
  assert [(r["images"], r["start_step"]) for r in record] == [(["im1"], 4)]  # restored, not rerun
  np.testing.assert_array_equal(np.load(tmp_path / "one" / "im1.npz")["x"],
                                np.load(tmp_path / "two" / "im1.npz")["x"])


def test_bad_process_flags_give_one_line_errors(tmp_path):
  assert_one_line_error(deblur("--num_processes=0", f"--workdir={tmp_path}"), 2, "--num_processes",
                        "at least 1")
  assert_one_line_error(deblur("--num_processes=2", "--process_id=2", f"--workdir={tmp_path}"), 2,
                        "--process_id in [0, 2)", "--coordinator")


BARRIER_SCRIPT = """
import sys, time
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(sys.argv[1], 2, int(sys.argv[2]))
from selfdeblur_jax import cli
if jax.process_index() == 1:
  time.sleep(float(sys.argv[3]))  # this process's share takes longer
cli._wait_for_all_processes("test_barrier")
print("through")
"""


def test_the_end_of_run_barrier_waits_for_a_process_that_finishes_much_later(tmp_path):
  """One process ends its share 40 s after the other: the run's final barrier still holds (a gloo
  all-reduce, used before, gave up after 30 s and failed the run)."""
  script = tmp_path / "barrier.py"
  script.write_text(BARRIER_SCRIPT)
  port = free_port()
  processes = [subprocess.Popen([sys.executable, str(script), f"localhost:{port}", str(i), "40"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(1))
               for i in range(2)]
  for process in processes:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0 and stdout.strip() == "through", stderr[-2000:]


def test_processes_checking_one_workdir_at_once_do_not_trip_each_other(tmp_path):
  """The processes of a run check the shared workdir at the same moment: each probes with its own
  file (one shared probe name made one process's unlink fail: 'workdir ... cannot be written')."""
  from concurrent.futures import ThreadPoolExecutor

  from selfdeblur_jax import cli

  def check(_):
    for _ in range(300):
      cli._check_workdir(tmp_path / "work")

  with ThreadPoolExecutor(4) as pool:
    list(pool.map(check, range(4)))  # raises the first RunError, if any
