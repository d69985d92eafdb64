"""Real tasks, one folder each: `mnist` (the course's LeNet on handwritten digits) and
`sentiment` (the course's Kim CNN on SST-2 sentences). Each folder holds its data loading
(`data.py`), its network (`model.py`) and its config and training (`train.py`); what they
share (the loop, progress reports, seeds, checkpoints, errors) is in `common.py`.

`minitorch train mnist|sentiment` and `minitorch eval mnist|sentiment` (`cli.py`) run them.
Importing this package loads nothing else: each task imports its own pieces.
"""

__all__: list[str] = []
