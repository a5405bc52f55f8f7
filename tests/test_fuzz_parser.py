"""Parser fuzzing (issue 11): every input gives a program or a clean AzError, through the API and through `azc`.

Inputs come from tests/fuzz_support.py: valid programs mutated with deep nesting, huge and long literals,
out-of-range registers, odd line breaks (lone CR, U+2028, \\v, NUL...) and, for files, odd encodings.
tests/stress_parser.py runs the same generator for many more inputs and counts tracebacks and hangs.
"""

from __future__ import annotations

import random

from fuzz_support import random_file_bytes, random_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from azlang import api
from azlang.cli import app
from azlang.errors import AzError, source_lines
from azlang.syntax import print_program

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: str):
    """The program, or the AzError; anything else escapes and fails the test."""
    try:
        return api.parse(text, "fuzz.az")
    except AzError as exc:
        return exc


@FAST
@given(st.randoms(use_true_random=False))
def test_fuzzed_sources_give_a_program_or_a_located_error(rnd: random.Random):
    text = random_source(rnd)
    result = outcome(text)
    if isinstance(result, AzError):
        rendered = result.render()
        assert rendered.startswith(f"{result.loc}: error: " if result.loc else "error: ")
        if result.loc is not None:
            assert 1 <= result.loc.line <= len(source_lines(text)) + 1 and result.loc.col >= 1
        assert all(c.isprintable() or c in "\t\n" for c in rendered), "raw control characters in a message"
    else:
        assert api.parse(print_program(result)) == result  # what was accepted prints and reads back


@FAST
@given(st.randoms(use_true_random=False))
def test_fuzzed_files_through_the_cli_exit_0_or_1_without_traceback(tmp_path_factory, rnd: random.Random):
    path = tmp_path_factory.mktemp("fuzz") / "prog.az"
    path.write_bytes(random_file_bytes(rnd))
    codes = []
    for command in ("check", "fmt"):
        res = CliRunner().invoke(app, [command, str(path)])
        assert res.exit_code in (0, 1), res.output
        assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
        assert "Traceback" not in res.output
        codes.append(res.exit_code)
    assert codes[0] == codes[1]  # what check accepts, fmt prints


@FAST
@given(st.text(max_size=200))
def test_arbitrary_unicode_is_a_program_or_an_error(text):
    outcome(text)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 6000), st.sampled_from(["f(", "(", "abs(", "dot(v1, "]))
def test_nesting_at_any_depth(depth, opener):
    text = "def Setup():\ndef Predict():\n  s1 = " + opener * depth + "s2" + ")" * depth + "\ndef Learn():\n"
    assert isinstance(outcome(text), (AzError, type(api.parse("def Setup():\ndef Predict():\ndef Learn():\n"))))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["s3 = ", "v1[0] = ", "s3 = uniform(0, ", "param p = "]),
       st.sampled_from(["", "-"]), st.integers(0, 10**8), st.sampled_from(["", "1.", "0.000", "123456789"]))
def test_huge_exponents_are_immediate_range_errors_or_values(prefix, sign, exponent, mantissa):
    literal = f"{mantissa or '1'}e{sign}{exponent}"
    line = prefix + literal + (")" if "uniform" in prefix else "")
    body = "def Setup():\n  s2 = 0.1\ndef Predict():\ndef Learn():\n"
    text = (line + "\n" + body) if prefix.startswith("param") else body + "  " + line + "\n"
    result = outcome(text)
    if isinstance(result, AzError):
        assert "out of float" in result.message or "too long" in result.message, result.message
