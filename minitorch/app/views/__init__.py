"""The app's pages, in sidebar order: one script per module of the library."""

from dataclasses import dataclass
from pathlib import Path

from ...tasks.registry import task_named

__all__ = ["Page", "PAGES"]

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Page:
    """A sidebar entry: the script, its title (also the page's heading) and icon."""

    file: str
    title: str
    icon: str
    default: bool = False

    @property
    def path(self) -> Path:
        return _HERE / self.file

    @property
    def url(self) -> str:
        return self.file.removesuffix(".py")


PAGES = [
    Page("home.py", "minitorch", ":material/home:", default=True),
    Page("operators.py", "Operators", ":material/functions:"),
    Page("modules.py", "Modules", ":material/account_tree:"),
    Page("autodiff.py", "Autodiff", ":material/device_hub:"),
    Page("tensors.py", "Tensors", ":material/grid_on:"),
    Page("training.py", "Training", ":material/model_training:"),
    Page("backends.py", "Backends", ":material/speed:"),
]

# A task's page is `views/NAME.py`, titled as the task registry titles the task.
_TASK_ICONS = {
    "mnist": ":material/draw:",
    "sentiment": ":material/sentiment_satisfied:",
    "shakespeare": ":material/theater_comedy:",
}
PAGES += [Page(f"{name}.py", task_named(name).title, icon) for name, icon in _TASK_ICONS.items()]
