import io
import re

import numpy as np
import pytest
import soundfile as sf

from ser.audio.reader import finish_audio, read_audio
from ser.config import AudioConfig
from ser.errors import AudioError
from tests.conftest import tone


def test_real_clip_is_mono_16k_trimmed(real_clip):
    raw = read_audio(real_clip)
    y, sr = finish_audio(raw), raw.sr
    assert sr == 16_000 and y.ndim == 1 and y.dtype == np.float32
    raw, _ = sf.read(real_clip)
    assert 0.5 * 16_000 < y.size < raw.size  # leading/trailing silence trimmed


@pytest.mark.parametrize("fmt,subtype,rate,channels", [
    ("WAV", "PCM_24", 48_000, 2), ("WAV", "FLOAT", 22_050, 1), ("FLAC", "PCM_16", 44_100, 2),
    ("OGG", "VORBIS", 16_000, 1), ("MP3", "MPEG_LAYER_III", 44_100, 1),
])
def test_formats_rates_and_channels(tmp_path, fmt, subtype, rate, channels):
    y = tone(sr=rate, duration_s=1.5)
    data = np.stack([y] * channels, axis=1) if channels > 1 else y
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, data, rate, format=fmt, subtype=subtype)
    config = AudioConfig(trim_silence=False)
    raw = read_audio(path, config=config)
    out, sr = finish_audio(raw, config=config), raw.sr
    assert sr == 16_000
    assert abs(out.size - 1.5 * 16_000) < 0.05 * 16_000  # codecs may pad a few ms


def test_bytes_and_file_objects(real_clip):
    data = real_clip.read_bytes()
    a = finish_audio(read_audio(data, name="upload.wav"))
    b = finish_audio(read_audio(io.BytesIO(data), name="upload.wav"))
    np.testing.assert_array_equal(a, b)


def test_bad_inputs_name_the_file_and_the_problem(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("hello, I am not audio")
    with pytest.raises(AudioError, match=r"notes\.wav: not a readable audio file"):
        read_audio(text)
    with pytest.raises(AudioError, match=r"gone\.wav: file not found"):
        read_audio(tmp_path / "gone.wav")
    with pytest.raises(AudioError, match=r"empty\.wav: the audio is empty"):
        read_audio(np.zeros(0), sr=16_000, name="empty.wav")
    with pytest.raises(AudioError, match=r"quiet\.wav: the audio is silent"):
        read_audio(np.zeros(16_000), sr=16_000, name="quiet.wav")
    with pytest.raises(AudioError, match=r"nan\.wav: .*NaN"):
        read_audio(np.full(16_000, np.nan), sr=16_000, name="nan.wav")
    with pytest.raises(AudioError, match=r"click\.wav: only 0\.\d+ s of sound"):
        finish_audio(read_audio(tone(duration_s=0.1), sr=16_000, name="click.wav"))
    with pytest.raises(AudioError, match=r"long\.wav: 20 s is too long"):
        read_audio(tone(duration_s=20), sr=16_000, name="long.wav", config=AudioConfig(max_duration_s=10))


def test_trim_removes_silence_around_sound():
    y = np.concatenate([np.zeros(8000, np.float32), tone(duration_s=1.0), np.zeros(8000, np.float32)])
    out = finish_audio(read_audio(y, sr=16_000))
    assert 0.8 * 16_000 < out.size < 1.1 * 16_000


def _long_flac(path, *, hours: float, sr: int = 8_000, channels: int = 1) -> None:
    """A FLAC of ``hours`` that is small on disk: silence with a seeded 1 s tone+noise blip each minute."""
    rng = np.random.default_rng(0)
    t = np.arange(sr) / sr
    blip = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(sr)).astype(np.float32)
    minute = np.zeros(60 * sr, np.float32)
    minute[:sr] = blip
    minute = np.repeat(minute[:, None], channels, axis=1) if channels > 1 else minute
    with sf.SoundFile(path, "w", samplerate=sr, channels=channels, format="FLAC", subtype="PCM_16") as f:
        for _ in range(int(hours * 60)):
            f.write(minute)


# VmHWM, not ru_maxrss: a child forked from a large pytest process keeps the parent's size in ru_maxrss
PEAK_RSS = """
import re, sys
from pathlib import Path
from ser.audio.reader import read_audio
from ser.errors import AudioError
try:
    read_audio(sys.argv[1])
    print("accepted")
except AudioError as exc:
    print(exc)
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) // 1024)
"""


def test_hours_long_flac_is_refused_from_its_header_with_little_memory(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    path = tmp_path / "long.flac"
    _long_flac(path, hours=3)
    assert path.stat().st_size < 5 * 2 ** 20  # small on disk, 3 h (346 MB as float32) decoded
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(path)], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == f"{path}: 10800 s is too long (limit 600 s); cut it into shorter clips."
    assert int(out[1]) < 250, f"peak RSS {out[1]} MB"


def test_long_48k_stereo_is_read_block_by_block_as_whole_decoding_would(tmp_path):
    """Streaming decode + resampling gives exactly the samples a whole-file read handed over as a waveform gives."""
    from ser.audio.reader import read_audio

    rng = np.random.default_rng(1)
    y = tone(sr=48_000, duration_s=25.0)
    stereo = np.stack([y, 0.5 * y + 0.01 * rng.standard_normal(y.size).astype(np.float32)], axis=1)
    path = tmp_path / "s.flac"
    sf.write(path, stereo, 48_000, subtype="PCM_24")
    raw, sr = sf.read(path, dtype="float32")
    ref = read_audio(raw, sr=sr).y
    got = read_audio(path, block_s=2.0)
    assert got.sr == 16_000 and got.y.shape == ref.shape
    np.testing.assert_array_equal(got.y, ref)
    assert got.duration_s == pytest.approx(25.0)


def spy_reads(monkeypatch) -> list[float]:
    """Seconds soundfile is asked to decode by each ``SoundFile.read`` from now on (-1, the rest, counted whole)."""
    asked: list[float] = []
    real = sf.SoundFile.read

    def read(self, frames=-1, *args, **kwargs):
        asked.append((frames if frames >= 0 else self.frames - self.tell()) / self.samplerate)
        return real(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", read)
    return asked


def test_audio_is_never_decoded_whole_and_decode_is_gone(tmp_path, monkeypatch):
    """One reader: no public whole-file decode; read_audio asks soundfile for a block at a time."""
    import ser.audio.reader
    from ser.audio.reader import BLOCK_S, read_audio

    assert not hasattr(ser.audio.reader, "decode") and "decode" not in ser.audio.reader.__all__
    _long_flac(tmp_path / "ten.flac", hours=1 / 6)  # 10 minutes: accepted, read in 30 s blocks
    asked = spy_reads(monkeypatch)
    assert read_audio(tmp_path / "ten.flac").duration_s == pytest.approx(600.0)
    assert len(asked) > 1 and max(asked) <= BLOCK_S


def test_warnings_for_clipping_far_above_full_scale_and_truncation(tmp_path):
    from ser.audio.reader import read_audio

    y = tone(duration_s=2.0)
    sf.write(tmp_path / "loud.wav", 50 * y / np.abs(y).max(), 16_000, subtype="FLOAT")
    assert any("50 times full scale" in w for w in read_audio(tmp_path / "loud.wav").warnings)
    sf.write(tmp_path / "clipped.wav", np.clip(8 * y, -1, 1), 16_000, subtype="PCM_16")
    assert any(re.search(r"clipped\.wav: \d+% of the samples are at full scale", w)
               for w in read_audio(tmp_path / "clipped.wav").warnings)
    assert read_audio(tmp_path / "loud.wav").warnings[0].startswith(f"{tmp_path / 'loud.wav'}:")
    data = (tmp_path / "clipped.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[:len(data) // 2])
    assert any(re.search(r"cut\.wav: the file ends early", w) for w in read_audio(tmp_path / "cut.wav").warnings)
    assert read_audio(tmp_path / "clipped.wav").warnings[:1] != ()
    sf.write(tmp_path / "fine.wav", y, 16_000)
    assert read_audio(tmp_path / "fine.wav").warnings == ()


def test_one_reader_for_files_and_signals_and_one_finish(tmp_path):
    """Two entry points from audio to the model's waveform: read_audio (raw) and finish_audio (trim + level)."""
    import ser.audio.reader
    from ser.audio.reader import finish_audio, read_audio
    from ser.errors import ConfigError

    for gone in ("load_audio", "prepare_audio", "decode"):
        assert not hasattr(ser.audio.reader, gone) and gone not in ser.audio.reader.__all__
    y = np.stack([tone(sr=44_100, duration_s=1.5), 0.5 * tone(sr=44_100, duration_s=1.5)], axis=1)
    sf.write(tmp_path / "s.wav", y, 44_100, subtype="FLOAT")
    from_file, from_array = read_audio(tmp_path / "s.wav"), read_audio(y, sr=44_100, name="s.wav")
    np.testing.assert_array_equal(from_file.y, from_array.y)
    assert (from_array.sr, from_array.name) == (16_000, "s.wav")
    assert from_array.duration_s == pytest.approx(from_file.duration_s)
    np.testing.assert_array_equal(finish_audio(from_array), finish_audio(from_array.y))
    with pytest.raises(ConfigError, match=r"s\.wav: a waveform needs its sample rate: pass sr="):
        read_audio(y, name="s.wav")


def test_every_resampling_goes_through_dsps_resampler(tmp_path, monkeypatch):
    """Training, prediction and the speech check resample with ser.audio.dsp.Resampler: they cannot drift."""
    from ser.audio import dsp
    from ser.audio.reader import read_audio
    from ser.audio.speech import speech_frames

    made = []

    class Counted(dsp.Resampler):
        def __init__(self, **kw):
            made.append(kw["orig_sr"])
            super().__init__(**kw)

    monkeypatch.setattr(dsp, "Resampler", Counted)
    y = tone(sr=8_000, duration_s=1.0)
    sf.write(tmp_path / "t.wav", y, 8_000, subtype="FLOAT")
    read_audio(tmp_path / "t.wav")
    read_audio(y, sr=22_050)
    speech_frames(y, sr=8_000)
    assert made == [8_000, 22_050, 8_000]
