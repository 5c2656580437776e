"""Start the dashboard (``streamlit run``) on a free localhost port, and Debian's Chromium through
Playwright: one launcher for the benchmark (``benchmarks/bench.py``) and the browser tests
(``tests/e2e/conftest.py``)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run")

__all__ = ["REPO", "CHROMIUM", "free_port", "launch_chromium", "streamlit_app"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_chromium(playwright: Any, *extra_args: str) -> Any:
    """Headless Chromium at :data:`CHROMIUM` (no browser download), with ``extra_args`` added."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=[*BROWSER_ARGS, *extra_args])


@contextlib.contextmanager
def streamlit_app(script: str | Path = REPO / "streamlit_app.py", *, env: dict[str, str] | None = None,
                  log: IO[bytes] | None = None, timeout_s: float = 60,
                  clock: float | None = None) -> Iterator[dict[str, Any]]:
    """Run ``streamlit run script`` until the block ends; yields ``url``, ``process`` and
    ``answering_s`` (seconds from ``clock``, default the start, until the server answered).

    Raises RuntimeError (with the log's text when there is one) if it does not answer in time.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter() if clock is None else clock
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                             "--server.headless", "true", "--server.fileWatcherType", "none"], cwd=REPO,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})),
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > timeout_s:
                    text = Path(log.name).read_text(errors="replace") if log is not None and hasattr(log, "name") else ""
                    raise RuntimeError(f"streamlit did not answer on {url}\n{text}") from None
                time.sleep(0.05)
        yield {"url": url, "process": proc, "answering_s": time.perf_counter() - t0}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
