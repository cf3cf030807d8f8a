"""benchmarks.photo_realistic: SPEC §8's sixteen photos, made the same on every machine, and a table
that counts the photos made worse and those kept."""

import importlib

import numpy as np


def bench_module():
  return importlib.import_module("benchmarks.photo_realistic")


def test_the_sixteen_photos_are_the_ones_the_issue_names():
  bench = bench_module()
  recipes = bench.test_photos()
  assert len(recipes) == 16 and len({r["name"] for r in recipes}) == 16
  uniform = [(r["photo"], r["K"]) for r in recipes if r["blur"] == "uniform"][::2]
  drifting = [(r["photo"], r["K"]) for r in recipes if r["blur"] == "drifting"][::2]
  assert uniform == [("grace_hopper", 19), ("chelsea", 23), ("coffee", 27), ("astronaut", 31)]
  assert drifting == [("grace_hopper", 31), ("chelsea", 27), ("coffee", 23), ("astronaut", 19)]
  assert {r["photons"] for r in recipes} == {1000, 200}
  assert [bench.guessed_size(k) for k in (19, 23, 27, 31)] == [21, 25, 31, 35]


def test_a_test_photo_is_made_the_same_each_time(tmp_path):
  bench = bench_module()
  recipe = bench.test_photos()[1]  # grace_hopper, uniform, P = 200 (matplotlib's photo: no extra package)
  path, truth, kernel = bench.make_inputs(recipe, tmp_path / "a")
  again, truth2, kernel2 = bench.make_inputs(recipe, tmp_path / "b")
  assert path.read_bytes() == again.read_bytes() and np.array_equal(truth, truth2)
  assert kernel.shape == (19, 19) and abs(kernel.sum() - 1) < 1e-9 and np.array_equal(kernel, kernel2)
  assert truth.shape == (600, 512, 3)


def test_the_table_counts_photos_made_worse_and_photos_kept():
  bench = bench_module()
  row = lambda name, b, r, status: {"name": name, "K": 19, "given_size": 21, "seconds": 10.0,  # noqa: E731
                                    "blurry": {"psnr": b[0], "ssim": b[1]}, "restored": {"psnr": r[0], "ssim": r[1]},
                                    "status": status}
  text = bench.table([row("a", (20, 0.5), (25, 0.7), "deblurred"), row("b", (20, 0.5), (21, 0.45), "deblurred"),
                      row("c", (20, 0.5), (20, 0.5), "not improved")])
  assert "Worse than the blurry input in PSNR or SSIM: 1 (b)" in text
  assert "Kept as not improved: 1 (c)" in text and "+2.00" in text
