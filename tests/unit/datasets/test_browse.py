"""What the Dataset page shows of a labelled folder: counts per emotion and speaker, and a filter."""

import pandas as pd

from ser.datasets.browse import clips_per_emotion, clips_per_speaker, filter_clips, overview, speakers

LABELS = pd.DataFrame({"path": ["a/Happy_1.wav", "a/sad_1.wav", "b/happy_2.wav", "b/x.wav"],
                       "emotion": ["happy", "sad", "happy", None],
                       "speaker": ["anna", "anna", "ben", ""], "duration_s": [30.0, 30.0, 60.0, 0.0]})


def test_overview_counts_clips_named_speakers_and_minutes():
    assert overview(LABELS) == {"clips": 4, "speakers": 2, "minutes": 2.0}


def test_clips_per_emotion_in_the_emotions_order_with_unknown_last():
    counts = clips_per_emotion(LABELS)
    assert list(counts.index) == ["happy", "sad", "unknown"] and list(counts) == [2, 1, 1]


def test_clips_per_speaker_and_speakers_skip_unnamed_ones_only_when_none_is_named():
    per = clips_per_speaker(LABELS)
    assert per.to_dict("records")[:2] == [{"speaker": "", "emotion": "unknown", "clips": 1},
                                          {"speaker": "anna", "emotion": "happy", "clips": 1}]
    assert speakers(LABELS) == ["anna", "ben"]
    assert clips_per_speaker(LABELS.assign(speaker="")) is None


def test_filter_by_emotion_speaker_and_file_name():
    assert list(filter_clips(LABELS, emotions=["happy"]).path) == ["a/Happy_1.wav", "b/happy_2.wav"]
    assert list(filter_clips(LABELS, emotions=["happy"], speakers=["ben"]).path) == ["b/happy_2.wav"]
    assert list(filter_clips(LABELS, text="HAPPY_").path) == ["a/Happy_1.wav", "b/happy_2.wav"]  # any case
    assert list(filter_clips(LABELS, text=".").path) == list(LABELS.path)  # a plain string, not a pattern
    assert list(filter_clips(LABELS.iloc[1:], speakers=["anna"]).index) == [0]  # numbered from 0
