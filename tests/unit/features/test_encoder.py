import numpy as np
import pytest

from ser.audio.reader import finish_audio, read_audio
from ser.features import encoder
from ser.features.clips import ClipTask, clip_features, encoder_key
from ser.features.encoder import N_ENCODER, encoder_mel, encoder_row, partial_slices
from ser.config import Config
from tests.conftest import tone


def test_mel_is_resemblyzers_librosa_call(real_clip):
    import librosa

    y = finish_audio(read_audio(real_clip))
    want = librosa.feature.melspectrogram(y=y, sr=16_000, n_fft=400, hop_length=160, n_mels=40).T
    np.testing.assert_allclose(encoder_mel(y), want, rtol=1e-4, atol=1e-6 * want.max())


@pytest.mark.parametrize("n, starts", [(8_000, [0]), (16_000, [0]), (48_000, [0, 77, 154]), (36_000, [0, 77]),
                                       (40_000, [0, 77])])  # 40 000: a third partial would cover 60 %: dropped
def test_partials_are_resemblyzers(n, starts):
    assert partial_slices(n) == [(s, s + 160) for s in starts]


def test_row_is_layers_then_embedding_and_ignores_gain(real_clip):
    y = finish_audio(read_audio(real_clip))
    row = encoder_row(y, sr=16_000)
    assert row.shape == (N_ENCODER,) == (1792,) and row.dtype == np.float32 and np.all(np.isfinite(row))
    assert np.linalg.norm(row[-256:]) == pytest.approx(1.0, abs=1e-5)  # the utterance embedding
    assert np.all(row[256:512] >= 0) and np.all(np.abs(row[:256]) <= 1)  # LSTM outputs (tanh) and their spread
    np.testing.assert_allclose(encoder_row(0.05 * y, sr=16_000), row, atol=2e-5)
    other = encoder_row(finish_audio(tone(duration_s=2.0, seed=1)), sr=16_000)
    assert np.abs(other - row).max() > 0.1  # a tone is not this voice


def test_clip_features_give_rows_only_when_asked(real_clip, tmp_path):
    cfg = Config()
    out = clip_features(ClipTask(str(real_clip), ("original",), encoder=("original",)), config=cfg, cache_dir=tmp_path)
    assert set(out) == {"original", encoder_key("original")}
    y = finish_audio(read_audio(real_clip), config=cfg.audio)
    np.testing.assert_allclose(out[encoder_key("original")], encoder_row(y[:cfg.features.window_samples], sr=16_000),
                               atol=1e-6)
    again = clip_features(ClipTask(str(real_clip), ("original",), encoder=("original",)), config=cfg, cache_dir=tmp_path)
    np.testing.assert_array_equal(again[encoder_key("original")], out[encoder_key("original")])  # from the cache
    assert set(clip_features(ClipTask(str(real_clip)), config=cfg, cache_dir=tmp_path)) == {"original"}
    with pytest.raises(ValueError, match="not extracted"):
        clip_features(ClipTask(str(real_clip), ("original",), encoder=("cond:babble",)), config=cfg)


def test_onnx_file_and_its_licence_ship():
    folder = encoder.ENCODER_FILE.parent
    assert encoder.ENCODER_FILE.stat().st_size > 5_000_000
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "Resemblyzer 0.1.4" in (folder / "NOTICE").read_text()


def test_rows_of_several_windows_at_once_equal_each_alone(real_clip):
    from ser.features.encoder import encoder_rows

    y = finish_audio(read_audio(real_clip))
    windows = [y[:16_000], y[8_000:24_000], y[:30_000], 0.5 * y[:16_000]]  # two lengths, one batch each
    np.testing.assert_allclose(encoder_rows(windows, sr=16_000), np.stack([encoder_row(w, sr=16_000) for w in windows]),
                               atol=1e-6)
