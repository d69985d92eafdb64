"""Tasks, one folder each: `classic` (the course's toy classifier, what `minitorch train` runs
without a name), `mnist` (the course's LeNet on handwritten digits) and `sentiment` (the
course's Kim CNN on SST-2 sentences). Each folder exports one `registry.Task` record; the
registry (`registry.py`) names them, and the command line (`cli.py`, its options generated
from each config dataclass by `options.py`) and the app's pages are built from it.

What they share is written once: the training loop, its reports and its state (`loop.py`),
the errors the command line reports (`errors.py`), and answers, metrics, seeds, the common
options and checkpoints (`common.py`). Importing this package loads nothing else.
"""

__all__: list[str] = []
