"""Speech Emotion Recognition dashboard: a router of pages, nothing more.

The pages and the router are in ``pages/_ui/router.py``, so that a page requested first by its own
address (which Streamlit runs alone, because of the ``pages/`` folder) can route itself the same way.
"""

from pages._ui.router import route

route()
