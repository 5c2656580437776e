"""“Tune to my voice”: a personal model from a few labelled clips of one speaker, made on the Predict page.

The work is :func:`ser.serving.adapt.adapt` (the frozen network with a small head fitted to the speaker's
clips; at most a minute on a laptop CPU); this module picks the clips, says what is still missing, runs it
in the page's own script run behind a progress bar, and selects the new model in the picker.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._ui.operator import who
from pages._ui.state import models_dir, short
from pages._ui.text import md
from ser import SerError

__all__ = ["personal_panel", "tune_form", "clips_per_emotion", "personal_evaluation"]


def clips_per_emotion(labels, speaker: str, emotions) -> dict[str, int]:
    """Clips of ``speaker`` in ``labels`` (a frame of :func:`ser.datasets.labels.read_labels`) per emotion of
    ``emotions`` (the base model's), in that order."""
    from ser.datasets.recording import collection_status

    mine = labels[labels["speaker"] == speaker]
    per = collection_status(list(zip(mine["emotion"].fillna(""), mine["speaker"]))).per_emotion
    return {e: per.get(e, 0) for e in emotions}


def _make(model_dir: Path, csv: str, speaker: str, *, name: str, emotions: list[str], key: str) -> None:
    """Run the adaptation in this script run, its progress drawn; on success select the new model and rerun."""
    from ser.paths import check_name
    from ser.serving.adapt import adapt

    bar = st.progress(0.0, text="Starting…")
    try:
        out = models_dir() / check_name(name.strip(), what="model name")
        result = adapt(model_dir, csv, out_dir=out, speaker=speaker, emotions=emotions, by=who(),
                       progress=lambda fraction, message: bar.progress(min(max(float(fraction), 0.0), 1.0),
                                                                       text=md(message)))
    except SerError as exc:
        bar.empty()
        st.error(md(exc))
        return
    r, base = result.report, result.report.get("base") or {}
    st.session_state[f"{key}_result"] = {
        "name": out.name, "warnings": list(result.warnings),
        "line": (f"Made the personal model “{out.name}” from {result.n_clips} clips of {result.speaker} "
                 f"({', '.join(result.emotions)}) in {result.seconds:.1f} s. Estimated on those clips "
                 f"(leaving each out in turn): macro F1 {r.get('macro_f1', 0):.0%} against "
                 f"{base.get('macro_f1', 0):.0%} for “{model_dir.name}” among the same emotions. It is selected "
                 "above; the Evaluate page compares or removes it."),
    }
    st.session_state["p_model_next"] = out.name  # the picker takes it on the rerun (it is drawn already)
    st.rerun()


def _made_or_personal(model_dir: Path, *, key: str) -> bool:
    """Show the model the form ``key`` made last, if any; whether ``model_dir`` is a personal model (said in a
    line: a personal model is not tuned further)."""
    from ser.model_folder import ModelFolder

    done = st.session_state.get(f"{key}_result")
    if done:
        st.success(md(done["line"]))
        for warning in done["warnings"]:
            st.warning(md(warning))
    folder = ModelFolder(model_dir)
    if folder.is_personal():
        origin = Path(str(folder.adapted().get("base", "default"))).name
        st.info(f"“{md(model_dir.name)}” is a personal model: to tune again, pick the model it was adapted "
                f"from (“{md(origin)}”) above.")
        return True
    return False


def tune_form(model_dir: Path, csv: str, speaker: str, *, key: str) -> None:
    """The clips ``speaker`` has in ``csv`` per emotion, what is still needed, a name, and “Make my model”.

    Parameters
    ----------
    model_dir : the base model
    csv : the ``all_labels.csv`` of the speaker's clips
    speaker : whose clips
    key : unique on the page (the tab and a correction form each draw one)
    """
    from pages._ui.datasets import labels_or_error
    from ser.model_folder import ModelFolder
    from ser.serving.adapt import MIN_CLIPS_PER_EMOTION_ADAPT as NEED

    if _made_or_personal(model_dir, key=key):
        return
    base = ModelFolder(model_dir)
    labels, _ = labels_or_error(csv)
    if labels is None:
        return
    try:
        known = list(base.config().emotions)
    except (SerError, OSError, ValueError) as exc:
        st.error(md(exc))
        return
    counts = clips_per_emotion(labels, speaker, known)
    have = [e for e in known if counts[e]]
    clips_for = (csv, speaker, tuple(known), tuple(have))
    if st.session_state.get(f"{key}_emotions_for") != clips_for:  # other clips (or more): the emotions they have
        st.session_state[f"{key}_emotions"] = have
        st.session_state[f"{key}_emotions_for"] = clips_for
    chosen = st.multiselect("Emotions to tune", known, key=f"{key}_emotions",
                            help=f"Each needs at least {NEED} clips of {speaker}; the personal model answers "
                                 "among these only.")
    import pandas as pd

    table = pd.DataFrame({"clips": [counts[e] for e in chosen],
                          "still needed": [max(0, NEED - counts[e]) for e in chosen]}, index=chosen).T
    if chosen:
        st.dataframe(table, width="stretch", key=f"{key}_counts")
    short_of = [f"{e}: {NEED - counts[e]} more" for e in chosen if counts[e] < NEED]
    if short_of or len(chosen) < 2:
        st.caption(("Still needed — " + md("; ".join(short_of)) + ". " if short_of else "Choose at least two "
                    "emotions. ") + f"Record more on the **Dataset** page (*Record clips*, dataset "
                   f"“{md(Path(csv).parent.name)}”, speaker “{md(speaker)}”), or correct more predictions here.")
    name_key = f"{key}_name"
    if st.session_state.get(f"{name_key}_for") != (str(model_dir), speaker):  # a new base or speaker: a new default
        st.session_state[name_key] = f"{model_dir.name}-{speaker}"[:80]
        st.session_state[f"{name_key}_for"] = (str(model_dir), speaker)
    st.text_input("Name of your model", key=name_key,
                  help="Letters, digits, '.', '_' or '-'; a personal model of yours under that name is replaced.")
    st.caption(f"Takes up to a minute; the page waits for it. “{md(model_dir.name)}” itself is not changed.")
    if st.button("Make my model", type="primary", key=f"{key}_make"):
        _make(model_dir, csv, speaker, name=st.session_state.get(name_key, ""), emotions=list(chosen), key=key)


def personal_panel(model_dir: Path) -> None:
    """The “🎯 Tune to my voice” tab: pick a dataset and its speaker, see what is missing, make the model."""
    from pages._ui.datasets import DEMO_LABELS, known_datasets, labels_or_error

    st.markdown("A model tuned to one voice hears that voice's emotions far better than one made for everybody. "
                "Give it a few labelled clips of one speaker (at least two per emotion) and it gets a personal "
                "head in under a minute; the network itself is not changed.")
    if _made_or_personal(model_dir, key="tune"):
        return
    options = known_datasets()
    if st.session_state.get("p_tune_dataset") not in options:
        from ser.paths import datasets_dir

        mine = [o for o in options if Path(o).resolve().parent.parent == datasets_dir()  # made in the browser first
                and Path(o).resolve() != DEMO_LABELS.resolve()]
        st.session_state["p_tune_dataset"] = (mine or options or [None])[0]
    csv = st.selectbox("Clips of your voice", options, key="p_tune_dataset", format_func=short,
                       help="A dataset made with Record clips on the Dataset page, or with “That's not right” "
                            "corrections here.")
    if not csv:
        st.info("No dataset yet: record clips on the **Dataset** page (*Record clips*).")
        return
    labels, _ = labels_or_error(csv)
    if labels is None:
        return
    speakers = sorted({s for s in labels["speaker"] if s})
    if not speakers:
        st.info(f"{md(short(csv))} names no speaker: a personal model is for one voice, so its clips need one.")
        return
    if st.session_state.get("p_tune_speaker") not in speakers:
        st.session_state["p_tune_speaker"] = speakers[0]
    speaker = st.selectbox("Speaker", speakers, key="p_tune_speaker")
    tune_form(model_dir, csv, speaker, key="tune")


# --- the Evaluate page's view of a personal model ---------------------------------------------------

def _remove(model_dir: Path, base: str | None) -> None:
    """Remove the personal model (a button's callback) and go back to its base in the picker."""
    from ser.training.runs import remove_model

    try:
        remove_model(model_dir.parent, model_dir.name, by=who())
    except SerError as exc:
        st.session_state["ev_remove_error"] = str(exc)
        return
    st.session_state.pop("ev_remove_sure", None)
    st.session_state["p_model_next"] = base or ""
    st.toast(f"Removed the personal model “{md(model_dir.name)}”.")


def _base_dir(made: dict) -> Path | None:
    """The model a personal model was adapted from, where it still is on this machine."""
    from ser.model_folder import ModelFolder
    from ser.paths import from_portable

    base = from_portable(made["base"]) if made.get("base") else None
    return base if base is not None and ModelFolder(base).has_model() else None


def personal_evaluation(model_dir: Path, data: dict) -> None:
    """The Evaluate page for a personal model: what it was adapted from and on what, its estimate beside the
    base model's on the same clips, both on another labelled folder, and a way to remove it.

    Parameters
    ----------
    model_dir : the personal model's folder
    data : its :func:`ser.results.evaluate.read_results`
    """
    import json

    from pages._ui.datasets import dataset_picker
    from ser.access import why_not_change
    from ser.model_folder import ModelFolder
    from ser.results.figures import confusion_figure, f1_comparison_figure
    from ser.results.summary import per_class_table

    folder = ModelFolder(model_dir)
    made, report = folder.adapted(), data["report"]
    base = report.get("base") or {}
    base_dir = _base_dir(made)
    base_name = base_dir.name if base_dir else Path(str(made.get("base", "the base model"))).name
    speaker = made.get("speaker") or report.get("speaker") or "one speaker"
    per = ", ".join(f"{e} {n}" for e, n in (made.get("clips_per_emotion") or {}).items())
    st.subheader(f"🎯 Personal model of {md(speaker)}")
    st.caption(f"Adapted from “{md(base_name)}” on {made.get('n_clips', '?')} clips of {md(speaker)} "
               f"({md(per)}) in {made.get('seconds', '?')} s ({md(made.get('created', ''))}). It answers among "
               f"{md(', '.join(made.get('emotions') or []))} only; “{md(base_name)}” itself is unchanged.")
    st.info("These scores are an estimate, not a test on voices the model never heard: "
            + md(report.get("estimate", "leave-one-clip-out on the enrolment clips")) + ".")
    cols = st.columns(3)
    for col, k, label in zip(cols, ("macro_f1", "uar", "accuracy"), ("Macro F1", "UAR", "Accuracy")):
        if k in report:
            delta = f"{100 * (report[k] - base[k]):+.0f} points against “{base_name}”" if k in base else None
            col.metric(label, f"{report[k]:.0%}", delta=delta)
    if report.get("per_class") and base.get("per_class"):
        st.plotly_chart(f1_comparison_figure({f"{base_name} (same clips)": base["per_class"],
                                              model_dir.name: report["per_class"]}),
                        width="stretch", key="ev_personal_f1")
    if report.get("confusion"):
        left, right = st.columns([3, 2])
        left.plotly_chart(confusion_figure(report, normalise=True), width="stretch", key="ev_personal_cm")
        right.dataframe(per_class_table(report).style.format({"precision": "{:.0%}", "recall": "{:.0%}",
                                                              "f1": "{:.0%}", "accuracy": "{:.0%}"}),
                        width="stretch")

    with st.expander(f"Evaluate it beside “{md(base_name)}” on another labelled folder (e.g. more clips of "
                     f"{md(speaker)})"):
        csv = dataset_picker("Labelled folder")
        if st.button("Evaluate both", key="ev_personal_both") and csv:
            from ser.results.evaluate import evaluate_model

            emotions = list(made.get("emotions") or [])
            try:
                with st.spinner("Extracting features and predicting with both models…"):
                    mine = evaluate_model(model_dir, csv, folder.derived_dir() / "evaluations" / Path(csv).parent.name)
                    theirs = (evaluate_model(base_dir, csv, ModelFolder(base_dir).derived_dir() / "evaluations"
                                             / f"{Path(csv).parent.name}-among-{len(emotions)}", emotions=emotions)
                              if base_dir else None)
            except SerError as exc:
                st.error(md(exc))
            else:
                a, b = st.columns(2)
                for col, name, r in ((a, model_dir.name, mine), (b, f"{base_name} (among the same emotions)", theirs)):
                    if r:
                        col.metric(f"{md(name)}: macro F1", f"{r['macro_f1']:.1%}",
                                   help=f"{r['n_clips']} clips scored, {r['n_skipped']} skipped")
                st.caption(f"{mine['n_clips']} clips of {md(short(csv))}; a clip that was also an enrolment clip flatters "
                           "the personal model.")

    d1, d2 = st.columns(2)
    d1.download_button("Report (JSON)", json.dumps(report, indent=2), file_name=f"{model_dir.name}-report.json",
                       mime="application/json", key="ev_personal_json")
    card = model_dir / "README.md"
    if card.is_file():
        d2.download_button("Model card (Markdown)", card.read_text(encoding="utf-8", errors="replace"),
                           file_name=f"{model_dir.name}-README.md", mime="text/markdown", key="ev_personal_card")

    st.subheader("Remove this personal model")
    why = why_not_change(model_dir, who(), what="model")
    if why:
        st.caption(md(why))
        return
    st.checkbox(f"Yes, remove “{md(model_dir.name)}” (its folder is deleted)", key="ev_remove_sure")
    st.button("Remove this personal model", key="ev_remove", disabled=not st.session_state.get("ev_remove_sure"),
              on_click=_remove, args=(model_dir, base_dir.name if base_dir and base_dir.parent == model_dir.parent
                                      else None))
    if st.session_state.get("ev_remove_error"):
        st.error(md(st.session_state.pop("ev_remove_error")))
