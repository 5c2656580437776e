"""Audio in: one reader from a file to a waveform (`reader`), the DSP it and the features share (`dsp`), and the speech checks (`speech`)."""
