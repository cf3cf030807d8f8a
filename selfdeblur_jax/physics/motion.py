"""A seeded generator of motion-blur kernels (random camera-shake trajectories).

Used by the demo and the tests to make synthetic blurry images. The trajectory is a random walk with
inertia (in the spirit of Boracchi & Foi 2012), rasterised with bilinear splatting on a K×K grid,
centred on its centre of mass and normalised to sum 1.
"""

from __future__ import annotations

import numpy as np


def motion_kernel(size: int, seed: int = 0, *, length: float | None = None,
                  num_points: int = 200) -> np.ndarray:
  """A size×size float64 motion kernel, non-negative, summing to 1, reproducible from `seed`."""
  if not isinstance(size, (int, np.integer)) or size < 3 or size % 2 == 0:
    raise ValueError(f"motion kernel size must be an odd integer >= 3, got {size!r}")
  rng = np.random.default_rng(seed)
  length = 0.6 * size if length is None else length
  velocity = np.exp(1j * rng.uniform(0, 2 * np.pi))
  position = np.zeros(num_points, complex)
  for t in range(1, num_points):
    velocity = 0.9 * velocity + 0.5 * (rng.normal() + 1j * rng.normal())
    velocity /= abs(velocity)
    position[t] = position[t - 1] + velocity
  # Scale the path to the requested extent (at most size − 2, so that the bilinear splats stay
  # inside the grid), then centre its bounding box on the kernel's centre.
  extent = max(np.ptp(position.real), np.ptp(position.imag), 1e-9)
  position *= min(length, size - 2) / extent
  position -= complex((position.real.max() + position.real.min()) / 2,
                      (position.imag.max() + position.imag.min()) / 2)
  centre = (size - 1) / 2
  kernel = np.zeros((size, size))
  for p in position:
    r, c = p.imag + centre, p.real + centre
    r0, c0 = int(np.floor(r)), int(np.floor(c))
    fr, fc = r - r0, c - c0
    for dr, wr in ((0, 1 - fr), (1, fr)):
      for dc, wc in ((0, 1 - fc), (1, fc)):
        if 0 <= r0 + dr < size and 0 <= c0 + dc < size:
          kernel[r0 + dr, c0 + dc] += wr * wc
  return kernel / kernel.sum()
