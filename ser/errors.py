"""The one small error hierarchy of `ser`.

Every error that bad input can cause is a :class:`SerError`; its message names the
offending value (usually a file) and what to do about it, so that the CLI and the
dashboard can show it to a person as it is.
"""

from __future__ import annotations

__all__ = ["SerError", "AudioError", "LabelsError", "ConfigError", "ModelError", "TrainingError", "PathError", "Stopped"]


class SerError(Exception):
    """Base class of every error `ser` raises on purpose."""


class AudioError(SerError):
    """An audio file or signal cannot be used: unreadable, empty, silent, too short or too long."""


class LabelsError(SerError):
    """A labels CSV cannot be read or names no usable clip."""


class ConfigError(SerError):
    """A setting is out of range or a config file is not one `ser` wrote."""


class ModelError(SerError):
    """A model folder is missing, incomplete or not loadable."""


class TrainingError(SerError):
    """A training run cannot start (another is running, no data) or failed."""


class PathError(SerError):
    """A name that would reach outside its folder, or a folder outside those `ser` may read."""


class Stopped(Exception):
    """A long job (features, training, cross-validation, robustness) ended because a stop was
    requested (its ``should_stop()`` turned true). Not a :class:`SerError`: nothing is wrong with the
    input, and nothing was installed."""
