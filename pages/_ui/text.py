"""What a person typed or uploaded, made safe to draw.

Streamlit renders the text of ``st.markdown``, ``st.caption``, ``st.subheader``, ``st.error`` and their
kin (and widget labels) as Markdown: a speaker named ``![x](http://host/p.png)`` would make every
viewer's browser fetch that address, ``[Sign in](http://host)`` would be a link, and ``:red[...]`` or
``$...$`` would restyle the page. Plotly reads ``<a href=...>``, ``<b>`` and ``<br>`` in its labels.

:func:`md` escapes a value for Markdown, :func:`plot_text` for a chart's labels. Every user-supplied
string (names of speakers, datasets, runs and files, emotions as written, and :class:`ser.SerError`
messages, which name files) goes through one of them before it is drawn; the page's own wording stays
Markdown.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

__all__ = ["md", "plot_text", "server_problem"]

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all also breaks
# autolinks (``http\:\/\/``), Streamlit's ``:color[...]`` and ``:emoji:`` directives and ``$`` maths.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_NEWLINES = re.compile(r"[\r\n\u2028\u2029]+")


def md(value: object) -> str:
    """``value`` as text that Markdown shows literally, on one line: ``md("a_b")`` is ``a\\_b``.

    Paths of the server in it are said relative to the project (:func:`ser.paths.redact`).
    """
    from ser.paths import redact

    text = _NEWLINES.sub(" ", redact(str(value)))
    return _PUNCTUATION.sub(r"\\\1", text)


def server_problem(exc: BaseException) -> str:
    """One line for an error of the server's own (a file it cannot read or write, memory), as Markdown:
    the file's name and what to do, never the traceback nor the server's folders."""
    from ser.paths import shown

    if isinstance(exc, MemoryError):
        return "The server ran out of memory for this; try a shorter recording or a smaller dataset."
    what = (exc.strerror or type(exc).__name__).lower() if isinstance(exc, OSError) else type(exc).__name__
    name = ""
    if getattr(exc, "filename", None):
        name = shown(exc.filename)
        name = (Path(exc.filename).name if name.startswith("/") else name) + ": "  # elsewhere: its name only
    return md(f"{name}{what}; check that the file is there and readable, or ask the operator.")


def plot_text(value: object) -> str:
    """``value`` for a Plotly label or title: its HTML-like tags shown, not followed."""
    return html.escape(_NEWLINES.sub(" ", str(value)), quote=False)
