"""Where data and models live, widget values that survive page switches, and the router."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

REPO = Path(__file__).resolve().parents[2]
PERSIST_PREFIX = "p_"


def models_dir() -> Path:
    """Where models live: ``$SER_MODELS_DIR``, else ``models/`` in the project."""
    return Path(os.environ.get("SER_MODELS_DIR", REPO / "models"))


def through_the_router() -> None:
    """Make sure the page runs inside ``streamlit_app.py``'s ``st.navigation``.

    Because the project has a ``pages/`` folder beside the entrypoint, Streamlit starts every server in
    its older "pages folder" mode and, when the first request names a page (a shared link to
    ``/predict``, or a rerun in AppTest), runs that page file alone: no router, no sidebar
    housekeeping, and every helper module in ``pages/`` listed as a page. The mode ends when ``st.navigation`` is
    first called; so end it here and run the router in this same script run (so that a click that
    started the run is not lost); the router runs this page again, and this outer run stops.
    """
    import runpy

    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(REPO / "streamlit_app.py"), run_name="__main__")
        st.stop()


def setup() -> None:
    """Call first on every page: runs it through the router (:func:`through_the_router`) and keeps the
    values of widgets keyed ``p_...`` when the user switches pages (Streamlit otherwise forgets
    widgets that are not on the current page)."""
    through_the_router()
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(PERSIST_PREFIX)]:
        st.session_state[key] = st.session_state[key]


def short(path: str | Path) -> str:
    """A path as a person reads it: relative to the project where possible."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(p)
