"""The L0 peer benchmark's wrapper (benchmarks/peer_l0.py), driven by stand-in programs.

The real L0 programs are not a dependency of the project: these stand-ins speak their command line and
file formats (a PFM written top row first, in the 8-bit input's range) so that the wrapper's running,
reading, scoring and error paths are checked without them.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import peer_l0

LEVIN = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "levin"

_PFM_WRITER = '''
def write_pfm(path, image):
    image = np.asarray(image, np.float32)
    header = b"PF" if image.ndim == 3 else b"Pf"
    h, w = image.shape[:2]
    with open(path, "wb") as f:
        f.write(header + b"\\n%d %d\\n-1\\n" % (w, h) + image.astype("<f4").tobytes())
'''

# estimate-kernel K BLURRY KERNEL: a K×K delta kernel. deconv BLURRY KERNEL OUT [--alpha=A]: the input
# unchanged, or (STANDIN_MODE) a failure, or no output at all.
_ESTIMATE = f'''#!{sys.executable}
import sys
import numpy as np
{_PFM_WRITER}
k = int(sys.argv[1])
kernel = np.zeros((k, k)); kernel[k // 2, k // 2] = 1
write_pfm(sys.argv[3], kernel)
'''
_DECONV = f'''#!{sys.executable}
import os, sys
import numpy as np
import imageio.v3 as iio
{_PFM_WRITER}
mode = os.environ.get("STANDIN_MODE", "identity")
if mode == "fail":
    print("deconv: cannot allocate the FFT plan", file=sys.stderr)
    sys.exit(3)
if mode != "silent":
    write_pfm(sys.argv[3], iio.imread(sys.argv[1]).astype(np.float32))
'''


@pytest.fixture
def standin(tmp_path: Path) -> Path:
  bin_dir = tmp_path / "l0bin"
  bin_dir.mkdir()
  for name, text in (("estimate-kernel", _ESTIMATE), ("deconv", _DECONV)):
    path = bin_dir / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
  return bin_dir


def _task(colour: bool = False) -> peer_l0.Task:
  rng = np.random.default_rng(0)
  shape = (48, 56, 3) if colour else (48, 56)
  truth = rng.random(shape).astype(np.float32)
  blurry = np.round(0.5 * truth * 255 + 40) / 255  # 8-bit values, as the benchmark's inputs are
  return peer_l0.Task("synthetic", blurry.astype(np.float32), truth, 9)


@pytest.mark.parametrize("colour", [False, True])
def test_pfm_reader_keeps_rows_and_channels(tmp_path, colour):
  image = np.arange(2 * 3 * (3 if colour else 1), dtype=np.float32).reshape((2, 3, 3) if colour else (2, 3))
  namespace = {"np": np}
  exec(_PFM_WRITER, namespace)
  namespace["write_pfm"](tmp_path / "x.pfm", image)
  np.testing.assert_array_equal(peer_l0.read_pfm(tmp_path / "x.pfm"), image)


@pytest.mark.parametrize("colour", [False, True])
def test_a_standin_that_returns_its_input_scores_as_the_input(standin, tmp_path, colour):
  task = _task(colour)
  run = peer_l0.run_l0(peer_l0.check_programs(standin), task, None, tmp_path)
  assert run["status"] == "ok" and run["seconds"] > 0
  np.testing.assert_allclose(run["image"], task.blurry, atol=1e-6)
  assert run["kernel"].shape == (9, 9) and run["kernel"].sum() == pytest.approx(1)
  if not colour:
    restored, blurry = (peer_l0.score("mini", x, task.truth) for x in (run["image"], task.blurry))
    assert restored["psnr"] == pytest.approx(blurry["psnr"], abs=1e-4)


def test_the_alpha_reaches_deconv(standin, tmp_path):
  log = tmp_path / "argv.txt"
  deconv = standin / "deconv"
  deconv.write_text(deconv.read_text() + f"open({str(log)!r}, 'w').write(' '.join(sys.argv[1:]))\n")
  peer_l0.run_l0(peer_l0.check_programs(standin), _task(), 50.0, tmp_path)
  assert log.read_text().endswith("--alpha=50")
  peer_l0.run_l0(peer_l0.check_programs(standin), _task(), None, tmp_path)
  assert "--alpha" not in log.read_text()


@pytest.mark.parametrize("mode, message", [("fail", "deconv exited 3: deconv: cannot allocate the FFT plan"),
                                           ("silent", "deconv wrote no output")])
def test_a_failing_program_is_recorded_not_raised(standin, tmp_path, monkeypatch, mode, message):
  monkeypatch.setenv("STANDIN_MODE", mode)
  run = peer_l0.run_l0(peer_l0.check_programs(standin), _task(), None, tmp_path)
  assert run == {"status": "failed", "error": message}


def test_missing_programs_are_one_line_errors(tmp_path, capsys):
  with pytest.raises(peer_l0.PeerError, match="no estimate-kernel in"):
    peer_l0.check_programs(tmp_path)
  assert peer_l0.main(["--l0-bin", str(tmp_path / "nowhere"), "--sets=mini", "--out_dir", str(tmp_path / "o")]) == 2
  err = capsys.readouterr().err.strip()
  assert err.startswith("peer_l0: error: no estimate-kernel in") and "\n" not in err
  with pytest.raises(SystemExit):
    peer_l0.main(["--sets=mini,nonsense", "--table_only"])


@pytest.mark.skipif(not LEVIN.is_dir(), reason="needs the Levin images in ../shared/datasets/levin")
def test_end_to_end_on_one_levin_crop_with_failures_counted(standin, tmp_path, monkeypatch):
  out = tmp_path / "out"
  args = ["--l0-bin", str(standin), "--sets=mini", "--only=im1_kernel1,im2_kernel2", "--out_dir", str(out),
          "--data_dir", str(LEVIN)]
  monkeypatch.setenv("STANDIN_MODE", "identity")
  assert peer_l0.main(args[:3] + ["--only=im1_kernel1"] + args[4:]) == 0
  monkeypatch.setenv("STANDIN_MODE", "fail")
  assert peer_l0.main(args) == 0  # im1_kernel1 is stored and not rerun; im2_kernel2 fails
  record = json.loads((out / "mini" / "default" / "im1_kernel1.json").read_text())
  assert record["status"] == "ok" and record["kernel_size"] == 17
  assert record["restored"]["psnr"] == pytest.approx(record["blurry"]["psnr"], abs=1e-4)  # 26.02 dB
  assert record["blurry"]["psnr"] == pytest.approx(26.02, abs=0.01)  # SPEC §6's figure for this crop
  failed = json.loads((out / "mini" / "alpha50" / "im2_kernel2.json").read_text())
  assert failed["status"] == "failed" and failed["restored"] == failed["blurry"]
  rows = {r["method"]: r for r in json.loads((out / "table.json").read_text())["mini"]}
  l0 = rows["L0, defaults (alpha 3000)"]
  assert (l0["n"], l0["failures"], l0["below"]) == (2, 1, 0)
  assert l0["psnr"] == pytest.approx(rows["blurry input"]["psnr"], abs=1e-4)
  assert "| L0, --alpha=50 |" in (out / "table.md").read_text()
  assert (out / "figure.png").stat().st_size > 0
