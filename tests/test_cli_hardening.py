"""`azc` as a new user meets it (issue 11, items 7, 10, 12, 14; issue 10's start-up): output paths checked before
any work, no wrapping when not a terminal, one set of option conventions, help pinned, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from azlang.cli import LAZY_COMMANDS, app

ROOT = Path(__file__).resolve().parent.parent
STDLIB, EVOLVED = ROOT / "stdlib", ROOT / "examples" / "evolved"
runner = CliRunner()


def azc(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def clean_failure(res, needle: str) -> None:
    assert res.exit_code == 1, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


# --- item 7: output paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["opt", "--dce", EVOLVED / "sgd_linear.az", "-o"],
    ["show", EVOLVED / "sgd_linear.az", "--dot"],
])
def test_writing_into_a_missing_folder_is_a_message(tmp_path, args):
    clean_failure(azc(*args, tmp_path / "no" / "such" / "out.txt"), "does not exist")


def test_tune_checks_its_output_before_running_any_trial(tmp_path, monkeypatch):
    import azlang.tools.tune as tune_module

    def no_trials(*a, **k):
        raise AssertionError("trials ran before the output path was checked")

    monkeypatch.setattr(tune_module, "tune", no_trials)
    res = azc("tune", STDLIB / "linear_sgd.az", "-t", "linear:F4", "-o", tmp_path / "missing" / "t.az")
    clean_failure(res, "does not exist")


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / ("n" * 300 + ".az"),  # one name over NAME_MAX
    lambda tmp: tmp.joinpath(*["d" * 200] * 25, "x.az"),  # a path over PATH_MAX
])
def test_paths_too_long_are_messages(tmp_path, make):
    clean_failure(azc("opt", "--dce", EVOLVED / "sgd_linear.az", "-o", make(tmp_path)), "too long")
    clean_failure(azc("show", EVOLVED / "sgd_linear.az", "--dot", make(tmp_path)), "too long")


def test_a_too_long_input_path_is_a_message(tmp_path):
    clean_failure(azc("check", tmp_path / ("n" * 300 + ".az")), "cannot read")


@pytest.mark.parametrize("data,needle", [(b"\xff\xfed\x00e\x00f\x00", "not UTF-8"), (b"def Setup():\n\x80\n", "not UTF-8")])
def test_files_that_are_not_utf8_are_messages(tmp_path, data, needle):
    path = tmp_path / "enc.az"
    path.write_bytes(data)
    clean_failure(azc("check", path), needle)


def test_a_folder_as_program_is_a_message(tmp_path):
    clean_failure(azc("check", tmp_path), "cannot read")


def test_lone_cr_files_pass_check_like_the_api(tmp_path):
    from azlang import api

    text = (STDLIB / "linear_sgd.az").read_text().replace("\n", "\r")
    path = tmp_path / "cr.az"
    path.write_bytes(text.encode())
    assert azc("check", path).exit_code == 0
    assert api.parse(text) == api.load(STDLIB / "linear_sgd.az")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_read_only_folder_is_a_message(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        clean_failure(azc("opt", "--dce", EVOLVED / "sgd_linear.az", "-o", folder / "x.az"), "not writable")
    finally:
        folder.chmod(0o700)


def test_output_that_is_a_folder_is_a_message(tmp_path):
    clean_failure(azc("opt", "--dce", EVOLVED / "sgd_linear.az", "-o", tmp_path), "is a folder")


def test_opt_output_and_in_place_together_is_an_error(tmp_path):
    src = tmp_path / "p.az"
    src.write_text((EVOLVED / "sgd_linear.az").read_text())
    before = src.read_text()
    clean_failure(azc("opt", "--dce", src, "-o", tmp_path / "o.az", "--in-place"), "-o and --in-place")
    assert src.read_text() == before and not (tmp_path / "o.az").exists()


def test_opt_in_place_rewrites_the_file(tmp_path):
    src = tmp_path / "p.az"
    src.write_text((EVOLVED / "sgd_linear.az").read_text())
    res = azc("opt", "--passes", "dce,canon", src, "--in-place")
    assert res.exit_code == 0 and src.read_text().count("\n") < (EVOLVED / "sgd_linear.az").read_text().count("\n")


@pytest.mark.parametrize("args,needle", [
    (["opt", "--decouple", "-F", 100000, EVOLVED / "relu_net.az"], "between 1 and"),
    (["opt", "--decouple", "-F", 0, EVOLVED / "relu_net.az"], "between 1 and"),
    (["tune", STDLIB / "linear_sgd.az", "-t", "linear:F4", "-n", 2, "-j", -3], "at least 1 process"),
    (["run", STDLIB / "linear_sgd.az", "-t", "linear:F4", "--max-abs-error", "nan"], "positive"),
    (["run", STDLIB / "linear_sgd.az", "-t", "linear:F4", "--max-abs-error", -1], "positive"),
])
def test_bad_numbers_are_messages_before_any_work(args, needle):
    clean_failure(azc(*args), needle)


def test_memory_error_is_a_message(monkeypatch):
    import azlang.api as api_module

    def explode(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(api_module, "load", explode)
    clean_failure(azc("check", STDLIB / "linear_sgd.az"), "not enough memory")


# --- item 10: never wrap off-terminal ----------------------------------------------------------------------

def test_check_line_is_never_wrapped_whatever_the_width_and_path(tmp_path):
    deep = tmp_path.joinpath(*["a_rather_long_folder_name"] * 6)
    deep.mkdir(parents=True)
    path = deep / "nn_2layer.az"
    path.write_text((STDLIB / "nn_2layer.az").read_text())
    for columns in ("20", "80", "400"):
        res = azc("check", path, env={"COLUMNS": columns})
        assert res.exit_code == 0
        assert res.output == f"{path}: ok (19 instructions, memory S/V/M 5/9/2, 3 params)\n"


def test_tables_are_not_wrapped_when_piped(tmp_path):
    long_name = tmp_path / ("x" * 150 + ".az")
    long_name.write_text((STDLIB / "linear_sgd.az").read_text())
    res = azc("run", long_name, "-t", "linear:F4", "--backend", "numpy", env={"COLUMNS": "30"})
    assert res.exit_code == 0 and str(long_name) in res.output.replace("\n", "") and "combined" in res.output
    assert any(str(long_name) in line for line in res.output.splitlines())


def test_evolve_summary_lines_are_whole_when_piped(tmp_path):
    run = tmp_path.joinpath(*["a_long_run_directory_name"] * 4)
    res = azc("evolve", "--population", 50, "--max-individuals", 1000, "--max-experiments", 1, "--random-seed", 5,
              "--run-dir", run, env={"COLUMNS": "40"})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert any(line.startswith("stopped by: max_experiments; ") for line in lines), res.stdout
    assert f"run directory: {run}" in lines


def test_evolve_output_ends_its_last_line_when_the_run_fails(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = azc("evolve", "--population", 50, "--max-individuals", 500, "--run-dir", blocker / "run")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert (res.stdout == "" or res.stdout.endswith("\n")) and "error:" in res.stderr


def test_errors_are_not_wrapped(tmp_path):
    bad = tmp_path.joinpath(*["folder_with_a_long_name"] * 5)
    bad.mkdir(parents=True)
    path = bad / "bad.az"
    path.write_text("def Setup():\n  v7 = s4 + v11\ndef Predict():\ndef Learn():\n")
    res = azc("check", path, env={"COLUMNS": "40"})
    assert f"{path}:2:8: error: no op adds a scalar to a vector; use bcast(s4) into a vector first" in res.output


# --- item 12: conventions and help ---------------------------------------------------------------------------

COMMANDS = ["run", "check", "fmt", "opt", "tune", "ablate", "show", "evolve", "data", "data list", "data fetch"]


def test_version_and_short_help():
    res = azc("--version")
    assert res.exit_code == 0 and res.output.startswith("azc (azlang) ")
    assert azc("-h").exit_code == 0 and "Commands:" in azc("-h").output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_page_has_examples_and_plain_types(command):
    res = azc(*command.split(), "-h")
    assert res.exit_code == 0, res.output
    text = res.output
    assert "Examples:" in text and "\n  azc " in text.split("Examples:")[1]
    for rendered in ("<bool>", "<list[", "<int>", "<str>", "<path>", "{", " / --no-"):
        assert rendered not in text, (rendered, text)


def test_help_shows_choices_as_choices():
    assert "--backend [auto|native|numpy]" in azc("run", "-h").output
    assert "--random [keep|drop]" in azc("opt", "-h").output


def test_run_help_is_pinned():
    # The whole page, so that a typer upgrade that renders help differently is noticed here, not by users.
    # The width is fixed (cli_format.HELP_WIDTH), so COLUMNS does not matter.
    golden = ROOT / "tests" / "golden" / "help_run.txt"
    text = runner.invoke(app, ["run", "-h"], env={"COLUMNS": "33"}, prog_name="azc").output
    assert text == golden.read_text()


@pytest.mark.parametrize("command", ["run", "opt", "tune", "ablate"])
def test_integer_seeds_are_random_seed_and_seed_is_hidden(command):
    text = azc(command, "-h").output
    assert "--random-seed INTEGER" in text and "--seed " not in text


def test_deprecated_seed_alias_still_works_and_says_so():
    args = ["run", STDLIB / "teacher.az", "-t", "teacher:F4:N10:V10", "--json", "--backend", "numpy"]
    new = azc(*args, "--random-seed", 3)
    old = azc(*args, "--seed", 3)
    assert new.exit_code == old.exit_code == 0
    assert "--seed is deprecated" in old.output
    assert new.output.strip().splitlines()[-1] == old.output.strip().splitlines()[-1]


def test_p_means_param_only():
    assert "-p, --param NAME=VALUE" in azc("run", "-h").output
    res = azc("opt", "-p", "dce", EVOLVED / "sgd_linear.az")
    assert res.exit_code == 2 and "No such option" in res.output
    assert azc("opt", "--passes", "dce", EVOLVED / "sgd_linear.az").exit_code == 0


# --- item 14: decouple at the F the program was evolved at --------------------------------------------------

def _decoupled_param(res, name="setup_s7") -> float:
    line = next(x for x in res.stdout.splitlines() if x.startswith(f"param {name} ="))
    return float(line.split("=")[1])


def test_decouple_reads_F_from_the_header():
    res = azc("opt", "--decouple", EVOLVED / "cifar_f16_net.az")
    assert res.exit_code == 0 and "F = 16" in res.stderr
    at_16 = _decoupled_param(res)
    at_4 = _decoupled_param(azc("opt", "--decouple", "-F", 4, EVOLVED / "cifar_f16_net.az"))
    assert at_16 == _decoupled_param(azc("opt", "--decouple", "-F", 16, EVOLVED / "cifar_f16_net.az"))
    assert at_16 > 3 * at_4  # the learning rate is a squared norm: it grows with F


def test_decouple_without_known_F_requires_it(tmp_path):
    src = tmp_path / "p.az"
    src.write_text("".join(x for x in (EVOLVED / "cifar_f16_net.az").read_text().splitlines(True)
                           if not x.startswith("#")))
    clean_failure(azc("opt", "--decouple", src), "-F")
    assert azc("opt", "--decouple", "-F", 8, src).exit_code == 0
    assert azc("opt", "--dce", src).exit_code == 0  # other passes do not need F


def test_decouple_reads_F_from_the_run_directory(tmp_path):
    src = tmp_path / "best.az"
    src.write_text("".join(x for x in (EVOLVED / "cifar_f16_net.az").read_text().splitlines(True)
                           if not x.startswith("#")))
    (tmp_path / "config.toml").write_text('[tasks]\nsearch = ["cifar:search:F32:D10"]\n')
    res = azc("opt", "--decouple", src)
    assert res.exit_code == 0 and "F = 32" in res.stderr


# --- issue 10: start-up ----------------------------------------------------------------------------------------

HEAVY = ("numpy", "llvmlite", "lark", "rich", "azlang.api", "azlang.search", "azlang.backends", "multiprocessing")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return set(out.split())


def test_top_level_help_imports_nothing_heavy():
    loaded = _modules_after("from typer.testing import CliRunner\nfrom azlang.cli import app\n"
                            "assert CliRunner().invoke(app, ['--help']).exit_code == 0")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}


def test_check_loads_only_what_parsing_needs():
    path = str(STDLIB / "linear_sgd.az")
    loaded = _modules_after("from typer.testing import CliRunner\nfrom azlang.cli import app\n"
                            f"assert CliRunner().invoke(app, ['check', {path!r}]).exit_code == 0")
    unneeded = ("llvmlite", "rich", "urllib.request", "tarfile", "azlang.search", "azlang.backends",
                "azlang.evaluate", "azlang.tasks.build", "azlang.tasks.download")
    assert not {m for m in loaded if any(m == u or m.startswith(u + ".") for u in unneeded)}


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through /proc")
def test_importing_the_cli_starts_no_threads():
    out = subprocess.run([sys.executable, "-c", "import os, azlang.cli; print(len(os.listdir('/proc/self/task')))"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "1"


def test_misspelled_commands_get_suggestions_among_lazy_ones_too():
    res = azc("evolv")
    assert res.exit_code == 2 and "Did you mean 'evolve'?" in res.output


def test_lazy_commands_resolve():
    # every registered name imports and builds (a typo in "module:function" would only show when run)
    for name in LAZY_COMMANDS:
        assert azc(name, "-h").exit_code == 0, name
