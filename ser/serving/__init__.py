"""Serving: predictions from a saved model (`predict`, ONNX via `export`) and their explanations (`explain`)."""
