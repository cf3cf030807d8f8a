"""benchmarks.levin keeps one folder's table whole when a set is run image by image."""

import importlib
import json

import numpy as np
import pytest
from conftest import LEVIN, TINY


def levin_module():
  return importlib.import_module("benchmarks.levin")


def flattened(tree, prefix=""):
  """{"a": {"b": 1}} -> {"a.b": 1}: TINY as ConfigDict.update_from_flattened_dict takes it."""
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(flattened(value, f"{prefix}{key}."))
    else:
      flat[f"{prefix}{key}"] = value
  return flat


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


@pytest.mark.skipif(not LEVIN.is_dir(), reason=f"needs the Levin images in {LEVIN} (../shared)")
def test_each_candidate_records_the_output_it_would_have_given(tmp_path):
  """Robust mode's table lists, beside each candidate, the output it would give if chosen: for the
  chosen one that is the reported result, its kernel padded and centred as the output stage does."""
  levin = levin_module()
  config = levin.profile_config("mini", "robust")
  config.update_from_flattened_dict(flattened(TINY))
  levin.run_batch(["im3_kernel3"], 0, config, 48, LEVIN, tmp_path, 5)
  row = json.loads((tmp_path / "im3_kernel3.json").read_text())
  saved = np.load(tmp_path / "im3_kernel3.npz")
  chosen = row["candidates"][row["chosen"]]
  assert chosen["psnr_output"] == pytest.approx(row["SelfDeblur"]["psnr"], abs=1e-4)
  assert chosen["ssim_output"] == pytest.approx(row["SelfDeblur"]["ssim"], abs=1e-5)
  assert len(row["candidates"]) == sum(config.candidates.size_restarts)  # sizes 13, 9, 7: no repeats
  for i, c in enumerate(row["candidates"]):
    assert saved[f"k_candidate{i}"].shape == (c["kernel_size"],) * 2
  assert "/" + f"{chosen['psnr_output']:.2f}" in "\n".join(levin.candidates_table([row]))
