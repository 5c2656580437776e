"""The signal functions of recording conditions: each does what its name says."""

import numpy as np
import pytest

from ser.audio.dsp import active_power
from ser.augment import effects as c
from ser.errors import ConfigError

SR = 16_000


def band_energy(y: np.ndarray, lo_hz: float, hi_hz: float) -> float:
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(y.size, 1 / SR)
    return float(spec[(f >= lo_hz) & (f < hi_hz)].sum() / spec.sum())


@pytest.mark.parametrize("color,slope_db", [("white", 0.0), ("pink", -3.0), ("brown", -6.0)])
def test_noise_colors_have_their_slope(color, slope_db):
    n = c.colored_noise(2 ** 17, color=color, rng=np.random.default_rng(0))
    assert np.sqrt(np.mean(n.astype(float) ** 2)) == pytest.approx(1.0, rel=1e-3)
    spec = np.abs(np.fft.rfft(n)) ** 2
    f = np.fft.rfftfreq(n.size, 1 / SR)
    octave = lambda lo: spec[(f >= lo) & (f < 2 * lo)].mean()  # noqa: E731
    measured = 10 * np.log10(octave(2000) / octave(1000))  # power density per octave up
    assert measured == pytest.approx(slope_db, abs=0.6)


def test_mix_hits_the_snr_against_the_active_speech_level(speech):
    noise = c.colored_noise(speech.size, color="white", rng=np.random.default_rng(1))
    mixed = c.mix_at_snr(speech, noise, snr_db=10.0)
    added = (mixed - speech).astype(np.float64)
    snr = 10 * np.log10(active_power(speech) / np.mean(added ** 2))
    assert snr == pytest.approx(10.0, abs=0.05)


def test_active_power_scales_with_gain_squared(speech):
    assert active_power(0.01 * speech) == pytest.approx(1e-4 * active_power(speech), rel=1e-6)


def test_telephone_keeps_only_the_phone_band(speech):
    out = c.telephone(speech, sr=SR)
    assert out.shape == speech.shape
    assert band_energy(out, 4000, 8000) < 1e-4 < band_energy(speech, 4000, 8000)
    assert band_energy(out, 0, 200) < 0.2 * band_energy(speech, 0, 200)


@pytest.mark.parametrize("kind", ["mp3", "gsm"])
def test_codec_is_lossy_but_lines_up_with_the_input(speech, kind):
    out = c.codec(speech, sr=SR, kind=kind, compression_level=0.9)
    assert out.shape == speech.shape
    corr = np.corrcoef(out, speech)[0, 1]
    assert 0.6 < corr < 0.9999, f"{kind}: correlation {corr:.4f}"


def test_codec_refuses_an_unknown_kind(speech):
    with pytest.raises(ConfigError, match="codec kind 'opus' is unknown"):
        c.codec(speech, sr=SR, kind="opus")


def test_room_response_rings_for_about_its_rt60():
    import pyroomacoustics as pra

    rir = c.room_impulse_response(sr=SR, rt60_s=0.6)
    assert pra.experimental.measure_rt60(rir, fs=SR) == pytest.approx(0.6, rel=0.2)
    assert np.argmax(np.abs(rir)) < 0.05 * SR  # the direct path comes first


def test_gain_clips_at_full_scale_and_clip_peaks_flattens(speech):
    loud = c.apply_gain(speech, gain_db=20.0)
    assert np.max(np.abs(loud)) == pytest.approx(1.0)
    flat = c.clip_peaks(speech, percentile=99.0)
    assert np.mean(np.abs(flat) >= np.max(np.abs(flat)) - 1e-7) == pytest.approx(0.01, abs=0.003)


def test_eq_tilt_brightens_or_dulls(speech):
    bright = c.eq_tilt(speech, sr=SR, db_per_octave=6.0)
    dull = c.eq_tilt(speech, sr=SR, db_per_octave=-6.0)
    assert band_energy(bright, 3000, 8000) > band_energy(speech, 3000, 8000) > band_energy(dull, 3000, 8000)


def test_phone_lines_and_codecs_resample_with_the_readers_resampler(monkeypatch):
    """The telephone line and the GSM codec go to 8 kHz and back through ser.audio.dsp.Resampler, the one
    resampler training and prediction read audio with (not a second one of their own)."""
    from ser.audio import dsp
    from ser.augment.effects import codec, telephone

    made = []

    class Counted(dsp.Resampler):
        def __init__(self, **kw):
            made.append((kw["orig_sr"], kw["target_sr"]))
            super().__init__(**kw)

    monkeypatch.setattr(dsp, "Resampler", Counted)
    y = (0.1 * np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000)).astype(np.float32)
    telephone(y, sr=16_000)
    codec(y, sr=16_000, kind="gsm")
    assert made == [(16_000, 8_000), (8_000, 16_000)] * 2
