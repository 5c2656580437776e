"""The router: the dashboard's pages, in order, and the one function that runs them.

``streamlit_app.py`` calls :func:`route`; so does a page that finds itself run without it
(:func:`pages._ui.state.setup`).

Why a page can run without it, and why no supported setting prevents that (Streamlit 1.67.0, the
version ``requirements.txt`` pins; paths under ``site-packages/streamlit/``):

- ``runtime/pages_manager.py`` lines 60-63: the first ``PagesManager`` of the server process sets the
  class attribute ``uses_pages_directory`` to whether a folder named ``pages`` sits beside the main
  script, ``Path(self.main_script_parent / "pages").exists()``. Nothing else decides it: no config
  option, no argument of ``streamlit run``. ``client.showSidebarNavigation`` (``config.py`` line 662)
  only hides that mode's sidebar list; ``server.*`` and ``runner.*`` options do not touch it.
- ``runtime/scriptrunner/script_runner.py`` lines 933-936: while the flag is true, a script run does
  not execute the entrypoint: it calls ``_mpa_v1`` (lines 144-181), which builds its own navigation
  from the entrypoint and ``pages/*.py`` and runs the requested page. A first request that names a
  page (a shared link to ``/predict``; every ``AppTest`` run, since ``testing/v1/app_test.py`` line
  666 sets the flag back to ``None`` before each run) therefore runs that page file alone: no
  ``st.navigation`` of ours, no sidebar housekeeping.
- ``commands/navigation.py`` line 399: the public ``st.navigation`` sets the flag to false for the
  whole process; this is the one supported way to end the mode, and the entrypoint never gets to call
  it on such a request.

The folder's name is fixed by the project's layout, so the page does what the entrypoint would have
done: it calls :func:`route` (public ``st.navigation`` and ``Page.run`` only), which ends the mode and
runs the requested page inside the router, and the page's own outer run stops (``st.stop``). A page
knows it runs inside the router from :func:`routed`, a context variable :func:`route` sets around
``Page.run``; no private Streamlit attribute is read or written.
"""

from __future__ import annotations

import contextvars

import streamlit as st

# (file, title, icon); the first is the landing page.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("pages/dataset.py", "Dataset", "📂"),
    ("pages/augment.py", "Augmentations", "🎛️"),
    ("pages/train.py", "Train", "🏋️"),
    ("pages/evaluate.py", "Evaluate", "📊"),
    ("pages/predict.py", "Predict", "🔮"),
)

_inside = contextvars.ContextVar("ser_inside_router", default=False)


def routed() -> bool:
    """Whether the page now running was started by :func:`route` (in this script run)."""
    return _inside.get()


def route() -> None:
    """Declare the pages (``st.navigation``), run the requested one, then the sidebar's housekeeping.

    A file the server cannot read or write (``OSError``, ``MemoryError``) is said in one line, never
    a traceback.
    """
    from pages._ui.housekeeping import sidebar

    st.set_page_config(page_title="Speech Emotion Recognition", page_icon="🎙️", layout="wide")
    page = st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
                          for i, (path, title, icon) in enumerate(PAGES)])
    token = _inside.set(True)
    try:
        page.run()
    except (OSError, MemoryError) as exc:
        from pages._ui.text import server_problem

        st.error(server_problem(exc))
    finally:  # the housekeeping after the page (also when it stops early): it kept the first heading waiting 0.4 s
        _inside.reset(token)
        sidebar()
