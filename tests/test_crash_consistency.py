"""Crash consistency (issue #31), in the spirit of databases' crash tests: a small job killed with
SIGKILL at every instant of its life that matters (each training chunk's end, each checkpoint and
output file written but not yet renamed and just after its rename, each record, the summary), resumed
with --resume after each kill, ends with the outputs of an uninterrupted run; after every kill each
image is either complete and recorded (and then equal to the uninterrupted run's) or unrecorded.

The kills are deterministic: each run of the chain is started with SELFDEBLUR_CRASH_AT=new and a shared
SELFDEBLUR_CRASH_LOG (selfdeblur_jax/crashpoint.py), so it replays what the previous runs did not finish
and SIGKILLs itself at the first instant no earlier run died at. The runs are forked from a server
process that has imported the program once (JAX imported, no backend started), which saves the ~2 s
of imports per run; each run still starts its own XLA backend and loads its programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import REPO, grey_photo
from test_cli import TINY_FLAGS

SERVER = """
import io, json, os, signal, sys, traceback
import matplotlib.pyplot as plt
from selfdeblur_jax import cli  # imports JAX without starting a backend: safe to fork
plt.subplots()[0].savefig(io.BytesIO(), format="png")  # matplotlib's first figure costs most
for line in sys.stdin:
  job = json.loads(line)
  pid = os.fork()
  if pid == 0:
    out = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ.update(job["env"])
    signal.alarm(300)  # a run that hangs ends (SIGALRM) instead of holding up the test
    sys.argv = job["argv"]
    code = 0
    try:
      cli.run()
    except SystemExit as stop:
      code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except BaseException:
      traceback.print_exc()
      code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
  print(json.dumps(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])), flush=True)
"""


class ForkServer:
  """Runs `deblur` with given arguments and environment in processes forked from one that has
  imported the program; `run` returns the exit status (−9: killed by SIGKILL, −14: hung for 300 s)
  and the output."""

  def __init__(self, tmp_path):
    self.tmp_path, self.count = tmp_path, 0
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, cwd=REPO,
                                    env={**os.environ, "PYTHONPATH": str(REPO)})

  def run(self, *args: str, **env: str) -> tuple[int, str]:
    self.count += 1
    log = self.tmp_path / f"run{self.count}.log"
    self.process.stdin.write(json.dumps({"argv": ["deblur", *args], "env": env, "log": str(log)}) + "\n")
    self.process.stdin.flush()
    line = self.process.stdout.readline()
    assert line, "the fork server ended"
    return json.loads(line), log.read_text()

  def close(self) -> None:
    self.process.stdin.close()
    self.process.wait(timeout=60)


@pytest.fixture
def server(tmp_path):
  server = ForkServer(tmp_path)
  yield server
  server.close()


def outputs_of(workdir, name):
  """An image's arrays, and the bytes of its PNGs other than the figure (matplotlib's is not
  byte-stable)."""
  saved = np.load(workdir / f"{name}.npz")
  return ({key: saved[key] for key in ("x", "k", "loss_history")},
          {suffix: (workdir / f"{name}{suffix}").read_bytes() for suffix in ("_x.png", "_k.png")})


def assert_same_result(workdir, whole, name):
  (arrays, pngs), (expected_arrays, expected_pngs) = outputs_of(workdir, name), outputs_of(whole, name)
  for key, value in expected_arrays.items():
    np.testing.assert_array_equal(arrays[key], value, err_msg=f"{name}: {key}")
  assert pngs == expected_pngs, name


def assert_consistent(workdir, whole):
  """Each image recorded in `workdir` is complete and equal to the uninterrupted run's (its record
  too); summary.json, where there is one, parses and lists recorded images only."""
  recorded = {}
  for path in sorted((workdir / "records").glob("*.json")):
    recorded[path.stem] = json.loads(path.read_text())
    assert recorded[path.stem] == json.loads((whole / "records" / path.name).read_text()), path.stem
    assert_same_result(workdir, whole, path.stem)
  if (workdir / "summary.json").exists():
    images = json.loads((workdir / "summary.json").read_text())["images"]
    assert all(recorded.get(name) == entry for name, entry in images.items()), sorted(images)


def test_a_job_killed_at_every_instant_resumes_to_the_uninterrupted_result(server, tmp_path):
  inputs = tmp_path / "in"
  inputs.mkdir()
  for name, (top, left) in (("a", (200, 230)), ("b", (300, 100))):
    iio.imwrite(inputs / f"{name}.png", (grey_photo()[top:top + 24, left:left + 24] * 255).astype(np.uint8))
  flags = ["--config=default", f"--config.data_dir={inputs}", "--config.kernel_size=5", "--quiet", *TINY_FLAGS]
  whole, killed, log = tmp_path / "whole", tmp_path / "killed", tmp_path / "crash.log"
  status, output = server.run(*flags, f"--workdir={whole}")
  assert status == 0, output

  kills = 0
  while True:
    status, output = server.run(*flags, f"--workdir={killed}", "--resume", SELFDEBLUR_CRASH_AT="new",
                                SELFDEBLUR_CRASH_LOG=str(log))
    if status == 0:
      break
    assert status == -9, output  # killed where it was told to, never refused
    kills += 1
    assert kills <= 80, "the chain does not end"
    assert_consistent(killed, whole)

  labels = log.read_text().splitlines()
  assert len(labels) == kills >= 30
  for fragment in (" step 2", " step 4", "checkpoint of step 2 batch_", "checkpoint of step 4 batch_",
                   "a_x.png written", "a.npz renamed", "b_progress.png written", "a.json written",
                   "b.json renamed", "summary.json written"):
    assert any(fragment in label for label in labels), (fragment, labels)
  assert_consistent(killed, whole)
  assert sorted(json.loads((killed / "summary.json").read_text())["images"]) == ["a", "b"]
  for name in ("a", "b"):
    assert_same_result(killed, whole, name)
  assert not [p for p in killed.rglob(".*.tmp")]  # the temporary files of killed writes are cleared


def test_the_crash_hook_kills_at_the_nth_crash_point(tmp_path):
  """SELFDEBLUR_CRASH_AT=N: SIGKILL at this process's N-th crash point (here: the second file's bytes
  written, not yet renamed), with the labels reached in SELFDEBLUR_CRASH_LOG."""
  script = ("import sys; from selfdeblur_jax.io import write_bytes\n"
            "for name in ('one', 'two', 'three'): write_bytes(f'{sys.argv[1]}/{name}', b'data')\n")
  killed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), "SELFDEBLUR_CRASH_AT": "3",
                               "SELFDEBLUR_CRASH_LOG": str(tmp_path / "log")}, timeout=120)
  assert killed.returncode == -9, killed.stderr
  assert (tmp_path / "log").read_text().splitlines() == ["one written", "one renamed", "two written"]
  assert (tmp_path / "one").read_bytes() == b"data" and not (tmp_path / "two").exists()
  assert len(list(tmp_path.glob(".two.*.tmp"))) == 1  # killed between its write and its rename
