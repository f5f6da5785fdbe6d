"""ae-studio's library: MNIST autoencoders, their data, training, evaluation and the demo's logic."""

from .checkpoints import load_pretrained
from .models import MODELS
from .preprocess import sketch_to_mnist

__all__ = ["MODELS", "load_pretrained", "sketch_to_mnist"]
