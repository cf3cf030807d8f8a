"""benchmarks/levin.py keeps one folder's table whole when a set is run image by image."""

import importlib.util
import json

import pytest
from conftest import REPO


def levin_module():
  spec = importlib.util.spec_from_file_location("levin_benchmark", REPO / "benchmarks" / "levin.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def write_result(out_dir, seed, name, variant="plain"):
  folder = out_dir / f"seed{seed}"
  folder.mkdir(parents=True, exist_ok=True)
  (folder / f"{name}.json").write_text(json.dumps({"image": name, "seed": seed, "variant": variant}))


def test_a_run_of_one_image_tabulates_every_stored_result(tmp_path):
  levin = levin_module()
  for name in ("im3_kernel3", "im1_kernel1", "im2_kernel1"):
    write_result(tmp_path, 1, name)
  write_result(tmp_path, 0, "im2_kernel6")
  (tmp_path / "seed1" / "im1_kernel1.npz").write_bytes(b"")  # not a result file
  names, seeds = levin.stored(tmp_path, ["im2_kernel6"], [0])
  assert seeds == [0, 1]
  # in SPEC order (the subset, then the held-out diagonal), whichever ran last
  assert names == ["im1_kernel1", "im3_kernel3", "im2_kernel6", "im2_kernel1"]
  assert levin.stored(tmp_path, ["my_photo"], [1])[0][-1] == "my_photo"
  assert levin.stored(tmp_path / "empty", ["im1_kernel1"], [2]) == (["im1_kernel1"], [2])


def test_one_folder_holds_one_variant(tmp_path):
  levin = levin_module()
  write_result(tmp_path, 0, "im1_kernel1", "plain")
  levin.check_variant(tmp_path, "plain")
  with pytest.raises(SystemExit, match="holds variant 'plain' results.*own --out_dir"):
    levin.check_variant(tmp_path, "noisy")
