"""One self-contained HTML report of a trained model, for people who will not open the app.

:func:`build_report` reads what a training wrote into the model's folder (``config.json``,
``run.json``, ``report.json``, ``history.csv``, ``split.csv``, ``predictions.csv`` and, when there,
``robustness.json``) and returns one HTML page: a model card (what it does and does not do, training
data, split, settings, when and how it was trained), the test scores with the confusion matrix and a
per-emotion table, training curves, the robustness chart, a few misclassified clips to listen to, and
known limitations. Plotly's JavaScript and the clips are inlined, so the file opens offline in any
browser and nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from pathlib import Path

import numpy as np

from ser.errors import ModelError

__all__ = ["build_report", "write_report_html", "MAX_CLIPS"]

MAX_CLIPS = 4
CLIP_S = 4.0

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1f2330;line-height:1.45}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}h2{border-bottom:2px solid #5b5bd6;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right}
th{background:#f3f4f8}td:first-child,th:first-child{text-align:left}
.metrics{display:flex;gap:1.5em;flex-wrap:wrap}.metric{background:#f3f4f8;border-radius:8px;padding:.6em 1em}
.metric b{display:block;font-size:1.6em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.clip{display:flex;align-items:center;gap:1em;margin:.4em 0}.note{color:#666;font-size:.9em}
"""


def _load(model_dir: Path) -> dict:
    from ser.results.evaluate import read_results

    results = read_results(model_dir)
    if results["report"] is None:
        raise ModelError(f"{model_dir}: has no report.json; its training did not reach evaluation, so there is "
                         "nothing to report. Train it again.")
    return results


def _table(rows: list[list], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(fig, div_id: str) -> str:
    height = f"{fig.layout.height or 450}px"  # the chart's own height, not its container's
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, default_height=height,
                       config={"displaylogo": False})


def _licence(labels_csv: Path | None) -> str:
    """The licence line of the dataset's README (beside its all_labels.csv), if it names one."""
    if labels_csv is None:
        return ""
    for readme in (labels_csv.parent / "README.md", labels_csv.parent / "README.txt"):
        try:
            lines = [ln.strip(" #*-") for ln in readme.read_text(errors="replace").splitlines()]
        except OSError:
            continue
        for ln in lines:  # a named licence: "CC BY-NC-SA 4.0", "CC0 1.0", "MIT", "Apache-2.0"
            m = re.search(r"CC[ -]BY(?:-[A-Z]{2})*(?: \d\.\d)?|CC0(?: 1\.0)?|\bMIT\b|Apache[- ]2\.0", ln)
            if m:
                return f"{m.group(0)} (from the dataset's {readme.name})"
    return ""


def _machine(text: str) -> str:
    """The machine a run names, without its host name (runs before this wrote ``host arch N cores``)."""
    words = str(text).split()
    return " ".join(words[1:]) if len(words) == 4 and words[-1] == "cores" else str(text)


def _clip_audio(path: Path) -> str:
    """A clip as an inline 16 kHz mono 16-bit WAV data URI (its first 4 s: about 128 kB)."""
    import soundfile as sf

    from ser.audio.reader import finish_audio, read_audio

    raw = read_audio(path)
    y, sr = finish_audio(raw), raw.sr
    y = y[: int(CLIP_S * sr)]
    buf = io.BytesIO()
    sf.write(buf, np.clip(y / max(float(np.abs(y).max()), 1e-9) * 0.9, -1, 1), sr, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode()


def build_report(model_dir: str | Path) -> str:
    """The HTML report of the model in ``model_dir``.

    Raises
    ------
    ModelError
        When the folder is missing or holds no ``report.json``.
    """
    import plotly.offline

    from ser.results.figures import confusion_figure, curves_figure, f1_figure, robustness_figure
    from ser.results.evaluate import clip_folders
    from ser.paths import find_clip, from_portable, redact
    from ser.results.summary import (chance_level, emotions_present, held_out_speakers, misclassified,
                                     per_corpus_table)

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: no such model folder; pick one under models/.")
    d = _load(model_dir)
    report, run, config = d["report"], d["run"], d["config"]
    train_cfg = config.get("train", {})
    emotions = emotions_present(report)
    labels_csv = from_portable(run["labels"]) if run.get("labels") else None
    split = d["split"]
    e = html.escape
    parts = [f"<h1>Speech emotion model “{e(model_dir.name)}”</h1>",
             f"<p class='sub'>Report generated {dt.datetime.now():%Y-%m-%d %H:%M} by <code>python -m ser report</code>"
             f"{' · trained ' + e(run['finished']) if run.get('finished') else ''}</p>"]

    corpora = run.get("corpora") or {}
    trained_on = (", ".join(f"{name} ({', '.join(c.get('emotions', []))})" for name, c in corpora.items())
                  if corpora else "actors reading fixed sentences (RAVDESS)")
    languages = ("Trained on several corpora (above); other languages and accents were measured only where the "
                 "leave-one-corpus-out table of the model's README says so." if corpora else
                 "English, North American actors: other languages and accents were not measured.")

    # Model card
    parts.append("<h2 id='model-card'>Model card</h2>")
    parts.append(
        "<p><b>What it does.</b> Listens to a short recording of one person speaking and says which of "
        f"{len(config.get('emotions', emotions))} emotions it hears ({e(', '.join(config.get('emotions', emotions)))}), "
        "with a probability for each. Recordings without speech (noise, tones, silence) get no emotion. Longer "
        "recordings are scored window by window.</p>"
        "<p><b>What it does not do.</b> It does not read words or meaning, does not identify the speaker, and is not "
        "a measure of anyone's real feelings: it recognises how acted emotions sound. It is not fit for decisions "
        "about people (hiring, health, security).</p>")
    card = [["preset", train_cfg.get("preset", "?")],
            ["networks averaged", train_cfg.get("ensemble_size", 1)],
            ["summary networks averaged with them", train_cfg.get("summary_members", 0)],
            ["encoder member (a regression on a pretrained voice encoder) averaged with them",
             "yes" if train_cfg.get("encoder_member") else "no"],
            ["epochs (most) / patience", f"{train_cfg.get('epochs', '?')} / {train_cfg.get('patience_epochs', '?')}"],
            ["learning rate", train_cfg.get("learning_rate", "?")],
            ["augmentation of training clips", "on" if config.get("augment", {}).get("enabled") else "off"],
            ["split", train_cfg.get("split_mode", "speaker")],
            ["seed", train_cfg.get("seed", "?")]]
    if split is not None:
        counts = split["split"].value_counts()
        card.append(["clips (train / validation / test)",
                     " / ".join(str(int(counts.get(s, 0))) for s in ("train", "val", "test"))])
        if "speaker" in split:
            for part, label in (("train", "training speakers"), ("val", "validation speakers"),
                                ("test", "held-out test speakers")):
                spk = held_out_speakers(split, part=part)
                card.append([label, f"{len(spk)}: {', '.join(spk)}" if part != "train" else len(spk)])
    card += [["training data", ", ".join(f"{n}: {c.get('labels', '?')}" for n, c in corpora.items())
              if corpora else str(run.get("labels", "?"))],
             ["licence of the data", "; ".join(f"{n}: {_licence(from_portable(c['labels'])) or 'see its README'}"
                                               for n, c in corpora.items()) if corpora else
              _licence(labels_csv) or "see the dataset's README"],
             ["trained", run.get("finished", "?")],
             ["wall time", f"{run['wall_s']:.0f} s" if isinstance(run.get("wall_s"), (int, float)) else "?"],
             ["command", redact(str(run.get("command", "?")))],
             ["machine", f"{_machine(run.get('machine', '?'))}, Python {run.get('python', '?')}"]]
    parts.append(_table(card, ["", ""]))
    if split is not None:
        per = split.pivot_table(index="split", columns="emotion", values="path", aggfunc="count", fill_value=0)
        per = per.reindex([s for s in ("train", "val", "test") if s in per.index])
        parts.append("<p>Clips per emotion in each part of the split:</p>")
        parts.append(_table([[i, *map(int, r)] for i, r in zip(per.index, per.to_numpy())], ["split", *per.columns]))
    if report.get("speakers_overlap") or train_cfg.get("split_mode") == "clip":
        parts.append("<p><b>Speakers overlap:</b> the model was split by clip, so its test voices were also heard in "
                     "training; the scores below are higher than on new voices.</p>")

    # Scores
    chance = chance_level(report)
    personal = report.get("kind") == "personal"  # ser.serving.adapt: an estimate on the enrolment clips
    parts.append("<h2 id='scores'>" + ("Estimate on the enrolment clips, not a held-out test" if personal else
                                       "Scores on the held-out test speakers") + "</h2>"
                 + (f"<p><b>Personal model:</b> {e(report.get('estimate', ''))}.</p>" if personal else "")
                 + "<div class='metrics'>" + "".join(
        f"<div class='metric'>{e(k)}<b>{v}</b></div>" for k, v in (
            ("accuracy", f"{report['accuracy']:.1%}"), ("macro F1", f"{report['macro_f1']:.1%}"),
            ("UAR", f"{report['uar']:.1%}" if "uar" in report else "–"), ("test clips", report["n_clips"]),
            ("chance", f"{chance:.1%}"))) + "</div>")
    parts.append("<p class='note'>Macro F1 and UAR (unweighted average recall) average over the "
                 f"{len(emotions)} emotions present in the test clips, each counting equally.</p>")
    if report.get("per_corpus"):
        parts.append("<h3 id='per-corpus'>Per corpus</h3><p class='note'>Each corpus's own test speakers. Restricted "
                     "UAR: the answer among the corpus's own emotions only.</p>")
        table = per_corpus_table(report["per_corpus"]).drop(columns=["accuracy"])
        parts.append(_table(table.to_numpy().tolist(), list(table.columns)))
    parts.append("<div class='grid'><div>" + _figure(confusion_figure(report, normalise=True), "confusion")
                 + "</div><div>" + _figure(f1_figure(report["per_class"]), "f1") + "</div></div>")
    rows = [[emo, f"{v['precision']:.0%}", f"{v['recall']:.0%}", f"{v['f1']:.0%}", int(v["support"])]
            for emo, v in report["per_class"].items()]
    parts.append(_table(rows, ["emotion", "precision", "recall", "F1", "test clips"]))

    if d["history"] is not None:
        parts.append("<h2 id='training'>Training curves</h2><div class='grid'><div>"
                     + _figure(curves_figure(d["history"], metric="loss"), "loss") + "</div><div>"
                     + _figure(curves_figure(d["history"], metric="accuracy"), "accuracy") + "</div></div>")

    rob = d["robustness"]
    parts.append("<h2 id='robustness'>Robustness to recording conditions</h2>")
    if rob:
        parts.append(f"<p>{e(rob.get('summary', ''))}</p>" + _figure(robustness_figure(rob["conditions"]), "robustness"))
        parts.append(_table([[r["label"], f"{r['accuracy']:.0%}", f"{r['macro_f1']:.0%}", f"{r['agreement']:.0%}"]
                             for r in rob["conditions"]], ["condition", "accuracy", "macro F1", "same answer as clean"]))
    else:
        parts.append("<p>This model has no robustness report (<code>python -m ser robustness --model ...</code> "
                     "makes one).</p>")

    preds = d["predictions"]
    parts.append("<h2 id='misclassified'>Misclassified test clips</h2>")
    if preds is not None and len(preds):
        wrong = misclassified(preds)
        parts.append(f"<p>{len(wrong)} of {len(preds)} test clips were misclassified. A few to listen to:</p>")
        shown = 0
        for row in wrong.itertuples(index=False):
            clip = find_clip(row.path, clip_folders(run))
            if clip is None:
                continue
            try:
                src = _clip_audio(clip)
            except Exception:  # an unreadable clip is left out of the report, not a reason to fail it
                continue
            parts.append(f"<div class='clip'><audio controls preload='none' src='{src}'></audio><span>"
                         f"<b>{e(row.path)}</b>: true <b>{e(row.true)}</b>, predicted <b>{e(row.predicted)}</b>"
                         "</span></div>")
            shown += 1
            if shown == MAX_CLIPS:
                break
        if not shown:
            elsewhere = any((folder / path).is_file() for folder in clip_folders(run) for path in wrong.path)
            parts.append("<p class='note'>(" + (
                "the clips are on this machine, but outside the folders this dashboard may read: the operator "
                "can allow their folder with $SER_DATA_ROOTS" if elsewhere else
                "the clips are not on the machine that made this report") + ")</p>")

    parts.append("<h2 id='limitations'>Known limitations</h2><ul>"
                 f"<li><b>Acted speech.</b> Trained on {e(trained_on)}; spontaneous emotion is subtler and mixed, and "
                 "scores on it will be lower.</li>"
                 f"<li><b>Languages.</b> {e(languages)}</li>"
                 "<li><b>Recording conditions.</b> Trained with simulated rooms, noise, phone lines and codecs, but "
                 "other voices in the background (babble) still cost the most; see the robustness chart.</li>"
                 "<li><b>Few voices.</b> Tested on a handful of held-out speakers; individual voices can differ a "
                 "lot from the averages above.</li>"
                 "<li><b>One emotion per recording.</b> It does not separate several speakers.</li></ul>")
    js = plotly.offline.get_plotlyjs()
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Model report: {e(model_dir.name)}</title><style>{_STYLE}</style>"
            f"<script>{js}</script></head><body>" + "\n".join(parts) + "</body></html>")


def write_report_html(model_dir: str | Path, out: str | Path) -> Path:
    """Write :func:`build_report` to ``out`` (through a temporary file, renamed when complete)."""
    import os

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = build_report(model_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
