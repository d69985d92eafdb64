"""Where numba caches the kernels: a per-user folder, never the package; and the install
sequence that used to break (installed, run, reinstalled editable: still importable)."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from minitorch import fast_ops, kernel_cache, operators

ROOT = Path(__file__).resolve().parents[1]
CACHE_FILES = ("*.nbi", "*.nbc")


def test_the_cache_folder_honours_numba_cache_dir_first(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernel_cache.cache_dir() == tmp_path / "numba"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG is the Linux convention")
def test_the_cache_folder_is_per_user_under_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernel_cache.cache_dir() == tmp_path / "xdg" / "minitorch" / "numba"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert kernel_cache.cache_dir() == tmp_path / "home" / ".cache" / "minitorch" / "numba"


def test_an_unwritable_cache_home_falls_back_to_the_temporary_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(kernel_cache, "_writable", lambda folder: False)  # as for a read-only home
    folder = kernel_cache.cache_dir()
    assert not folder.is_relative_to(tmp_path)
    assert folder.parent.name.startswith("minitorch-") and folder.name == "numba"


def test_the_locator_claims_this_packages_kernels_only(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    ours = fast_ops._pack.py_func
    locator = kernel_cache.UserCacheLocator.from_function(ours, ours.__code__.co_filename)
    assert locator is not None
    assert Path(locator.get_cache_path()).parent == tmp_path
    assert not Path(locator.get_cache_path()).is_relative_to(kernel_cache.PACKAGE_DIR)

    def users_own(x):  # defined here, in tests/: numba's own locators decide
        return x

    assert kernel_cache.UserCacheLocator.from_function(users_own, __file__) is None


def test_every_cached_kernel_of_the_package_is_routed_to_the_cache_folder():
    for name in ("_pack", "_size", "index_to_position"):
        dispatcher = getattr(fast_ops, name)
        locator = dispatcher._cache._impl.locator
        assert isinstance(locator, kernel_cache.UserCacheLocator), name
    kernel = fast_ops.tensor_map(operators.neg)
    for variant in (kernel.serial, kernel.parallel):
        assert isinstance(variant._cache._impl.locator, kernel_cache.UserCacheLocator)


RUN_A_KERNEL = textwrap.dedent(
    """
    import minitorch
    a = minitorch.tensor([1.0, -2.0], backend=minitorch.FastBackend)
    assert (-a).to_numpy().tolist() == [-1.0, 2.0]
    print(minitorch.__file__)
    """
)


def _package_cache_files(folder: Path) -> list[Path]:
    return [p for pattern in CACHE_FILES for p in folder.rglob(pattern)]


def test_running_a_kernel_writes_the_cache_outside_the_package(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    before = set(_package_cache_files(ROOT / "minitorch"))
    done = subprocess.run(
        [sys.executable, "-c", RUN_A_KERNEL],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(_package_cache_files(ROOT / "minitorch")) == before
    assert _package_cache_files(tmp_path / "minitorch" / "numba")


# ---- The README's two installs, in that order, in one environment --------------------------------


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(args: list[str | Path], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_an_installed_run_then_an_editable_reinstall_leaves_an_importable_package(tmp_path):
    """The sequence that broke: `pip install .`, run a kernel, `pip install -e .`, import."""
    ours = [Path(p) for p in site.getsitepackages() if Path(p, "minitorch").is_dir()]
    if ours:
        pytest.skip(f"a regular minitorch install in {ours[0]} would shadow the test's own")
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "minitorch",
        src / "minitorch",
        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], dict(os.environ), tmp_path)
    python = _venv_python(venv)
    # The fresh environment borrows this one's dependencies (numpy, numba, setuptools) through
    # a path line: no network, no copies. The line adds the folder only, not its .pth hooks
    # (so not this checkout's own editable install).
    venv_site = Path(
        _run(
            [python, "-c", "import site; print(site.getsitepackages()[0])"],
            dict(os.environ),
            tmp_path,
        ).strip()
    )
    (venv_site / "_borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    pip = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-index",
        "--no-deps",
        "--no-build-isolation",
        "--quiet",
    ]

    _run([*pip, src], env, tmp_path)
    installed = _run([python, "-c", RUN_A_KERNEL], env, tmp_path).strip()
    assert Path(installed).parent == venv_site / "minitorch"
    assert not _package_cache_files(venv_site / "minitorch")
    assert _package_cache_files(tmp_path / "cache" / "minitorch" / "numba")

    _run([*pip, "--editable", src], env, tmp_path)
    assert not (venv_site / "minitorch").exists()  # nothing left behind to shadow the checkout
    editable = _run(
        [python, "-c", RUN_A_KERNEL + "minitorch.FastBackend, minitorch.__all__\n"], env, tmp_path
    ).strip()
    assert Path(editable) == src / "minitorch" / "__init__.py"
