"""Audio in: one reader from a file or a waveform to the clip as recorded, and the finish that trims and
levels it (`reader`); the DSP it and the features share, with ser's one resampler (`dsp`); and the speech
checks (`speech`)."""
