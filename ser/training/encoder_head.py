"""The encoder member of a model: a logistic regression on the voice encoder's rows, averaged with the networks.

With ``train.encoder_member`` a model is its networks and this head: :func:`fit_encoder_head` fits it on
the training clips' :func:`ser.features.encoder.encoder_row` (of every version the networks see: as
recorded, under a random recording condition, stretched, pitch-shifted) after the networks are trained,
and the model folder keeps it as ``encoder_head.npz`` (:class:`EncoderHead`). The prediction is the weighted mean of the networks' probabilities and the
head's (:meth:`ser.serving.predict.Predictor.predict_features`, ``train.encoder_weight`` for the head); a
closed-set answer restricts that mean.

The regression is multinomial, L2-penalised (``C`` as scikit-learn's: ``1 / (2 C n)`` per row's mean
loss), each corpus weighing the same and every emotion the same within its corpus
(:func:`ser.training.fit.balanced_weights`). An emotion a clip's corpus does not have enters that clip's
softmax with the logit offset ``ABSENT_OFFSET`` (-1: e times less likely a priori), so a corpus without
"calm" pushes calm down less than one that has it and never says it.

Chosen on the validation speakers of the shipped split and by speaker CV within the corpora on the
train and validation speakers, never on test speakers (``benchmarks/pretrained_encoder.md`` has the
tables). Macro F1 of the open answer on the validation speakers, mean with the networks, RAVDESS | nEMO |
Indian EmoSpeech, the regression on original clips only: absent-emotion offset 0 0.643 | 0.536 | 0.523,
-1 the same, -4 0.632 | 0.491 | 0.520, -inf (absent emotions not counted at all) 0.629 | 0.335 | 0.313:
the open answer then says "calm" and "disgust" to voices of corpora without them. On original clips
only, clean validation speakers favour it most (C = 0.003: 0.651 | 0.555 | 0.571), but under the
robustness report's conditions it falls below the networks alone (pooled validation macro F1, white
noise 20 dB 0.262 against 0.335, pink noise 0.162 against 0.348, babble 0.223 against 0.245): the encoder
never heard noise with emotion labels. Fitted on every training version (as recorded, a random recording
condition, stretched, pitch-shifted) with C = 0.001 (against 0.003, 0.0003 and 0.0001): clean 0.640 |
0.520 | 0.513 (pooled 0.543 against the networks' 0.396), and above the networks under every condition
(white noise 20 dB 0.462, 10 dB 0.412, pink 0.441, babble 0.353, telephone 0.376, room 0.418, MP3 0.487
against 0.335, 0.282, 0.348, 0.245, 0.319, 0.354, 0.375). Its share of the mean, ``train.encoder_weight``
= 0.25, was chosen by leaving one corpus out (``ser cv --by corpus``): mean held-out macro F1 at 0, 0.25,
0.5, 0.75 and 1: 0.259, 0.270, 0.242, 0.234, 0.224 (validation speakers prefer 0.5: 0.640 | 0.520 | 0.513
against 0.599 | 0.543 | 0.472; a corpus never heard is what a new user's voice is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ser.errors import ModelError

__all__ = ["ABSENT_OFFSET", "C_DEFAULT", "EncoderHead", "add_encoder_member", "fit_encoder_head", "fit_member", "rows"]

C_DEFAULT = 0.001
ABSENT_OFFSET = -1.0  # the logit offset, in training, of an emotion the row's corpus does not have


@dataclass(frozen=True)
class EncoderHead:
    """Standardiser and weights of the regression.

    Attributes
    ----------
    mean, scale : np.ndarray, shape (1792,): the training rows' mean and standard deviation
    W : np.ndarray, shape (1792, n_emotions); b : np.ndarray, shape (n_emotions,)
    emotions : the model's emotions, in the columns' order
    """

    mean: np.ndarray
    scale: np.ndarray
    W: np.ndarray
    b: np.ndarray
    emotions: tuple[str, ...]
    C: float = C_DEFAULT

    def predict_proba(self, R: np.ndarray) -> np.ndarray:
        """Probabilities of each emotion.

        Parameters
        ----------
        R : np.ndarray, shape (n, 1792): :func:`ser.features.encoder.encoder_row` of each clip or window

        Returns
        -------
        np.ndarray, shape (n, n_emotions), float32
        """
        from ser.training.logistic import head_probs

        R = np.asarray(R, np.float32).reshape(-1, self.mean.size)
        Z = (R - self.mean) / self.scale
        return head_probs(Z, np.zeros((len(Z), len(self.emotions))), self.W, self.b).astype(np.float32)

    def restricted(self, emotions: Sequence[str]) -> "EncoderHead":
        """The head answering among ``emotions`` only (in its own order): its softmax over their columns is
        its probabilities restricted to them and renormalised (a personal model's: :mod:`ser.serving.adapt`)."""
        keep = [self.emotions.index(e) for e in self.emotions if e in set(emotions)]
        return EncoderHead(self.mean, self.scale, self.W[:, keep], self.b[keep],
                           tuple(self.emotions[i] for i in keep), self.C)

    def save(self, path: str | Path) -> None:
        np.savez(path, mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                 W=self.W.astype(np.float32), b=self.b.astype(np.float32), emotions=np.array(self.emotions),
                 C=np.float64(self.C))

    @classmethod
    def load(cls, path: str | Path, *, emotions: Sequence[str]) -> "EncoderHead":
        """Read ``encoder_head.npz``; :class:`ModelError`, one line naming the file, when it is missing,
        damaged, or made for other emotions than the model's."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: missing; its config.json says the model has an encoder member: restore the "
                             "file or retrain the model.")
        try:
            with np.load(path, allow_pickle=False) as f:
                head = cls(f["mean"], f["scale"], f["W"], f["b"], tuple(str(e) for e in f["emotions"]), float(f["C"]))
        except Exception as exc:  # a damaged or foreign file
            raise ModelError(f"{path}: is not an encoder head ser wrote ({type(exc).__name__}); restore it or "
                             "retrain the model.") from None
        from ser.features.encoder import N_ENCODER

        if (head.emotions != tuple(emotions) or head.mean.shape != (N_ENCODER,) or head.scale.shape != (N_ENCODER,)
                or head.W.shape != (N_ENCODER, len(emotions)) or head.b.shape != (len(emotions),)):
            raise ModelError(f"{path}: was made for another model (emotions {', '.join(head.emotions)}); the folder "
                             "mixes files of two runs: retrain or restore it.")
        return head


def fit_encoder_head(R: np.ndarray, y: Sequence[str], corpora: Sequence[str] | None = None, *,
                     emotions: Sequence[str], emotion_sets: dict[str, Sequence[str]] | None = None,
                     C: float = C_DEFAULT, absent_offset: float = ABSENT_OFFSET) -> EncoderHead:
    """Fit the head on rows of training clips.

    Parameters
    ----------
    R : np.ndarray, shape (n, 1792)
    y : the emotion of each row
    corpora : the corpus of each row (default: one corpus)
    emotions : the model's emotions (the columns)
    emotion_sets : each corpus's emotions (default: those its rows have)
    C : inverse regularisation strength, as scikit-learn's ``LogisticRegression(C=...)``
    absent_offset : the logit offset of the emotions a row's corpus does not have (``-inf``: they do not count
        in its loss at all; 0: as if the corpus had them and never said them)

    Returns
    -------
    EncoderHead
    """
    from ser.training.logistic import fit_head
    from ser.training.fit import balanced_weights

    R = np.asarray(R, np.float64)
    emotions = tuple(emotions)
    labels = np.array([emotions.index(e) for e in y])
    corpora = [""] * len(labels) if corpora is None else [str(c) for c in corpora]
    if emotion_sets is None:
        emotion_sets = {}
        for c, e in zip(corpora, y):
            emotion_sets.setdefault(c, set()).add(e)
    allowed = {c: np.isin(emotions, list(emotion_sets[c])) for c in set(corpora)}
    offsets = np.stack([np.where(allowed[c], 0.0, max(absent_offset, -1e4)) for c in corpora])
    mean = R.mean(axis=0)
    scale = R.std(axis=0)
    scale = np.where(scale > 1e-6, scale, 1.0)
    Z = (R - mean) / scale
    W, b = fit_head(Z, offsets, labels, l2=1.0 / (2 * C * len(labels)), l2_bias=0.0,
                    weights=balanced_weights(corpora, labels))
    return EncoderHead(mean.astype(np.float32), scale.astype(np.float32), W.astype(np.float32),
                       b.astype(np.float32), emotions, float(C))


def fit_member(data: dict, config, folder, *, emotion_sets: dict[str, Sequence[str]] | None = None) -> bool:
    """With ``config.train.encoder_member``, fit the head on the rows of ``data["train"]`` (every version
    the networks see: :func:`ser.training.dataset.features_for_split`) and save it in the model folder
    ``folder`` (a :class:`ser.model_folder.ModelFolder`); whether it did."""
    if not config.train.encoder_member:
        return False
    train = data["train"]
    fit_encoder_head(np.stack(train["R"]), train["y"], train["corpus"], emotions=config.emotions,
                     emotion_sets=emotion_sets).save(folder.encoder_head_file)
    return True


def rows(part: dict, config) -> np.ndarray | None:
    """A part's encoder rows stacked, (n, 1792), for a model with an encoder member; else ``None``."""
    return np.stack(part["R"]) if config.train.encoder_member else None


def add_encoder_member(model_dir: str | Path, *, cache_dir: str | Path | None = None, progress=None,
                       C: float = C_DEFAULT) -> EncoderHead:
    """Give a trained model an encoder member, its networks unchanged: the head fitted on the training
    clips of its ``split.csv`` (every version, as training fits it), written as ``encoder_head.npz``,
    and ``train.encoder_member`` set in its ``config.json``. Its reports were the networks' alone:
    ``ser encoder-member`` scores the model again (:func:`ser.training.train.score_test`,
    :func:`ser.results.robustness.measure_robustness`).
    """
    from dataclasses import replace

    from ser.datasets.corpora import emotion_sets
    from ser.model_folder import ModelFolder
    from ser.training.dataset import features_for_split

    folder = ModelFolder(model_dir)
    config = folder.config()
    train = folder.split_clips("train")  # ModelError, one line, when they cannot be found
    config = replace(config, train=replace(config.train, encoder_member=True))
    data, _ = features_for_split(train, config, cache_dir=cache_dir, progress=progress)  # as training makes them
    if not data["train"]["R"]:
        raise ModelError(f"{model_dir}: none of its training clips could be read (the first: "
                         f"{train['abspath'][0]}).")
    head = fit_encoder_head(np.stack(data["train"]["R"]), data["train"]["y"], data["train"]["corpus"],
                            emotions=config.emotions, emotion_sets=emotion_sets(folder.split()), C=C)
    head.save(folder.encoder_head_file)
    config.save(folder.config_file)
    return head
