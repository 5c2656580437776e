"""Who is using the page: a visitor, or the operator once signed in; the sidebar's sign-in and the
operator's own panel. The rules are :mod:`ser.access`; this module only asks who is there.

The operator signs in with ``operator_password`` from ``.streamlit/secrets.toml`` (compared in constant
time, never shown), or is recognised by Streamlit's own authentication: a logged-in ``st.user`` whose
email is in ``operator_emails``. With neither configured, nobody is the operator.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import streamlit as st

from pages._ui.text import md
from ser import SerError
from ser.access import Visitor

OWNER_KEY = "ser_owner"  # not a widget key: a browser cannot set it
OPERATOR_KEY = "ser_operator"


def _secret(name: str):
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets.toml at all, or one that does not parse: nothing is configured
        return None


def configured_password() -> str | None:
    value = _secret("operator_password")
    return value if isinstance(value, str) and value else None


def _account() -> str | None:
    """The email of a user logged in with Streamlit's authentication, or ``None``."""
    try:
        if st.user.is_logged_in:
            email = st.user.get("email")
            return str(email) if email else None
    except Exception:  # no [auth] configured
        pass
    return None


def who() -> Visitor:
    """The person using this session: their owner id (their account's, when logged in; else one made for
    this browser session) and whether they are the operator."""
    account = _account()
    if account:
        owner = f"user:{account}"
    else:
        owner = st.session_state.get(OWNER_KEY)
        if not isinstance(owner, str) or not owner:
            owner = st.session_state[OWNER_KEY] = secrets.token_hex(16)
    emails = _secret("operator_emails") or []
    by_account = bool(account) and isinstance(emails, (list, tuple)) and account in [str(e) for e in emails]
    signed_in = st.session_state.get(OPERATOR_KEY) is True and configured_password() is not None
    return Visitor(owner, operator=by_account or signed_in)


def _sign_in() -> None:
    from ser.access import check_password

    given = str(st.session_state.get("op_password") or "")
    st.session_state["op_password"] = ""  # the password is kept nowhere, not even in the field
    try:
        ok = check_password(given, configured_password())
    except SerError as exc:
        st.session_state["op_error"] = str(exc)
        return
    if ok:
        st.session_state[OPERATOR_KEY] = True
        st.session_state.pop("op_error", None)
    else:
        st.session_state["op_error"] = "Wrong operator password."


def _sign_out() -> None:
    st.session_state.pop(OPERATOR_KEY, None)


def _browser_made() -> list[tuple[str, Path]]:
    from pages._ui.state import models_dir
    from ser.access import browser_made
    from ser.paths import datasets_dir

    found = []
    for what, root in (("dataset", datasets_dir()), ("model", models_dir())):
        if root.is_dir():
            folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
            found += [(what, p) for p in browser_made(folders)]
    return found


def _delete(what: str, folder: Path) -> None:
    from ser.access import delete

    try:
        delete(folder, who(), what=what)
    except (SerError, OSError) as exc:
        st.session_state["op_error"] = str(exc) if isinstance(exc, SerError) else f"“{folder.name}”: not deleted."
        return
    st.session_state["op_done"] = f"Deleted the {what} “{folder.name}”."


def sidebar_panel() -> None:
    """The sidebar's Operator section: sign in or out, and delete what visitors made."""
    person = who()
    with st.sidebar.expander("Operator", expanded=bool(st.session_state.get("op_error"))):
        if person.operator:
            st.caption("Signed in as the operator: you may replace or delete what visitors made, stop any "
                       "training, and keep the server tidy. Protected data (the demo, your corpora, "
                       "models/default) is changed with the command line only.")
            made = _browser_made()
            if made:
                labels = {f"{what}: {p.name}": (what, p) for what, p in made}
                choice = st.selectbox("Made in the browser", list(labels), key="op_delete_choice")
                sure = st.checkbox("Yes, delete it", key="op_delete_sure")
                st.button("Delete", key="op_delete", disabled=not sure, on_click=_delete, args=labels[choice])
            else:
                st.caption("Nothing made in the browser to delete.")
            if "user:" not in person.owner:
                st.button("Sign out", key="op_sign_out", on_click=_sign_out)
        elif configured_password() is None and not _secret("operator_emails"):
            st.caption("No operator password is set (`operator_password` in `.streamlit/secrets.toml`): "
                       "nobody has the operator's actions here.")
        else:
            st.caption("Visitors create datasets and models under new names and change only their own. "
                       "The operator signs in here.")
            if configured_password() is not None:
                with st.form("op_sign_in", clear_on_submit=True, border=False):
                    st.text_input("Operator password", type="password", key="op_password")
                    st.form_submit_button("Sign in", on_click=_sign_in)
            if _secret("auth") and not _account():
                st.button("Log in", key="op_log_in", on_click=st.login)
        if st.session_state.get("op_error"):
            st.error(md(st.session_state.pop("op_error")))
        if st.session_state.get("op_done"):
            st.success(md(st.session_state.pop("op_done")))
