"""Prediction with a saved model: a waveform or a file to a probability for each emotion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from ser.config import Config
from ser.errors import ModelError
from ser.model_folder import ADAPTED, MODEL_FILES, ONNX, ModelFolder

if TYPE_CHECKING:
    from ser.audio.reader import Decoded

__all__ = ["Prediction", "Predictor", "MODEL_FILES", "RUNTIMES"]

RUNTIMES = ("auto", "onnx", "keras")


@dataclass(frozen=True)
class Prediction:
    """The most likely emotion and the probability of each, or no emotion and why not.

    Attributes
    ----------
    emotion : str or None
        ``None`` when the audio holds no speech, or only several voices at once (``reason`` says which):
        no emotion is guessed then.
    probabilities : dict
        One per emotion (empty when ``emotion`` is ``None``): for audio longer than the model's
        window, the mean over the windows that hold speech, each weighted by its share of speech.
        An answer restricted to some emotions (``emotions=``) holds only those, renormalised to sum to 1.
    n_windows : int
        Windows of speech the probabilities come from (0 when there is no speech).
    reason : str
        Why there is no emotion (``"no speech detected"``, or ``"several voices at once: no single
        speaker"`` for babble, a crowd or a TV audience: :func:`ser.audio.speech.many_voices`), else empty.
    warnings : tuple of str
        One line each about the input: clipping, samples far above full scale, a file that ends early.
    duration_s : float
        Seconds of audio given.
    timeline : tuple of dict
        With ``timeline=True``: :meth:`Predictor.predict_timeline`'s rows for the same audio.
    """

    emotion: str | None
    probabilities: dict[str, float]
    n_windows: int = 1
    reason: str = ""
    warnings: tuple[str, ...] = ()
    duration_s: float = 0.0
    timeline: tuple[dict[str, Any], ...] = ()

    @property
    def confidence(self) -> float | None:
        return self.probabilities[self.emotion] if self.emotion is not None else None

    def __str__(self) -> str:
        """``"calm 0.57"``, ``"calm 0.57 from 9 windows of speech"`` or ``"no speech detected"``."""
        if self.emotion is None:
            return self.reason
        return f"{self.emotion} {self.confidence:.2f}" + (
            f" from {self.n_windows} windows of speech" if self.n_windows > 1 else "")

    def to_dict(self) -> dict[str, Any]:
        """The outcome as JSON-ready values (no timeline)."""
        return {"emotion": self.emotion, "confidence": self.confidence, "probabilities": self.probabilities,
                "n_windows": self.n_windows, "reason": self.reason, "warnings": list(self.warnings),
                "duration_s": round(self.duration_s, 3)}


class Predictor:
    """A loaded model with the config it was trained with.

    ``runtime`` says what runs it: ``"onnx"`` (ONNX Runtime, :mod:`ser.serving.export`) or ``"keras"``.

    Use :meth:`load`; then :meth:`predict` a waveform, :meth:`predict_file` a file, or
    :meth:`predict_timeline` for emotion over time in long audio; :meth:`enrol` a speaker for a model
    trained with per-speaker normalisation (``speaker=`` on each of those).
    """

    def __init__(self, model: Any, config: Config, model_dir: Path, *, runtime: str = "keras",
                 fallback_reason: str = "", encoder_head: Any = None) -> None:
        self.model = model
        self.encoder_head = encoder_head  # ser.training.encoder_head.EncoderHead, with train.encoder_member
        self.config = config
        self.model_dir = model_dir
        self.emotions = list(config.emotions)
        self.input_shape = cls_shape(config)
        self.runtime = runtime
        self.fallback_reason = fallback_reason

    @classmethod
    def load(cls, model_dir: str | Path, *, runtime: str = "auto") -> "Predictor":
        """Load ``config.json`` and the model from ``model_dir``.

        Parameters
        ----------
        runtime : ``"auto"``, ``"onnx"`` or ``"keras"``
            ``"auto"`` runs ``model.onnx`` with ONNX Runtime when it was exported from the model file
            beside it (:func:`ser.serving.export.export_status`), without importing TensorFlow, and otherwise
            ``model.keras`` (or, if that is damaged, ``model.h5``) with Keras; ``fallback_reason`` then
            says why. ``"onnx"`` refuses to fall back; ``"keras"`` never uses the export.

        Raises :class:`ConfigError` or :class:`ModelError`, one line naming the file, when the folder is
        missing, its config is not ser's, no model file loads, or model and config disagree.
        """
        model_dir = Path(model_dir)
        if runtime not in RUNTIMES:
            raise ModelError(f"runtime={runtime!r} is unknown; choose one of {', '.join(RUNTIMES)}.")
        if not model_dir.is_dir():
            raise ModelError(f"{model_dir}: no such model folder; train one or pick one under models/.")
        from ser.serving.export import export_status, load_onnx
        from ser.training.model import load_saved_model, model_files

        # a personal model (ser.serving.adapt) is model.onnx (and the base's encoder member), made from its adapted.json
        personal = ModelFolder(model_dir).is_personal()
        if personal and runtime == "keras":
            raise ModelError(f"{model_dir}: is a personal model, which runs with ONNX Runtime only; use runtime 'auto'.")
        model_files(model_dir, (ONNX,) if personal else MODEL_FILES)  # a folder without a model says so first
        config = ModelFolder(model_dir).config()
        reason = "" if runtime == "keras" else export_status(model_dir, source_files=(ADAPTED,) if personal
                                                             else MODEL_FILES)
        if (runtime == "onnx" or personal) and reason:
            raise ModelError(f"{model_dir}: cannot predict with ONNX Runtime: {reason}.")
        model = None
        if runtime != "keras" and not reason:
            try:
                model, file, used = load_onnx(model_dir), ModelFolder(model_dir).onnx_file, "onnx"
            except ModelError as exc:  # readable but not ser's shape: Keras, unless ONNX was asked for
                if runtime == "onnx" or personal:
                    raise
                reason = str(exc).split(": ", 1)[-1].rstrip(".")
        if model is None:
            (model, file), used = load_saved_model(model_dir, MODEL_FILES), "keras"
        expected = (None, *cls_shape(config))
        if tuple(model.input_shape) != expected:
            raise ModelError(f"{file}: takes input {model.input_shape}, but its config.json says {expected}; "
                             "the folder mixes files of two runs.")
        outputs = model.output_shape[-1]
        if outputs != len(config.emotions):
            raise ModelError(f"{file}: gives {outputs} probabilities, but its config.json names "
                             f"{len(config.emotions)} emotions; the folder mixes files of two runs: retrain or "
                             "restore it.")
        head = None
        if config.train.encoder_member:  # ModelError, one line, when the head is missing or not this model's
            from ser.training.encoder_head import EncoderHead

            head = EncoderHead.load(ModelFolder(model_dir).encoder_head_file, emotions=config.emotions)
        return cls(model, config, model_dir, runtime=used, fallback_reason=reason, encoder_head=head)

    def predict_features(self, X: np.ndarray, *, rows: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
        """Probabilities for feature matrices: the networks', averaged with the encoder member's for a model
        that has one (``train.encoder_member``: :mod:`ser.training.encoder_head`), which weighs
        ``train.encoder_weight`` in the mean.

        Parameters
        ----------
        X : np.ndarray, shape (n, n_features, max_frames)
        rows : np.ndarray, shape (n, 1792)
            The same clips' :func:`ser.features.encoder.encoder_row` (``ClipTask(..., encoder=("original",))``);
            required by a model with an encoder member, ignored by one without.

        Returns
        -------
        np.ndarray, shape (n, n_emotions)
        """
        probs = self.predict_networks(X, batch_size=batch_size)
        if self.encoder_head is None:
            return probs
        if rows is None or len(rows) != len(X):
            raise ModelError(f"{self.model_dir}: has an encoder member, so its probabilities need each clip's encoder "
                             f"row (rows=, one per clip; {0 if rows is None else len(rows)} given for {len(X)}).")
        if not len(X):
            return probs
        w = self.config.train.encoder_weight
        return (1 - w) * probs + w * self.encoder_head.predict_proba(rows)

    def predict_networks(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """The networks' probabilities alone (the mean over the ensemble), shape (n, n_emotions), for
        ``X`` of shape (n, n_features, max_frames)."""
        # predict_on_batch runs the compiled graph: ~3 ms for one clip, against ~260 ms for an eager call
        out = [np.asarray(self.model.predict_on_batch(X[i:i + batch_size])) for i in range(0, len(X), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, len(self.emotions)), dtype=np.float32)

    def choice(self, emotions: str | Sequence[str] | None) -> tuple[str, ...] | None:
        """``emotions`` checked against the model's and in its order (``None``: every emotion).

        A string is read as the command line's ``"angry,happy,neutral,sad"``
        (:func:`ser.datasets.emotions.parse_emotions`: any usual spelling).

        Raises :class:`~ser.errors.ConfigError` (:func:`ser.datasets.emotions.check_choice`) for a name the model
        does not know or fewer than two emotions.
        """
        from ser.datasets.emotions import check_choice, parse_emotions

        if emotions is None:
            return None
        if isinstance(emotions, str):
            return parse_emotions(emotions, known=self.emotions)
        return check_choice(emotions, known=self.emotions)

    def enrol(self, clips: Sequence[Any], *, sr: int | None = None) -> Any:
        """A speaker's statistics (:class:`ser.features.speakers.SpeakerStats`) from a few clips of their speech.

        Parameters
        ----------
        clips : sequence of files (path, bytes, file object), ``(waveform, rate)`` pairs, or waveforms
            (then ``sr`` gives their rate)

        Each clip is prepared as for :meth:`predict`; the mean is over the model's windows that hold
        speech (not several voices at once). A model trained without ``speaker_norm`` gets the
        statistics too, but ``applies`` is false and ``note`` says that they change nothing.

        Raises :class:`~ser.errors.AudioError`, one line, when no clip holds speech or the clips hold
        under :data:`ser.features.speakers.MIN_ENROL_S` (3) seconds of speech in all.
        """
        from ser.audio.reader import finish_audio, read_audio
        from ser.errors import AudioError, ConfigError
        from ser.features.extract import extract_features
        from ser.features.speakers import MIN_ENROL_S, SpeakerStats, rms_row, speaker_stats
        from ser.audio.speech import FRAME_S, SPEECH_THRESHOLD, many_voices, speech_frames, speech_weight

        clips = list(clips)
        if not clips:
            raise AudioError(f"enrolment: no clip given; record or upload at least {MIN_ENROL_S:.0f} s of speech.")
        rate, window = self.config.audio.sample_rate_hz, self.config.features.window_samples
        per_frame = FRAME_S * rate
        X, seconds, why = [], 0.0, ""
        for k, clip in enumerate(clips):
            if isinstance(clip, tuple):
                y, rate_in, name = np.asarray(clip[0]), clip[1], f"clip {k + 1}"
            elif isinstance(clip, np.ndarray):
                if sr is None:
                    raise ConfigError("enrolment: waveforms need their rate: pass sr= or (waveform, rate) pairs.")
                y, rate_in, name = clip, sr, f"clip {k + 1}"
            else:  # an unreadable file is its own error
                name = str(getattr(clip, "name", None) or (clip if isinstance(clip, (str, Path)) else "enrolment"))
                y, rate_in = read_audio(clip, config=self.config.audio, name=name).y, None
            try:  # a silent or too short clip holds no speech
                raw = read_audio(y, sr=rate_in, config=self.config.audio, name=name).y if rate_in is not None else y
                y = finish_audio(raw, config=self.config.audio, name=name)
            except AudioError as exc:
                why = why or str(exc).rstrip(".")
                continue
            frames = speech_frames(y, sr=rate)
            starts = self.window_starts(len(y))
            kept = [s for s in starts
                    if speech_weight(y[s:s + window], sr=rate, probs=frames[int(s // per_frame):int(
                        np.ceil(min(len(y), s + window) / per_frame))]) > 0
                    and not many_voices(y[s:s + window], sr=rate)]
            if kept:
                seconds += float(np.count_nonzero(frames >= SPEECH_THRESHOLD)) * FRAME_S
                X += [extract_features(y[s:s + window], sr=rate, config=self.config.features) for s in kept]
        n = len(clips)
        if not X:
            raise AudioError(f"enrolment: no speech in {'the clip' if n == 1 else f'any of the {n} clips'}"
                             f"{f' ({why})' if why else ''}; record at least {MIN_ENROL_S:.0f} s of one person "
                             "speaking.")
        if seconds < MIN_ENROL_S:
            raise AudioError(f"enrolment: {seconds:.1f} s of speech in {n} clip{'s' * (n != 1)}; record at least "
                             f"{MIN_ENROL_S:.0f} s of speech in all (a longer clip or more of them).")
        applies = self.config.train.speaker_norm
        note = "" if applies else ("this model was trained without per-speaker normalisation: the enrolment "
                                   "changes nothing in its answers")
        return SpeakerStats(speaker_stats(X, rms_row=rms_row(self.config.features)), seconds, n, applies, note)

    def _speaker_mean(self, speaker: Any) -> np.ndarray | None:
        """The mean of ``speaker`` (stats or an array) checked, or ``None`` for none or for a model trained
        without ``speaker_norm`` (which ignores it)."""
        if speaker is None or not self.config.train.speaker_norm:
            return None
        from ser.errors import ConfigError

        from ser.features.speakers import SpeakerStats

        mean = np.asarray(speaker.mean if isinstance(speaker, SpeakerStats) else speaker, np.float32).reshape(-1)
        if mean.shape != (self.config.features.n_features,) or not np.all(np.isfinite(mean)):
            raise ConfigError(f"speaker statistics of shape {mean.shape} do not fit this model "
                              f"({self.config.features.n_features} feature rows); enrol again with it.")
        return mean

    def predict(self, y: np.ndarray, *, sr: int, name: str = "<audio>", timeline: bool = False,
                emotions: str | Sequence[str] | None = None, speaker: Any = None) -> Prediction:
        """Predict a decoded waveform (any rate, mono or (samples, channels)).

        The signal is prepared as in training (resampled, silence trimmed, level normalised) once.
        Audio without speech (:mod:`ser.audio.speech`) gets no emotion but ``reason="no speech detected"``;
        windows of several voices at once (:func:`ser.audio.speech.many_voices`) are left out, and audio with
        nothing else gets ``reason="several voices at once: no single speaker"``;
        audio longer than the model's window is scored window by window (half-window hop, the last
        window ending at the end) and the windows that hold speech are averaged, each weighted by
        its share of speech. ``timeline=True`` adds :meth:`predict_timeline`'s rows, from the same
        prepared signal.

        ``emotions`` (at least two the model knows) restricts the answer to them: the mean over the
        windows is restricted and renormalised (:func:`ser.datasets.emotions.restrict`) and only those emotions'
        probabilities are given, in the timeline rows too. The speech and crowd checks are the same.

        ``speaker`` (:meth:`enrol`'s :class:`ser.features.speakers.SpeakerStats`, or its ``mean``) is used by a model
        trained with ``speaker_norm``: every window minus the speaker's mean of each feature row. Such a
        model without it normalises the audio by its own frames; a model trained without ``speaker_norm``
        ignores it.
        """
        from ser.audio.reader import read_audio

        chosen = self.choice(emotions)
        mean = self._speaker_mean(speaker)
        raw = read_audio(y, sr=sr, config=self.config.audio, name=name).y
        return self._predict_raw(raw, name=name, timeline=timeline, duration_s=len(y) / sr, emotions=chosen,
                                 speaker=mean)

    def predict_file(self, source: str | Path | BinaryIO | bytes | Decoded, *, name: str | None = None,
                     timeline: bool = False, emotions: str | Sequence[str] | None = None,
                     speaker: Any = None) -> Prediction:
        """Predict a file (path, bytes or file object) of any format soundfile reads, or one already read.

        The file is read once, block by block (:func:`ser.audio.reader.read_audio`: a file longer than the
        config's ``max_duration_s`` is refused from its header); its warnings come with the prediction.
        A :class:`ser.audio.reader.Decoded` (``read_audio`` with this model's ``config.audio``) is not read
        again: the Predict page reads an upload once for its prediction, explanation and waveform.
        ``emotions`` restricts the answer and ``speaker`` normalises it as in :meth:`predict`.
        """
        from ser.audio.reader import Decoded, read_audio

        chosen = self.choice(emotions)
        mean = self._speaker_mean(speaker)
        label = name or str(getattr(source, "name", None) or (source if isinstance(source, (str, Path)) else "<audio>"))
        if isinstance(source, Decoded):
            if source.sr != self.config.audio.sample_rate_hz:
                from ser.errors import ConfigError

                raise ConfigError(f"{label}: read at {source.sr} Hz, but this model hears "
                                  f"{self.config.audio.sample_rate_hz} Hz; read it with the model's config.audio.")
            decoded = source
        else:
            decoded = read_audio(source, config=self.config.audio, name=label)
        return self._predict_raw(decoded.y, name=label, timeline=timeline, duration_s=decoded.duration_s,
                                 warnings=decoded.warnings, emotions=chosen, speaker=mean)

    @property
    def window_cost(self) -> float:
        """What scoring one window costs, in windows of the networks alone: 1, or ``1 + ENCODER_COST`` (4) for a
        model with an encoder member (:data:`ser.features.encoder.ENCODER_COST`, measured)."""
        if self.encoder_head is None:
            return 1.0
        from ser.features.encoder import ENCODER_COST

        return 1.0 + ENCODER_COST

    def window_s(self) -> float:
        """Seconds of (trimmed) audio the model looks at at once."""
        return self.config.features.window_s(self.config.audio.sample_rate_hz)

    def window_starts(self, n: int) -> list[int]:
        """Where :meth:`predict` places the model's windows in a prepared signal of ``n`` samples: one
        window for a signal no longer than it, else a half-window hop with the last window ending at the end."""
        window = self.config.features.window_samples
        if n <= window:
            return [0]
        return sorted({*range(0, n - window + 1, window // 2), n - window})

    def score_windows(self, y: np.ndarray, starts: list[int], *, frames: np.ndarray | None = None,
                      remember: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Speech weight and probabilities of each window of a prepared (trimmed, levelled) signal ``y``,
        as :meth:`predict` computes them before its weighted mean (used by :mod:`ser.serving.explain`).

        The scores of the last signal scored with ``remember=True`` are kept: explaining a recording just
        predicted (the Predict page does both) scores its windows once, not twice.

        Parameters
        ----------
        frames : np.ndarray, shape (ceil(len(y) / 512),), optional
            The speech detector's frames of ``y`` (:func:`ser.audio.speech.speech_frames`) when already known.

        Returns
        -------
        weights : np.ndarray, shape (len(starts),)
            0 for windows without speech and for windows of several voices at once.
        probs : np.ndarray, shape (len(starts), n_emotions); zeros where the weight is 0
        frames : np.ndarray, shape (ceil(len(y) / 512),): the speech detector's frames of ``y``
        """
        weights, probs, _, frames = self._scored(y, list(starts), frames=frames, remember=remember)
        return weights.copy(), probs.copy(), frames

    def _scored(self, y: np.ndarray, starts: list[int], *, frames: np.ndarray | None = None,
                remember: bool, speaker: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        import hashlib

        key = (hashlib.sha1(np.ascontiguousarray(y, dtype=np.float32).tobytes()).hexdigest(), tuple(starts),
               None if speaker is None else hashlib.sha1(np.asarray(speaker, np.float32).tobytes()).hexdigest())
        last = getattr(self, "_last_scored", None)
        if last is not None and last[0] == key:
            return last[1]
        scored = self._windows(y, starts, frames=frames, speaker=speaker)
        if remember:
            self._last_scored = (key, scored)
        return scored

    def _windows(self, y: np.ndarray, starts: list[int], *, frames: np.ndarray | None = None,
                 speaker: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Speech weight (:func:`ser.audio.speech.speech_weight`), probabilities and crowd flag of each window of ``y``.

        A window of several voices at once (:func:`ser.audio.speech.many_voices`) says nothing about one
        speaker's emotion: its weight is 0 and the model is not asked.

        Returns
        -------
        weights : np.ndarray, shape (len(starts),)
        probs : np.ndarray, shape (len(starts), n_emotions); zeros where the weight is 0
        crowd : np.ndarray of bool, shape (len(starts),): speech, but several voices at once
        frames : the speech detector's frames of ``y`` (``frames`` when given)
        """
        from ser.features.extract import extract_features
        from ser.audio.speech import FRAME_S, many_voices, speech_frames, speech_weight

        rate = self.config.audio.sample_rate_hz
        window = self.config.features.window_samples
        frames = speech_frames(y, sr=rate) if frames is None else np.asarray(frames)
        per_frame = FRAME_S * rate
        weights = np.array([speech_weight(y[s:s + window], sr=rate,
                                          probs=frames[int(s // per_frame):int(np.ceil(min(len(y), s + window)
                                                                                       / per_frame))])
                            for s in starts])
        crowd = np.array([w > 0 and many_voices(y[s:s + window], sr=rate) for s, w in zip(starts, weights)], bool)
        weights = np.where(crowd, 0.0, weights)
        probs = np.zeros((len(starts), len(self.emotions)), np.float32)
        keep = np.flatnonzero(weights > 0)
        chunks = np.array_split(keep, -(-keep.size // 32)) if keep.size else []  # 32 at a time: bounded memory

        def features(chunk: np.ndarray) -> np.ndarray:
            return np.stack([extract_features(y[starts[i]:starts[i] + window], sr=rate, config=self.config.features)
                             for i in chunk])

        def rows(chunk: np.ndarray) -> np.ndarray | None:  # the encoder member's view of the same windows
            if self.encoder_head is None:
                return None
            from ser.features.encoder import encoder_rows

            return encoder_rows([y[starts[i]:starts[i] + window] for i in chunk], sr=rate)

        if self.config.train.speaker_norm and speaker is None and chunks:  # no enrolment: the audio's own frames
            from ser.features.speakers import normalise, rms_row, speaker_stats

            Xs = [features(chunk) for chunk in chunks]
            mean = speaker_stats(Xs, rms_row=rms_row(self.config.features))
            for chunk, X in zip(chunks, Xs):
                probs[chunk] = self.predict_features(normalise(X, mean=mean), rows=rows(chunk), batch_size=32)
            return weights, probs, crowd, frames
        for chunk in chunks:
            X = features(chunk)
            if speaker is not None:  # only given to a model trained with speaker_norm (_speaker_mean)
                from ser.features.speakers import normalise

                X = normalise(X, mean=speaker)
            probs[chunk] = self.predict_features(X, rows=rows(chunk), batch_size=32)
        return weights, probs, crowd, frames

    def _predict_raw(self, raw: np.ndarray, *, name: str, timeline: bool, duration_s: float,
                     warnings: tuple[str, ...] = (), emotions: tuple[str, ...] | None = None,
                     speaker: np.ndarray | None = None) -> Prediction:
        """The prediction for a signal as :func:`ser.audio.reader.read_audio` gives it (not finished), restricted to
        ``emotions`` (already checked) when given."""
        from ser.audio.reader import finish_audio
        from ser.datasets.emotions import restrict
        from ser.audio.speech import MANY_VOICES, NO_SPEECH

        y = finish_audio(raw, config=self.config.audio, name=name)
        weights, probs, crowd, _ = self._scored(y, self.window_starts(len(y)), remember=True, speaker=speaker)
        rows = tuple(self._timeline(raw, name=name, emotions=emotions, speaker=speaker)) if timeline else ()
        if not np.any(weights > 0):  # a crowd's windows say nothing about one speaker's emotion
            return Prediction(None, {}, n_windows=0, reason=MANY_VOICES if np.any(crowd) else NO_SPEECH,
                              warnings=tuple(warnings), duration_s=duration_s, timeline=rows)
        mean = restrict((weights[:, None] * probs).sum(axis=0) / weights.sum(), emotions=self.emotions, keep=emotions)
        shown = emotions or self.emotions
        return Prediction(self.emotions[int(np.argmax(mean))],
                          {e: float(p) for e, p in zip(self.emotions, mean) if e in shown},
                          n_windows=int(np.count_nonzero(weights)), warnings=tuple(warnings),
                          duration_s=duration_s, timeline=rows)

    def predict_timeline(self, y: np.ndarray, *, sr: int, hop_s: float | None = None,
                         name: str = "<audio>", emotions: str | Sequence[str] | None = None,
                         speaker: Any = None) -> list[dict[str, Any]]:
        """Emotion over time: the model's window slid over the audio.

        Silence is not trimmed here, so times match the original audio. Windows without speech
        (:mod:`ser.audio.speech`) are not given to the model: their ``emotion`` is ``None`` and every
        probability 0.

        Returns
        -------
        list of dicts with ``start_s``, ``end_s``, ``emotion`` (or ``None``), ``speech`` (the window's
        speech weight, 0 for none) and one probability per emotion (with ``emotions``, per chosen
        emotion only, each row restricted and renormalised as :meth:`predict` does)
        """
        from ser.audio.reader import read_audio

        chosen = self.choice(emotions)
        mean = self._speaker_mean(speaker)  # as in predict
        raw = read_audio(y, sr=sr, config=self.config.audio, name=name).y
        return self._timeline(raw, hop_s=hop_s, name=name, emotions=chosen, speaker=mean)

    def _timeline(self, raw: np.ndarray, *, hop_s: float | None = None, name: str = "<audio>",
                  emotions: tuple[str, ...] | None = None, speaker: np.ndarray | None = None) -> list[dict[str, Any]]:
        from dataclasses import replace

        from ser.audio.reader import finish_audio
        from ser.datasets.emotions import restrict

        audio_cfg = replace(self.config.audio, trim_silence=False)
        rate = audio_cfg.sample_rate_hz
        y = finish_audio(raw, config=audio_cfg, name=name)
        window = self.config.features.window_samples
        hop = int((hop_s if hop_s else self.window_s() / 2) * rate)
        starts = list(range(0, max(1, len(y) - window + hop), hop))
        weights, probs, crowd, _ = self._windows(y, starts, speaker=speaker)
        if emotions is not None:  # windows without speech stay all zeros
            probs = np.where(weights[:, None] > 0, restrict(probs, emotions=self.emotions, keep=emotions), 0.0)
        shown = emotions or self.emotions
        rows = []
        for s, w, c, p in zip(starts, weights, crowd, probs):
            rows.append({"start_s": s / rate, "end_s": min(len(y), s + window) / rate,
                         "emotion": self.emotions[int(np.argmax(p))] if w > 0 else None, "speech": float(w),
                         "several_voices": bool(c),
                         **{e: float(v) for e, v in zip(self.emotions, p) if e in shown}})
        return rows


def cls_shape(config: Config) -> tuple[int, int]:
    return (config.features.n_features, config.features.max_frames)
