"""Augmentation: the signal functions of recording conditions (effects), the transforms and their one registry (transforms), and what training does with them (training)."""
