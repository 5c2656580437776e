"""Export Resemblyzer 0.1.4's GE2E voice encoder (Apache-2.0) to ONNX, once; torch is needed here only.

    pip install torch==2.13.0 onnx && pip install --no-deps resemblyzer==0.1.4
    python export_encoder.py OUT.onnx

The graph takes ``mels`` (batch, frames, 40): Resemblyzer's mel power spectrogram (16 kHz, 25 ms window,
10 ms hop, 40 bands, not logged) and gives each LSTM layer's outputs ``layer1``..``layer3``
(batch, frames, 256) and ``embed`` (batch, 256): the L2-normalised ReLU(linear) of the last frame of
the top layer, as ``VoiceEncoder.forward``.
"""
import sys

import numpy as np
import torch
from resemblyzer import VoiceEncoder


class Layers(torch.nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.layers = torch.nn.ModuleList()
        for k in range(3):
            layer = torch.nn.LSTM(40 if k == 0 else 256, 256, batch_first=True)
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(layer, n + "_l0").data = getattr(enc.lstm, f"{n}_l{k}").data.clone()
            self.layers.append(layer)
        self.linear = enc.linear

    def forward(self, mels):
        outs, x = [], mels
        for layer in self.layers:
            x, _ = layer(x)
            outs.append(x)
        e = torch.relu(self.linear(x[:, -1]))
        return (*outs, e / torch.norm(e, dim=1, keepdim=True))


enc = VoiceEncoder("cpu", verbose=False).eval()
m = Layers(enc).eval()
x = torch.rand(2, 173, 40)
with torch.no_grad():
    ref = enc(x).numpy()
    got = m(x)[3].numpy()
assert np.allclose(ref, got, atol=1e-5), np.abs(ref - got).max()
torch.onnx.export(m, (x,), sys.argv[1], input_names=["mels"], output_names=["layer1", "layer2", "layer3", "embed"],
                  dynamic_axes={"mels": {0: "batch", 1: "frames"}, **{k: {0: "batch", 1: "frames"} for k in
                                ("layer1", "layer2", "layer3")}, "embed": {0: "batch"}},
                  opset_version=17, dynamo=False)
import onnxruntime as ort
s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
for T in (50, 173, 400):
    x = torch.rand(3, T, 40)
    with torch.no_grad():
        want = [t.numpy() for t in m(x)]
    have = s.run(None, {"mels": x.numpy()})
    print(T, [float(np.abs(a - b).max()) for a, b in zip(want, have)])
