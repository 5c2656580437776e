"""Command line: ``python -m ser {labels,validate,train,cv,evaluate,robustness,predict,export,report}``.

Each command prints one line per problem naming the file, and exits 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from pathlib import Path

from ser.errors import SerError
from ser.parallel.cluster import checked_address, cluster_address
from ser.outputs import CV_FILES, EVALUATE_FILES, check_model_target, check_output_file, check_output_folder


def _line(text: object) -> str:
    """``text`` as one line: every character that does not print (a newline, a carriage return, a
    terminal escape) shown as its Python escape (``\\n``, ``\\x1b``), so a file or labels path with a
    newline in its name can never forge a line of output."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _print(msg: object, file=None) -> None:
    """Print one line of output (:func:`_line`) to ``file`` (default standard output)."""
    print(_line(msg), file=file or sys.stdout, flush=True)


def _say(msg: str) -> None:
    _print(msg, file=sys.stderr)


def cmd_labels(a: argparse.Namespace) -> int:
    from ser.datasets.labels import labels_from_scheme

    out = check_output_file(Path(a.out) if a.out else Path(a.root) / "all_labels.csv", command="labels")
    frame, skipped = labels_from_scheme(a.root, scheme=a.scheme)
    from ser.csvsafe import write_csv

    write_csv(frame, out)
    _print(f"wrote {len(frame)} rows to {out}; skipped {len(skipped)} files whose name or emotion did not fit "
           f"the {a.scheme} scheme" + (f" (first: {skipped[0]})" if skipped else ""))
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    """Every problem row by row, then what the usable clips allow: training at all, a speaker split.

    Exit 1 when a row has a problem or the clips cannot be trained on; 2 when the file is not a labels CSV
    or no row is usable.
    """
    from ser.datasets.labels import (no_usable_clip, read_labels, speaker_split_problem, training_problem, usable_rows,
                            validate_labels)

    labels = read_labels(a.csv)
    problems = validate_labels(labels)
    for p in problems:
        _print(f"row {p.row}: {p.path}: {p.problem}")
    usable = usable_rows(labels, problems)
    _print(f"{len(labels)} rows, {len(problems)} problems, {len(usable)} usable clips")
    if usable.empty:  # nothing at all to train or evaluate on: an error, exit 2 (the rows above say why)
        raise no_usable_clip(a.csv, problems)
    cannot = training_problem(usable)
    if cannot:
        _print(f"cannot train: {cannot}")
        return 1
    no_speakers = speaker_split_problem(usable)
    if no_speakers:
        _print(f"speaker split: not possible: {no_speakers}; train with --split-mode clip to let speakers overlap "
               "(its scores are then on voices heard in training), or name more speakers")
    else:
        _print(f"speaker split: possible ({usable['speaker'].nunique()} speakers, at least 3 of every emotion)")
    return 1 if problems else 0


def cmd_train(a: argparse.Namespace) -> int:
    from ser.errors import Stopped
    from ser.paths import check_name
    from ser.model_folder import ModelFolder
    from ser.training.runs import claim, finish, staging_dir_for
    from ser.training.train import train

    config = _config(a)
    # --cluster, else $SER_CLUSTER: run by hand, a scheduler that does not answer is refused before anything is
    # written (exit 2); a dashboard's run finds out in train(), so that its record says why
    cluster = cluster_address(a.cluster) if a.staging else checked_address(a.cluster)
    out = Path(a.out)
    if not a.staging:  # run by hand: refuse before anything is written beside it. A dashboard's run (--staging)
        check_name(out.name, what="model folder name")  # is refused by train() below, so its record says why
        check_model_target(out)  # never deletes a folder that is not a model made by ser
    staging = Path(a.staging) if a.staging else staging_dir_for(out)
    claim(out.parent, name=out.name, staging=staging)
    stop_file = ModelFolder(staging).stop_file
    signal.signal(signal.SIGTERM, lambda *_: stop_file.touch())

    def show(e: dict) -> None:
        st = e["stage"]
        if st == "start":
            overlap = "; speakers overlap" if e.get("speakers_overlap") else ""
            _say(f"{e['n_clips']} clips ({e['split_mode']} split{overlap}: {e['counts']}), preset {e['preset']}")
            if e.get("skipped"):
                _say(f"{e['skipped']} (see `python -m ser validate {a.labels[0]}`)")
            if e.get("speakers_overlap"):
                _say("clip split: speakers overlap, so the test scores are on voices heard in training")
        elif st == "features" and (e["step"] == e["total"] or e["step"] % 200 == 0):
            _say(f"features {e['step']}/{e['total']}")
        elif st == "epoch":
            _say(f"epoch {e['epoch']}/{e['epochs']} loss {e['loss']:.3f} acc {e['accuracy']:.3f} "
                 f"val_loss {e['val_loss']:.3f} val_acc {e['val_accuracy']:.3f} lr {e['lr']:.2g} "
                 f"({e['epoch_s']:.1f} s)")
        elif st == "export" and e.get("warning"):
            _say(f"warning: {e['warning']}")

    args = sys.argv[1:]
    if a.config and Path(a.config).parent == staging:  # a dashboard's run: its config.json is installed with the
        args = [str(out / Path(a.config).name) if x == a.config else x for x in args]  # model, where a rerun reads it
    command = "python -m ser " + shlex.join(args)
    try:
        result = train(a.labels, out, config, progress=show, should_stop=stop_file.exists,
                       cache_dir=a.cache_dir, staging=staging, command=command, cluster=cluster)
    except SerError as exc:
        finish(out.parent, status="failed", progress=ModelFolder(staging).progress_file, error=str(exc))
        raise
    except Stopped:
        finish(out.parent, status="stopped", progress=ModelFolder(staging).progress_file)
        _say(f"stopped; nothing was installed at {out}")
        return 3
    finish(out.parent, status="done", progress=ModelFolder(out).progress_file)
    r = result.report or {}
    _print(f"trained {out} in {result.wall_s:.0f} s; test accuracy {r.get('accuracy', float('nan')):.3f}, "
           f"macro F1 {r.get('macro_f1', float('nan')):.3f}, UAR {r.get('uar', float('nan')):.3f} on "
           f"{r.get('n_clips', 0)} held-out clips{_absent(r)}"
           + ("; clip split: speakers overlap" if r.get("speakers_overlap") else "")
           + f"; robustness in {ModelFolder(out).robustness_file}")
    for name, c in (r.get("per_corpus") or {}).items():
        _print(f"  {name}: macro F1 {c['macro_f1']:.3f}, UAR {c['uar']:.3f}, restricted UAR "
               f"{c['restricted']['uar'] or 0:.3f} on {c['n_clips']} test clips")
    return 0


SETTING = "setting:"
"""Where the flags derived from the config (:func:`_add_settings`) keep their values in the namespace."""


def _add_settings(p: argparse.ArgumentParser) -> None:
    """``--config FILE``, one flag per setting of the config and ``--set FIELD=VALUE``, for train and cv.

    The flags are read from the config's dataclasses (:func:`ser.config.settings`): the name with dashes
    (and any older name the field keeps as an alias), the help, type and choices of its field, and as
    default the preset's or the field's, shown and never retyped here: a new field is a new flag.
    """
    from ser.config import SECTIONS, settings

    p.add_argument("--config", default=None, metavar="FILE",
                   help="train with this config.json (the one saved next to every model) instead of a preset's; "
                        "the settings given below change it")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any setting by its field name, e.g. --set frame_dropout=0.1 (repeatable; applied last)")
    for section in SECTIONS:
        group = p.add_argument_group(f"{section} settings")
        for s in settings(section):
            if s.name == "preset":  # --preset chooses the other settings' defaults: an option of its own
                continue
            flags = ["--" + s.name.replace("_", "-"), *s.aliases]
            options = {"dest": SETTING + s.name, "default": argparse.SUPPRESS,
                       "help": f"{s.help} (default: {_default(s)})".replace("%", "%%")}
            if s.type is bool:
                group.add_argument(*flags, action=argparse.BooleanOptionalAction, **options)
            else:
                group.add_argument(*flags, type=s.type, choices=s.choices,
                                   metavar=None if s.choices else s.name.upper(), **options)


def _default(s) -> str:
    """A setting's default as its flag's help says it: the preset's own for each preset, or the field's."""
    def show(v: object) -> str:
        return ("on" if v else "off") if isinstance(v, bool) else "none" if v is None else \
            f"{v:g}" if isinstance(v, float) else str(v)

    if s.from_preset:
        return "the preset's: " + ", ".join(f"{k} {show(v)}" for k, v in s.by_preset().items())
    return show(s.default)


def _config(a: argparse.Namespace):
    """The config a train or cv run uses: ``--config FILE``'s or the preset's, with each setting's flag given
    and then each ``--set`` (last, so it wins, as it always did)."""
    from ser.config import Config, for_preset
    from ser.errors import ConfigError

    given = {k[len(SETTING):]: v for k, v in vars(a).items() if k.startswith(SETTING)}
    given.update(_overrides(a.set))
    if "preset" in given:  # it chooses the other settings' defaults: its name alone would mislabel the config
        raise ConfigError(f"--set preset={given['preset']}: choose the preset with --preset {given['preset']} "
                          "(it sets the defaults of the other settings).")
    if a.config is None:
        return for_preset(a.preset or "default", **given)
    if not Path(a.config).exists():
        raise ConfigError(f"--config {a.config}: no such file; name a config.json written by ser "
                          "(every model folder has one).")
    config = Config.load(a.config)
    if a.preset:
        raise ConfigError(f"--preset and --config: the config file names its preset ({config.train.preset}); "
                          "leave out --preset, or change single settings with their flags.")
    return config.with_settings(**given)


def _overrides(pairs: list[str]) -> dict:
    """``["frame_dropout=0.1", "pooling=last"]`` to ``{"frame_dropout": 0.1, "pooling": "last"}``."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SerError(f"--set {pair!r}: write it as FIELD=VALUE, e.g. --set frame_dropout=0.1.")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def cmd_cv(a: argparse.Namespace) -> int:
    from ser.training.cv import cross_validate

    if a.out:
        check_output_folder(a.out, command="cv", files=CV_FILES)
    config = _config(a)
    cluster = checked_address(a.cluster)

    def show(e: dict) -> None:
        if e["stage"] == "epoch":
            _say(f"fold {e['fold']} epoch {e['epoch']} val_loss {e['val_loss']:.3f} "
                 f"val_acc {e['val_accuracy']:.3f} ({e['epoch_s']:.1f} s)")
        elif e["stage"] == "fold":
            _say(f"fold {e['fold']} (speakers {', '.join(e['speakers'])}): accuracy {e['accuracy']:.3f}, "
                 f"macro F1 {e['macro_f1']:.3f} after {e['epochs_run']} epochs")

    if a.by == "corpus":
        from ser.training.cv import cross_validate_corpora

        def show_corpus(e: dict) -> None:
            if e["stage"] == "epoch":
                _say(f"without {e['held_out']}: epoch {e['epoch']} val_loss {e['val_loss']:.3f} "
                     f"val_acc {e['val_accuracy']:.3f} ({e['epoch_s']:.1f} s)")
            elif e["stage"] == "fold":
                _say(f"{e['held_out']} held out (trained on {', '.join(e['trained_on'])}): macro F1 "
                     f"{e['macro_f1']:.3f}, UAR {e['uar']:.3f}, restricted UAR {e['uar_restricted']:.3f} on "
                     f"{e['n_clips']} clips after {e['epochs_run']} epochs")

        r = cross_validate_corpora(a.labels, config, cache_dir=a.cache_dir, progress=show_corpus, out_dir=a.out,
                                   cluster=cluster)
        for name, c in r["corpora"].items():
            _print(f"{name}: macro F1 {c['macro_f1']:.3f}, UAR {c['uar']:.3f}, restricted UAR "
                   f"{c['uar_restricted']:.3f} over {', '.join(c['emotions'])} ({c['n_clips']} clips; most frequent "
                   f"answer {c['top_answer']} {c['top_answer_share']:.0%})")
        _print(f"leave-one-corpus-out over {len(r['corpora'])} corpora in {r['wall_s']:.0f} s"
               + (f"; details in {a.out}" if a.out else ""))
        return 0
    r = cross_validate(a.labels, config, n_folds=a.folds, cache_dir=a.cache_dir, progress=show, out_dir=a.out,
                       cluster=cluster)
    _print(f"{a.folds}-fold speaker cross-validation over {sum(len(f['speakers']) for f in r['folds'])} speakers "
           f"(test speakers {', '.join(r['test_speakers'])} left out): accuracy {r['accuracy']:.3f}, "
           f"macro F1 {r['macro_f1']:.3f} in {r['wall_s']:.0f} s" + (f"; details in {a.out}" if a.out else ""))
    return 0


def cmd_evaluate(a: argparse.Namespace) -> int:
    from ser.model_folder import ModelFolder
    from ser.results.evaluate import evaluate_model

    check_output_folder(a.out, command="evaluate", files=EVALUATE_FILES)
    report = evaluate_model(a.model, a.labels, a.out, cache_dir=a.cache_dir, emotions=a.emotions,
                            speaker_norm=a.speaker_norm)
    among = f" (answers among {', '.join(report['emotions_chosen'])})" if report.get("emotions_chosen") else ""
    among += (" with per-speaker normalisation (each speaker's own unlabelled clips)"
              if report.get("speaker_norm") else "")
    _print(f"accuracy {report['accuracy']:.3f}  macro F1 {report['macro_f1']:.3f}  UAR {report['uar']:.3f}  "
           f"on {report['n_clips']} clips{among}{_absent(report)} "
           f"({report['n_skipped']} skipped); report in {ModelFolder(a.out).report_file}")
    return 0


def _absent(report: dict) -> str:
    absent = report.get("emotions_absent") or []
    return f" (absent, so not averaged: {', '.join(absent)})" if absent else ""


def robustness_table(report: dict) -> str:
    """The robustness report as a plain-text table, clean first."""
    lines = [f"{'condition':<36} {'accuracy':>8} {'macro F1':>8} {'UAR':>6} {'agrees':>7}"]
    for r in report["conditions"]:
        lines.append(f"{r['label']:<36} {r['accuracy']:>8.3f} {r['macro_f1']:>8.3f} {r['uar']:>6.3f} "
                     f"{r['agreement']:>7.0%}")
    probes = ", ".join(f"{k}: " + (f"{v['emotion']} {v['confidence']:.2f}" if v.get("emotion")
                                 else "no speech detected" if v.get("refused") == "no speech detected" else "refused")
                       for k, v in report.get("non_speech", {}).items())
    return "\n".join(lines + ([f"no speech at all -> {probes}"] if probes else []) + [report.get("summary", "")])


def cmd_robustness(a: argparse.Namespace) -> int:
    from ser.results.robustness import ROBUSTNESS_FILE, measure_robustness

    def show(e: dict) -> None:
        if e["stage"] == "robustness" and (e["step"] == e["total"] or e["step"] % 50 == 0):
            _say(f"clips {e['step']}/{e['total']} under every condition")

    if a.out:
        check_output_file(a.out, command="robustness")
    report = measure_robustness(a.model, a.labels, out=a.out, split=a.split, cache_dir=a.cache_dir, progress=show)
    for line in robustness_table(report).splitlines():
        _print(line)
    _print(f"{report['n_clips']} clips ({report['n_skipped']} skipped){_absent(report)}; written to "
           f"{a.out or Path(a.model) / ROBUSTNESS_FILE}")
    return 0


def cmd_predict(a: argparse.Namespace) -> int:
    from ser.serving.predict import Predictor

    predictor = Predictor.load(a.model, runtime=a.runtime)
    chosen = predictor.choice(a.emotions)  # ConfigError (exit 2) before any file is read
    if predictor.fallback_reason:
        _print(f"note: predicting with Keras: {predictor.fallback_reason}", file=sys.stderr)
    status = 0
    for f in a.files:
        try:
            pred = predictor.predict_file(f, emotions=chosen)
        except SerError as exc:
            _print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        if a.json:
            print(json.dumps({"file": f, **pred.to_dict()}))
            continue
        for warning in pred.warnings:
            _print(f"warning: {warning}", file=sys.stderr)
        if pred.emotion is None:
            _print(f"{f}: {pred.reason}")
        else:
            top = ", ".join(f"{e} {p:.2f}" for e, p in sorted(pred.probabilities.items(), key=lambda kv: -kv[1])[:3])
            windows = f" from {pred.n_windows} windows of speech" if pred.n_windows > 1 else ""
            _print(f"{f}: {pred.emotion} ({top}){windows}")
    return status


def cmd_report(a: argparse.Namespace) -> int:
    from ser.results.report import write_report_html

    out = write_report_html(a.model, check_output_file(a.out, command="report"))
    _print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB; opens offline in any browser)")
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    import numpy as np

    from ser.model_folder import ModelFolder
    from ser.serving.export import EXPORT_FILE, export_onnx
    from ser.training.model import load_saved_model
    from ser.serving.predict import MODEL_FILES, Predictor

    model_dir = Path(a.model)
    if ModelFolder(model_dir).is_personal():
        raise SerError(f"{model_dir}: is a personal model: its {EXPORT_FILE} is all it has, made by ser adapt; "
                       "nothing to export (to make it again, run ser adapt on its base with its enrolment.csv).")
    Predictor.load(model_dir, runtime="keras")  # refuses a folder whose model and config disagree
    model, file = load_saved_model(model_dir, MODEL_FILES)
    path = export_onnx(model, model_dir / EXPORT_FILE, source=file)
    keras_probs, onnx_probs = _agreement(model_dir)
    _print(f"{path}: exported from {file.name}; largest difference from Keras on {len(keras_probs)} "
           f"random inputs {np.abs(keras_probs - onnx_probs).max():.1e}")
    return 0


def cmd_encoder_member(a: argparse.Namespace) -> int:
    import json
    import time

    from ser.model_folder import ModelFolder
    from ser.training.encoder_head import add_encoder_member
    from ser.training.train import score_test

    model_dir = Path(a.model)
    folder = ModelFolder(model_dir)
    if not folder.has_model() or folder.is_personal():
        raise SerError(f"{model_dir}: is not a model folder made by ser train; give one (--model models/default).")
    t0 = time.time()

    def show(e: dict) -> None:
        if e.get("step") is not None and (e["step"] == e["total"] or e["step"] % 200 == 0):
            _say(f"{'clips under every condition' if e['stage'] == 'robustness' else 'clips'} {e['step']}/{e['total']}")

    head = add_encoder_member(model_dir, cache_dir=a.cache_dir, progress=show)
    _print(f"{folder.encoder_head_file}: the encoder member (C={head.C:g}), fitted on the training clips in "
           f"{time.time() - t0:.0f} s")
    report, robust = score_test(model_dir, cache_dir=a.cache_dir, progress=show)
    _print(f"test speakers: accuracy {report['accuracy']:.3f}  macro F1 {report['macro_f1']:.3f}  "
           f"UAR {report['uar']:.3f} on {report['n_clips']} clips; {folder.report_file}")
    for line in robustness_table(robust).splitlines():
        _print(line)
    run = folder.run()
    run.update(test_accuracy=report["accuracy"], test_macro_f1=report["macro_f1"], test_uar=report["uar"],
               robustness={r["name"]: round(r["accuracy"], 4) for r in robust["conditions"]},
               encoder_member={"command": "python -m ser encoder-member --model " + str(a.model),
                               "wall_s": round(time.time() - t0, 1), "C": head.C,
                               "added": time.strftime("%Y-%m-%d %H:%M:%S")})
    folder.run_file.write_text(json.dumps(run, indent=2) + "\n")
    return 0


def cmd_adapt(a: argparse.Namespace) -> int:
    from ser.serving.adapt import adapt

    last = [-1]

    def show(fraction: float, message: str) -> None:
        if int(fraction * 10) != last[0] or fraction >= 1:  # about ten lines, not one per clip
            last[0] = int(fraction * 10)
            _say(f"{fraction:4.0%} {message}")

    r = adapt(a.model, a.labels, out_dir=a.out, speaker=a.speaker, emotions=a.emotions, progress=show)
    for warning in r.warnings:
        _print(f"warning: {warning}", file=sys.stderr)
    est = r.report
    _print(f"personal model of {r.speaker or 'one speaker'} from {r.n_clips} clips ({', '.join(r.emotions)}) in "
           f"{r.seconds:.1f} s; leave-one-clip-out on them: macro F1 {est['macro_f1']:.2f} "
           f"(base {est['base']['macro_f1']:.2f})")
    _print(r.out_dir)
    return 0


def _agreement(model_dir: Path) -> tuple:
    """Both runtimes' probabilities for the same seeded random features."""
    import numpy as np

    from ser.serving.predict import Predictor

    keras_model = Predictor.load(model_dir, runtime="keras")
    X = np.random.default_rng(0).normal(size=(8, *keras_model.input_shape)).astype(np.float32)
    return keras_model.predict_networks(X), Predictor.load(model_dir, runtime="onnx").predict_networks(X)


CLUSTER_HELP = ("a Dask scheduler whose workers extract the features (default $SER_CLUSTER; none: this machine); "
                "give them a --cache-dir on shared storage to share their work")


def parser() -> argparse.ArgumentParser:
    from ser.config import PRESETS
    from ser.datasets.labels import SCHEMES
    from ser.serving.predict import RUNTIMES

    preset_help = "the network, and the defaults the settings below say are the preset's (default: default)"
    p = argparse.ArgumentParser(prog="python -m ser", description="Speech emotion recognition.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("labels", help="write all_labels.csv from a corpus's file names")
    s.add_argument("root")
    s.add_argument("--scheme", required=True, choices=sorted(SCHEMES))
    s.add_argument("--out")
    s.set_defaults(fn=cmd_labels)

    s = sub.add_parser("validate", help="report every problem in a labels CSV")
    s.add_argument("csv")
    s.set_defaults(fn=cmd_validate)

    s = sub.add_parser("train", help="train, evaluate on held-out speakers, install the model")
    s.add_argument("--labels", required=True, action="append",
                   help="a labels CSV; repeat it to train on several corpora (each split by its own speakers)")
    s.add_argument("--out", required=True, help="model folder, e.g. models/mine")
    s.add_argument("--preset", default=None, choices=PRESETS, help=preset_help)
    s.add_argument("--cache-dir", default=None, help="feature cache (default $SER_CACHE_DIR or ~/.cache/ser)")
    s.add_argument("--cluster", default=None, metavar="tcp://HOST:8786", help=CLUSTER_HELP)
    s.add_argument("--staging", default=None, help=argparse.SUPPRESS)
    _add_settings(s)
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("cv", help="compare settings by speaker cross-validation (test speakers left out), or by "
                                  "leaving one corpus out")
    s.add_argument("--labels", required=True, action="append", help="a labels CSV; repeat it for several corpora")
    s.add_argument("--by", default="speaker", choices=("speaker", "corpus"),
                   help="speaker (default): folds of non-test speakers; corpus: train on every corpus but one and "
                        "score the one left out, for each in turn")
    s.add_argument("--preset", default=None, choices=PRESETS, help=preset_help)
    s.add_argument("--folds", type=int, default=4)
    s.add_argument("--cache-dir", default=None)
    s.add_argument("--cluster", default=None, metavar="tcp://HOST:8786", help=CLUSTER_HELP + "; each fold trains "
                   "on a worker")
    s.add_argument("--out", default=None, help="folder for cv.json, cv_probs.npz and fold histories")
    _add_settings(s)  # --seed fixes the test speakers left out and the folds too
    s.set_defaults(fn=cmd_cv)

    s = sub.add_parser("evaluate", help="evaluate a model on a labelled folder")
    s.add_argument("--model", required=True)
    s.add_argument("--labels", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--cache-dir", default=None)
    s.add_argument("--emotions", default=None, metavar="A,B,...",
                   help="score only the clips of these emotions (at least two), the answer among them only, "
                        "e.g. angry,happy,neutral,sad")
    s.add_argument("--speaker-norm", action="store_true",
                   help="for a model trained with speaker_norm: normalise each speaker by their own clips "
                        "(their labels unused); the labels must name speakers")
    s.set_defaults(fn=cmd_evaluate)

    s = sub.add_parser("robustness", help="score a model under fixed recording conditions (noise, phone, room, ...)")
    s.add_argument("--model", required=True)
    s.add_argument("--labels", default=None,
                   help="labelled folder's all_labels.csv (default: the model's own training labels, test speakers)")
    s.add_argument("--split", default=None, choices=["train", "val", "test"],
                   help="only the clips of this part of the model's split.csv")
    s.add_argument("--out", default=None,
                   help="robustness.json to write (default: in the model folder, for its own test speakers only)")
    s.add_argument("--cache-dir", default=None)
    s.set_defaults(fn=cmd_robustness)

    s = sub.add_parser("predict", help="predict the emotion of audio files")
    s.add_argument("--model", required=True)
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.add_argument("--runtime", default="auto", choices=RUNTIMES,
                   help="auto: the ONNX export when the model has a current one, else Keras (default)")
    s.add_argument("--emotions", default=None, metavar="A,B,...",
                   help="answer among these emotions only (at least two), e.g. angry,happy,neutral,sad")
    s.add_argument("files", nargs="+")
    s.set_defaults(fn=cmd_predict)

    s = sub.add_parser("report", help="one self-contained HTML report of a model, for people without the app")
    s.add_argument("--model", required=True)
    s.add_argument("--out", default="report.html")
    s.set_defaults(fn=cmd_report)

    s = sub.add_parser("export", help="write model.onnx so the model predicts without TensorFlow")
    s.add_argument("--model", required=True)
    s.set_defaults(fn=cmd_export)

    s = sub.add_parser("encoder-member", help="give a trained model the encoder member (its networks unchanged; "
                                              "a few minutes)")
    s.add_argument("--model", required=True)
    s.add_argument("--cache-dir", default=None)
    s.set_defaults(fn=cmd_encoder_member)

    s = sub.add_parser("adapt", help="a personal model from a few labelled clips of one speaker (about a minute)")
    s.add_argument("--model", default="models/default", help="the base model (never written)")
    s.add_argument("--labels", required=True, help="all_labels.csv of the clips (path,emotion,speaker)")
    s.add_argument("--out", required=True, help="the personal model's folder (new, or a personal model to replace)")
    s.add_argument("--speaker", default=None, help="whose clips, when the CSV holds several speakers")
    s.add_argument("--emotions", default=None, help="adapt only these, e.g. angry,happy,neutral,sad")
    s.set_defaults(fn=cmd_adapt)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except SerError as exc:
        _print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
