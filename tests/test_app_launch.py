"""`minitorch app`: options pass through to `streamlit run`, and a missing streamlit is one
clear line. (The server itself is started for real by the browser test.)"""

import sys

from minitorch import cli
from minitorch.app import APP_PATH
from minitorch.app import launch


def test_options_go_before_the_script_with_our_defaults():
    argv = launch.streamlit_argv(["--server.port", "8765", "--server.headless", "true"])
    assert argv[0] == "run" and argv[-1] == str(APP_PATH)
    assert argv[argv.index("--server.port") + 1] == "8765"
    assert argv[argv.index("--server.address") + 1] == "localhost"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"


def test_user_options_replace_the_defaults():
    argv = launch.streamlit_argv(["--server.address=0.0.0.0", "--browser.gatherUsageStats", "true"])
    assert "localhost" not in argv and argv.count("--browser.gatherUsageStats") == 1


def test_cli_hands_everything_after_app_to_the_launcher(monkeypatch):
    seen = []
    monkeypatch.setattr(launch, "main", lambda options: seen.append(options) or 0)
    assert cli.main(["app", "--server.port", "8765", "--server.headless", "true"]) == 0
    assert seen == [["--server.port", "8765", "--server.headless", "true"]]


def test_cli_lists_the_app_command(capsys):
    try:
        cli.main(["--help"])
    except SystemExit:
        pass
    assert "app" in capsys.readouterr().out


def test_missing_streamlit_is_one_line_saying_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "streamlit", None)
    monkeypatch.setitem(sys.modules, "streamlit.web", None)
    assert launch.main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "minitorch[app]"' in err


def test_importing_the_app_package_does_not_import_streamlit():
    import subprocess

    code = (
        "import minitorch.app, minitorch.app.launch, minitorch.app.expr, sys; "
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(APP_PATH.parents[2]),
    )
    assert out.stdout.strip() == "False"
