"""The sidebar's housekeeping, on every page: the feature cache's size with a button to clear it,
and worker processes that a crashed run left behind."""

from __future__ import annotations

import streamlit as st


@st.cache_data(ttl=30, show_spinner=False)
def cache_size_bytes(directory: str) -> int:
    from ser.features.cache import FeatureCache

    return FeatureCache(directory).size_bytes()


def sidebar() -> None:
    from ser.features.cache import FeatureCache, cache_max_bytes, default_cache_dir
    from ser.parallel.workers import stale_workers, stop_stale_workers

    from pages._ui.operator import sidebar_panel, who

    operator = who().operator  # stopping processes and clearing the cache are the operator's
    sidebar_panel()
    stale = stale_workers()
    with st.sidebar:
        if stale:
            st.warning(f"{len(stale)} worker process(es) of an earlier run are still running although their run "
                       f"ended (pids {', '.join(str(r['pid']) for r in stale[:5])}); they hold memory.")
            if not operator:
                st.caption("Only the operator can stop them.")
            if st.button("Stop them", key="hk_stop_workers", disabled=not operator) and operator:
                st.toast(f"Stopped {stop_stale_workers()} worker process(es).")
                st.rerun()
        directory = str(default_cache_dir())
        size = cache_size_bytes(directory)
        with st.expander(f"Feature cache: {size / 2**20:,.0f} MB"):
            st.caption(f"Features of clips already seen, so that training again starts at once. Kept under "
                       f"{cache_max_bytes() / 2**20:,.0f} MB (`SER_CACHE_MAX_MB`); the least recently used go "
                       "first. Clearing only costs time: features are computed again when needed.")
            if not operator:
                st.caption("Only the operator can clear it.")
            if st.button("Clear the feature cache", key="hk_clear_cache", disabled=size == 0 or not operator) \
                    and operator:
                freed = FeatureCache(directory).clear()
                cache_size_bytes.clear()
                st.toast(f"Cleared {freed / 2**20:,.0f} MB.")
                st.rerun()
