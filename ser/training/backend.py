"""The deep-learning backend, imported in one place.

TensorFlow's C++ core prints start-up lines on standard error (``absl::InitializeLog``, oneDNN notes,
CPU instruction notes) before any Python setting can silence them; ``TF_CPP_MIN_LOG_LEVEL`` no
longer reaches them. :func:`keras` imports Keras with the process's standard error pointed at
``/dev/null`` for the duration of the import only, so the CLI prints nothing but its own lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

__all__ = ["keras", "quiet_stderr"]


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 (C and Python writes alike) at ``/dev/null`` inside the block."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def keras() -> ModuleType:
    """The ``keras`` module (TensorFlow backend), imported once without TensorFlow's start-up noise."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with quiet_stderr():
        import keras as module
    return module
