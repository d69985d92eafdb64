"""Helpers for driving the app's pages with Streamlit's headless AppTest."""

from streamlit.testing.v1 import AppTest

from minitorch.app.views import pages


def page(name: str, timeout: float = 60) -> AppTest:
    """The page script `views/<name>.py`, run once (and checked for exceptions)."""
    path = next(p.path for p in pages() if p.path is not None and p.path.stem == name)
    at = AppTest.from_file(str(path), default_timeout=timeout)
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    """`at`, after checking that its last run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """The page's metrics, label -> value as shown."""
    return {m.label: m.value for m in at.metric}
