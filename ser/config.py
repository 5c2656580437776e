"""One frozen, typed configuration, saved as ``config.json`` next to every model.

Units are in the field names (``_hz``, ``_s``, ``_db``, ``_semitones``); librosa's
own parameter names (``n_fft``, ``hop_length``, ``n_mels``, ``n_mfcc``) are kept where a
field is passed straight to librosa, and those are counted in samples or bins.
"""

from __future__ import annotations

import dataclasses
import json
import typing
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
    "Setting",
    "settings",
    "for_preset",
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
    summary_members: int = 0
    encoder_member: bool = False


PRESET_TABLE: dict[str, Preset] = {
    "default": Preset("Built for this computer: three small networks averaged with three that hear only each "
                      "feature's summary over the clip, a few seconds an epoch each; about 14 minutes on 1200 clips. "
                      "The recommended choice.", learning_rate=1e-3, ensemble_size=3, summary_members=3,
                      encoder_member=True),
    "quick": Preset("Tiny and very fast; for trying the controls, not for accuracy.", learning_rate=2e-3,
                    ensemble_size=1),
    "seed": Preset("The original large model: about 50 times slower; needs hours on a CPU.", learning_rate=5e-5,
                   ensemble_size=1, label_smoothing=0.0, class_weights=False),
}
"""The one table of presets: ``for_preset``, the CLI and the Train page all read it."""
PRESETS: tuple[str, ...] = tuple(PRESET_TABLE)
PRESET_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Preset) if f.name != "description")
"""The :class:`TrainConfig` fields whose default is the preset's own."""
SPLIT_MODES: tuple[str, ...] = ("speaker", "clip")
"""How clips are split: ``speaker`` (no test voice heard in training; the default) or ``clip`` (chosen
knowingly: speakers overlap, and every report says so). Configs written before this say ``auto``,
which is read as ``speaker`` (see :mod:`ser.datasets.split`)."""
LEGACY_SPLIT_MODES: tuple[str, ...] = ("auto",)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _setting(default: Any, help: str, *, choices: tuple | None = None, aliases: tuple[str, ...] = (),
             name: str | None = None) -> Any:
    """A config field that says what it is: the command line's flags and the Train page read it
    (:func:`settings`). ``help`` is one line with the unit; ``choices`` the values allowed; ``aliases``
    older flag names that must keep working; ``name`` the setting's name when it is not the field's."""
    return field(default=default, metadata={"help": help, "choices": choices, "aliases": aliases, "name": name})


@dataclass(frozen=True)
class AudioConfig:
    """How a file becomes a waveform.

    With ``level_norm`` the prepared waveform is scaled so that its active level (the RMS over
    frames within ``level_gate_db`` of the loudest frame) is ``target_level_dbfs``: a clip's
    recording gain then changes nothing downstream. Trimming is relative to the loudest frame too.
    """

    sample_rate_hz: int = _setting(16_000, "rate every clip is resampled to, in Hz")
    trim_silence: bool = _setting(True, "trim leading and trailing silence")
    trim_top_db: float = _setting(30.0, "silence is this many dB below the loudest frame")
    min_duration_s: float = _setting(0.25, "shortest clip used, in seconds (after trimming)")
    max_duration_s: float = _setting(600.0, "longest clip read, in seconds")
    level_norm: bool = _setting(True, "scale each clip to the same active level")
    target_level_dbfs: float = _setting(-23.0, "that active level, in dBFS")
    level_gate_db: float = _setting(30.0, "frames within this many dB of the loudest count as active")

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
POOLINGS: tuple[str, ...] = ("last", "mean")
MONITORS: tuple[str, ...] = ("val_loss", "val_accuracy")


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

    n_fft: int = _setting(1024, "FFT length, in samples")
    hop_length: int = _setting(512, "hop between frames, in samples")
    n_mels: int = _setting(128, "mel bands")
    n_mfcc: int = _setting(40, "MFCC coefficients")
    n_chroma: int = _setting(12, "chroma bins")
    max_frames: int = _setting(96, "frames in the window the network sees")
    top_db: float = _setting(80.0, "dynamic range kept in the mel spectrogram, in dB")
    chroma_tuning: float | None = _setting(0.0, "chroma tuning, in fractions of a bin")
    prosody: bool = _setting(False, "add pitch and periodicity rows")
    fmin_hz: float = _setting(60.0, "lowest pitch searched, in Hz")
    fmax_hz: float = _setting(500.0, "highest pitch searched, in Hz")
    pad_mode: str = _setting("repeat", "how a clip shorter than the window is filled", choices=PAD_MODES)

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

    enabled: bool = _setting(True, "augment training clips (rooms, noise, phone lines, stretch, pitch)",
                             name="augment")
    noise_snr_db_min: float = _setting(5.0, "lowest SNR of added noise, in dB")
    noise_snr_db_max: float = _setting(30.0, "highest SNR of added noise, in dB")
    stretch_rate_min: float = _setting(0.8, "slowest time stretch (rate)")
    stretch_rate_max: float = _setting(1.25, "fastest time stretch (rate)")
    pitch_semitones_min: float = _setting(-3.0, "lowest pitch shift, in semitones")
    pitch_semitones_max: float = _setting(3.0, "highest pitch shift, in semitones")
    chain_p: float = _setting(0.5, "probability of a recording condition after a stretch or pitch shift")
    noise_p: float = _setting(0.7, "probability of added noise")
    reverb_p: float = _setting(0.4, "probability of a simulated room")
    rt60_s_min: float = _setting(0.2, "shortest room reverberation time RT60, in seconds")
    rt60_s_max: float = _setting(1.0, "longest room reverberation time RT60, in seconds")
    eq_p: float = _setting(0.3, "probability of an EQ tilt")
    eq_tilt_db_per_octave_max: float = _setting(3.0, "steepest EQ tilt, in dB per octave")
    channel_p: float = _setting(0.3, "probability of a band limit or codec (telephone, GSM, MP3)")
    clipping_p: float = _setting(0.15, "probability of mild clipping")
    clipping_percentile_min: float = _setting(95.0, "clipping starts at this percentile of the amplitude at least")
    gain_db_min: float = _setting(-20.0, "lowest gain, in dB")
    gain_db_max: float = _setting(10.0, "highest gain, in dB")

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

    preset: str = _setting("default", "the network and its training defaults", choices=PRESETS)
    epochs: int = _setting(200, "most epochs (early stopping usually ends sooner)")
    batch_size: int = _setting(64, "clips per batch")
    learning_rate: float = _setting(PRESET_TABLE["default"].learning_rate, "starting learning rate")
    patience_epochs: int = _setting(
        20, "early-stopping patience, in epochs without improvement", aliases=("--patience",))
    lr_patience_epochs: int = _setting(6, "epochs without improvement before the learning rate is cut")
    lr_factor: float = _setting(0.5, "the cut's factor")
    min_learning_rate: float = _setting(1e-5, "the learning rate is never cut below this")
    split_mode: str = _setting(
        "speaker", "speaker: no test voice is heard in training (needs every clip's speaker and at least 3 "
                   "speakers of every emotion); clip: chosen knowingly, speakers overlap and the reports say so",
        choices=SPLIT_MODES)
    test_fraction: float = _setting(0.2, "share of the clips (or speakers) held out for the test")
    val_fraction: float = _setting(0.1, "share held out for validation")
    seed: int = _setting(0, "seed of the split (which speakers are held out) and of training")
    class_weights: bool = _setting(PRESET_TABLE["default"].class_weights,
                                   "weigh each emotion's loss by how rare it is")
    label_smoothing: float = _setting(PRESET_TABLE["default"].label_smoothing, "label smoothing of the loss, 0 to <1")
    input_dropout: float = _setting(0.1, "dropout on the input features")
    dropout: float = _setting(0.2, "dropout inside the network")
    input_noise: float = _setting(
        0.0, "Gaussian noise added to the normalised features in training (standard deviation)")
    frame_dropout: float = _setting(0.0, "share of whole frames dropped in training")
    utterance_norm: bool = _setting(True, "normalise each feature row over the clip's own frames")
    raw_rows: bool = _setting(True, "keep the rows as extracted beside the normalised ones")
    speaker_norm: bool = _setting(  # ser.features.speakers; configs written before it: False
        False, "subtract each speaker's mean of every feature row (from that speaker's own clips)")
    pooling: str = _setting("mean", "how the network sums up time", choices=POOLINGS)
    monitor: str = _setting("val_loss", "what early stopping and the learning-rate cut watch", choices=MONITORS)
    ensemble_size: int = _setting(
        PRESET_TABLE["default"].ensemble_size, "networks trained from different seeds and averaged, 1 to 10")
    summary_members: int = _setting(
        PRESET_TABLE["default"].summary_members,
        "networks that hear only each feature row's mean, spread and change over the clip, averaged with the "
        "others, 0 to 10 (default: 3; quick and seed: none)")
    encoder_member: bool = _setting(
        PRESET_TABLE["default"].encoder_member,
        "average the networks with a logistic regression on a pretrained voice encoder's view of each clip "
        "(ser.features.encoder; default: on; quick and seed: off)")
    encoder_weight: float = _setting(
        0.25, "the encoder member's share of the averaged probabilities, 0 to 1 (the networks have the rest)")
    model_seed: int | None = _setting(None, "seed of the networks' starting weights, when not the seed")

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
        _check(self.pooling in POOLINGS, f"pooling={self.pooling!r} must be 'last' or 'mean'.")
        _check(1 <= self.ensemble_size <= 10,
               f"ensemble_size={self.ensemble_size} must be between 1 and 10 (models trained and averaged).")
        _check(0 <= self.summary_members <= 10,
               f"summary_members={self.summary_members} must be between 0 and 10 (networks of clip summaries).")
        _check(0 <= self.encoder_weight <= 1, f"encoder_weight={self.encoder_weight} must be between 0 and 1.")
        _check(self.monitor in MONITORS,
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

    def with_settings(self, **settings: Any) -> "Config":
        """This config with some settings replaced, of any section, each by its :class:`Setting` name
        (``augment`` for :attr:`AugmentConfig.enabled`); a value of ``None`` keeps the current one.

        An unknown name is a :class:`ConfigError` listing them all; a value out of range, its field's.
        """
        overrides = {k: v for k, v in settings.items() if v is not None}
        augment_fields = {f.name for f in dataclasses.fields(AugmentConfig)} - {"enabled"}
        feature_fields = {f.name for f in dataclasses.fields(FeatureConfig)}
        audio_fields = {f.name for f in dataclasses.fields(AudioConfig)}
        enabled = {"enabled": overrides.pop("augment")} if "augment" in overrides else {}
        augment = dataclasses.replace(self.augment, **enabled,
                                      **{k: overrides.pop(k) for k in sorted(set(overrides) & augment_fields)})
        features = dataclasses.replace(self.features,
                                       **{k: overrides.pop(k) for k in sorted(set(overrides) & feature_fields)})
        audio = dataclasses.replace(self.audio, **{k: overrides.pop(k) for k in sorted(set(overrides) & audio_fields)})
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)})
        if unknown:
            raise ConfigError(f"unknown training setting {', '.join(unknown)}; the settings are "
                              f"{', '.join(f.name for f in dataclasses.fields(TrainConfig))}, the augmentation's "
                              f"{', '.join(sorted(augment_fields))}, the features' {', '.join(sorted(feature_fields))} "
                              f"and the audio's {', '.join(sorted(audio_fields))}.")
        return dataclasses.replace(self, audio=audio, features=features, augment=augment,
                                   train=dataclasses.replace(self.train, **overrides))

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
        train.setdefault("summary_members", 0)  # written before summary networks: none
        train.setdefault("encoder_member", False)  # written before the encoder member: networks only
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
    """The config a preset trains with, with some settings replaced (:meth:`Config.with_settings`).

    A ``learning_rate`` or ``ensemble_size`` of ``None`` (or absent) means the preset's own.
    """
    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is unknown; choose one of {', '.join(PRESETS)}.")
    row = PRESET_TABLE[preset]
    base = Config(train=TrainConfig(preset=preset, **{name: getattr(row, name) for name in PRESET_COLUMNS}))
    return base.with_settings(**train_overrides)


SECTIONS: dict[str, type] = {"train": TrainConfig, "augment": AugmentConfig, "features": FeatureConfig,
                             "audio": AudioConfig}
"""The :class:`Config` fields that hold settings, and their dataclasses: the order the command line shows them."""


@dataclass(frozen=True)
class Setting:
    """One setting as the command line (its flag) and :meth:`Config.with_settings` (its name) know it:
    read from the config dataclass's field, so a new field is a new setting everywhere.

    ``name`` is what ``for_preset``, ``with_settings`` and ``--set`` call it (the field's name, except
    ``augment`` for :attr:`AugmentConfig.enabled`); ``section`` the :class:`Config` field holding it;
    ``type`` ``int``, ``float``, ``str`` or ``bool``, ``optional`` when ``None`` is allowed too; ``aliases``
    older flag names that keep working; ``from_preset`` when its default is the preset's (:data:`PRESET_TABLE`).
    """

    name: str
    section: str
    field: str
    type: type
    optional: bool
    default: Any
    help: str
    choices: tuple | None = None
    aliases: tuple[str, ...] = ()
    from_preset: bool = False

    def by_preset(self) -> dict[str, Any]:
        """Each preset's default of this setting; empty when the presets do not set it."""
        return {k: getattr(row, self.name) for k, row in PRESET_TABLE.items()} if self.from_preset else {}


def settings(*sections: str) -> tuple[Setting, ...]:
    """Every setting of ``sections`` (names of :data:`SECTIONS`; default all), in field order."""
    found = []
    for section in sections or tuple(SECTIONS):
        cls = SECTIONS[section]
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind, optional = hints[f.name], False
            args = typing.get_args(kind)
            if type(None) in args:
                (kind,), optional = [a for a in args if a is not type(None)], True
            meta = f.metadata
            found.append(Setting(
                name=meta.get("name") or f.name, section=section, field=f.name, type=kind, optional=optional,
                default=f.default, help=meta.get("help") or f.name.replace("_", " "), choices=meta.get("choices"),
                aliases=tuple(meta.get("aliases") or ()), from_preset=section == "train" and f.name in PRESET_COLUMNS))
    return tuple(found)
