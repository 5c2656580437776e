"""The transforms, and the one registry of named conditions that training, the robustness report and the
Augmentations page all read.

In the manner of audiomentations: one small class per transform, called as ``t(y, sr=sr, rng=rng)``,
and :class:`Compose` to chain them. Unlike audiomentations, every draw comes from the explicit
:class:`numpy.random.Generator` given (no global random state), and in a fixed order, so the same seed
gives the same samples:

- ``p`` (the chance that the transform applies) is drawn first; ``p=None`` applies it always and
  draws nothing (``p=1.0`` also always applies, but spends a draw);
- then each parameter in the order the class lists them: a ``(low, high)`` range is drawn uniformly,
  a tuple of choices picks one; a single value is used as it is and draws nothing;
- then the effect itself (the noise, the babble) draws what it needs.

:data:`REGISTRY` names every condition of the project: training's versions (made with the ranges and
probabilities of :class:`ser.config.AugmentConfig`, the one place of those defaults), the robustness
report's fixed conditions, and the panels of the Augmentations page with the settings a person may
change. :data:`VERSIONS`, :data:`CONDITIONS` and :data:`PANELS` are views of it, in its order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ser.augment import effects as fx
from ser.config import AugmentConfig
from ser.errors import ConfigError

__all__ = [
    "Transform", "Identity", "AddGaussianNoise", "AddBackgroundNoise", "RoomReverb", "EqTilt",
    "ChannelDegradation", "GainClipping", "TimeStretch", "PitchShift", "Compose", "recording_chain",
    "Param", "Condition", "REGISTRY", "VERSIONS", "CONDITIONS", "PANELS", "condition", "apply_condition",
]

Range = float | tuple[float, float]
"""A fixed value, or a ``(low, high)`` range drawn uniformly for each call."""

CHANNEL_KINDS: tuple[str, ...] = ("telephone", "gsm", "mp3")
MP3_LEVELS: tuple[float, float] = (0.8, 0.97)  # training's MP3 compression levels (about 32 to 16 kbit/s)
CLIP_PERCENTILE_MAX = 99.9  # training clips at a percentile of the peaks from [clipping_percentile_min, this]


def _draw(value: Range, rng: np.random.Generator) -> float:
    return rng.uniform(*value) if isinstance(value, tuple) else value


def _pick(value: str | tuple[str, ...], rng: np.random.Generator) -> str:
    return value[int(rng.integers(len(value)))] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Transform:
    """A transform applied with probability ``p`` (``None``: always, without a draw).

    Subclasses define :meth:`apply`, which draws the transform's parameters and its effect.
    """

    p: float | None = field(default=None, kw_only=True)

    def __call__(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        """``y`` transformed, or ``y`` itself when the draw for ``p`` says no.

        Parameters
        ----------
        y : np.ndarray, shape (n,)
        sr : int
        rng : numpy.random.Generator

        Returns
        -------
        np.ndarray, shape (m,), float32 (``m == n`` except for :class:`TimeStretch`)
        """
        if self.p is not None and rng.random() >= self.p:
            return y
        return self.apply(y, sr=sr, rng=rng)

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Identity(Transform):
    """``y`` as it is."""

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        return y


@dataclass(frozen=True)
class AddGaussianNoise(Transform):
    """White Gaussian noise at an SNR of ``snr_db`` against the clip's RMS (not its active level)."""

    snr_db: Range

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        snr_db = _draw(self.snr_db, rng)
        signal_rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
        noise_rms = signal_rms / (10 ** (snr_db / 20))
        return (y + rng.normal(0.0, noise_rms, size=y.shape)).astype(np.float32)


@dataclass(frozen=True)
class AddBackgroundNoise(Transform):
    """Noise ``snr_db`` below the active speech level: a colour of :data:`ser.augment.effects.NOISE_COLORS`,
    or ``"babble"`` made of ``babble_sources`` (other speakers' clips); ``kind`` may be a tuple to pick from."""

    snr_db: Range
    kind: str | tuple[str, ...]
    babble_sources: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        snr_db = _draw(self.snr_db, rng)
        kind = _pick(self.kind, rng)
        noise = (fx.babble(self.babble_sources, n=y.size, rng=rng) if kind == "babble"
                 else fx.colored_noise(y.size, color=kind, rng=rng))
        return fx.mix_at_snr(y, noise, snr_db=snr_db)


@functools.lru_cache(maxsize=16)
def _room(sr: int, rt60_s: float) -> np.ndarray:
    return fx.room_impulse_response(sr=sr, rt60_s=rt60_s)


@functools.lru_cache(maxsize=4)
def _rir_bank(sr: int, rt60_min_s: float, rt60_max_s: float, n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(fx.room_impulse_response(sr=sr, rt60_s=float(rng.uniform(rt60_min_s, rt60_max_s)), rng=rng)
                 for _ in range(n))


@dataclass(frozen=True)
class RoomReverb(Transform):
    """A room ringing for ``rt60_s``: a fixed 6 x 4.5 x 3 m room for one value; for a range, one of a bank
    of ``n_rooms`` rooms of drawn sizes and RT60s (simulated once per process from ``bank_seed``, about
    40 ms a room)."""

    rt60_s: Range
    n_rooms: int = 24
    bank_seed: int = 1234

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        if isinstance(self.rt60_s, tuple):
            bank = _rir_bank(sr, *self.rt60_s, self.n_rooms, self.bank_seed)
            return fx.reverberate(y, rir=bank[int(rng.integers(len(bank)))])
        return fx.reverberate(y, rir=_room(sr, self.rt60_s))


@dataclass(frozen=True)
class EqTilt(Transform):
    """A spectral tilt of ``db_per_octave`` about 1 kHz (above 0 brighter, below duller)."""

    db_per_octave: Range

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        return fx.eq_tilt(y, sr=sr, db_per_octave=_draw(self.db_per_octave, rng))


@dataclass(frozen=True)
class ChannelDegradation(Transform):
    """A telephone band (``"telephone"``), GSM (``"gsm"``) or MP3 at ``compression_level`` (``"mp3"``);
    ``kind`` may be a tuple to pick from."""

    kind: str | tuple[str, ...]
    compression_level: Range = 0.9

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        kind = _pick(self.kind, rng)
        if kind == "telephone":
            return fx.telephone(y, sr=sr)
        return fx.codec(y, sr=sr, kind=kind, compression_level=float(_draw(self.compression_level, rng)))


@dataclass(frozen=True)
class GainClipping(Transform):
    """A gain of ``gain_db`` clipped at full scale; then, when ``percentile`` is given, the peaks clipped at
    that percentile of ``|y|``, with probability ``clip_p`` (``None``: always, without a draw)."""

    gain_db: Range
    clip_p: float | None = None
    percentile: Range | None = None

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        y = fx.apply_gain(y, gain_db=_draw(self.gain_db, rng))
        if self.percentile is not None and (self.clip_p is None or rng.random() < self.clip_p):
            y = fx.clip_peaks(y, percentile=_draw(self.percentile, rng))
        return y


@dataclass(frozen=True)
class TimeStretch(Transform):
    """Speed changed by ``rate`` (above 1 is faster), pitch kept (``librosa.effects.time_stretch``)."""

    rate: Range

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        import librosa

        return librosa.effects.time_stretch(y, rate=_draw(self.rate, rng)).astype(np.float32)


@dataclass(frozen=True)
class PitchShift(Transform):
    """Pitch shifted by ``n_steps`` semitones, duration kept (``librosa.effects.pitch_shift``)."""

    n_steps: Range

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        import librosa

        return librosa.effects.pitch_shift(y, sr=sr, n_steps=_draw(self.n_steps, rng),
                                           res_type="soxr_hq").astype(np.float32)


@dataclass(frozen=True)
class Compose(Transform):
    """``transforms`` one after the other (all of them, or none with probability ``1 - p``)."""

    transforms: tuple[Transform, ...]

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        for t in self.transforms:
            y = t(y, sr=sr, rng=rng)
        return y


def recording_chain(config: AugmentConfig, *, babble_sources: Sequence[np.ndarray] = (),
                    p: float | None = None) -> Compose:
    """A random recording condition, in the order sound meets them: room, noise, EQ, channel, gain.

    Parameters
    ----------
    config : AugmentConfig
        Each step's probability and ranges.
    babble_sources : other training speakers' clips; without them the noise is coloured only
    p : the chance of the whole chain (``None``: always)
    """
    c = config
    kinds = fx.NOISE_COLORS + (("babble",) if len(babble_sources) else ())
    return Compose((
        RoomReverb((c.rt60_s_min, c.rt60_s_max), p=c.reverb_p),
        AddBackgroundNoise((c.noise_snr_db_min, c.noise_snr_db_max), kinds, babble_sources=tuple(babble_sources),
                           p=c.noise_p),
        EqTilt((-c.eq_tilt_db_per_octave_max, c.eq_tilt_db_per_octave_max), p=c.eq_p),
        ChannelDegradation(CHANNEL_KINDS, MP3_LEVELS, p=c.channel_p),
        GainClipping((c.gain_db_min, c.gain_db_max), c.clipping_p, (c.clipping_percentile_min, CLIP_PERCENTILE_MAX),
                     p=1.0),
    ), p=p)


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A setting of a condition that a person may change (the Augmentations page draws it as a slider, or
    as a choice when ``options`` are given); ``name`` is the keyword its condition's ``make`` takes."""

    name: str
    label: str
    default: float | str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    option_labels: tuple[str, ...] = ()  # how each option is shown, if not as it is written
    help: str = ""


@dataclass(frozen=True)
class Condition:
    """One named condition.

    ``make(config, babble_sources, **values)`` builds its transform; ``uses`` says who reads it
    (``"training"``: one of training's versions; ``"report"``: a condition of the robustness report,
    whose target is that of ``group``; ``"page"``: a panel of the Augmentations page, with ``params``
    to set and a ``note`` to show).
    """

    name: str
    label: str
    make: Callable[..., Transform] = field(compare=False, repr=False)
    uses: tuple[str, ...]
    group: str | None = None
    params: tuple[Param, ...] = ()
    note: str = ""
    needs_babble: bool = False
    babble: bool = False  # uses other speakers' clips when it has them

    def transform(self, *, config: AugmentConfig | None = None, babble_sources: Sequence[np.ndarray] = (),
                  **values: Any) -> Transform:
        """The transform of this condition; ``values`` set its ``params`` (the others keep their defaults)."""
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            settings = ", ".join(p.name for p in self.params) or "none"
            raise ConfigError(f"condition {self.name!r} has no setting {', '.join(sorted(unknown))}; "
                              f"its settings: {settings}.")
        values = {p.name: values.get(p.name, p.default) for p in self.params}
        return self.make(config or AugmentConfig(), tuple(babble_sources), **values)


_D = AugmentConfig()  # the ranges training draws from, for the page's help texts


def _version(step: Callable[[AugmentConfig], Transform]) -> Callable[..., Transform]:
    """A version that changes the voice (``step``), then a recording condition with probability ``chain_p``."""
    return lambda c, b: Compose((step(c), recording_chain(c, babble_sources=b, p=c.chain_p)))


def _snr(label: str, default: float, help: str) -> Param:
    return Param("snr_db", label, default, 0.0, 40.0, help=help)


_CONDITIONS: tuple[Condition, ...] = (
    # training's versions, and the panels of the Augmentations page, in the page's order
    Condition("original", "Original", lambda c, b: Identity(), ("training", "page")),
    Condition("white-noise", "White noise",
              # a one-point range with p=1, as the page has always drawn it: the same seed, the same noise
              lambda c, b, snr_db: AddGaussianNoise((snr_db, snr_db), p=1.0), ("page",),
              params=(_snr("Signal-to-noise (dB)", 20.0, "Lower means louder noise."),)),
    Condition("time-stretch", "Time stretch", lambda c, b, rate: TimeStretch(rate), ("page",),
              params=(Param("rate", "Speed", 1.2, 0.5, 2.0,
                            help=f"Above 1 is faster. Training draws it between {_D.stretch_rate_min:g} and "
                                 f"{_D.stretch_rate_max:g}."),)),
    Condition("pitch-shift", "Pitch shift", lambda c, b, n_steps: PitchShift(n_steps), ("page",),
              params=(Param("n_steps", "Semitones", 2.0, -6.0, 6.0,
                            help=f"Training draws it between {_D.pitch_semitones_min:g} and "
                                 f"{_D.pitch_semitones_max:g}."),)),
    Condition("colored-noise", "Coloured noise", lambda c, b, kind, snr_db: AddBackgroundNoise(snr_db, kind),
              ("page",),
              params=(Param("kind", "Colour", "pink", options=fx.NOISE_COLORS,
                            help="Pink and brown noise are deeper, like traffic, fans or wind."),
                      _snr("Signal-to-noise (dB)", 15.0,
                           f"Training draws it between {_D.noise_snr_db_min:g} and {_D.noise_snr_db_max:g} dB."))),
    Condition("babble", "Other voices (babble)",
              lambda c, b, snr_db: AddBackgroundNoise(snr_db, "babble", babble_sources=b), ("page",),
              params=(_snr("Signal-to-babble (dB)", 10.0,
                           "Other speakers of this dataset talking at once; training uses other training "
                           "speakers."),),
              needs_babble=True, babble=True),
    Condition("room", "Room reverberation", lambda c, b, rt60_s: RoomReverb(rt60_s), ("page",),
              params=(Param("rt60_s", "RT60 (seconds)", 0.6, 0.1, 1.5, step=0.05,
                            help=f"How long the room rings. Training draws rooms between {_D.rt60_s_min:g} and "
                                 f"{_D.rt60_s_max:g} s."),)),
    Condition("eq", "Microphone colour (EQ tilt)", lambda c, b, db_per_octave: EqTilt(db_per_octave), ("page",),
              params=(Param("db_per_octave", "dB per octave", 3.0, -6.0, 6.0,
                            help=f"Above 0 is brighter, below 0 duller. Training draws up to "
                                 f"±{_D.eq_tilt_db_per_octave_max:g}."),)),
    Condition("phone", "Telephone line", lambda c, b: ChannelDegradation("telephone"), ("page",),
              note="300–3400 Hz at 8 kHz, as a landline carries it."),
    Condition("channel", "Codec",
              lambda c, b, kind, compression_level: ChannelDegradation(kind, compression_level), ("page",),
              params=(Param("kind", "Codec", "mp3", options=("mp3", "gsm"), option_labels=("MP3", "GSM"),
                            help="MP3 at a low bitrate, or GSM, the codec of 2G phone calls."),
                      Param("compression_level", "MP3 compression (1 = worst)", 0.9, 0.0, 0.98,
                            help="0.9 is about 24 kbit/s."))),
    Condition("gain", "Gain and clipping",
              lambda c, b, gain_db, percentile: GainClipping(gain_db, percentile=percentile), ("page",),
              params=(Param("gain_db", "Gain (dB)", 10.0, -30.0, 20.0,
                            help="Louder than full scale clips, as a recorder set too high does."),
                      Param("percentile", "Clip at percentile of the peaks", 99.0, 90.0, 100.0,
                            help="Below 100 flattens the loudest peaks: mild distortion."))),
    Condition("recording", "A random recording", lambda c, b: recording_chain(c, babble_sources=b),
              ("training", "page"), note="One draw of the whole chain, as training makes it; change the seed "
                                         "for another.", babble=True),
    Condition("stretch", "Faster or slower", _version(lambda c: TimeStretch((c.stretch_rate_min, c.stretch_rate_max),
                                                                            p=1.0)), ("training",), babble=True),
    Condition("pitch", "Higher or lower", _version(lambda c: PitchShift((c.pitch_semitones_min, c.pitch_semitones_max),
                                                                        p=1.0)), ("training",), babble=True),
    # the robustness report's conditions, in the order it shows them
    Condition("clean", "As recorded", lambda c, b: Identity(), ("report",), "clean"),
    Condition("gain-20", "20 dB quieter", lambda c, b: GainClipping(-20.0), ("report",), "gain"),
    Condition("gain-10", "10 dB quieter", lambda c, b: GainClipping(-10.0), ("report",), "gain"),
    Condition("gain+10", "10 dB louder (clipped)", lambda c, b: GainClipping(10.0), ("report",), "gain"),
    Condition("white20", "White noise, 20 dB SNR", lambda c, b: AddBackgroundNoise(20.0, "white"), ("report",),
              "mild"),
    Condition("white10", "White noise, 10 dB SNR", lambda c, b: AddBackgroundNoise(10.0, "white"), ("report",),
              "hard"),
    Condition("pink10", "Pink noise, 10 dB SNR", lambda c, b: AddBackgroundNoise(10.0, "pink"), ("report",), "hard"),
    Condition("babble10", "Other voices (babble), 10 dB SNR",
              lambda c, b: AddBackgroundNoise(10.0, "babble", babble_sources=b), ("report",), "hard",
              needs_babble=True, babble=True),
    Condition("telephone", "Telephone line (300-3400 Hz)", lambda c, b: ChannelDegradation("telephone"), ("report",),
              "mild"),
    Condition("reverb", "Reverberant room (RT60 0.6 s)", lambda c, b: RoomReverb(0.6), ("report",), "mild"),
    Condition("codec", "Low-bitrate MP3 (about 24 kbit/s)", lambda c, b: ChannelDegradation("mp3", 0.9), ("report",),
              "mild"),
)

REGISTRY: dict[str, Condition] = {c.name: c for c in _CONDITIONS}
"""Every named condition, by name."""

VERSIONS: tuple[str, ...] = tuple(name for name, c in REGISTRY.items() if "training" in c.uses)
"""What training sees of each training clip: as recorded; under a random recording condition
(room, noise, EQ, phone line or codec, gain and clipping: :func:`recording_chain`); time-stretched;
pitch-shifted. The stretched and pitch-shifted versions also get a random recording condition with
probability ``AugmentConfig.chain_p``."""

CONDITIONS: dict[str, Condition] = {name: c for name, c in REGISTRY.items() if "report" in c.uses}
"""The robustness report's conditions, in the order they are shown. ``group`` says which target
applies: ``gain`` (agree with clean), ``mild`` (macro F1 within 0.05 of clean), ``hard`` (within 0.10)."""

PANELS: tuple[Condition, ...] = tuple(c for c in REGISTRY.values() if "page" in c.uses)
"""The Augmentations page's panels, in its order."""


def condition(name: str, *, use: str | None = None) -> Condition:
    """The condition ``name`` of :data:`REGISTRY` (of those with ``use`` among their uses, if given).

    Raises
    ------
    ConfigError
        One line naming the unknown condition and the known ones.
    """
    known = [n for n, c in REGISTRY.items() if use is None or use in c.uses]
    if name not in known:
        what = {"training": "augmentation version", "report": "condition"}.get(use or "", "condition")
        raise ConfigError(f"{what} {name!r} is unknown; choose one of {', '.join(known)}.")
    return REGISTRY[name]


def apply_condition(y: np.ndarray, name: str, *, sr: int, rng: np.random.Generator,
                    babble_sources: Sequence[np.ndarray] = (), config: AugmentConfig | None = None,
                    **values: Any) -> np.ndarray:
    """``y`` (before trimming) under the condition ``name`` of :data:`REGISTRY`.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    name : a key of :data:`REGISTRY` (the report's are those of :data:`CONDITIONS`)
    rng : numpy.random.Generator
        Draws the noise; seed it per clip for a repeatable report.
    babble_sources : other speakers' clips, for babble
    config : the ranges of training's versions (default ``AugmentConfig()``)
    **values : the condition's ``params``, e.g. ``snr_db=10.0``

    Returns
    -------
    np.ndarray, shape (m,), float32
    """
    cond = condition(name)
    if cond.needs_babble and not len(babble_sources):
        raise ConfigError(f"condition {name!r} needs other speakers' clips to make babble from.")
    t = cond.transform(config=config, babble_sources=babble_sources, **values)
    return np.ascontiguousarray(t(np.asarray(y, dtype=np.float32), sr=sr, rng=rng), dtype=np.float32)
