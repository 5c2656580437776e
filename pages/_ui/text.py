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

__all__ = ["md", "plot_text"]

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all also breaks
# autolinks (``http\:\/\/``), Streamlit's ``:color[...]`` and ``:emoji:`` directives and ``$`` maths.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_NEWLINES = re.compile(r"[\r\n\u2028\u2029]+")


def md(value: object) -> str:
    """``value`` as text that Markdown shows literally, on one line: ``md("a_b")`` is ``a\\_b``."""
    text = _NEWLINES.sub(" ", str(value))
    return _PUNCTUATION.sub(r"\\\1", text)


def plot_text(value: object) -> str:
    """``value`` for a Plotly label or title: its HTML-like tags shown, not followed."""
    return html.escape(_NEWLINES.sub(" ", str(value)), quote=False)
