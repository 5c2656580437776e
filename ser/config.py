"""One frozen, typed configuration, saved as ``config.json`` next to every model.

Units are in the field names (``_hz``, ``_s``, ``_db``, ``_semitones``); librosa's
own parameter names (``n_fft``, ``hop_length``, ``n_mels``, ``n_mfcc``) are kept where a
field is passed straight to librosa, and those are counted in samples or bins.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ser.errors import ConfigError

__all__ = [
    "AudioConfig",
    "FeatureConfig",
    "AugmentConfig",
    "TrainConfig",
    "Config",
    "Preset",
    "PRESET_TABLE",
    "PRESETS",
    "SPLIT_MODES",
]


@dataclass(frozen=True)
class Preset:
    """One row of the preset table: what people read about it and the training settings it implies.
    The network each preset builds is in :mod:`ser.training.model`."""

    description: str
    learning_rate: float
    ensemble_size: int
    label_smoothing: float = 0.1
    class_weights: bool = True


PRESET_TABLE: dict[str, Preset] = {
    "default": Preset("Built for this computer: three small networks averaged, a few seconds an epoch each; about "
                      "13 minutes on 1200 clips. The recommended choice.", learning_rate=1e-3, ensemble_size=3),
    "quick": Preset("Tiny and very fast; for trying the controls, not for accuracy.", learning_rate=2e-3,
                    ensemble_size=1),
    "seed": Preset("The original large model: about 50 times slower; needs hours on a CPU.", learning_rate=5e-5,
                   ensemble_size=1, label_smoothing=0.0, class_weights=False),
}
"""The one table of presets: ``for_preset``, the CLI and the Train page all read it."""
PRESETS: tuple[str, ...] = tuple(PRESET_TABLE)
SPLIT_MODES: tuple[str, ...] = ("speaker", "clip")
"""How clips are split: ``speaker`` (no test voice heard in training; the default) or ``clip`` (chosen
knowingly: speakers overlap, and every report says so). Configs written before this say ``auto``,
which is read as ``speaker`` (see :mod:`ser.datasets.split`)."""
LEGACY_SPLIT_MODES: tuple[str, ...] = ("auto",)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class AudioConfig:
    """How a file becomes a waveform.

    With ``level_norm`` the prepared waveform is scaled so that its active level (the RMS over
    frames within ``level_gate_db`` of the loudest frame) is ``target_level_dbfs``: a clip's
    recording gain then changes nothing downstream. Trimming is relative to the loudest frame too.
    """

    sample_rate_hz: int = 16_000
    trim_silence: bool = True
    trim_top_db: float = 30.0
    min_duration_s: float = 0.25
    max_duration_s: float = 600.0
    level_norm: bool = True
    target_level_dbfs: float = -23.0
    level_gate_db: float = 30.0

    def __post_init__(self) -> None:
        _check(-60.0 <= self.target_level_dbfs <= 0.0,
               f"target_level_dbfs={self.target_level_dbfs} is out of range; use -60 to 0 (-23 is the default).")
        _check(self.level_gate_db > 0, f"level_gate_db={self.level_gate_db} must be positive, e.g. 30.")
        _check(8_000 <= self.sample_rate_hz <= 48_000,
               f"sample_rate_hz={self.sample_rate_hz} is out of range; use 8000 to 48000 (16000 is the default).")
        _check(self.trim_top_db > 0, f"trim_top_db={self.trim_top_db} must be positive, e.g. 30.")
        _check(0 < self.min_duration_s < self.max_duration_s,
               f"min_duration_s={self.min_duration_s} must be positive and below max_duration_s={self.max_duration_s}.")


PAD_MODES: tuple[str, ...] = ("repeat", "silence")


@dataclass(frozen=True)
class FeatureConfig:
    """The 182 x ``max_frames`` feature matrix: mel (dB), MFCC, chroma, ZCR, RMS.

    With ``prosody`` two rows follow (184 in all): pitch in semitones above 100 Hz and periodicity
    (0 noise to 1 a pure tone), both from the autocorrelation of the same power spectrogram,
    searched between ``fmin_hz`` and ``fmax_hz``.

    A signal shorter than the window (``window_samples``, about 3 s) is filled to it by ``pad_mode``:
    ``"repeat"`` tiles the signal, so a 1 s word is seen as its own frames only; ``"silence"`` pads it
    with zeros (how every model saved before the field was trained: their config.json loads as it).
    """

    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    n_mfcc: int = 40
    n_chroma: int = 12
    max_frames: int = 96
    top_db: float = 80.0
    chroma_tuning: float | None = 0.0
    prosody: bool = False
    fmin_hz: float = 60.0
    fmax_hz: float = 500.0
    pad_mode: str = "repeat"

    def __post_init__(self) -> None:
        _check(self.pad_mode in PAD_MODES,
               f"pad_mode={self.pad_mode!r} is unknown; choose {' or '.join(PAD_MODES)}.")
        _check(self.n_fft >= 64 and self.hop_length >= 1 and self.hop_length <= self.n_fft,
               f"n_fft={self.n_fft}, hop_length={self.hop_length}: need n_fft >= 64 and 1 <= hop_length <= n_fft.")
        _check(self.max_frames >= 8, f"max_frames={self.max_frames} is too small; use at least 8.")
        _check(0 < self.n_mfcc <= self.n_mels, f"n_mfcc={self.n_mfcc} must be between 1 and n_mels={self.n_mels}.")
        _check(0 < self.fmin_hz < self.fmax_hz, f"fmin_hz={self.fmin_hz} must be positive and below fmax_hz.")

    @property
    def n_features(self) -> int:
        """Rows of the feature matrix: mel + MFCC + chroma + ZCR + RMS (+ pitch and periodicity)."""
        return self.n_mels + self.n_mfcc + self.n_chroma + 2 + (2 if self.prosody else 0)

    def window_s(self, sr: int) -> float:
        """Seconds of audio covered by ``max_frames`` frames at rate ``sr``."""
        return self.window_samples / sr

    @property
    def window_samples(self) -> int:
        """Samples that give exactly ``max_frames`` centred frames."""
        return (self.max_frames - 1) * self.hop_length


@dataclass(frozen=True)
class AugmentConfig:
    """What training does to each training clip (validation and test clips are never touched).

    Every training clip is seen as recorded and in three augmented versions (``ser.augment.training.VERSIONS``):
    ``recording`` (the clip under a random recording condition), ``stretch`` and ``pitch`` (speed or
    pitch changed, then a random recording condition with probability ``chain_p``). A recording
    condition is a chain, each step with its own probability: a simulated room (RT60 in
    ``[rt60_s_min, rt60_s_max]``), additive noise (white, pink, brown, or babble from other training
    speakers) at an SNR in ``[noise_snr_db_min, noise_snr_db_max]``, an EQ tilt, a band limit or codec
    (telephone band, GSM, low-bitrate MP3), and a gain with mild clipping.
    """

    enabled: bool = True
    noise_snr_db_min: float = 5.0
    noise_snr_db_max: float = 30.0
    stretch_rate_min: float = 0.8
    stretch_rate_max: float = 1.25
    pitch_semitones_min: float = -3.0
    pitch_semitones_max: float = 3.0
    chain_p: float = 0.5
    noise_p: float = 0.7
    reverb_p: float = 0.4
    rt60_s_min: float = 0.2
    rt60_s_max: float = 1.0
    eq_p: float = 0.3
    eq_tilt_db_per_octave_max: float = 3.0
    channel_p: float = 0.3
    clipping_p: float = 0.15
    clipping_percentile_min: float = 95.0
    gain_db_min: float = -20.0
    gain_db_max: float = 10.0

    def __post_init__(self) -> None:
        _check(self.noise_snr_db_min <= self.noise_snr_db_max, "noise_snr_db_min must not exceed noise_snr_db_max.")
        _check(0 < self.stretch_rate_min <= self.stretch_rate_max,
               "stretch rates must be positive with stretch_rate_min <= stretch_rate_max.")
        _check(self.pitch_semitones_min <= self.pitch_semitones_max,
               "pitch_semitones_min must not exceed pitch_semitones_max.")
        for name in ("chain_p", "noise_p", "reverb_p", "eq_p", "channel_p", "clipping_p"):
            value = getattr(self, name)
            _check(0.0 <= value <= 1.0, f"{name}={value} is a probability; use 0 to 1.")
        _check(0 < self.rt60_s_min <= self.rt60_s_max <= 2.0,
               f"rt60_s_min={self.rt60_s_min} and rt60_s_max={self.rt60_s_max}: need 0 < min <= max <= 2 s.")
        _check(50.0 <= self.clipping_percentile_min < 100.0,
               f"clipping_percentile_min={self.clipping_percentile_min} must be in [50, 100), e.g. 95.")
        _check(self.gain_db_min <= self.gain_db_max, "gain_db_min must not exceed gain_db_max.")



@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained and how the data is split."""

    preset: str = "default"
    epochs: int = 200
    batch_size: int = 64
    learning_rate: float = PRESET_TABLE["default"].learning_rate
    patience_epochs: int = 20
    lr_patience_epochs: int = 6
    lr_factor: float = 0.5
    min_learning_rate: float = 1e-5
    split_mode: str = "speaker"
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    seed: int = 0
    class_weights: bool = PRESET_TABLE["default"].class_weights
    label_smoothing: float = PRESET_TABLE["default"].label_smoothing
    input_dropout: float = 0.1
    dropout: float = 0.2
    input_noise: float = 0.0
    frame_dropout: float = 0.0
    utterance_norm: bool = True
    raw_rows: bool = True
    speaker_norm: bool = False  # each clip minus its speaker's mean of every row (ser.features.speakers); old configs: False
    pooling: str = "mean"
    monitor: str = "val_loss"
    ensemble_size: int = PRESET_TABLE["default"].ensemble_size
    model_seed: int | None = None

    def __post_init__(self) -> None:
        _check(self.preset in PRESETS, f"preset={self.preset!r} is unknown; choose one of {', '.join(PRESETS)}.")
        _check(self.split_mode in SPLIT_MODES + LEGACY_SPLIT_MODES,
               f"split_mode={self.split_mode!r} is unknown; choose one of {', '.join(SPLIT_MODES)}.")
        _check(self.epochs >= 1, f"epochs={self.epochs} must be at least 1.")
        _check(self.batch_size >= 1, f"batch_size={self.batch_size} must be at least 1.")
        _check(0 < self.learning_rate < 1, f"learning_rate={self.learning_rate} must be between 0 and 1, e.g. 0.001.")
        _check(self.patience_epochs >= 1, f"patience_epochs={self.patience_epochs} must be at least 1.")
        _check(0 < self.test_fraction < 1 and 0 < self.val_fraction < 1,
               f"test_fraction={self.test_fraction} and val_fraction={self.val_fraction} must be between 0 and 1.")
        _check(0 <= self.label_smoothing < 1, f"label_smoothing={self.label_smoothing} must be in [0, 1).")
        _check(0 <= self.input_dropout < 1 and 0 <= self.dropout < 1 and 0 <= self.frame_dropout < 1,
               f"input_dropout={self.input_dropout}, dropout={self.dropout} and "
               f"frame_dropout={self.frame_dropout} must be in [0, 1).")
        _check(self.utterance_norm or self.raw_rows,
               "raw_rows=False needs utterance_norm=True: the network must see the features one way or the other.")
        _check(self.pooling in ("last", "mean"), f"pooling={self.pooling!r} must be 'last' or 'mean'.")
        _check(1 <= self.ensemble_size <= 10,
               f"ensemble_size={self.ensemble_size} must be between 1 and 10 (models trained and averaged).")
        _check(self.monitor in ("val_loss", "val_accuracy"),
               f"monitor={self.monitor!r} must be 'val_loss' or 'val_accuracy'.")


@dataclass(frozen=True)
class Config:
    """Everything a model was trained with."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    emotions: tuple[str, ...] = (
        "neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised",
    )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "config") -> "Config":
        """The config in ``data`` (a parsed ``config.json``); :class:`ConfigError` naming ``source`` and
        the fix if it is not one ser wrote."""
        def bad(what: str) -> ConfigError:
            return ConfigError(f"{source}: {what}; retrain or restore config.json.")

        if not isinstance(data, dict):
            kind = {list: "a JSON list", type(None): "a JSON null", str: "a JSON string", bool: "a JSON boolean"}.get(
                type(data), "a JSON number")
            raise bad(f"is {kind}, not the settings object ser writes")
        missing = [k for k in REQUIRED_SECTIONS if k not in data]
        if missing:
            raise bad(f"lacks {', '.join(missing)}")
        for name in ("audio", "features", "augment", "train"):
            if not isinstance(data.get(name, {}), dict):
                raise bad(f"{name} is not an object")
        emotions = data["emotions"]
        if (not isinstance(emotions, (list, tuple)) or len(emotions) < 2 or not all(isinstance(e, str) for e in emotions)
                or len(set(emotions)) != len(emotions)):
            raise bad("emotions is not a list of emotion names (at least two, each once)")
        audio = dict(data["audio"])
        if audio and "level_norm" not in audio:  # written before level normalisation: trained without it
            audio["level_norm"] = False
        train = dict(data["train"])
        train.setdefault("ensemble_size", 1)  # written before ensembles: one network
        features = dict(data["features"])
        features.setdefault("pad_mode", "silence")  # written before pad_mode: trained on silence-padded clips
        try:
            return cls(
                audio=AudioConfig(**audio),
                features=FeatureConfig(**features),
                augment=AugmentConfig(**data.get("augment", {})),
                train=TrainConfig(**train),
                emotions=tuple(emotions),
            )
        except TypeError as exc:  # an unknown field, or a value of the wrong type
            raise bad(f"has an unknown or missing field or a value of the wrong type ({type(exc).__name__})") from exc
        except ConfigError as exc:  # a value out of range: its own message says which
            raise bad(str(exc).rstrip(".")) from exc

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        """Read ``config.json``; every failure is a :class:`ConfigError` naming the file and the fix."""
        path = Path(path)
        fix = "retrain or restore config.json."
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: no config.json here; is this a model folder written by ser?") from exc
        except IsADirectoryError as exc:
            raise ConfigError(f"{path}: is a folder, not a file; {fix}") from exc
        except PermissionError as exc:
            raise ConfigError(f"{path}: cannot be read: permission denied; make it readable or {fix}") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({type(exc).__name__}); {fix}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: is not UTF-8 text; {fix}") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}); {fix}") from exc
        return cls.from_dict(data, source=str(path))


REQUIRED_SECTIONS: tuple[str, ...] = ("audio", "features", "train", "emotions")


def for_preset(preset: str, **train_overrides: Any) -> Config:
    """The config a preset trains with, with some :class:`TrainConfig` fields replaced.

    A ``learning_rate`` or ``ensemble_size`` of ``None`` (or absent) means the preset's own.
    """
    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is unknown; choose one of {', '.join(PRESETS)}.")
    overrides = {k: v for k, v in train_overrides.items() if v is not None}
    row = PRESET_TABLE[preset]
    for name in ("learning_rate", "ensemble_size", "label_smoothing", "class_weights"):
        overrides.setdefault(name, getattr(row, name))
    augment_fields = {f.name for f in dataclasses.fields(AugmentConfig)} - {"enabled"}
    feature_fields = {f.name for f in dataclasses.fields(FeatureConfig)}
    audio_fields = {f.name for f in dataclasses.fields(AudioConfig)}
    augment = AugmentConfig(enabled=overrides.pop("augment", True),
                            **{k: overrides.pop(k) for k in sorted(set(overrides) & augment_fields)})
    features = FeatureConfig(**{k: overrides.pop(k) for k in sorted(set(overrides) & feature_fields)})
    audio = AudioConfig(**{k: overrides.pop(k) for k in sorted(set(overrides) & audio_fields)})
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise ConfigError(f"unknown training setting {', '.join(unknown)}; the settings are "
                          f"{', '.join(f.name for f in dataclasses.fields(TrainConfig))}, the augmentation's "
                          f"{', '.join(sorted(augment_fields))}, the features' {', '.join(sorted(feature_fields))} "
                          f"and the audio's {', '.join(sorted(audio_fields))}.")
    return Config(audio=audio, features=features, augment=augment, train=TrainConfig(preset=preset, **overrides))
