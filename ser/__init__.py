"""ser: speech emotion recognition from labelled clips to a trained, evaluated model.

Importing this package is cheap and has no side effects: TensorFlow is imported only
by the modules that build, train or run a model (`ser.training.model`, `ser.training.train`,
`ser.serving.predict`, `ser.results.evaluate`).
"""

from ser.errors import (AudioError, ConfigError, LabelsError, ModelError, PathError, SerError, Stopped,
                        TrainingError)

EMOTIONS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)

__version__ = "0.1.0"

__all__ = [
    "EMOTIONS",
    "AudioError",
    "ConfigError",
    "LabelsError",
    "ModelError",
    "PathError",
    "SerError",
    "Stopped",
    "TrainingError",
]
