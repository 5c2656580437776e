"""The live emotion meter: audio as it streams in, an answer about every half second.

A :class:`LiveMeter` is fed the microphone's chunks as they arrive (any rate, mono or several channels:
``feed(y, sr=...)``, the streaming resampler of :class:`ser.audio.dsp.Resampler` brings them to the
model's rate) and, about every ``hop_s`` seconds of audio, predicts the last ``window_s`` seconds with
:meth:`ser.serving.predict.Predictor.predict`: the same speech check ("no speech detected", "several voices
at once"), level normalisation, ``emotions=`` choice and model runtime as every other prediction. Each
answer is a :class:`Reading`; the meter keeps the last ``history_s`` seconds of them.

Threads: ``feed`` is called from the audio thread (streamlit-webrtc's frame callback), the readings are
read from the page's thread. One prediction costs ~40 ms of CPU, two 20 ms audio frames, so by default
(``background=True``) predictions run in a thread of the meter's own and ``feed`` only copies samples: a
slow prediction never holds the audio back; when audio comes faster than answers, the newest window is
predicted and the ones in between are skipped (``skipped`` counts them). The thread ends with
:meth:`LiveMeter.close`, or by itself after ``idle_close_s`` without audio (a stream whose browser went
away). :func:`open_meters` counts the meters not closed, in this process.

No streamlit here: ``pages/_ui/live.py`` draws the meter.
"""

from __future__ import annotations

import functools
import io
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ser.audio.dsp import Resampler
from ser.audio.speech import NO_SPEECH
from ser.errors import AudioError, ConfigError

__all__ = ["Reading", "LiveMeter", "MeterSlot", "open_meters", "HOP_S", "HISTORY_S", "IDLE_CLOSE_S"]

HOP_S = 0.5  # seconds of audio between answers
HISTORY_S = 30.0  # seconds of readings kept
IDLE_CLOSE_S = 15.0  # a background meter without audio this long closes itself

_OPEN: dict[int, "LiveMeter"] = {}
_OPEN_LOCK = threading.Lock()
_IDS = itertools.count(1)


def open_meters() -> int:
    """How many meters of this process are not closed (each holds a buffer and, in the background, a thread)."""
    with _OPEN_LOCK:
        return len(_OPEN)


@dataclass(frozen=True)
class Reading:
    """One answer of the meter.

    Attributes
    ----------
    time_s : float
        Seconds of audio streamed when the window ends (0 is the stream's start).
    emotion : str or None
        ``None`` for no speech or several voices (``reason`` says which).
    reason : str
        Why there is no emotion (``ser.audio.speech.NO_SPEECH`` also for silence the reader refuses), else empty.
    probabilities : dict
        One per emotion (only the chosen ones with ``emotions=``); empty without an emotion.
    latency_s : float
        Wall seconds from the arrival of the window's last sample (``feed``) to this answer.
    window_s : float
        Seconds of audio the answer is about (less than the meter's window in the stream's first seconds).
    answered_at : float
        The meter's clock (``time.perf_counter``) when the answer came: its window ended ``latency_s`` before.
    """

    time_s: float
    emotion: str | None
    reason: str
    probabilities: dict[str, float] = field(default_factory=dict)
    latency_s: float = 0.0
    window_s: float = 0.0
    answered_at: float = 0.0

    @property
    def confidence(self) -> float | None:
        return self.probabilities[self.emotion] if self.emotion is not None else None

    def __str__(self) -> str:
        return f"{self.emotion} {self.confidence:.2f}" if self.emotion is not None else self.reason


@functools.lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


_PREDICTING = threading.Lock()
"""Live predictions of every meter of the process take turns: each lasts ~10-20 ms, and the one-BLAS-thread
limit below is the process's, so two overlapping ones lifted it under each other."""


def _one_blas_thread() -> Any:
    """One BLAS thread while a window is predicted: OpenBLAS's threads busy-wait after each small product,
    ~70 ms of CPU per answer with two of them against ~12 ms with one (``benchmarks/live.py``), for no
    speed-up on a 3 s window. The limit is the process's while it lasts (threadpoolctl's are): hold
    ``_PREDICTING`` around it."""
    return _blas().limit(limits=1, user_api="blas")


def _mono(y: np.ndarray) -> np.ndarray:
    """``y`` of shape (n,) or (n, channels), float in [-1, 1] or int16, as float32 mono, shape (n,)."""
    y = np.asarray(y)
    if y.dtype.kind == "i":
        y = y.astype(np.float32) / np.float32(np.iinfo(y.dtype).max + 1)
    y = y.astype(np.float32, copy=False)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if y.ndim != 1:
        raise ConfigError(f"live audio: expected a (samples,) or (samples, channels) chunk, got shape {y.shape}.")
    return y


class LiveMeter:
    """Emotion over a stream of audio: about every ``hop_s`` s, the last ``window_s`` s predicted.

    Parameters
    ----------
    predictor : ser.serving.predict.Predictor
    emotions : str or sequence of str, optional
        The answer among these only, as ``Predictor.predict(emotions=...)`` (checked here: a
        :class:`~ser.errors.ConfigError` for a name the model does not know).
    window_s : float, optional
        Seconds of audio each answer is about; the model's window (``predictor.window_s()``) by default.
    hop_s : float
        Seconds of audio between answers.
    history_s : float
        Seconds of readings kept (by their ``time_s``).
    background : bool
        Predict in a thread of the meter's own (the default); ``False`` predicts inside ``feed``.
    idle_close_s : float or None
        A background meter fed nothing for this long closes itself (``None``: never).
    clock : callable
        Wall time in seconds (``time.perf_counter``), for latencies.
    """

    def __init__(self, predictor: Any, *, emotions: str | Sequence[str] | None = None,
                 window_s: float | None = None, hop_s: float = HOP_S, history_s: float = HISTORY_S,
                 background: bool = True, idle_close_s: float | None = IDLE_CLOSE_S,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if hop_s <= 0 or history_s <= 0 or (window_s is not None and window_s <= 0):
            raise ConfigError(f"live meter: window_s={window_s}, hop_s={hop_s} and history_s={history_s} must be "
                              "positive seconds.")
        self.predictor = predictor
        self.emotions = predictor.choice(emotions)
        self.sr = int(predictor.config.audio.sample_rate_hz)
        self.window_s = float(window_s or predictor.window_s())
        self.hop_s, self.history_s, self.idle_close_s, self._clock = float(hop_s), float(history_s), idle_close_s, clock
        self._window = int(round(self.window_s * self.sr))
        self._hop = max(1, int(round(self.hop_s * self.sr)))
        self._buf = np.zeros(0, np.float32)  # the last window and hop at the model's rate
        self._n = 0  # samples at the model's rate fed so far
        self._fed_s = 0.0  # seconds of audio fed (the resampler holds back its last ~20 ms)
        self._next = self._hop  # the sample count at which the next answer is due
        self._resampler: Resampler | None = None
        self._in_sr: int | None = None
        self._readings: deque[Reading] = deque()
        self._last_window: np.ndarray | None = None  # the audio of the latest reading
        self._pending: tuple[np.ndarray, int, float] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._fed_at = clock()
        self.skipped = 0  # windows not predicted because a newer one was waiting (background only)
        self.error: str | None = None  # one line: why the meter's thread stopped (a prediction that failed)
        self.id = next(_IDS)
        self._thread: threading.Thread | None = None
        with _OPEN_LOCK:
            _OPEN[self.id] = self
        if background:
            self._thread = threading.Thread(target=self._run, name=f"ser-live-meter-{self.id}", daemon=True)
            self._thread.start()

    # -- the audio side -------------------------------------------------------------------------------------

    def feed(self, y: np.ndarray, *, sr: int) -> bool:
        """Add the next chunk of the stream.

        Parameters
        ----------
        y : np.ndarray, shape (n,) or (n, channels)
            float in [-1, 1] or integer PCM (int16: divided by 32768); channels are averaged.
        sr : int
            Its rate; a stream that changes rate goes on at the new one.

        Returns
        -------
        bool
            ``False`` when the meter is closed (the chunk is dropped), else ``True``.
        """
        mono = _mono(y)
        now, mono_s = self._clock(), mono.size / sr
        if self._in_sr != sr:  # the first chunk, or a new rate: a resampler for it
            self._in_sr = int(sr)
            self._resampler = Resampler(orig_sr=int(sr), target_sr=self.sr) if sr != self.sr else None
        if self._resampler is not None:
            self._resampler.add(mono)
            mono = self._resampler.take()
        due = None
        with self._lock:
            if self._closed:
                return False
            self._fed_at, self._fed_s = now, self._fed_s + mono_s
            self._buf = np.concatenate([self._buf, mono])[-(self._window + self._hop):]
            self._n += mono.size
            if self._n >= self._next:  # the window ending on the latest hop boundary, within this chunk
                late = (self._n - self._next) // self._hop
                end, self.skipped = self._next + late * self._hop, self.skipped + late
                self._next = end + self._hop
                stop = self._buf.size - (self._n - end)
                due = (self._buf[max(0, stop - self._window):stop].copy(), end, now)
                if self._thread is not None:
                    self.skipped += self._pending is not None
                    self._pending = due
                    self._wake.notify()
                    due = None
        if due is not None:
            self._answer(*due)
        return True

    # -- the predicting side --------------------------------------------------------------------------------

    def _answer(self, window: np.ndarray, n: int, fed_at: float) -> None:
        """Predict ``window`` (the audio up to sample ``n``, whose last chunk came at ``fed_at``) and keep it."""
        try:
            with _PREDICTING, _one_blas_thread():
                pred = self.predictor.predict(window, sr=self.sr, name="live audio", emotions=self.emotions)
            emotion, reason, probs = pred.emotion, pred.reason, dict(pred.probabilities)
        except AudioError:  # silence the reader refuses, or too little sound after trimming: no speech
            emotion, reason, probs = None, NO_SPEECH, {}
        now = self._clock()
        reading = Reading(n / self.sr, emotion, reason, probs, now - fed_at, window.size / self.sr, now)
        with self._lock:
            self._readings.append(reading)
            self._last_window = window
            while self._readings and self._readings[0].time_s <= reading.time_s - self.history_s:
                self._readings.popleft()

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    idle = self._clock() - self._fed_at
                    if self.idle_close_s is not None and idle >= self.idle_close_s:
                        break
                    self._wake.wait(timeout=0.5 if self.idle_close_s is None
                                    else min(0.5, self.idle_close_s - idle))
                if self._closed or self._pending is None:  # closed, or idle too long
                    break
                due, self._pending = self._pending, None
            try:
                self._answer(*due)
            except Exception as exc:  # noqa: BLE001 -- said on the page (error), not lost in the audio thread
                self.error = f"live meter stopped: {exc}".splitlines()[0]
                break
        self._close(join=False)

    # -- the reading side -----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def seconds(self) -> float:
        """Seconds of audio fed so far."""
        return self._fed_s

    def readings(self) -> list[Reading]:
        """The readings of the last ``history_s`` seconds, oldest first (a copy: safe to keep)."""
        with self._lock:
            return list(self._readings)

    def latest(self) -> Reading | None:
        """The newest reading, ``None`` before the first."""
        with self._lock:
            return self._readings[-1] if self._readings else None

    def moment(self) -> tuple[bytes, Reading] | None:
        """The audio the newest reading is about, as a 16-bit WAV at the model's rate, with that reading;
        ``None`` before the first (for a correction of a live snapshot)."""
        with self._lock:
            if self._last_window is None:
                return None
            window, reading = self._last_window, self._readings[-1]
        import soundfile as sf

        out = io.BytesIO()
        sf.write(out, window, self.sr, format="WAV", subtype="PCM_16")
        return out.getvalue(), reading

    # -- the end --------------------------------------------------------------------------------------------

    def close(self, *, timeout_s: float = 5.0) -> None:
        """Stop: later chunks are dropped, the thread ends (joined for up to ``timeout_s``). Idempotent."""
        self._close(join=True, timeout_s=timeout_s)

    def _close(self, *, join: bool, timeout_s: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            self._pending = None
            self._wake.notify_all()
        with _OPEN_LOCK:
            _OPEN.pop(self.id, None)
        thread = self._thread
        if join and thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def __enter__(self) -> "LiveMeter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MeterSlot:
    """One browser stream's meter: made on the stream's first chunk, closed when it ends.

    The page keeps a slot per session and passes ``slot.feed`` to the audio callback; a chunk after
    :meth:`close` (a new stream) makes a new meter, so a stopped and restarted stream starts afresh.

    Parameters
    ----------
    make : callable
        ``make()`` -> :class:`LiveMeter`, called in the audio thread on a stream's first chunk.
    """

    def __init__(self, make: Callable[[], LiveMeter]) -> None:
        self._make = make
        self._meter: LiveMeter | None = None
        self._lock = threading.Lock()

    @property
    def error(self) -> str | None:
        """Why this stream's meter stopped (:attr:`LiveMeter.error`), ``None`` while it runs and after :meth:`close`."""
        meter = self._meter
        return meter.error if meter is not None else None

    @property
    def meter(self) -> LiveMeter | None:
        """The current stream's meter (``None`` before its first chunk and after :meth:`close`)."""
        meter = self._meter
        return meter if meter is not None and not meter.closed else None

    def retarget(self, make: Callable[[], LiveMeter]) -> None:
        """Use ``make`` from the next stream on (another model or emotion choice): the current meter closes."""
        with self._lock:
            self._make = make
        self.close()

    def feed(self, y: np.ndarray, *, sr: int) -> None:
        """:meth:`LiveMeter.feed` to the stream's meter, made first if there is none (or it closed itself);
        dropped when it stopped on an error (:attr:`error`) until :meth:`close` (a new stream tries again)."""
        with self._lock:
            if self._meter is not None and self._meter.error is not None:
                return
            if self._meter is None or self._meter.closed:
                self._meter = self._make()
            meter = self._meter
        meter.feed(y, sr=sr)

    def close(self) -> None:
        """Close the meter, if any."""
        with self._lock:
            meter, self._meter = self._meter, None
        if meter is not None:
            meter.close()
