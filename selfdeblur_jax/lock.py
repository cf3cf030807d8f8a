"""One run at a time in a workdir: an advisory lock (`fcntl.flock`) on `<workdir>/.deblur.lock`, held by
a run's process 0 from the start to its last summary. A second run started on the same workdir says
which process holds it and waits for that run to end, so that two runs never do the same work at once
(a `--resume` then finds the first run's images finished) and only one of them clears what killed runs
left behind. The kernel releases the lock when its holder exits, killed or not: a lock file left in the
workdir holds nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from absl import logging

LOCK = ".deblur.lock"


@contextlib.contextmanager
def workdir_lock(workdir: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
  """Hold the workdir's lock while inside; where another process holds it, call `on_wait(holder)`
  (holder: e.g. "pid 1234") and wait for it. A lock that cannot be taken (a filesystem without locks,
  a lock file of another user): a warning, and no lock."""
  try:
    fd = os.open(workdir / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
  except OSError as error:
    _unlocked(workdir, error)
    yield
    return
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      on_wait(_holder(fd))
      fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as error:  # e.g. ENOLCK on some network filesystems
      _unlocked(workdir, error)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # for the message of a run that waits
    yield
  finally:
    os.close(fd)  # releases the lock


def _unlocked(workdir: Path, error: OSError) -> None:
  logging.warning("cannot lock %s (%s): make sure that no other run uses this workdir", workdir,
                  error.strerror or error)


def _holder(fd: int) -> str:
  """Who holds the lock, as its holder wrote it ("pid N"), or "another process"."""
  try:
    pid = os.pread(fd, 32, 0).decode().strip()
  except (OSError, UnicodeDecodeError):
    pid = ""
  return f"pid {pid}" if pid.isdigit() else "another process"
