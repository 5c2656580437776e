"""What the pages share, one module per kind of thing: ``state`` (where things live, widget values
across pages, the router), ``datasets`` (picking and reading a dataset), ``models`` (picking and
loading a model), ``plots`` (figures), ``housekeeping`` (the sidebar's cache and worker controls).

Pages stay thin: they read widgets, call `ser`, and draw with these helpers.
"""
