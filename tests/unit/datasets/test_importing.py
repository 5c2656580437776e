"""A dataset from an upload: hostile zips refused from their directory, layouts found, saved atomically."""

import io
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from ser.errors import LabelsError, PathError
from ser.datasets.importing import (INCOMING_PREFIX, Limits, UploadError, discard, plan_labels, preview, save_dataset,
                           unpack)
from tests.conftest import DEMO

DEMO_LABELS = pd.read_csv(DEMO / "all_labels.csv")


def demo_clip(emotion: str, k: int = 0) -> Path:
    return DEMO / DEMO_LABELS[DEMO_LABELS.emotion == emotion].path.iloc[k]


def make_zip(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return buf.getvalue()


def emotion_folders_zip(*, top: str = "") -> bytes:
    members = {}
    for spk in ("anna", "ben"):
        for emo, folder in (("angry", "Angry"), ("happy", "happy"), ("sad", "SAD")):
            for k in range(2):
                members[f"{top}{folder}/{spk}/{spk}_{emo}_{k}.wav"] = demo_clip(emo, k + (spk == "ben") * 2).read_bytes()
    return make_zip(members)


@pytest.fixture
def datasets(tmp_path):
    return tmp_path / "data"


def nothing_left(datasets: Path) -> bool:
    return not datasets.exists() or not list(datasets.iterdir())


@pytest.mark.parametrize("name,why", [
    ("../evil.wav", r"reaches outside the zip with '\.\.'"),
    ("a/../../evil.wav", r"reaches outside the zip"),
    ("/etc/evil.wav", "has an absolute path"),
    ("C:/evil.wav", "has an absolute path"),
    ("a\\..\\evil.wav", "has a backslash"),
])
def test_paths_outside_the_zip_are_refused_before_extracting(datasets, name, why):
    data = make_zip({"ok.wav": demo_clip("angry").read_bytes(), name: b"RIFF"})
    with pytest.raises(UploadError, match=f"upload.zip: refused, 1 member.*{why}"):
        unpack(data, datasets_dir=datasets)
    assert nothing_left(datasets)


def test_a_link_is_refused(datasets):
    data = make_zip({"ok.wav": demo_clip("angry").read_bytes()}, links={"angry/secret.wav": "/etc/passwd"})
    with pytest.raises(UploadError, match="'angry/secret.wav' is a link"):
        unpack(data, datasets_dir=datasets)
    assert nothing_left(datasets)


def test_a_zip_bomb_is_refused_from_its_directory(datasets):
    data = make_zip({"angry/bomb.wav": b"\0" * (20 * 2**20)})  # 20 MB of zeros deflate to ~20 kB
    assert len(data) < 100_000
    with pytest.raises(UploadError, match=r"'angry/bomb.wav' is compressed \d+× \(a zip bomb\?\)"):
        unpack(data, datasets_dir=datasets)
    assert nothing_left(datasets)


def test_too_many_bytes_or_files_are_refused(datasets):
    clip = demo_clip("angry").read_bytes()
    with pytest.raises(UploadError, match=r"unpacks to \d+ MB, more than 1 MB"):
        unpack(make_zip({f"angry/{k}.wav": clip for k in range(12)}), datasets_dir=datasets,
               limits=Limits(max_total_mb=1))
    with pytest.raises(UploadError, match="holds 12 files, more than 10"):
        unpack(make_zip({f"angry/{k}.wav": clip for k in range(12)}), datasets_dir=datasets, limits=Limits(max_files=10))


def test_a_member_longer_than_its_declared_size_is_refused(datasets):
    data = bytearray(make_zip({"angry/a.wav": demo_clip("angry").read_bytes()}))
    # Lie in both headers: the real clip is longer than 100 bytes.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.infolist()[0]
        true_size = info.file_size
    lie = (100).to_bytes(4, "little")
    data = bytes(data).replace(true_size.to_bytes(4, "little"), lie)
    with pytest.raises(UploadError, match="holds more than its declared size|is damaged"):
        unpack(data, datasets_dir=datasets)
    assert not list(datasets.glob(f"{INCOMING_PREFIX}*"))


def test_non_audio_members_are_refused_but_system_litter_skipped(datasets):
    clip = demo_clip("sad").read_bytes()
    with pytest.raises(UploadError, match=r"1 member\(s\) are not audio \('sad/run.sh'\)"):
        unpack(make_zip({"sad/a.wav": clip, "sad/run.sh": b"rm -rf /"}), datasets_dir=datasets)
    up = unpack(make_zip({"sad/a.wav": clip, "__MACOSX/sad/._a.wav": b"x", "sad/.DS_Store": b"x",
                          "README.md": b"# my clips"}), datasets_dir=datasets)
    assert up.audio == ("sad/a.wav",) and len(up.skipped) == 2
    discard(up)
    assert not up.folder.exists()


def test_not_a_zip_and_no_audio(datasets):
    with pytest.raises(UploadError, match="notes.zip: is not a zip file"):
        unpack(b"just text", datasets_dir=datasets, name="notes.zip")
    with pytest.raises(UploadError, match="holds no audio"):
        unpack(make_zip({"README.md": b"hello"}), datasets_dir=datasets)
    assert not list(datasets.glob(f"{INCOMING_PREFIX}*"))


def test_emotion_folders_with_speakers_from_a_folder_level(datasets):
    up = unpack(emotion_folders_zip(top="my clips/"), datasets_dir=datasets)  # one top folder: stripped
    assert up.audio[0].startswith(("Angry/", "SAD/", "happy/"))
    plan = plan_labels(up, speaker_from="folder", speaker_level=2)
    assert plan.layout == "emotion folders" and len(plan.rows) == 12
    assert {(e, s) for _, e, s in plan.rows} == {(e, s) for e in ("angry", "happy", "sad") for s in ("anna", "ben")}
    by_pattern = plan_labels(up, speaker_from="pattern", speaker_pattern=r"^([^_]+)_")
    assert [r[2] for r in by_pattern.rows] == [r[2] for r in plan.rows]
    assert {r[2] for r in plan_labels(up).rows} == {""}
    with pytest.raises(LabelsError, match=r"speaker pattern '\(' is not a regular expression"):
        plan_labels(up, speaker_from="pattern", speaker_pattern="(")


def test_preview_lists_unreadable_files_and_saving_leaves_them_out(datasets):
    members = {"angry/a.wav": demo_clip("angry").read_bytes(), "angry/broken.wav": b"RIFF not really audio",
               "happy/b.wav": demo_clip("happy").read_bytes()}
    up = unpack(make_zip(members), datasets_dir=datasets)
    shown = preview(up, plan_labels(up))
    assert list(shown["labels"].path) == ["angry/a.wav", "happy/b.wav"]
    assert [p.path for p in shown["problems"]] == ["angry/broken.wav"]
    assert "unreadable audio" in shown["problems"][0].problem
    assert not (datasets / "mine").exists()  # nothing written where datasets are listed before saving
    target = save_dataset(up, shown["labels"], name="mine", datasets_dir=datasets)
    assert target == datasets / "mine" and not up.folder.exists()
    saved = pd.read_csv(target / "all_labels.csv")
    assert list(saved.columns) == ["path", "emotion", "speaker"] and list(saved.path) == ["angry/a.wav", "happy/b.wav"]
    assert not (target / "angry" / "broken.wav").exists()


def test_an_existing_dataset_is_replaced_only_when_confirmed(datasets):
    (datasets / "mine").mkdir(parents=True)
    (datasets / "mine" / "all_labels.csv").write_text("path,emotion,speaker\nold.wav,sad,x\n")
    up = unpack(make_zip({"angry/a.wav": demo_clip("angry").read_bytes()}), datasets_dir=datasets)
    labels = preview(up, plan_labels(up))["labels"]
    with pytest.raises(UploadError, match="a dataset of that name exists; pick another name or confirm"):
        save_dataset(up, labels, name="mine", datasets_dir=datasets)
    assert "old.wav" in (datasets / "mine" / "all_labels.csv").read_text() and up.folder.exists()
    save_dataset(up, labels, name="mine", datasets_dir=datasets, overwrite=True)
    assert "angry/a.wav" in (datasets / "mine" / "all_labels.csv").read_text()
    assert sorted(p.name for p in datasets.iterdir()) == ["mine"]


@pytest.mark.parametrize("name", ["../up", "a/b", "", ".hidden", "x" * 81])
def test_dataset_names_are_validated(datasets, name):
    up = unpack(make_zip({"angry/a.wav": demo_clip("angry").read_bytes()}), datasets_dir=datasets)
    with pytest.raises(PathError, match="dataset name .* is not allowed"):
        save_dataset(up, preview(up, plan_labels(up))["labels"], name=name, datasets_dir=datasets)


def test_labels_csv_and_corpus_names_and_loose_files(datasets):
    csv = "file,label,actor\nx/1.wav,Angry,a1\nx/2.wav,boredom,a2\n"
    up = unpack(make_zip({"x/1.wav": demo_clip("angry").read_bytes(), "x/2.wav": demo_clip("sad").read_bytes(),
                          "all_labels.csv": csv.encode()}), datasets_dir=datasets)
    plan = plan_labels(up)
    assert plan.layout == "labels csv" and plan.rows == [("x/1.wav", "angry", "a1")] and len(plan.unlabelled) == 1
    ravdess = DEMO_LABELS.path.iloc[:3]
    up = unpack(make_zip({Path(p).name: (DEMO / p).read_bytes() for p in ravdess}), datasets_dir=datasets)
    plan = plan_labels(up)
    assert plan.layout == "ravdess names" and len(plan.rows) == 3 and all(r[2] for r in plan.rows)
    loose = unpack([("take1.wav", demo_clip("happy").read_bytes()), ("take2.wav", demo_clip("happy", 1).read_bytes())],
                   datasets_dir=datasets)
    with pytest.raises(LabelsError, match="no emotion found for any file"):
        plan_labels(loose)
    assert {r[1] for r in plan_labels(loose, emotion="Happy").rows} == {"happy"}
    with pytest.raises(UploadError, match="notes.txt: is not audio"):
        unpack([("notes.txt", b"hi")], datasets_dir=datasets)


def test_the_shipped_demo_dataset_is_never_replaced():
    from ser.paths import DEMO_DIR

    up = unpack(make_zip({"angry/a.wav": demo_clip("angry").read_bytes()}), datasets_dir=DEMO_DIR.parent)
    try:
        with pytest.raises(PathError, match="demo: the shipped demo clips are not changed from the dashboard"):
            save_dataset(up, preview(up, plan_labels(up))["labels"], name="demo", datasets_dir=DEMO_DIR.parent,
                         overwrite=True)
    finally:
        discard(up)
    assert (DEMO_DIR / "all_labels.csv").is_file() and not up.folder.exists()


def test_paths_written_loosely_in_the_csv_keep_their_clips(datasets):
    csv = "path,emotion,speaker\n./x/1.wav,angry,a1\nx//2.wav,sad,a2\n"
    up = unpack(make_zip({"x/1.wav": demo_clip("angry").read_bytes(), "x/2.wav": demo_clip("sad").read_bytes(),
                          "all_labels.csv": csv.encode()}), datasets_dir=datasets)
    target = save_dataset(up, preview(up, plan_labels(up))["labels"], name="loose", datasets_dir=datasets)
    assert list(pd.read_csv(target / "all_labels.csv").path) == ["x/1.wav", "x/2.wav"]
    assert (target / "x" / "1.wav").is_file() and (target / "x" / "2.wav").is_file()


def test_a_corrupt_member_and_many_small_bombs_are_one_line(datasets):
    data = bytearray(make_zip({"angry/a.wav": demo_clip("angry").read_bytes()}))
    middle = len(data) // 2
    data[middle:middle + 64] = b"\xff" * 64  # a damaged deflate stream
    with pytest.raises(UploadError, match="upload.zip: is damaged"):
        unpack(bytes(data), datasets_dir=datasets)
    bombs = make_zip({f"angry/{k}.wav": b"\0" * (900 * 1024) for k in range(80)})  # 70 MB from ~100 kB
    with pytest.raises(UploadError, match=r"refused, it unpacks \d+× larger than it is \(a zip bomb\?\)"):
        unpack(bombs, datasets_dir=datasets)
    with pytest.raises(UploadError, match="take.wav: uploaded twice"):
        unpack([("a/take.wav", b"RIFF"), ("b/take.wav", b"RIFF")], datasets_dir=datasets)
    assert not list(datasets.glob(f"{INCOMING_PREFIX}*"))


def test_a_folder_named_like_the_labels_file_is_one_line(datasets):
    upload = make_zip({"all_labels.csv/angry/a.wav": demo_clip("angry").read_bytes(),
                       "happy/b.wav": demo_clip("happy").read_bytes()})
    with pytest.raises(UploadError, match="has a folder named all_labels.csv"):
        unpacked = unpack(upload, datasets_dir=datasets, name="up.zip")
        save_dataset(unpacked, preview(unpacked, plan_labels(unpacked))["labels"], name="x", datasets_dir=datasets)
    assert nothing_left(datasets)


def test_an_uploaded_labels_csv_is_capped_at_the_files_an_upload_may_hold(datasets):
    # issue 22 item 4: a 2.9 MB zip with a one-million-row CSV took the preview 255 s and 1.2 GB
    import time

    rows = "".join(f"c{i}.wav,sad,s{i % 7}\n" for i in range(1_000_000))
    upload = make_zip({"a.wav": demo_clip("sad").read_bytes(), "all_labels.csv": "path,emotion,speaker\n" + rows})
    unpacked = unpack(upload, datasets_dir=datasets, name="big.zip")
    t0 = time.perf_counter()
    with pytest.raises(LabelsError, match=f"all_labels.csv: has more than {Limits().max_files:,} rows"):
        plan_labels(unpacked)
    assert time.perf_counter() - t0 < 5  # stopped at the cap, not read whole


def test_unsaved_uploads_together_are_capped(datasets, monkeypatch):
    # issue 22 item 8: every upload could keep 2 GB for 6 h, with no total across sessions
    import os
    import time

    import ser.datasets.importing as imp

    assert imp.MAX_INCOMING_BYTES == 4 * 2**30
    clip = demo_clip("sad").read_bytes()
    monkeypatch.setattr(imp, "MAX_INCOMING_BYTES", int(2.5 * len(clip)))
    first = unpack(make_zip({"a.wav": clip}), datasets_dir=datasets, name="one.zip")
    second = unpack(make_zip({"b.wav": clip}), datasets_dir=datasets, name="two.zip")
    with pytest.raises(UploadError, match=r"three\.zip: the server holds .* of uploads not yet saved"):
        unpack(make_zip({"c.wav": clip}), datasets_dir=datasets, name="three.zip")
    assert len(list(datasets.glob(f"{INCOMING_PREFIX}*"))) == 2  # nothing extracted
    old = time.time() - imp.INCOMING_IDLE_S - 60  # the first one's session stopped looking at it
    os.utime(first.folder, (old, old))
    imp.keep_alive(second)
    third = unpack(make_zip({"c.wav": clip}), datasets_dir=datasets, name="three.zip")
    assert not first.folder.exists() and second.folder.is_dir() and third.folder.is_dir()


def test_an_upload_held_by_a_session_goes_when_the_session_drops_it(datasets):
    # issue 22 item 8: a closed tab left its upload on disk for 6 h
    import gc

    from ser.datasets.importing import hold

    unpacked = unpack(make_zip({"a.wav": demo_clip("sad").read_bytes()}), datasets_dir=datasets)
    lease = hold(unpacked)
    lease.touch()
    assert unpacked.folder.is_dir()
    del lease
    gc.collect()
    assert not unpacked.folder.exists()
    saved = unpack(make_zip({"a.wav": demo_clip("sad").read_bytes()}), datasets_dir=datasets)
    lease = hold(saved)
    target = save_dataset(saved, preview(saved, plan_labels(saved, emotion="sad"))["labels"], name="kept",
                          datasets_dir=datasets)
    del lease
    gc.collect()
    assert (target / "all_labels.csv").is_file()  # a saved dataset is not the upload any more
