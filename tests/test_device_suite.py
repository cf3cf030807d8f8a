"""The GPU session's prepared script runs end to end on the CPU at a smoke size (issue #8)."""

import json
import os
import subprocess
import sys

from conftest import REPO


def test_device_suite_smoke_run_writes_its_table(tmp_path):
  done = subprocess.run([sys.executable, "-m", "benchmarks.device_suite", "--smoke", f"--out_dir={tmp_path}",
                         "--steps=2", "--budget_s=1e9"], capture_output=True, text=True, timeout=600, cwd=REPO,
                        env={**os.environ, "PYTHONPATH": str(REPO)})
  assert done.returncode == 0, done.stderr[-2000:]
  result = json.loads((tmp_path / "device_suite.json").read_text())
  assert [r["form"] for r in result["rows"]] == ["chunked"]
  for row in result["rows"]:
    assert "error" not in row, row
    assert row["image_steps_per_second"] > 0 and row["flops_per_step"] > 0
    assert row["program_bytes"] > 0 and 0 < row["fraction_of_matmul"]
  assert set(result["matmul"]) == {"highest", "default", "bfloat16"}
  assert result["projection"]["seconds"] > 0
  table = (tmp_path / "device_suite.md").read_text()
  assert result["rows"][0]["remat"] and "| smoke | 4 | chunked(2), remat | bfloat16 |" in table
  assert "Projected full Levin protocol" in table
