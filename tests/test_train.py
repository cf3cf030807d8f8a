"""The training loop: reproducibility, batching equivalence, one trace per fit, both optimisation modes."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from conftest import REPO, TINY

from selfdeblur_jax import fit_batch, fit_selfdeblur, resolve_config
from selfdeblur_jax.physics.blur import blur_np
from selfdeblur_jax.train import compiled_runner, program_config


def with_overrides(**changes):
  config = {key: dict(value) if isinstance(value, dict) else value for key, value in TINY.items()}
  for key, value in changes.items():
    if isinstance(value, dict):
      config[key] = {**config.get(key, {}), **value}
    else:
      config[key] = value
  return config


def test_fit_returns_consistent_result(small_image):
  result = fit_selfdeblur(small_image, 5, config=TINY, seed=0)
  assert result.x.shape == small_image.shape
  assert result.x_latent.shape == (24, 24)
  assert result.kernel.shape == (5, 5)
  assert result.kernel.min() >= 0 and abs(float(result.kernel.sum()) - 1.0) <= 1e-6
  assert 0.0 <= result.x.min() and result.x.max() <= 1.0
  assert result.loss_history.shape == (TINY["num_steps"],)
  assert np.all(np.isfinite(result.loss_history)) and np.all(result.loss_history != 0)
  assert result.config.num_steps == TINY["num_steps"]
  # The reported kernel is the convolution kernel: it blurs the latent image to y's size.
  assert blur_np(result.x_latent, result.kernel).shape == small_image.shape


def test_same_seed_same_result_different_seed_different(small_image):
  first = fit_selfdeblur(small_image, 5, config=TINY, seed=7)
  again = fit_selfdeblur(small_image, 5, config=TINY, seed=7)
  other = fit_selfdeblur(small_image, 5, config=TINY, seed=8)
  np.testing.assert_array_equal(first.x, again.x)
  np.testing.assert_array_equal(first.kernel, again.kernel)
  np.testing.assert_array_equal(first.loss_history, again.loss_history)
  assert np.abs(first.x - other.x).max() > 1e-3
  assert np.abs(first.kernel - other.kernel).max() > 1e-6


@pytest.fixture(scope="session")
def three_problems(small_image, photo):
  """Three 20×20 images with kernel sizes 3, 5, 7 and seeds 0, 1, 2."""
  ys = [small_image, np.ascontiguousarray(photo[300:320, 100:120]), small_image[::-1].copy()]
  return ys, [3, 5, 7], [0, 1, 2]


@pytest.mark.xdist_group("train_three_problems")  # shares the module fixture three_problems
# 'chunked' (groups of 2 and 1) runs 'vmap' inside each group and 'map' over the groups: it covers both.
@pytest.mark.parametrize("strategy,steps,atol", [("map", 2, 1e-5), ("chunked", 1, 1e-4)])
def test_batch_with_mixed_kernel_sizes_equals_each_problem_alone(three_problems, strategy, steps, atol):
  """Three problems of sizes 3, 5, 7 in one program on a shared K_max = 7 support (`support_size`) =
  each alone on the same support.

  The first loss (a forward pass through the batched program) must agree to 1e-6 relative: that is
  where one problem could leak into another (shared BatchNorm statistics, mixed-up kernels or
  masks), which would show at the size of the images themselves. After that, a batch of 3 and a batch
  of 1 are different XLA programs whose sums round differently (~1e-7), and Adam amplifies this: it
  divides each gradient by √v̂ + ε, so a parameter whose true gradient is ~0 moves by up to ±lr
  depending on rounding noise (the PyTorch original does the same). Measured on this CPU: 'map'
  agrees to 2e-6 after 2 steps; 'vmap' (grouped convolutions) to 4.9e-5 after 1 step. Hence the
  per-strategy horizon and tolerance. Over a whole run, see the next test.
  """
  ys, sizes, seeds = three_problems
  config = with_overrides(batch_strategy=strategy, num_steps=steps, loss={"switch_step": steps},
                          batch_chunk=2)  # 'chunked': groups of 2 and 1
  together = fit_batch(ys, sizes, config=config, seeds=seeds, support_size=7)
  for y, size, seed, batched in zip(ys, sizes, seeds, together):
    alone = fit_batch([y], [size], config=config, seeds=[seed], support_size=7)[0]
    assert batched.kernel.shape == (size, size)
    np.testing.assert_allclose(batched.loss_history[0], alone.loss_history[0], rtol=1e-6)
    np.testing.assert_allclose(batched.x, alone.x, atol=atol, rtol=0)
    np.testing.assert_allclose(batched.kernel, alone.kernel, atol=atol, rtol=0)


@pytest.mark.xdist_group("train_three_problems")  # shares the module fixture three_problems
def test_each_problem_is_independent_of_its_batch_mates_for_a_whole_run(three_problems, photo):
  """Same program shape, other batch-mates and another slot: each problem's 12 steps are bit-identical."""
  ys, sizes, seeds = three_problems
  first = fit_batch(ys, sizes, config=TINY, seeds=seeds)
  other = np.ascontiguousarray(photo[50:70, 400:420])
  second = fit_batch([other, ys[2], ys[0]], [5, sizes[2], sizes[0]], config=TINY, seeds=[9, 2, 0])
  for a, b in ((first[0], second[2]), (first[2], second[1])):
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.kernel, b.kernel)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)


def test_train_step_is_traced_once_per_fit(small_image):
  """12 steps in chunks of 5, 5, 2: one trace of the chunk runner and of train_step for the whole fit."""
  config = with_overrides(model_x={"channels": 6})  # a config no other test compiles
  runner = compiled_runner(program_config(resolve_config(config)), 3, 1)  # as train() asks for it
  assert runner.jitted._cache_size() == 0
  steps_seen = []
  fit_selfdeblur(small_image, 3, config=config, callback=lambda step, state: steps_seen.append(step))
  assert steps_seen == [5, 10, 12]
  # One trace (one cache entry) of the chunk runner, whose loop traces train_step once.
  assert runner.jitted._cache_size() == 1
  # A second fit of the same shape and config reuses the compiled program.
  fit_selfdeblur(small_image, 3, config=config, seed=1)
  assert runner.jitted._cache_size() == 1


def test_alternating_optimisation_runs_and_differs_from_joint(small_image):
  joint = fit_selfdeblur(small_image, 5, config=TINY)
  alternating = fit_selfdeblur(small_image, 5, config=with_overrides(optim={"mode": "alternating"}))
  assert np.all(np.isfinite(alternating.loss_history))
  assert alternating.kernel.min() >= 0 and abs(float(alternating.kernel.sum()) - 1) <= 1e-6
  assert np.abs(joint.x - alternating.x).max() > 1e-4


def test_paper_loss_with_noise_driven_tv_runs(small_image):
  config = with_overrides(loss={"data_term": "mse", "tv_weight_from_noise": True})
  result = fit_selfdeblur(small_image, 3, config=config)
  assert np.all(np.isfinite(result.loss_history))


def test_images_of_different_shapes_run_in_separate_buckets(small_image, photo):
  ys = [small_image, np.ascontiguousarray(photo[:24, :18]), small_image]
  results = fit_batch(ys, 3, config=TINY, seeds=[0, 0, 0])
  assert [r.x.shape for r in results] == [(20, 20), (24, 18), (20, 20)]
  np.testing.assert_array_equal(results[0].x, results[2].x)


def test_max_batch_size_splits_a_bucket(small_image):
  results = fit_batch([small_image] * 3, 3, config=TINY, seeds=[0, 1, 0], max_batch_size=2)
  assert len(results) == 3
  np.testing.assert_allclose(results[0].x, results[2].x, atol=1e-5)


def test_runs_on_the_default_jax_device():
  assert jax.devices()[0].platform in ("cpu", "gpu", "tpu")


def test_batch_is_sharded_over_all_devices(tmp_path):
  """With 2 (simulated) CPU devices, a batch of 2 is split across both and gives finite results; a
  batch of 3 is padded to 4 and its problems give what they give alone."""
  script = tmp_path / "sharded.py"
  script.write_text(
      "import jax, numpy as np\n"
      "from selfdeblur_jax import fit_batch\n"
      "from selfdeblur_jax.sharding import shard_batch\n"
      "assert jax.device_count() == 2\n"
      "tree = shard_batch({'a': np.zeros((2, 3))})\n"
      "assert len(tree['a'].sharding.device_set) == 2\n"
      "rng = np.random.default_rng(0)\n"
      "config = {'num_steps': 2, 'chunk_size': 2, 'batch_strategy': 'vmap', 'loss': {'switch_step': 1},\n"
      "          'model_x': {'channels': 4, 'skip_channels': 2, 'num_scales': 2},\n"
      "          'model_k': {'hidden': (8,)}}\n"
      "results = fit_batch([rng.random((12, 12)), rng.random((12, 12))], 3, config=config, seeds=[0, 1])\n"
      "assert all(np.isfinite(r.loss_history).all() for r in results)\n"
      "# 3 problems are padded to 4 (one per device pair); the padding is never reported.\n"
      "config['batch_strategy'] = 'map'\n"
      "ys = [rng.random((12, 12)) for _ in range(3)]\n"
      "three = fit_batch(ys, 3, config=config, seeds=[0, 1, 2])\n"
      "assert len(three) == 3\n"
      "alone = fit_batch(ys[2:], 3, config=config, seeds=[2])[0]\n"
      "np.testing.assert_allclose(three[2].x, alone.x, atol=1e-5)\n"
      "np.testing.assert_allclose(three[2].loss_history, alone.loss_history, rtol=1e-5)\n"
      "print('ok')\n")
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2 "
         "--xla_backend_optimization_level=0", "PYTHONPATH": str(REPO)}
  done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                        timeout=300)
  assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _conv_input_dtypes(jaxpr) -> list:
  """dtypes of the first operand of every convolution in a (closed) jaxpr, sub-jaxprs included."""
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "conv_general_dilated":
      found.append(eqn.invars[0].aval.dtype)
    for value in eqn.params.values():
      for sub in value if isinstance(value, (list, tuple)) else [value]:
        inner = getattr(sub, "jaxpr", sub)
        if hasattr(inner, "eqns"):
          found += _conv_input_dtypes(inner)
  return found


@pytest.mark.parametrize("precision", ["highest", "bfloat16"])
def test_the_precision_option_is_honoured(small_image, precision):
  """'bfloat16' really convolves G_x in bfloat16 (forward and backward); the blur, the loss and the
  parameters stay float32. 'highest' has no bfloat16 anywhere."""
  import jax.numpy as jnp

  from selfdeblur_jax.config import resolve_config
  from selfdeblur_jax.train import Problem, create_train_state, make_train_step, program_config

  config = resolve_config({**TINY, "precision": precision})
  state = create_train_state(jax.random.PRNGKey(0), small_image.shape, 5, config)
  problem = Problem(y=jnp.asarray(small_image), support=jnp.ones((5, 5), bool),
                    tv_weight=jnp.float32(0))
  closed = jax.make_jaxpr(make_train_step(program_config(config), 5))(state, problem)
  dtypes = [str(d) for d in _conv_input_dtypes(closed.jaxpr)]
  if precision == "bfloat16":
    assert dtypes.count("bfloat16") >= 10 and "float32" in dtypes  # G_x in bf16; blur/SSIM in f32
    new_state, metrics = jax.jit(make_train_step(program_config(config), 5))(state, problem)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(new_state.params))
    assert all(np.isfinite(np.asarray(m)).all() for m in jax.tree.leaves(metrics))
  else:
    assert "bfloat16" not in dtypes


def test_rematerialised_gx_gives_the_same_fit(small_image):
  """model_x.remat trades memory for a recomputed forward pass; the numbers stay the same."""
  plain = fit_selfdeblur(small_image, 5, config=with_overrides(num_steps=3, loss={"switch_step": 2}))
  remat = fit_selfdeblur(small_image, 5, config=with_overrides(num_steps=3, loss={"switch_step": 2},
                                                               model_x={"remat": True}))
  np.testing.assert_allclose(remat.loss_history, plain.loss_history, rtol=1e-5)
  np.testing.assert_allclose(remat.x, plain.x, atol=1e-4)
