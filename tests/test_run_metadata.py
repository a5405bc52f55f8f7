"""Run metadata: the commit of the checkout from one `git status` call (+dirty for changed tracked files)."""

import shutil
import subprocess
import sys

import pytest

from azlang.search.metadata import collect, engine, git_commit
from azlang.search.presets import demo_config
from azlang.search.tasksets import parse_all

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(where, *args):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "HOME": str(where), "PATH": subprocess.os.environ.get("PATH", "")}
    return subprocess.run(["git", *args], cwd=where, env=env, check=True, capture_output=True, text=True).stdout


def test_commit_and_dirty_flag(tmp_path):
    assert git_commit(tmp_path) is None  # not a repository
    _git(tmp_path, "init", "-q")
    assert git_commit(tmp_path) is None  # no commit yet
    (tmp_path / "a.txt").write_text("1\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "HEAD").strip()
    assert git_commit(tmp_path) == head
    (tmp_path / "new.txt").write_text("untracked\n")
    assert git_commit(tmp_path) == head  # untracked files do not make it dirty
    (tmp_path / "a.txt").write_text("2\n")
    assert git_commit(tmp_path) == head + "+dirty"
    _git(tmp_path, "add", "a.txt")
    assert git_commit(tmp_path) == head + "+dirty"  # staged changes count too


def test_engine_is_decided_from_specs_without_building_data():
    cfg = demo_config()
    md = collect(cfg, parse_all(cfg.tasks.search))
    assert md["evaluator"] in ("native", "numpy") and md["loop"] in ("native", "python")
    assert engine(cfg, parse_all(["cifar:all:F16:D1:N10:V10"])) == {"evaluator": "numpy", "loop": "python"}


def test_versions_of_loaded_packages_match_their_installed_metadata():
    import importlib.metadata

    import llvmlite

    import azlang
    from azlang.search.metadata import package_version

    assert package_version("llvmlite") == llvmlite.__version__ == importlib.metadata.version("llvmlite")
    try:
        installed = importlib.metadata.version("azlang")
    except importlib.metadata.PackageNotFoundError:
        installed = azlang.__version__  # a source checkout without install metadata
    assert package_version("azlang") == azlang.__version__ == installed
    assert package_version("no-such-package-here") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux form of platform.platform()")
def test_platform_name_is_platform_platform_without_a_subprocess(monkeypatch):
    import platform

    from azlang.search.metadata import platform_name

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"platform_name ran a subprocess: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    monkeypatch.setattr(platform, "_uname_cache", None)  # nothing remembered from an earlier platform call
    name = platform_name()
    monkeypatch.undo()
    if platform.processor() not in ("", "unknown", platform.machine()):
        pytest.skip("this machine's `uname -p` names a processor, which platform.platform() adds")
    assert name == platform.platform()
