"""Real tasks, one folder each: `mnist` (the course's LeNet on handwritten digits) and
`sentiment` (the course's Kim CNN on SST-2 sentences). Each folder holds its data loading
(`data.py`), its network (`model.py`) and its config and training (`train.py`). What they
share is written once: the training loop and its progress reports (`loop.py`), the errors
the command line reports (`errors.py`), and answers, metrics, seeds, backends and
checkpoints (`common.py`).

`minitorch train mnist|sentiment` and `minitorch eval mnist|sentiment` (`cli.py`) run them.
Importing this package loads nothing else: each task imports its own pieces.
"""

__all__: list[str] = []
