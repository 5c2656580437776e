"""Recording conditions: what a microphone, a room and a phone line do to a voice.

Pure functions over numpy arrays (data first, keyword-only options, librosa's names), the
seeded transforms that training draws from (in the manner of audiomentations: each applies
itself with probability ``p`` and takes an explicit :class:`numpy.random.Generator`), and the
fixed, named conditions of the robustness report (:data:`CONDITIONS`).

Libraries: rooms are simulated with ``pyroomacoustics`` (image source method, MIT); codecs
are libsndfile's own MP3 (LAME) and GSM 6.10 encoders through ``soundfile`` (BSD); filters are
``scipy.signal``. ``pedalboard`` has codecs too but is GPL-3.0, and ``audiomentations`` draws
from the global random state, so neither is used.

Every function takes the waveform *before* trimming and level normalisation (the order in which
a real recording gets them) and returns a float32 waveform at the same rate.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ser.errors import ConfigError

__all__ = [
    "NOISE_COLORS", "colored_noise", "babble", "mix_at_snr", "room_impulse_response", "reverberate",
    "telephone", "codec", "eq_tilt", "clip_peaks", "apply_gain",
    "RandomTransform", "AddBackgroundNoise", "RoomReverb", "EqTilt", "ChannelDegradation", "GainClipping",
    "RecordingChain",
    "CONDITIONS", "Condition", "apply_condition",
]

NOISE_COLORS: tuple[str, ...] = ("white", "pink", "brown")
_COLOR_EXPONENT = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # noise power falls as 1 / f**exponent


def _f32(y: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(y, dtype=np.float32)


def active_power(y: np.ndarray, *, gate_db: float = 30.0, frame_length: int = 512,
                 hop_length: int = 256) -> float:
    """Mean power of ``y`` over its active frames (those within ``gate_db`` of the loudest).

    A gated level in the spirit of ITU-R BS.1770's relative gate: silence around speech
    does not count, and scaling ``y`` by ``g`` scales the result by exactly ``g**2``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Returns
    -------
    float, in squared full-scale units (0 for an all-zero signal)
    """
    y = np.asarray(y, dtype=np.float64)
    if y.size < frame_length:
        return float(np.mean(y ** 2)) if y.size else 0.0
    frames = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length]
    power = np.mean(frames ** 2, axis=1)
    top = float(power.max())
    if top <= 0.0:
        return 0.0
    return float(power[power >= top * 10 ** (-gate_db / 10)].mean())


def colored_noise(n: int, *, color: str, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of unit RMS whose power spectrum falls as ``1 / f**k`` (white 0, pink 1, brown 2).

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    if color not in _COLOR_EXPONENT:
        raise ConfigError(f"noise color {color!r} is unknown; choose one of {', '.join(NOISE_COLORS)}.")
    white = rng.standard_normal(n)
    if color != "white":
        spectrum = np.fft.rfft(white)
        f = np.arange(spectrum.size, dtype=np.float64)
        f[0] = 1.0
        spectrum /= f ** (_COLOR_EXPONENT[color] / 2)
        white = np.fft.irfft(spectrum, n=n)
    white -= white.mean()
    return _f32(white / max(float(np.sqrt(np.mean(white ** 2))), 1e-12))


def babble(sources: Sequence[np.ndarray], *, n: int, rng: np.random.Generator,
           n_talkers: int | None = 4) -> np.ndarray:
    """Several voices talking at once: ``n_talkers`` sources drawn from ``sources`` (all of them
    if ``None`` or fewer), each at equal active level, tiled to ``n`` samples from a random start,
    then summed.

    Parameters
    ----------
    sources : sequence of np.ndarray, each shape (m_i,)
        Other speakers' clips at the same sample rate.
    n : int
    n_talkers : int, optional

    Returns
    -------
    np.ndarray, shape (n,), float32, unit RMS
    """
    if not sources:
        raise ConfigError("babble needs at least one other clip to mix; give it other speakers' clips.")
    if n_talkers is not None and n_talkers < len(sources):
        sources = [sources[i] for i in rng.choice(len(sources), size=n_talkers, replace=False)]
    out = np.zeros(n, dtype=np.float64)
    for s in sources:
        s = np.asarray(s, dtype=np.float64)
        level = active_power(s)
        if s.size == 0 or level <= 0:
            continue
        tiled = np.resize(np.roll(s, -int(rng.integers(0, s.size))), n)
        out += tiled / np.sqrt(level)
    rms = float(np.sqrt(np.mean(out ** 2)))
    return _f32(out / rms) if rms > 0 else _f32(out)


def mix_at_snr(y: np.ndarray, noise: np.ndarray, *, snr_db: float) -> np.ndarray:
    """``y`` plus ``noise`` scaled so that the active speech level is ``snr_db`` above the noise's RMS.

    Parameters
    ----------
    y, noise : np.ndarray, shape (n,)

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    noise = np.asarray(noise, dtype=np.float64)[: y.size]
    noise_power = float(np.mean(noise ** 2))
    if noise_power <= 0:
        return _f32(y)
    gain = np.sqrt(active_power(y) / noise_power / 10 ** (snr_db / 10))
    return _f32(y + gain * noise)


def room_impulse_response(*, sr: int, rt60_s: float, rng: np.random.Generator | None = None,
                          room_dim_m: Sequence[float] | None = None, max_order: int = 40) -> np.ndarray:
    """The impulse response from a talker to a microphone in a simulated shoebox room.

    ``pyroomacoustics``' image source method; the wall absorption comes from Sabine's formula
    for ``rt60_s``. With ``rng`` the room size and the two positions are drawn (a living room to
    a lecture hall); without it a fixed 6 x 4.5 x 3 m room is used. ``max_order`` caps the
    reflections computed (40 keeps one response under about 40 ms here and the RT60 within
    about 10 % of the target up to 1 s).

    Returns
    -------
    np.ndarray, shape (m,), float32, direct path at its natural delay
    """
    import pyroomacoustics as pra

    if room_dim_m is None:
        room_dim_m = ([float(rng.uniform(3.5, 9.0)), float(rng.uniform(3.0, 7.0)), float(rng.uniform(2.4, 3.5))]
                      if rng is not None else [6.0, 4.5, 3.0])
    dim = np.asarray(room_dim_m, dtype=float)
    try:
        absorption, order = pra.inverse_sabine(rt60_s, dim)
    except ValueError as exc:
        raise ConfigError(f"rt60_s={rt60_s} cannot be reached in a {dim.round(1).tolist()} m room ({exc}); "
                          "use a shorter RT60 or a bigger room.") from exc
    room = pra.ShoeBox(dim, fs=sr, materials=pra.Material(absorption), max_order=min(order, max_order))
    if rng is not None:
        source = dim * rng.uniform(0.2, 0.8, 3)
        mic = dim * rng.uniform(0.2, 0.8, 3)
    else:
        source, mic = dim * [0.33, 0.45, 0.5], dim * [0.7, 0.7, 0.4]
    room.add_source(source.tolist())
    room.add_microphone(mic.tolist())
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    return _f32(rir / np.max(np.abs(rir)))


@functools.lru_cache(maxsize=4)
def _rir_bank(sr: int, rt60_min_s: float, rt60_max_s: float, n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(room_impulse_response(sr=sr, rt60_s=float(rng.uniform(rt60_min_s, rt60_max_s)), rng=rng)
                 for _ in range(n))


def reverberate(y: np.ndarray, *, rir: np.ndarray) -> np.ndarray:
    """``y`` heard through a room: convolved with ``rir``, cut to the length of ``y``.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    from scipy.signal import fftconvolve

    return _f32(fftconvolve(np.asarray(y, dtype=np.float64), rir)[: y.size])


def telephone(y: np.ndarray, *, sr: int, low_hz: float = 300.0, high_hz: float = 3400.0) -> np.ndarray:
    """A landline's channel: band-pass ``low_hz``-``high_hz`` and an 8 kHz sample rate, back at ``sr``.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    import librosa
    from scipy.signal import butter, sosfilt

    sos = butter(4, [low_hz, min(high_hz, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    band = sosfilt(sos, np.asarray(y, dtype=np.float64))
    narrow = librosa.resample(band, orig_sr=sr, target_sr=8_000, res_type="soxr_hq")
    return _f32(librosa.util.fix_length(librosa.resample(narrow, orig_sr=8_000, target_sr=sr, res_type="soxr_hq"),
                                        size=y.size))


def codec(y: np.ndarray, *, sr: int, kind: str = "mp3", compression_level: float = 0.9) -> np.ndarray:
    """``y`` encoded and decoded by a lossy codec (libsndfile's, through soundfile).

    ``kind="mp3"``: MPEG layer III at ``sr`` with constant bitrate set by ``compression_level``
    (0 best, 0.99 worst; 0.9 is about 24 kbit/s at 16 kHz). ``kind="gsm"``: GSM 06.10 full rate, the
    codec of 2G phone calls, at 8 kHz. The encoder's delay is removed, so the output lines up with
    ``y``.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    import librosa
    import soundfile as sf
    from scipy.signal import correlate

    y = np.asarray(y, dtype=np.float32)
    peak = float(np.max(np.abs(y))) or 1.0
    scaled = 0.9 * y / peak  # PCM codecs clip at full scale; the level is restored below
    buf = io.BytesIO()
    if kind == "mp3":
        if not 0.0 <= compression_level < 1.0:
            raise ConfigError(f"compression_level={compression_level} must be in [0, 1), e.g. 0.9.")
        sf.write(buf, scaled, sr, format="MP3", subtype="MPEG_LAYER_III", compression_level=compression_level,
                 bitrate_mode="CONSTANT")
        buf.seek(0)
        out, _ = sf.read(buf, dtype="float32")
    elif kind == "gsm":
        narrow = librosa.resample(scaled, orig_sr=sr, target_sr=8_000, res_type="soxr_hq")
        sf.write(buf, np.clip(narrow, -1, 1), 8_000, format="WAV", subtype="GSM610")
        buf.seek(0)
        out, _ = sf.read(buf, dtype="float32")
        out = librosa.resample(out, orig_sr=8_000, target_sr=sr, res_type="soxr_hq")
    else:
        raise ConfigError(f"codec kind {kind!r} is unknown; choose 'mp3' or 'gsm'.")
    max_lag = min(4096, out.size - 1)
    if out.size > y.size and max_lag > 0:  # drop the encoder's delay: the lag that best lines the two up
        probe = scaled[: min(scaled.size, 4 * sr)]
        xc = correlate(out[: probe.size + max_lag], probe, mode="valid", method="fft")
        lag = int(np.argmax(xc[: max_lag + 1]))
        out = out[lag:]
    out = np.pad(out, (0, max(0, y.size - out.size)))[: y.size]
    return _f32(out * peak / 0.9)


def eq_tilt(y: np.ndarray, *, sr: int, db_per_octave: float, pivot_hz: float = 1000.0) -> np.ndarray:
    """A microphone's or speaker's colour: a gain that rises (or falls) by ``db_per_octave`` above
    ``pivot_hz`` and the opposite below it (limited to 50 Hz and above).

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    spectrum = np.fft.rfft(np.asarray(y, dtype=np.float64))
    f = np.maximum(np.fft.rfftfreq(y.size, 1 / sr), 50.0)
    spectrum *= 10 ** (db_per_octave * np.log2(f / pivot_hz) / 20)
    return _f32(np.fft.irfft(spectrum, n=y.size))


def clip_peaks(y: np.ndarray, *, percentile: float) -> np.ndarray:
    """Hard clipping at the ``percentile``-th percentile of ``|y|`` (99 clips the top 1 % of samples).

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    threshold = float(np.percentile(np.abs(y), percentile))
    return _f32(np.clip(y, -threshold, threshold)) if threshold > 0 else _f32(y)


def apply_gain(y: np.ndarray, *, gain_db: float, full_scale: float = 1.0) -> np.ndarray:
    """``y`` made ``gain_db`` louder, clipped at ``full_scale`` as a recorder would.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    return _f32(np.clip(np.asarray(y, dtype=np.float64) * 10 ** (gain_db / 20), -full_scale, full_scale))


# --- seeded transforms that training draws from ---------------------------------------------


@dataclass(frozen=True)
class RandomTransform:
    """A transform applied with probability ``p``, in the manner of audiomentations' transforms but with
    an explicit generator: the draw that decides whether it applies comes first, then :meth:`apply`
    draws its own parameters, so the same seed gives the same samples. Subclasses define ``apply``."""

    p: float = field(default=1.0, kw_only=True)

    def __call__(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        if rng.random() >= self.p:
            return y
        return self.apply(y, sr=sr, rng=rng)

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class AddBackgroundNoise(RandomTransform):
    """Noise at an SNR from ``[min_snr_db, max_snr_db]``: coloured, or babble when ``babble_sources`` are
    given (other training speakers' clips), each kind equally likely."""

    min_snr_db: float = 5.0
    max_snr_db: float = 30.0
    colors: tuple[str, ...] = NOISE_COLORS
    babble_sources: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        snr_db = rng.uniform(self.min_snr_db, self.max_snr_db)
        kinds = self.colors + (("babble",) if self.babble_sources else ())
        kind = kinds[int(rng.integers(len(kinds)))]
        noise = (babble(self.babble_sources, n=y.size, rng=rng) if kind == "babble"
                 else colored_noise(y.size, color=kind, rng=rng))
        return mix_at_snr(y, noise, snr_db=snr_db)


@dataclass(frozen=True)
class RoomReverb(RandomTransform):
    """A room from a bank of ``n_rooms`` simulated rooms with RT60 in ``[min_rt60_s, max_rt60_s]``.

    The bank is simulated once per process (about 40 ms a room) from ``bank_seed``."""

    min_rt60_s: float = 0.2
    max_rt60_s: float = 1.0
    n_rooms: int = 24
    bank_seed: int = 1234

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        bank = _rir_bank(sr, self.min_rt60_s, self.max_rt60_s, self.n_rooms, self.bank_seed)
        return reverberate(y, rir=bank[int(rng.integers(len(bank)))])


@dataclass(frozen=True)
class EqTilt(RandomTransform):
    """A spectral tilt of up to ``max_db_per_octave`` either way."""

    max_db_per_octave: float = 3.0

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        return eq_tilt(y, sr=sr, db_per_octave=rng.uniform(-self.max_db_per_octave, self.max_db_per_octave))


@dataclass(frozen=True)
class ChannelDegradation(RandomTransform):
    """One of a telephone band, GSM, or MP3 at a compression level from [0.8, 0.97], equally likely."""


    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        kind = ("telephone", "gsm", "mp3")[int(rng.integers(3))]
        if kind == "telephone":
            return telephone(y, sr=sr)
        return codec(y, sr=sr, kind=kind, compression_level=float(rng.uniform(0.8, 0.97)))


@dataclass(frozen=True)
class GainClipping(RandomTransform):
    """A gain from ``[min_gain_db, max_gain_db]`` clipped at full scale, and with probability
    ``clipping_p`` a mild clipping at a percentile from ``[min_percentile, 99.9]`` of the peaks."""

    min_gain_db: float = -20.0
    max_gain_db: float = 10.0
    clipping_p: float = 0.15
    min_percentile: float = 95.0

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        y = apply_gain(y, gain_db=rng.uniform(self.min_gain_db, self.max_gain_db))
        if rng.random() < self.clipping_p:
            y = clip_peaks(y, percentile=rng.uniform(self.min_percentile, 99.9))
        return y


@dataclass(frozen=True)
class RecordingChain:
    """A random recording condition, in the order sound meets them: room, noise, EQ, channel, gain."""

    steps: tuple[Callable[..., np.ndarray], ...]

    @classmethod
    def from_config(cls, config, *, babble_sources: Sequence[np.ndarray] = ()) -> "RecordingChain":
        """The chain of training with the probabilities and ranges of an ``AugmentConfig``."""
        c = config
        return cls((
            RoomReverb(c.rt60_s_min, c.rt60_s_max, p=c.reverb_p),
            AddBackgroundNoise(c.noise_snr_db_min, c.noise_snr_db_max, babble_sources=tuple(babble_sources),
                               p=c.noise_p),
            EqTilt(c.eq_tilt_db_per_octave_max, p=c.eq_p),
            ChannelDegradation(p=c.channel_p),
            GainClipping(c.gain_db_min, c.gain_db_max, clipping_p=c.clipping_p,
                         min_percentile=c.clipping_percentile_min),
        ))

    def __call__(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        for step in self.steps:
            y = step(y, sr=sr, rng=rng)
        return y


# --- the fixed conditions of the robustness report -------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One named condition of the robustness report: ``label`` for people, ``group`` for the targets."""

    name: str
    label: str
    group: str
    apply: Callable[..., np.ndarray] = field(compare=False, repr=False)
    needs_babble: bool = False


@functools.lru_cache(maxsize=2)
def _report_room(sr: int) -> np.ndarray:
    return room_impulse_response(sr=sr, rt60_s=0.6)


def _noise(color: str, snr_db: float) -> Callable[..., np.ndarray]:
    def apply(y, *, sr, rng, babble_sources=()):
        return mix_at_snr(y, colored_noise(y.size, color=color, rng=rng), snr_db=snr_db)
    return apply


def _babble(snr_db: float) -> Callable[..., np.ndarray]:
    def apply(y, *, sr, rng, babble_sources=()):
        return mix_at_snr(y, babble(babble_sources, n=y.size, rng=rng), snr_db=snr_db)
    return apply


def _gain(gain_db: float) -> Callable[..., np.ndarray]:
    return lambda y, *, sr, rng, babble_sources=(): apply_gain(y, gain_db=gain_db)


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("clean", "As recorded", "clean", lambda y, *, sr, rng, babble_sources=(): y),
    Condition("gain-20", "20 dB quieter", "gain", _gain(-20.0)),
    Condition("gain-10", "10 dB quieter", "gain", _gain(-10.0)),
    Condition("gain+10", "10 dB louder (clipped)", "gain", _gain(10.0)),
    Condition("white20", "White noise, 20 dB SNR", "mild", _noise("white", 20.0)),
    Condition("white10", "White noise, 10 dB SNR", "hard", _noise("white", 10.0)),
    Condition("pink10", "Pink noise, 10 dB SNR", "hard", _noise("pink", 10.0)),
    Condition("babble10", "Other voices (babble), 10 dB SNR", "hard", _babble(10.0), needs_babble=True),
    Condition("telephone", "Telephone line (300-3400 Hz)", "mild",
              lambda y, *, sr, rng, babble_sources=(): telephone(y, sr=sr)),
    Condition("reverb", "Reverberant room (RT60 0.6 s)", "mild",
              lambda y, *, sr, rng, babble_sources=(): reverberate(y, rir=_report_room(sr))),
    Condition("codec", "Low-bitrate MP3 (about 24 kbit/s)", "mild",
              lambda y, *, sr, rng, babble_sources=(): codec(y, sr=sr, kind="mp3", compression_level=0.9)),
)}
"""The robustness report's conditions, in the order they are shown. ``group`` says which target
applies: ``gain`` (agree with clean), ``mild`` (macro F1 within 0.05 of clean), ``hard`` (within 0.10)."""


def apply_condition(y: np.ndarray, name: str, *, sr: int, rng: np.random.Generator,
                    babble_sources: Sequence[np.ndarray] = ()) -> np.ndarray:
    """``y`` (before trimming) under the report's condition ``name``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    name : a key of :data:`CONDITIONS`
    rng : numpy.random.Generator
        Draws the noise; seed it per clip for a repeatable report.
    babble_sources : other speakers' clips, for ``babble10``

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    if name not in CONDITIONS:
        raise ConfigError(f"condition {name!r} is unknown; choose one of {', '.join(CONDITIONS)}.")
    cond = CONDITIONS[name]
    if cond.needs_babble and not babble_sources:
        raise ConfigError(f"condition {name!r} needs other speakers' clips to make babble from.")
    return _f32(cond.apply(np.asarray(y, dtype=np.float32), sr=sr, rng=rng, babble_sources=babble_sources))
