"""Recorded clips: 16-bit WAV in the dataset, one row appended to all_labels.csv, counts of what is missing."""

import io

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser.errors import AudioError, LabelsError, PathError
from ser.datasets.labels import read_labels, validate_labels
from ser.datasets.recording import add_recording, collection_status
from tests.conftest import tone


def wav_bytes(y, sr=16000):
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_two_recordings_become_a_readable_dataset(tmp_path):
    ds = tmp_path / "mine"
    a = add_recording(ds, wav_bytes(tone(200.0, seed=1)), speaker="anna", emotion="Happy")
    b = add_recording(ds, wav_bytes(tone(300.0, seed=2), sr=48000), speaker="anna", emotion="fear")
    assert (a, b) == ("anna/happy/anna_happy_001.wav", "anna/fearful/anna_fearful_001.wav")
    assert sf.info(ds / a).subtype == "PCM_16" and sf.info(ds / b).samplerate == 16000  # as the model hears it
    labels = read_labels(ds / "all_labels.csv")
    assert list(labels.path) == [a, b] and list(labels.emotion) == ["happy", "fearful"]
    assert validate_labels(labels) == []
    c = add_recording(ds, wav_bytes(tone(250.0, seed=3)), speaker="anna", emotion="happy")
    assert c.endswith("anna_happy_002.wav") and len(pd.read_csv(ds / "all_labels.csv")) == 3


def test_a_bad_recording_writes_nothing(tmp_path):
    ds = tmp_path / "mine"
    add_recording(ds, wav_bytes(tone()), speaker="ben", emotion="sad")
    before = (ds / "all_labels.csv").read_bytes()
    with pytest.raises(AudioError, match="mic: the audio is silent"):
        add_recording(ds, wav_bytes(np.zeros(16000, np.float32)), speaker="ben", emotion="sad", name="mic")
    with pytest.raises(AudioError, match="mic"):
        add_recording(ds, b"not audio", speaker="ben", emotion="sad", name="mic")
    with pytest.raises(LabelsError, match="emotion 'bored' is not one of"):
        add_recording(ds, wav_bytes(tone()), speaker="ben", emotion="bored")
    with pytest.raises(PathError, match="speaker name '../x' is not allowed"):
        add_recording(ds, wav_bytes(tone()), speaker="../x", emotion="sad")
    assert (ds / "all_labels.csv").read_bytes() == before
    assert len(list(ds.rglob("*.wav"))) == 1 and not list(ds.rglob(".*tmp"))


def test_a_csv_without_a_final_newline_gets_its_row_on_a_line_of_its_own(tmp_path):
    ds = tmp_path / "mine"
    ds.mkdir()
    (ds / "all_labels.csv").write_text("path,emotion,speaker\nold.wav,sad,zoe")
    add_recording(ds, wav_bytes(tone()), speaker="zoe", emotion="calm")
    assert (ds / "all_labels.csv").read_text().splitlines()[1:] == ["old.wav,sad,zoe", "zoe/calm/zoe_calm_001.wav,calm,zoe"]


def test_collection_status_says_what_is_missing():
    rows = [("happy", "a"), ("happy", "b"), ("happy", "c"), ("sad", "a")]
    status = collection_status(rows, min_clips=3, min_speakers=3)
    assert status.per_emotion["happy"] == 3 and status.speakers_per_emotion["sad"] == 1
    assert "sad: 2 more clip(s)" in status.missing and "sad: 2 more speaker(s)" in status.missing
    assert not any(m.startswith("happy") for m in status.missing)
    full = [(e, s) for e in status.per_emotion for s in "abc"]
    assert collection_status(full, min_clips=3, min_speakers=3).missing == ()


def test_recordings_never_go_into_the_shipped_demo_clips():
    from ser.paths import DEMO_DIR

    before = (DEMO_DIR / "all_labels.csv").read_bytes()
    with pytest.raises(PathError, match="the shipped demo clips are not changed"):
        add_recording(DEMO_DIR, wav_bytes(tone()), speaker="anna", emotion="happy")
    assert (DEMO_DIR / "all_labels.csv").read_bytes() == before and not (DEMO_DIR / "anna").exists()


def test_a_csv_with_other_columns_is_refused_before_the_clip_is_saved(tmp_path):
    ds = tmp_path / "theirs"
    ds.mkdir()
    (ds / "all_labels.csv").write_text("file;label\nx.wav;sad\n")
    with pytest.raises(LabelsError, match=r"its columns are 'file;label', not path,emotion,speaker"):
        add_recording(ds, wav_bytes(tone()), speaker="zoe", emotion="calm")
    assert (ds / "all_labels.csv").read_text() == "file;label\nx.wav;sad\n" and not list(ds.rglob("*.wav"))


def test_two_sessions_keeping_clips_at_once_lose_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    ds = tmp_path / "shared"
    audio = wav_bytes(tone())
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: add_recording(ds, audio, speaker="anna", emotion="sad"), range(8)))
    assert len(set(paths)) == 8 and len(list(ds.rglob("*.wav"))) == 8
    assert sorted(pd.read_csv(ds / "all_labels.csv").path) == sorted(paths)


@pytest.mark.parametrize("speaker", ["all_labels.csv", "ALL_LABELS.CSV"])
def test_a_speaker_named_like_the_labels_file_is_one_line(tmp_path, speaker):
    ds = tmp_path / "mine"
    for first in (True, False):  # the dataset's first clip, and one more after the CSV exists
        if not first:
            add_recording(ds, wav_bytes(tone()), speaker="ben", emotion="sad")
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        with pytest.raises(PathError, match="speaker name .* is the name of the dataset's labels file"):
            add_recording(ds, wav_bytes(tone(seed=4)), speaker=speaker, emotion="happy")
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_recording_is_read_block_by_block_and_kept_as_the_model_hears_it(tmp_path, monkeypatch):
    """One reader: a 48 kHz stereo recording is never decoded whole; it is kept mono at the model's rate."""
    from ser.audio.reader import BLOCK_S, read_audio
    from tests.unit.audio.test_reader import spy_reads

    y = tone(220.0, sr=48_000, duration_s=70.0, seed=4)
    data = wav_bytes(np.stack([y, 0.5 * y], axis=1), sr=48_000)
    asked = spy_reads(monkeypatch)
    rel = add_recording(tmp_path / "mine", data, speaker="cleo", emotion="calm", name="mic")
    assert max(asked) <= BLOCK_S, f"decoded {max(asked):.0f} s at once"
    info = sf.info(tmp_path / "mine" / rel)
    assert (info.samplerate, info.channels, info.subtype) == (16_000, 1, "PCM_16")
    heard = read_audio(data, name="mic").y
    np.testing.assert_allclose(sf.read(tmp_path / "mine" / rel, dtype="float32")[0], heard, atol=1 / 2 ** 15)


def test_enough_for_a_speaker_split_is_the_rule_training_applies():
    """The Record page's "enough for a training with a speaker split" is the same threshold the split
    itself enforces (:mod:`ser.datasets.labels`): three speakers, one clip each, of every emotion."""
    from ser import EMOTIONS
    from ser.datasets import labels as rule

    rows = [(e, s) for e in EMOTIONS for s in ("a", "b", "c")]
    assert collection_status(rows).missing == ()
    usable = pd.DataFrame(rows, columns=["emotion", "speaker"]).assign(path=[f"{i}.wav" for i in range(len(rows))])
    assert rule.training_problem(usable) is None and rule.speaker_split_problem(usable) is None
    fewer = [(e, s) for e, s in rows if not (e == "sad" and s == "c")]
    assert collection_status(fewer).missing == ("sad: 1 more clip(s)", "sad: 1 more speaker(s)")
    assert rule.speaker_split_problem(pd.DataFrame(fewer, columns=["emotion", "speaker"]).assign(path="x.wav"))
