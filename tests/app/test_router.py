"""A request that names a page runs it inside the router (``streamlit_app.py``'s ``st.navigation``).

Because ``pages/`` sits beside the entrypoint, Streamlit starts in its older "pages folder" mode, in
which such a request (a shared link to /predict; every AppTest rerun after a switch) runs the page
file alone; ``pages/_ui/state.py`` explains it and routes the page.
"""

from streamlit.testing.v1 import AppTest

from tests.app.test_app import APP, no_exception


def test_a_page_named_by_the_first_request_runs_once_inside_the_router():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/predict.py").run()  # AppTest starts each run afresh: the pages-folder mode again
    no_exception(at)
    assert [t.value for t in at.title] == ["🔮 Predict emotion"]  # the page once: the run that routed it stopped
    assert any(e.label.startswith("Feature cache") for e in at.sidebar.expander)  # the router's housekeeping
    at.run()  # a rerun (a click) on the page it names stays on it
    no_exception(at)
    assert [t.value for t in at.title] == ["🔮 Predict emotion"]
