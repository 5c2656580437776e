"""What a microphone, a room and a phone line do to a voice: pure functions over numpy arrays.

Data first, keyword-only options, librosa's names; randomness only from an explicit
:class:`numpy.random.Generator`. The seeded transforms that training, the robustness report and the
Augmentations page use are made of these (:mod:`ser.augment.transforms`).

Libraries: rooms are simulated with ``pyroomacoustics`` (image source method, MIT); codecs
are libsndfile's own MP3 (LAME) and GSM 6.10 encoders through ``soundfile`` (BSD); filters are
``scipy.signal``. ``pedalboard`` has codecs too but is GPL-3.0, and ``audiomentations`` draws
from the global random state, so neither is used.

Every function takes the waveform *before* trimming and level normalisation (the order in which
a real recording gets them) and returns a float32 waveform at the same rate.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from ser.audio.dsp import active_power
from ser.errors import ConfigError

__all__ = ["NOISE_COLORS", "colored_noise", "babble", "mix_at_snr", "room_impulse_response", "reverberate",
           "telephone", "codec", "eq_tilt", "clip_peaks", "apply_gain"]

NOISE_COLORS: tuple[str, ...] = ("white", "pink", "brown")
_COLOR_EXPONENT = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # noise power falls as 1 / f**exponent


def _f32(y: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(y, dtype=np.float32)


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
    from scipy.signal import butter, sosfilt

    from ser.audio.dsp import fix_length, resample

    sos = butter(4, [low_hz, min(high_hz, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    band = sosfilt(sos, np.asarray(y, dtype=np.float64))
    narrow = resample(band, orig_sr=sr, target_sr=8_000)
    return _f32(fix_length(resample(narrow, orig_sr=8_000, target_sr=sr), size=y.size))


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
    import soundfile as sf
    from scipy.signal import correlate

    from ser.audio.dsp import resample

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
        narrow = resample(scaled, orig_sr=sr, target_sr=8_000)
        sf.write(buf, np.clip(narrow, -1, 1), 8_000, format="WAV", subtype="GSM610")
        buf.seek(0)
        out, _ = sf.read(buf, dtype="float32")
        out = resample(out, orig_sr=8_000, target_sr=sr)
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
