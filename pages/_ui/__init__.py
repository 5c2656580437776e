"""What the pages share, one module per kind of thing: ``state`` (where things live, widget values
across pages, the router), ``datasets`` (picking and reading a dataset), ``models`` (picking and
loading a model), ``plots`` (figures), ``housekeeping`` (the sidebar's cache and worker controls).

Pages stay thin: they read widgets, call `ser`, and draw with these helpers.
"""

# Load the Live tab's SRTP library (pylibsrtp, OpenSSL) before anything in this process can run TensorFlow
# (a Keras-only model, an explanation): loaded after TensorFlow had run, it crashed the whole dashboard with
# a segmentation fault. Every page imports this package first. (tests/app/test_live_panel.py)
import pylibsrtp  # noqa: E402,F401
