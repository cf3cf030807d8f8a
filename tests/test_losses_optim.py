"""Loss terms against float64 NumPy references, and the learning-rate schedule at its boundaries."""

import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from scipy import signal

from selfdeblur_jax.config import get_default_config
from selfdeblur_jax.losses import data_term, gaussian_window, mse, objective, ssim
from selfdeblur_jax.optim import learning_rate_schedule, make_optimizers


def ssim_zero_padded_reference(a: np.ndarray, b: np.ndarray) -> float:
  """pytorch_ssim in float64: Gaussian 11/1.5 window, zero padding 5, mean of the map."""
  g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
  g /= g.sum()
  w = np.outer(g, g)
  f = lambda z: signal.correlate2d(z, w, mode="same", boundary="fill")
  mu_a, mu_b = f(a), f(b)
  var_a, var_b, cov = f(a * a) - mu_a**2, f(b * b) - mu_b**2, f(a * b) - mu_a * mu_b
  c1, c2 = 0.01**2, 0.03**2
  m = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
  return float(m.mean())


@pytest.fixture
def pair():
  rng = np.random.default_rng(0)
  a = rng.random((30, 26))
  b = np.clip(a + 0.1 * rng.normal(size=a.shape), 0, 1)
  return a, b


def test_gaussian_window_is_normalised():
  w = gaussian_window(11, 1.5)
  assert w.shape == (11, 11) and w.sum() == pytest.approx(1.0, abs=1e-6)


def test_ssim_loss_matches_float64_reference(pair):
  a, b = pair
  got = float(ssim(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)))
  assert got == pytest.approx(ssim_zero_padded_reference(a, b), abs=1e-5)
  assert float(ssim(jnp.asarray(a, jnp.float32), jnp.asarray(a, jnp.float32))) == pytest.approx(1.0, abs=1e-5)


def test_mse_matches_float64(pair):
  a, b = pair
  assert float(mse(jnp.asarray(a), jnp.asarray(b))) == pytest.approx(np.mean((a - b) ** 2), rel=1e-5)


def test_data_term_switches_from_mse_to_ssim_at_switch_step(pair):
  a, b = pair
  loss = get_default_config().loss
  fa, fb = jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)
  want_mse, want_ssim = np.mean((a - b) ** 2), 1 - ssim_zero_padded_reference(a, b)
  assert float(data_term(fa, fb, jnp.int32(999), loss)) == pytest.approx(want_mse, rel=1e-5)
  assert float(data_term(fa, fb, jnp.int32(1000), loss)) == pytest.approx(want_ssim, abs=1e-5)
  only_mse = ml_collections.ConfigDict(loss.to_dict())
  only_mse.data_term = "mse"
  assert float(data_term(fa, fb, jnp.int32(4000), only_mse)) == pytest.approx(want_mse, rel=1e-5)


def test_objective_adds_tv_over_pixel_count_as_eq6(pair):
  """objective = MSE + λ·TV(x)/N, i.e. Eq. (6) divided by N, in float64 NumPy."""
  rng = np.random.default_rng(1)
  x = rng.random((34, 30))
  k = rng.random((5, 5))
  k /= k.sum()
  y = rng.random((30, 26))
  lam = 0.3
  loss = get_default_config().loss
  loss.data_term = "mse"
  residual = signal.convolve2d(x, k, mode="valid") - y
  tv = np.abs(np.diff(x, axis=0)).sum() + np.abs(np.diff(x, axis=1)).sum()
  want = (np.sum(residual**2) + lam * tv) / y.size
  got = float(objective(jnp.asarray(x, jnp.float32), jnp.asarray(k, jnp.float32),
                        jnp.asarray(y, jnp.float32), jnp.int32(0), loss, jnp.float32(lam)))
  assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("step,factor", [(0, 1.0), (1999, 1.0), (2000, 0.5), (2001, 0.5), (2999, 0.5),
                                         (3000, 0.25), (3001, 0.25), (3999, 0.25), (4000, 0.125),
                                         (4001, 0.125), (4999, 0.125)])
def test_schedule_halves_at_each_boundary_inclusive(step, factor):
  schedule = learning_rate_schedule(0.01, (2000, 3000, 4000), 0.5)
  assert float(schedule(step)) == pytest.approx(0.01 * factor, rel=1e-6)


def test_adam_uses_the_scheduled_rate_at_each_step():
  """The first Adam update is ±lr (bias-corrected); at a boundary step it is ±lr/2: the rate used at
  step s (0-based) counts the boundaries ≤ s, as the released code's MultiStepLR does."""
  config = get_default_config()
  config.optim.boundaries = (1, 2)
  opt = make_optimizers(config)["x"]
  params = {"w": jnp.zeros(3)}
  state = opt.init(params)
  grads = {"w": jnp.ones(3)}
  sizes = []
  for _ in range(3):
    updates, state = opt.update(grads, state, params)
    sizes.append(float(-updates["w"][0]))
  np.testing.assert_allclose(sizes, [0.01, 0.005, 0.0025], rtol=1e-4)


def test_generators_get_their_own_learning_rates():
  config = get_default_config()
  opts = make_optimizers(config)
  for name, rate in (("x", 0.01), ("k", 1e-4)):
    state = opts[name].init({"w": jnp.zeros(1)})
    updates, _ = opts[name].update({"w": jnp.ones(1)}, state)
    assert float(-updates["w"][0]) == pytest.approx(rate, rel=1e-4)
    assert isinstance(opts[name], optax.GradientTransformation)


def test_kernel_centring_penalty_pulls_the_centroid_to_the_centre():
  """kernel_offset matches a float64 NumPy centroid; the objective adds weight·|offset/K|²; a gradient
  step on G_k's logits under that term moves the centroid towards the centre (k stays ≥ 0, sum 1)."""
  import jax

  from selfdeblur_jax.losses import kernel_offset

  rng = np.random.default_rng(0)
  logits = jnp.asarray(rng.normal(size=(9, 9)) + np.outer(np.arange(9), np.ones(9)) * 0.5, jnp.float32)
  to_kernel = lambda lg: jax.nn.softmax(lg.ravel()).reshape(9, 9)  # noqa: E731 (G_k's output layer)
  k = np.asarray(to_kernel(logits), np.float64)
  rows, cols = np.mgrid[0:9, 0:9] - 4.0
  np.testing.assert_allclose(kernel_offset(jnp.asarray(k)), [np.sum(k * rows), np.sum(k * cols)],
                             rtol=1e-5, atol=1e-6)
  plain, centred = get_default_config().loss, get_default_config().loss
  centred.kernel_center_weight = 2.0
  x = jnp.asarray(rng.random((20, 20)), jnp.float32)
  y = jnp.asarray(rng.random((12, 12)), jnp.float32)
  penalty = lambda lg: jnp.sum((kernel_offset(to_kernel(lg)) / 9) ** 2)  # noqa: E731
  gap = (objective(x, to_kernel(logits), y, jnp.int32(0), centred, 0.0)
         - objective(x, to_kernel(logits), y, jnp.int32(0), plain, 0.0))
  np.testing.assert_allclose(gap, 2.0 * penalty(logits), rtol=1e-4)
  stepped = to_kernel(logits - 200.0 * jax.grad(penalty)(logits))
  assert np.linalg.norm(kernel_offset(stepped)) < 0.8 * np.linalg.norm(kernel_offset(jnp.asarray(k)))
  assert float(stepped.min()) >= 0 and abs(float(stepped.sum()) - 1) < 1e-5
