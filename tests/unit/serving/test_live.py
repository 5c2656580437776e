"""The live meter on real clips streamed as a browser does: 20 ms chunks at 48 kHz stereo."""

import io
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from ser.audio.dsp import Resampler, resample
from ser.audio.speech import NO_SPEECH
from ser.errors import ConfigError
from ser.serving.live import LiveMeter, MeterSlot, open_meters
from ser.serving.predict import Predictor
from tests.conftest import DEFAULT_MODEL, DEMO

BROWSER_SR = 48_000
CHUNK = 960  # 20 ms at 48 kHz, as WebRTC's Opus frames arrive
SILENCE_S = 3.0
ANGRY = DEMO / "Actor_19" / "03-01-05-02-01-01-19.wav"


@pytest.fixture(scope="module")
def predictor():
    return Predictor.load(DEFAULT_MODEL, runtime="onnx")


def browser_stream(clip=ANGRY, *, silence_s=SILENCE_S) -> np.ndarray:
    """``silence_s`` of digital silence then the clip, at 48 kHz stereo, shape (n, 2)."""
    y, sr = sf.read(clip, dtype="float32")
    y = np.concatenate([np.zeros(int(silence_s * sr), np.float32), y])
    up = resample(y, orig_sr=sr, target_sr=BROWSER_SR)
    return np.stack([up, up], axis=1)


def feed_all(meter: LiveMeter, stereo: np.ndarray) -> None:
    for s in range(0, len(stereo), CHUNK):
        meter.feed(stereo[s:s + CHUNK], sr=BROWSER_SR)


def test_streamed_resampling_equals_resampling_at_once():
    y = np.random.default_rng(0).normal(0, 0.1, BROWSER_SR).astype(np.float32)
    stream = Resampler(orig_sr=BROWSER_SR, target_sr=16_000)
    parts = []
    for s in range(0, y.size, CHUNK):
        stream.add(y[s:s + CHUNK])
        parts.append(stream.take())
    parts.append(stream.result())
    np.testing.assert_allclose(np.concatenate(parts), resample(y, orig_sr=BROWSER_SR, target_sr=16_000), atol=1e-6)


def test_no_speech_first_then_an_emotion_as_predict_gives(predictor):
    stereo = browser_stream()
    with LiveMeter(predictor, background=False) as meter:
        feed_all(meter, stereo)
        readings = meter.readings()
    total_s = len(stereo) / BROWSER_SR
    assert len(readings) == int(total_s / 0.5)  # one answer per half second of audio
    assert [r.time_s for r in readings] == pytest.approx([0.5 * (k + 1) for k in range(len(readings))], abs=1e-3)
    silent = [r for r in readings if r.time_s <= SILENCE_S]
    assert silent and all(r.emotion is None and r.reason == NO_SPEECH for r in silent)
    spoken = [r for r in readings if r.time_s >= SILENCE_S + 1.5]
    assert spoken and all(r.emotion is not None for r in spoken)
    assert readings[-1].emotion == "angry"  # the clip's own label, as predict_file answers it
    # the same answer as Predictor.predict on the same seconds (the stream at 16 kHz, resampled at once)
    y16 = resample(stereo.mean(axis=1), orig_sr=BROWSER_SR, target_sr=16_000)
    for r in (readings[-1], spoken[0]):
        n = int(round(r.time_s * 16_000))
        window = y16[max(0, n - int(round(meter.window_s * 16_000))):n]
        pred = predictor.predict(window, sr=16_000)
        assert r.emotion == pred.emotion
        assert r.probabilities == pytest.approx(pred.probabilities, abs=1e-4)
        assert r.window_s == pytest.approx(meter.window_s, abs=1e-3)
    assert all(r.latency_s >= 0 for r in readings)


def test_closed_set_choice_is_respected(predictor):
    chosen = ("happy", "neutral", "sad")  # angry speech, but angry is not among the answers
    with LiveMeter(predictor, emotions="sad,happy,neutral", background=False) as meter:
        feed_all(meter, browser_stream())
        last = meter.latest()
        wav, reading = meter.moment()
    assert last.emotion in chosen and set(last.probabilities) == set(chosen)
    assert sum(last.probabilities.values()) == pytest.approx(1, abs=1e-4)
    y, sr = sf.read(io.BytesIO(wav), dtype="float32")
    assert sr == 16_000 and len(y) == int(round(meter.window_s * 16_000)) and reading == last
    pred = predictor.predict(y, sr=sr, emotions=chosen)  # the snapshot's audio gives the same answer (16-bit WAV)
    assert pred.emotion == last.emotion
    assert pred.probabilities == pytest.approx(last.probabilities, abs=0.02)


def test_history_is_bounded_to_the_last_30_seconds(predictor):
    stereo = browser_stream(silence_s=40.0)  # 40 s of silence then speech: cheap answers
    with LiveMeter(predictor, history_s=30.0, background=False) as meter:
        feed_all(meter, stereo)
        readings = meter.readings()
    assert meter.seconds == pytest.approx(len(stereo) / BROWSER_SR, abs=0.01)
    assert readings[-1].time_s - readings[0].time_s < 30.0
    assert len(readings) == 60
    assert readings[-1].emotion is not None


def test_feeding_and_reading_from_two_threads(predictor):
    before = open_meters()
    stereo = browser_stream()
    meter = LiveMeter(predictor)  # predicts in its own thread
    errors: list[BaseException] = []
    seen: list[float] = []
    done = threading.Event()

    def feeder():
        try:
            for rep in range(3):
                for s in range(0, len(stereo), CHUNK):
                    assert meter.feed(stereo[s:s + CHUNK], sr=BROWSER_SR)
                    if s % (10 * CHUNK) == 0:
                        time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
        finally:
            done.set()

    def reader():
        try:
            while not done.is_set():
                times = [r.time_s for r in meter.readings()]
                assert times == sorted(times)
                seen.extend(times[-1:])
                meter.moment()
                time.sleep(0.001)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=feeder), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert open_meters() == before + 1
    deadline = time.time() + 30  # the last window's answer comes in the meter's thread
    while (meter.latest() is None or meter.latest().time_s < meter.seconds - 0.5) and time.time() < deadline:
        time.sleep(0.02)
    assert meter.latest().time_s == pytest.approx(3 * len(stereo) // CHUNK * CHUNK / BROWSER_SR // 0.5 * 0.5,
                                                  abs=0.51)
    assert seen and seen == sorted(seen)
    meter.close()
    assert meter.closed and not meter.feed(stereo[:CHUNK], sr=BROWSER_SR)
    assert not any(t.name == f"ser-live-meter-{meter.id}" for t in threading.enumerate())
    assert open_meters() == before


def test_a_meter_without_audio_closes_itself(predictor):
    before = open_meters()
    meter = LiveMeter(predictor, idle_close_s=0.3)
    meter.feed(np.zeros((CHUNK, 2), np.float32), sr=BROWSER_SR)
    deadline = time.time() + 30
    while not meter.closed and time.time() < deadline:
        time.sleep(0.02)
    assert meter.closed and open_meters() == before
    assert not any(t.name == f"ser-live-meter-{meter.id}" for t in threading.enumerate())


def test_a_slot_makes_one_meter_per_stream(predictor):
    made = []

    def make():
        made.append(LiveMeter(predictor, background=False))
        return made[-1]

    slot = MeterSlot(make)
    assert slot.meter is None
    for _ in range(3):
        slot.feed(np.zeros((CHUNK, 2), np.int16), sr=BROWSER_SR)
    assert len(made) == 1 and slot.meter is made[0] and made[0].seconds == pytest.approx(0.06, abs=0.005)
    slot.close()
    assert made[0].closed and slot.meter is None
    slot.feed(np.zeros(CHUNK, np.float32), sr=BROWSER_SR)  # the stream restarted: a new meter
    assert len(made) == 2 and slot.meter is made[1]
    slot.close()


def test_int16_chunks_are_read_as_full_scale(predictor):
    stereo = browser_stream()
    pcm = np.round(stereo * 32767).astype(np.int16)
    with LiveMeter(predictor, background=False) as a, LiveMeter(predictor, background=False) as b:
        feed_all(a, stereo)
        feed_all(b, pcm)
        ra, rb = a.latest(), b.latest()
    assert ra.emotion == rb.emotion
    assert ra.probabilities == pytest.approx(rb.probabilities, abs=0.02)


def test_bad_settings_are_one_clear_line(predictor):
    with pytest.raises(ConfigError, match="hop_s=0 .* must be positive"):
        LiveMeter(predictor, hop_s=0, background=False)
    with pytest.raises(ConfigError, match="bored"):
        LiveMeter(predictor, emotions=["happy", "bored"], background=False)
    with LiveMeter(predictor, background=False) as meter, pytest.raises(ConfigError, match=r"shape \(2, 3, 4\)"):
        meter.feed(np.zeros((2, 3, 4)), sr=BROWSER_SR)


def test_answers_cost_little_cpu_between_them(predictor):
    """No thread busy-waits after a prediction: the model's ONNX session does not spin, and the meter
    predicts with one BLAS thread (OpenBLAS's spin otherwise cost ~5x the work; benchmarks/live.py)."""
    from threadpoolctl import threadpool_info

    assert predictor.model.session.get_session_options().get_session_config_entry(
        "session.intra_op.allow_spinning") == "0"
    blas_threads = []
    real = predictor.predict

    class Watched:
        def __getattr__(self, name):
            return getattr(predictor, name)

        def predict(self, *args, **kwargs):
            blas_threads.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
            return real(*args, **kwargs)

    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with LiveMeter(Watched(), background=False) as meter:
        feed_all(meter, browser_stream()[:BROWSER_SR * 2])
    assert blas_threads and all(n == [1] * len(before) for n in blas_threads), blas_threads
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


class _Broken:
    """A predictor whose prediction fails as a model that cannot run would (not an AudioError)."""

    def __init__(self, real):
        self.config, self.choice, self.window_s = real.config, real.choice, real.window_s

    def predict(self, *args, **kwargs):
        raise RuntimeError("ONNX Runtime: cannot run the graph")


def test_a_prediction_that_fails_closes_the_meter_with_one_line_the_slot_keeps(predictor):
    before = open_meters()
    made = []

    def make():
        made.append(LiveMeter(_Broken(predictor)))
        return made[-1]

    slot = MeterSlot(make)
    for s in range(0, BROWSER_SR, CHUNK):  # 1 s: an answer is due at 0.5 s
        slot.feed(np.zeros((CHUNK, 2), np.float32), sr=BROWSER_SR)
    deadline = time.time() + 30
    while not made[0].closed and time.time() < deadline:
        time.sleep(0.02)
    assert made[0].closed and open_meters() == before
    assert "cannot run the graph" in made[0].error and "\n" not in made[0].error
    slot.feed(np.zeros((CHUNK, 2), np.float32), sr=BROWSER_SR)  # the same stream: no new meter failing again
    assert len(made) == 1 and slot.error == made[0].error
    slot.close()
    assert slot.error is None


def test_two_meters_predicting_at_once_each_predict_with_one_blas_thread_and_leave_blas_as_found(predictor):
    """The one-BLAS-thread limit is the process's (threadpoolctl's are): two live sessions whose predictions
    overlapped lifted it under each other (the first to finish restored BLAS's threads while the other still
    predicted). Every prediction must run with one BLAS thread, and the process keep its own count after."""
    import time

    from threadpoolctl import threadpool_info

    def blas():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    seen = []

    class Slow:  # a prediction that lasts long enough for the other meter's to start meanwhile
        def __getattr__(self, name):
            return getattr(predictor, name)

        def predict(self, *args, **kwargs):
            try:
                return predictor.predict(*args, **kwargs)
            finally:
                time.sleep(0.03)
                seen.append(blas())

    before = blas()
    if not before:
        pytest.skip("numpy has no BLAS threadpool threadpoolctl can see")
    stream = browser_stream()[: 3 * BROWSER_SR]
    meters = [LiveMeter(Slow(), background=False) for _ in range(2)]
    threads = [threading.Thread(target=feed_all, args=(m, stream)) for m in meters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for m in meters:
        m.close()
    assert len(seen) >= 8
    assert all(s == [1] * len(before) for s in seen), seen
    assert blas() == before
