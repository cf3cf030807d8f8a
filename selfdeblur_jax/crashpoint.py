"""Crash points: instants of a run at which a test can make the process kill itself with SIGKILL, to
check that a run killed at any instant resumes to the uninterrupted result
(tests/test_crash_consistency.py). Off unless one of these is set in the environment:

  SELFDEBLUR_CRASH_AT=N      SIGKILL at this process's N-th crash point
  SELFDEBLUR_CRASH_AT=new    SIGKILL at the first crash point whose label SELFDEBLUR_CRASH_LOG does not
                             list yet (after adding it there): a chain of `--resume` runs, each started
                             with this, dies once at every instant of the job's life, in order
  SELFDEBLUR_CRASH_LOG=FILE  each crash point reached adds its label to FILE (with `new`: only new ones)

The crash points: a file's bytes written and synced but not yet renamed into place, and the moment
after the rename (`io.write_bytes`); the end of each training chunk (`runner`). A label names the file
or the step, inside any `scope` (a checkpoint's step), and ends in `#n` where this process reaches the
same label for the n-th time.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

_AT, _LOG = "SELFDEBLUR_CRASH_AT", "SELFDEBLUR_CRASH_LOG"
_reached: dict[str, int] = {}  # label -> times this process reached it
_scopes: list[str] = []


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
  """Crash points inside get `name` in front of their labels (e.g. which step a checkpoint holds)."""
  _scopes.append(name)
  try:
    yield
  finally:
    _scopes.pop()


def reached(label: str) -> None:
  """A crash point: kills the process here when the environment asks for it (see the module doc)."""
  at, log = os.environ.get(_AT), os.environ.get(_LOG)
  if not at and not log:
    return
  label = " ".join([*_scopes, label])
  times = _reached[label] = _reached.get(label, 0) + 1
  label += f" #{times}" if times > 1 else ""
  if at == "new":
    if log is None:
      raise RuntimeError(f"{_AT}=new needs {_LOG}=FILE")
    if label in _logged(log):
      return
  if log:
    with open(log, "a", encoding="utf-8") as f:
      f.write(label + "\n")
  if at == "new" or (at and at.isdigit() and sum(_reached.values()) == int(at)):
    os.kill(os.getpid(), signal.SIGKILL)


def _logged(path: str) -> set[str]:
  try:
    with open(path, encoding="utf-8") as f:
      return set(f.read().splitlines())
  except FileNotFoundError:
    return set()
