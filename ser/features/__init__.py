"""Features: the 182-row matrix of a clip from one shared STFT, per-speaker normalisation, and the content-addressed cache."""
