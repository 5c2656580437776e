"""What labelled clips allow, said before training: one corpus, or several each split by its own speakers."""

import pandas as pd

from ser.datasets.labels import TrainingVerdict, combined_verdict, training_verdict


def clips(emotions: str, speakers: str, *, each: int = 2) -> pd.DataFrame:
    rows = [(e, s) for e in emotions.split() for s in speakers.split() for _ in range(each)]
    return pd.DataFrame(rows, columns=["emotion", "speaker"]).assign(path=[f"{i}.wav" for i in range(len(rows))])


def test_one_corpus_its_problems_and_speakers():
    assert training_verdict(clips("happy sad", "a b c")) == TrainingVerdict(None, None, 3)
    two = training_verdict(clips("happy sad", "a b"))
    assert two.cannot is None and two.no_speaker_split.startswith("a speaker split needs at least 3 speakers")
    assert training_verdict(clips("happy", "a b c")).cannot.startswith("only one emotion (happy)")


def test_several_corpora_name_the_one_with_the_problem_and_add_their_speakers():
    good, few = training_verdict(clips("happy sad", "a b c")), training_verdict(clips("happy sad", "d e"))
    both = combined_verdict({"ravdess": good, "mine": few})
    assert both.cannot is None and both.no_speaker_split.startswith("mine: a speaker split needs") and both.speakers == 5
    assert combined_verdict({"mine": few}) == few  # one corpus: no name before its problem
    assert combined_verdict({"a": good, "b": good}) == TrainingVerdict(None, None, 6)
