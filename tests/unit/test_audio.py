import io

import numpy as np
import pytest
import soundfile as sf

from ser.audio import load_audio, prepare_audio
from ser.config import AudioConfig
from ser.errors import AudioError
from tests.conftest import tone


def test_real_clip_is_mono_16k_trimmed(real_clip):
    y, sr = load_audio(real_clip)
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
    out, sr = load_audio(path, config=AudioConfig(trim_silence=False))
    assert sr == 16_000
    assert abs(out.size - 1.5 * 16_000) < 0.05 * 16_000  # codecs may pad a few ms


def test_bytes_and_file_objects(real_clip):
    data = real_clip.read_bytes()
    a, _ = load_audio(data, name="upload.wav")
    b, _ = load_audio(io.BytesIO(data), name="upload.wav")
    np.testing.assert_array_equal(a, b)


def test_bad_inputs_name_the_file_and_the_problem(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("hello, I am not audio")
    with pytest.raises(AudioError, match=r"notes\.wav: not a readable audio file"):
        load_audio(text)
    with pytest.raises(AudioError, match=r"gone\.wav: file not found"):
        load_audio(tmp_path / "gone.wav")
    with pytest.raises(AudioError, match=r"empty\.wav: the audio is empty"):
        prepare_audio(np.zeros(0), sr=16_000, name="empty.wav")
    with pytest.raises(AudioError, match=r"quiet\.wav: the audio is silent"):
        prepare_audio(np.zeros(16_000), sr=16_000, name="quiet.wav")
    with pytest.raises(AudioError, match=r"nan\.wav: .*NaN"):
        prepare_audio(np.full(16_000, np.nan), sr=16_000, name="nan.wav")
    with pytest.raises(AudioError, match=r"click\.wav: only 0\.\d+ s of sound"):
        prepare_audio(tone(duration_s=0.1), sr=16_000, name="click.wav")
    with pytest.raises(AudioError, match=r"long\.wav: 20 s is too long"):
        prepare_audio(tone(duration_s=20), sr=16_000, name="long.wav", config=AudioConfig(max_duration_s=10))


def test_trim_removes_silence_around_sound():
    y = np.concatenate([np.zeros(8000, np.float32), tone(duration_s=1.0), np.zeros(8000, np.float32)])
    out = prepare_audio(y, sr=16_000)
    assert 0.8 * 16_000 < out.size < 1.1 * 16_000
