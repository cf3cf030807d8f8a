"""The pure solver (`solve`, `make_solver`) under jit and vmap, and the schedule in fractions of num_steps."""

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, TINY

from selfdeblur_jax import fit_batch, fit_selfdeblur, get_default_config, make_solver, resolve_config, solve
from selfdeblur_jax.app_config import engine_config, load_config_file
from selfdeblur_jax.physics.noise import estimate_noise_sigma, noise_sigma
from selfdeblur_jax.train import tv_weight

# fit_batch batches by vmap here, as it does by default on an accelerator: then the two agree bit for
# bit. (The CPU's default, 'map', runs the same steps with other convolution roundings.)
# The schedule is num_steps' default fractions: 1 − SSIM from step 1, halvings at 2, 4 and 5.
CONFIG = {"num_steps": 6, "model_x": TINY["model_x"], "model_k": TINY["model_k"], "batch_strategy": "vmap"}
SEEDS = (0, 1, 5)
K = 3


@pytest.fixture(scope="module")
def problems():
  rng = np.random.default_rng(0)
  return rng.uniform(size=(len(SEEDS), 12, 12)).astype(np.float32)


def test_jit_vmap_solve_equals_fit_batch_bit_for_bit(problems):
  """Tolerance 0: the same steps, in the same batched program shape."""
  run = jax.jit(jax.vmap(lambda key, y: solve(key, y, K, CONFIG)))
  x, k, history = run(jnp.stack([jax.random.PRNGKey(s) for s in SEEDS]), jnp.asarray(problems))
  results = fit_batch(list(problems), K, config=CONFIG, seeds=list(SEEDS))
  for b, result in enumerate(results):
    np.testing.assert_array_equal(np.asarray(x[b]), result.x)
    np.testing.assert_array_equal(np.asarray(k[b]), result.kernel)
    np.testing.assert_array_equal(np.asarray(history[b]), result.loss_history)
  assert x.shape == (3, 12, 12) and k.shape == (3, K, K) and history.shape == (3, 6)


def test_solve_traces_once(problems):
  """New keys and images of the same shape reuse the program: one trace, one compilation. The steps
  run in a loop whose body is traced once: the program does not grow with num_steps. (Both calls
  are in this test: between tests, conftest may drop the compiled programs to spare memory maps.)"""
  traces = []

  def counted(key, y):
    traces.append(1)
    return solve(key, y, K, CONFIG)

  run = jax.jit(jax.vmap(counted))
  _, _, history = run(jnp.stack([jax.random.PRNGKey(s) for s in SEEDS]), jnp.asarray(problems))
  keys = jnp.stack([jax.random.PRNGKey(s + 10) for s in SEEDS])
  _, _, other = run(keys, jnp.asarray(problems[::-1]))
  assert len(traces) == 1 and run._cache_size() == 1
  assert not np.array_equal(np.asarray(other), np.asarray(history))

  def convolutions(num_steps):
    jaxpr = jax.make_jaxpr(lambda key, y: solve(key, y, K, {**CONFIG, "num_steps": num_steps}))(
        jax.random.PRNGKey(0), problems[0])
    return _count(jaxpr.jaxpr, "conv_general_dilated")

  assert convolutions(2) == convolutions(9) > 0


def _count(jaxpr, primitive: str) -> int:
  """Equations of `primitive` in a jaxpr and the jaxprs nested in it (loops, conds, jits)."""
  return sum(_count(sub, primitive) for sub in _nested(jaxpr)) + sum(
      eqn.primitive.name == primitive for eqn in jaxpr.eqns)


def _nested(jaxpr):
  for eqn in jaxpr.eqns:
    for param in eqn.params.values():
      for value in param if isinstance(param, (tuple, list)) else (param,):
        if isinstance(value, jax.extend.core.ClosedJaxpr):
          yield value.jaxpr
        elif isinstance(value, jax.extend.core.Jaxpr):
          yield value


def _precisions(fn, *args) -> set:
  """The precision of every convolution and matmul that tracing `fn` records."""
  def visit(jaxpr):
    found = {eqn.params["precision"] for eqn in jaxpr.eqns
             if eqn.primitive.name in ("conv_general_dilated", "dot_general")}
    return found.union(*(visit(sub) for sub in _nested(jaxpr)))
  return visit(jax.make_jaxpr(fn)(*args).jaxpr)


@pytest.mark.parametrize("precision", ["highest", "default"])
def test_the_precision_option_holds_under_a_callers_jit(problems, precision):
  """The solver's functions set the configured precision themselves: a caller's own jit records it
  in every convolution and matmul, whatever precision scope surrounds the call."""
  solver = make_solver({**CONFIG, "precision": precision}, K)
  y = jnp.asarray(problems[0])
  state = solver.init(jax.random.PRNGKey(0), y)
  expected = {(jax.lax.Precision.HIGHEST,) * 2} if precision == "highest" else {None}
  for scope in (None, "bfloat16", "highest"):
    with jax.default_matmul_precision(scope):
      assert _precisions(jax.jit(solver.step), state, y) == expected
      assert _precisions(jax.jit(solver.outputs), state) == expected


def test_the_same_result_whether_or_not_the_caller_jits(problems):
  """`solve` called as it is, jitted by the caller, and jitted under another precision scope."""
  y, key = jnp.asarray(problems[1]), jax.random.PRNGKey(1)
  plain = solve(key, y, K, CONFIG)
  jitted = jax.jit(functools.partial(solve, kernel_size=K, config=CONFIG))(key, y)
  with jax.default_matmul_precision("bfloat16"):
    scoped = jax.jit(lambda key, y: solve(key, y, K, CONFIG))(key, y)
  for a, b, c in zip(plain, jitted, scoped):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(c))


def test_solver_pieces_make_up_solve(problems):
  """init, num_steps × step and outputs, in the caller's own loop, give solve's result."""
  solver = make_solver(CONFIG, K)
  y, key = jnp.asarray(problems[2]), jax.random.PRNGKey(5)

  @jax.jit
  def run(key, y):
    state = jax.lax.fori_loop(0, CONFIG["num_steps"], lambda _, s: solver.step(s, y), solver.init(key, y))
    return (*solver.outputs(state), state.loss_history)

  for a, b in zip(run(key, y), solve(key, y, K, CONFIG)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_solver_arguments_are_checked(problems):
  with pytest.raises(ValueError, match="kernel_size must be a positive odd integer"):
    make_solver(CONFIG, 4)
  with pytest.raises(ValueError, match="2-D"):
    make_solver(CONFIG, K).init(jax.random.PRNGKey(0), jnp.zeros((2, 12, 12)))
  with pytest.raises(ValueError, match="not smaller than the image"):
    solve(jax.random.PRNGKey(0), jnp.zeros((3, 12)), K, CONFIG)
  with pytest.raises(ValueError, match="unknown config key"):
    make_solver({"num_step": 3}, K)


def test_tv_weight_from_the_noise_level_is_traceable(problems):
  """λ = factor · σ̂ in jnp under jit and vmap, within float32 rounding of the host's float64 estimate."""
  config = resolve_config({"loss": {"tv_weight_from_noise": True, "tv_noise_factor": 0.1}})
  weights = jax.jit(jax.vmap(lambda y: tv_weight(y, config)))(jnp.asarray(problems))
  expected = [0.1 * estimate_noise_sigma(y) for y in problems]
  np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-5)
  assert float(noise_sigma(jnp.asarray(problems[0]))) == pytest.approx(estimate_noise_sigma(problems[0]),
                                                                        rel=1e-5)


# The schedule: steps that default to fractions of num_steps.

def test_the_default_at_5000_steps_keeps_the_released_codes_numbers():
  config = resolve_config(None)
  assert config.num_steps == 5000
  assert config.loss.switch_step == 1000 and tuple(config.optim.boundaries) == (2000, 3000, 4000)
  # The fractions resolve to exactly the released numbers: the same resolved config, so the same program.
  released = resolve_config({"loss": {"switch_step": 1000}, "optim": {"boundaries": (2000, 3000, 4000)}})
  assert config.to_dict() == released.to_dict()


@pytest.mark.parametrize("name,arg,switch,boundaries", [
    ("default", None, 1000, (2000, 3000, 4000)), ("levin", None, 1000, (2000, 3000, 4000)),
    ("paper", None, 1000, (2000, 3000, 4000)), ("lai", None, 500, (2000, 3000, 4000)),
    ("color", None, 500, (2000, 3000, 4000)), ("mini_levin", None, 300, (600, 900, 1200)),
    ("mini_levin", "robust", 300, (600, 900, 1200)), ("demo", None, 266, (400, 560, 680)),
    ("photo", None, 500, (1000, 1500, 2000)), ("photo", "cpu", 300, (600, 900, 1200))])
def test_every_shipped_profile_keeps_its_steps(name, arg, switch, boundaries):
  engine = resolve_config(engine_config(load_config_file(str(REPO / "configs" / f"{name}.py"), arg)))
  assert engine.loss.switch_step == switch and tuple(engine.optim.boundaries) == boundaries


def test_num_steps_alone_scales_the_schedule():
  assert (resolve_config({"num_steps": 300}).loss.switch_step,
          resolve_config({"num_steps": 300}).optim.boundaries) == (60, (120, 180, 240))
  config = get_default_config()  # a ConfigDict follows too, and so does a config file's
  config.num_steps = 1500
  assert (config.loss.switch_step, config.optim.boundaries) == (300, (600, 900, 1200))
  levin = load_config_file(str(REPO / "configs" / "levin.py"))
  levin.num_steps = 2500
  assert (levin.loss.switch_step, levin.optim.boundaries) == (500, (1000, 1500, 2000))
  # Steps that are set stay as set; a very short run drops repeated steps and step 0.
  fixed = resolve_config({"num_steps": 300, "loss": {"switch_step": 50}, "optim": {"boundaries": (100,)}})
  assert (fixed.loss.switch_step, fixed.optim.boundaries) == (50, (100,))
  assert resolve_config({"num_steps": 2}).optim.boundaries == (1, 2)
  with pytest.raises(ValueError, match=re.escape("leave it unset to switch at 20% of num_steps")):
    resolve_config({"num_steps": 300, "loss": {"switch_step": 1000}})


def test_fit_selfdeblur_with_300_steps_runs_with_the_schedule_scaled(small_image):
  """Refused before ("loss.switch_step must lie in [0, num_steps=300], got 1000"); now the switch is at
  step 60 and the halvings at 120/180/240 (the tiny network keeps it short)."""
  network = {key: TINY[key] for key in ("model_x", "model_k")}
  result = fit_selfdeblur(small_image[:12, :12], K, config={"num_steps": 300, **network})
  assert result.status == "ok" and result.loss_history.shape == (300,)
  assert (result.config.loss.switch_step, tuple(result.config.optim.boundaries)) == (60, (120, 180, 240))


def test_the_readme_example_runs():
  """README's "In a JAX program" code as it stands, with a tiny network, kernel and images."""
  text = (REPO / "README.md").read_text()
  code = text.split("### In a JAX program", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
  small = {
      "K, B = 21, 4": "K, B = 3, 2",
      'config = {"num_steps": 1500, "model_x": {"channels": 64}}': f"config = {dict(CONFIG)!r}",
      "sharp = jnp.asarray(images, jnp.float32)": "sharp = jnp.asarray(images, jnp.float32)",
  }
  for line, replacement in small.items():
    assert line in code, line
    code = code.replace(line, replacement)
  images = np.random.default_rng(3).uniform(size=(2, 14, 14))
  namespace = {"images": images}
  exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (the README's own code)
  assert namespace["psnr"].shape == (2,) and bool(jnp.all(jnp.isfinite(namespace["psnr"])))
  assert namespace["x"].shape == (2, 12, 12) and namespace["loss_history"].shape == (2, 6)
