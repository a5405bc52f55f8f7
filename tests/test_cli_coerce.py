"""CLI coercion without pydantic (azlang/cli_coerce.py): the same values and messages as typer's own, per parameter."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param
from typer.testing import CliRunner

from azlang import cli_coerce
from azlang.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _walk(command, ctx, path):
    for param in command.params:
        yield f"{path} {param.name}", command, param
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), ctx, f"{path} {name}")


def _all_params():
    group = typer.main.get_command(app)
    return list(_walk(group, Context(group), "azc"))


PARAMS = _all_params()
IDS = [name for name, _, _ in PARAMS]

INTS = ["0", "3", "-3", "+3", "007", "-0", "123456789012345678", "1234567890123456789", "9" * 30, "9" * 5000, " 3",
        "3 ", "\t3\n", "3.0", "-3.000", "3.5", "3.", ".0", "1_000", "_1", "1__0", "0x10", "0b1", "3e2", "1e0", "", " ",
        "٣", "１２", "abc", "3a", "--3", "+-3", "inf", "nan", "true"]
FLOATS = ["0", "1", "-1", "+1.5", "1e9", "1E5", "1e-3", "-.5e-3", ".5", "1.", "1.5e+30", "1e308", "1e309", "1e400",
          "4.9e-324", "4.9e-325", "1e-400", "0.1", "0.30000000000000004", "1" * 30 + "." + "9" * 30, "1" * 400,
          "inf", "-inf", "Infinity", "infinity", "nan", "NaN", "+nan", "-nan", "1_0", "1__0", "_1", "1_", "  .5 ",
          "1e", "e5", ".", "", "0x1p3", "١", "1,5", "1.5.5", "abc", "1e1_0"]
TEXTS = ["x", "", " ", "a b", "\udcff", "a\x00b", "-", "auto", "AUTO", "native", "numpy", "Numpy", " auto", "local",
         "ray", "keep", "drop", "torch", "jax", "linear:F4:D10", "lr=0.05", "é", "~", "a//b/", ".", "..", "/", "/root",
         "/etc/passwd", "/nonexistent/x.az", "/dev/null", "x" * 300, "tests", "tests/", "pyproject.toml",
         "pyproject.toml/", "true", "yes", "0", "1"]
OBJECTS = [None, 0, 1, -1, 2**53, 2**53 + 1, 2**80, 1.0, 1.5, float("nan"), float("inf"), True, False, b"abc", b"\xff",
           Path("x"), Path("."), 3 + 0j, [], object()]
SCALARS = INTS + FLOATS + TEXTS + OBJECTS
LISTS = [(), ("x",), ("1", "2.5"), ("a", "b", "c"), ("3", "abc"), ["1e9", ""], ("pyproject.toml", "tests"),
         ("a\x00b",), (None,), "x", "1", None]


def _outcome(coerce):
    try:
        value = coerce()
    except BadParameter as exc:
        return ("error", type(exc).__name__, exc.message, exc.format_message())
    except Exception as exc:  # noqa: BLE001 - whatever typer raises, the fast path must raise alike
        return ("exception", type(exc).__name__, str(exc))
    return ("value", _shape(value))


def _shape(value):
    """A comparable form that tells types apart (1 from 1.0 and True, 'x' from Path('x')) and NaN equal to NaN."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_shape(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _both(command, param, value):
    """(fast outcome, typer outcome) of coercing `value` for `param`, typer's built as typer builds it."""
    ctx = Context(command)
    fast = cli_coerce.fast_runtime_param(param.type_descriptor)
    typer_param = build_runtime_param(param.type_descriptor)
    return (_outcome(lambda: fast.coerce(value, param=param, ctx=ctx)),
            _outcome(lambda: typer_param.coerce(value, param=param, ctx=ctx)))


def test_typer_is_the_series_this_was_written_for():
    assert cli_coerce.SUPPORTED, "typer outside 0.29.x: azlang/cli_coerce.py installs nothing; update it with typer"


def test_every_azc_parameter_has_the_fast_coercion():
    assert len(PARAMS) > 80  # every command, the lazily loaded ones included
    missing = [name for name, _, param in PARAMS if cli_coerce.fast_runtime_param(param.type_descriptor) is None]
    assert not missing
    kinds = {repr(param.type_descriptor.annotation) for _, _, param in PARAMS}
    assert {"<class 'int'>", "<class 'float'>", "<class 'str'>", "<class 'pathlib.Path'>", "list[float]",
            "list[pathlib.Path]", "list[str]", "<enum 'Backend'>"} <= kinds


@pytest.mark.parametrize("name,command,param", PARAMS, ids=IDS)
def test_same_values_and_messages_as_typer(name, command, param, monkeypatch):
    monkeypatch.chdir(ROOT)  # relative paths name files and folders that exist
    multi = param.multiple or param.nargs == -1
    for value in LISTS if multi else SCALARS:
        fast, slow = _both(command, param, value)
        assert fast == slow, (name, value)


@pytest.mark.parametrize("name,command,param", PARAMS, ids=IDS)
def test_plain_inputs_need_no_typer_path(name, command, param, monkeypatch):
    """The inputs azc sees every day are coerced here (typer's path, and pydantic, never built for them)."""
    monkeypatch.setattr(cli_coerce.FastRuntimeParam, "typer_param", lambda self: pytest.fail(f"{name}: typer path"))
    ctx = Context(command)
    fast = cli_coerce.fast_runtime_param(param.type_descriptor)
    annotation = param.type_descriptor.annotation
    leaf = typer._typing.get_args(annotation)[0] if fast.is_list else annotation
    plain = {int: ["3", "-12", "0"], float: ["0.5", "1e9", "-3", "100"], str: ["x", "linear:F4"], bool: [True],
             Path: ["x.az", "/nonexistent/dir", "."]}.get(leaf)
    if plain is None:  # choices
        plain = [str(c.value if hasattr(c, "value") else c) for c in typer._typing.get_args(leaf) or list(leaf)]
    for value in plain:
        result = fast.coerce((value,) if fast.is_list else value, param=param, ctx=ctx)
        assert result is not None
    assert fast.coerce(param.default, param=param, ctx=ctx) == build_runtime_param(param.type_descriptor).coerce(
        param.default, param=param, ctx=ctx)


_SCALAR_PARAMS = [(n, c, p) for n, c, p in PARAMS if not (p.multiple or p.nargs == -1)]
_LIST_PARAMS = [(n, c, p) for n, c, p in PARAMS if p.multiple or p.nargs == -1]
_NUMBERISH = st.from_regex(r"[ +-]{0,2}[0-9_]{0,25}(\.[0-9_]{0,25})?([eE][+-]?[0-9]{0,5})?[ \n]?", fullmatch=True)
_TEXT = st.one_of(st.text(max_size=40), _NUMBERISH, st.floats().map(repr), st.integers().map(str),
                  st.floats().map(str), st.text(alphabet="0123456789.eE+-_ infINFaAnN", max_size=12))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(_SCALAR_PARAMS), value=_TEXT)
def test_same_as_typer_on_generated_text(target, value):
    name, command, param = target
    fast, slow = _both(command, param, value)
    assert fast == slow, (name, value)


@settings(max_examples=150, deadline=None)
@given(target=st.sampled_from(_LIST_PARAMS), values=st.lists(_TEXT, max_size=4).map(tuple))
def test_same_as_typer_on_generated_lists(target, values):
    name, command, param = target
    fast, slow = _both(command, param, values)
    assert fast == slow, (name, values)


def test_an_unreadable_path_gets_typer_message(tmp_path, monkeypatch):
    locked = tmp_path / "locked.az"
    locked.write_text("")
    locked.chmod(0)
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)  # root reads anything: say it cannot
    typed = [str(locked), f"{tmp_path}//./locked.az"]  # typer's message quotes the text as typed, not as a Path
    for _, command, param in PARAMS:
        for text in typed if param.type_descriptor.annotation is Path else ():
            fast, slow = _both(command, param, text)
            assert fast == slow and fast[0] == "error" and f"{text!r} is not readable" in fast[2]


def test_nothing_installed_where_typer_is_not_the_expected_one(monkeypatch):
    monkeypatch.setattr(cli_coerce, "SUPPORTED", False)
    group = typer.main.get_command(app)
    run = group.get_command(Context(group), "run")
    assert all(p._runtime_param is None for p in run.params)


INVOCATIONS = [
    ["evolve", "--max-train-steps", "abc"],
    ["evolve", "--population", "3.5"],
    ["evolve", "--population", "1e3"],
    ["evolve", "--backend", "gpu"],
    ["evolve", "--executor", "LOCAL"],
    ["evolve", "--config", "/nonexistent/c.toml", "--population", " 7", "--max-train-steps", "1_0", "--max-time",
     "inf", "--backend", "numpy", "--seed", "x.az", "--seed", "y.az", "--task", "linear:F4"],
    ["evolve", "--config", "/nonexistent/c.toml", "--seed", "a\x00b"],
    ["run", "--help"],
    ["evolve", "--help"],
    ["--help"],
    ["run", "x.az", "-t", "linear:F4", "--random-seed", "x"],
    ["run", "x.az", "-t", "linear:F4", "--max-abs-error", "nan", "--backend", "numpy"],
    ["run", "x.az", "--backend", "numpy"],
    ["sweep", "x.toml", "--threshold", "0.5", "--threshold", "high"],
    ["opt", "x.az", "--random-policy", "maybe"],
    ["export", "x.az", "--to", "tf"],
    ["report", "--hall", "-1x"],
    ["check", "/nonexistent/a.az", "/nonexistent/b.az"],
]


@pytest.mark.parametrize("args", INVOCATIONS, ids=[" ".join(a)[:60] for a in INVOCATIONS])
def test_commands_behave_as_with_typer_coercion(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    fast = runner.invoke(app, args)
    monkeypatch.setattr(cli_coerce, "SUPPORTED", False)  # the app is rebuilt per invocation: typer's own path
    slow = runner.invoke(app, args)
    assert (fast.exit_code, fast.stdout, fast.stderr) == (slow.exit_code, slow.stdout, slow.stderr)
    assert "Traceback" not in fast.output and fast.exit_code in (0, 1, 2)


def test_bad_number_is_typer_usage_error():
    res = runner.invoke(app, ["evolve", "--max-train-steps", "abc"])
    assert res.exit_code == 2
    assert "Invalid value for '--max-train-steps': Input should be a valid number" in res.output


_NO_PYDANTIC = """
import sys
from azlang.cli import app
for args in ({args!r}):
    try:
        app(list(args), standalone_mode=False)
    except SystemExit:
        pass
    print("pydantic" in sys.modules, sorted(m for m in sys.modules if m.startswith("pydantic"))[:3])
"""


def test_typical_commands_do_not_import_pydantic(tmp_path):
    args = [["evolve", "--config", str(tmp_path / "missing.toml"), "--population", "100", "--max-train-steps", "1e9",
             "--backend", "native", "--seed", "x.az", "--task", "linear:F4", "--run-dir", str(tmp_path / "r")],
            ["run", "--help"], ["--help"], ["check", str(ROOT / "stdlib" / "linear_sgd.az")]]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", _NO_PYDANTIC.format(args=args)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert "no config file" in res.stderr and "linear_sgd.az: ok" in res.stdout
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith(("True", "False"))]
    assert lines == ["False []"] * len(args), res.stdout


def test_run_json_needs_no_rich(tmp_path):
    """`azc run --json` prints JSON: rich (the table's, ~30 ms of imports) is not loaded for it."""
    code = ("import sys\nfrom azlang.cli import app\n"
            f"app(['run', {str(ROOT / 'stdlib' / 'linear_sgd.az')!r}, '-t', 'linear:F4:D2', '--json', '--backend', "
            "'numpy'], standalone_mode=False)\nprint('rich' in sys.modules, 'pydantic' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert '"fitness"' in res.stdout and res.stdout.splitlines()[-1] == "False False"
