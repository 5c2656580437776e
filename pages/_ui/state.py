"""Where data and models live, widget values that survive page switches, and each page's way into the router."""

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
    """Make sure the page runs inside the router (:func:`pages._ui.router.route`).

    Because the project has a ``pages/`` folder beside the entrypoint, Streamlit starts every server in
    its older "pages folder" mode and, when the first request names a page (a shared link to
    ``/predict``, or a rerun in AppTest), runs that page file alone: no router, no sidebar
    housekeeping. ``pages/_ui/router.py`` says why no supported setting avoids it (with the lines of
    Streamlit's source). So a page run alone calls the router itself, in this same script run (so that
    a click that started the run is not lost): its ``st.navigation`` ends the mode, it runs this page
    again inside, and this outer run stops.
    """
    from pages._ui.router import route, routed

    if not routed():
        route()
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
