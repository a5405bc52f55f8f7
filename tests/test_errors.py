"""Error contracts: every malformed input names its file, line and column, shows a caret, and gives a hint."""

from __future__ import annotations

import pytest

from azlang.errors import AzError, ParseError, VerifyError
from azlang.syntax import parse


def wrap(line: str) -> str:
    """The line as the only instruction of Predict: it stands on line 3, its text starts at column 3."""
    return f"def Setup():\ndef Predict():\n  {line}\ndef Learn():\n"


# (instruction line, column, error type, message substring)
LINE_CASES = [
    ("v7 = s4 + v11", 8, VerifyError, "no op adds a scalar to a vector; use bcast(s4) into a vector first"),
    ("v1 = mean(m2, axis=0)", 8, VerifyError, "column means are not an op; mean(m2, axis=1) gives row means"),
    ("s1 = dot(m1, v0)", 8, VerifyError, "dot(m1, v0) gives a vector, not a scalar"),
    ("s1 = sine(s2)", 8, VerifyError, "unknown function 'sine'"),
    ("s1 = inf", 8, ParseError, "'inf' is not a number literal"),
    ("s1 = nan", 8, ParseError, "'nan' is not a number literal"),
    ("s1 = lr", 8, VerifyError, "unknown param 'lr'"),
    ("x3 = s1 + s2", 3, ParseError, "'x3' is not a register"),
    ("s = s1 + s2", 3, ParseError, "'s' is not a register"),
    ("s1 = x3 + s2", 8, ParseError, "'x3' is not a register"),
    ("s1 = abs(s2, s3)", 8, VerifyError, "abs takes 1 argument, got 2"),
    ("s1 = heaviside(s2, 0.5)", 22, VerifyError, "the last argument of heaviside must be 1.0"),
    (
        "v1 = uniform(0, 1, (n_features, n_features))",
        22,
        VerifyError,
        "uniform into a vector takes the size n_features",
    ),
    ("s1 = uniform(0, 1, n_features)", 22, VerifyError, "uniform into a scalar takes no size argument"),
    ("v3[1.5] = 2", 6, ParseError, "index 1.5 is not a fraction below 1"),
    ("v3[-1] = 2", 6, ParseError, "an index cannot be negative"),
    ("v3[lr] = 2", 6, ParseError, "an index must be a literal number"),
    ("s1 = s2 + s3 + s4", 16, ParseError, "unexpected '+'"),
    ("s1 = s2 +", 12, ParseError, "unexpected end of line"),
    ("s1 = s2 $ s3", 11, ParseError, "unexpected character '$'"),
    ("s1 = s2", 3, VerifyError, "a register copy is not an op"),
    ("s1 = dot(v1, m1)", 8, VerifyError, "no op dot(v, m)"),
    ("v1 = mean(m2)", 8, VerifyError, "mean(m2) gives a scalar, not a vector"),
    ("m1 = bcast(v0)", 8, VerifyError, "bcast(v) needs an axis"),
    ("s1 = norm(v1, axis=0)", 8, VerifyError, "norm(v) takes no axis"),
    ("s1 = abs(2.0)", 12, VerifyError, "abs takes registers, not numbers"),
    ("s1 = s2 + 2", 13, VerifyError, "a number cannot be an operand of '+'"),
    ("v1 = 0.5", 3, VerifyError, "a vector cannot be set from one number"),
    ("s3[1] = 2", 3, VerifyError, "a scalar has no elements to index"),
    ("m2[1] = 0.5", 3, VerifyError, "an element of a matrix takes 2 indices"),
    ("s1 = abs(abs(s2))", 12, VerifyError, "calls cannot be nested"),
    ("abs(s1)", 3, VerifyError, "an instruction must assign to a register"),
    ("s1 = mean(m2, axis=2)", 8, VerifyError, "axis must be 0 or 1"),
    ("s1 = 1e999", 8, ParseError, "out of float64 range"),
    ("v1 = v2 * m1", 8, VerifyError, "no op multiplies a vector by a matrix"),
    ("s1 = norm(v1, ax=0)", 20, VerifyError, "unknown keyword 'ax'"),
    ("v3[2.0] = 1", 6, ParseError, "index 2.0 is not a fraction below 1"),
    ("s1 = -s2", 9, ParseError, "unexpected 's2'"),
    ("s1 = gaussian(0)", 8, VerifyError, "gaussian takes 2 arguments"),
    ("s1 = max(s2, v1)", 8, VerifyError, "no op maximum(s, v)"),
    ("NoOp(s1)", 3, VerifyError, "NoOp() takes no arguments"),
    ("s1 = NoOp()", 8, VerifyError, "NoOp() stands alone on its line"),
]

# (whole file, line, column, error type, message substring)
FILE_CASES = [
    (
        "def Predict():\ndef Setup():\ndef Learn():\n",
        1,
        5,
        VerifyError,
        "Predict out of order: def Setup(): comes next",
    ),
    ("def Setup():\ndef Setup():\n", 2, 5, VerifyError, "duplicate component Setup"),
    ("def Setup():\ndef Predict():\n", 2, 15, VerifyError, "missing def Learn():"),
    ("", 1, 1, VerifyError, "missing def Setup():, def Predict():, def Learn():"),
    (
        "s1 = s2 + s3\ndef Setup():\ndef Predict():\ndef Learn():\n",
        1,
        1,
        VerifyError,
        "instruction before def Setup():",
    ),
    ("def Setup():\ndef Predict():\ndef Learn():\ndef Train():\n", 4, 5, VerifyError, "unknown component 'Train'"),
    ("def Setup(v0):\ndef Predict():\ndef Learn():\n", 1, 1, VerifyError, "unexpected arguments for Setup"),
    ("def Setup():\n  s2 = lr\ndef Predict():\ndef Learn():\nparam lr = 1\n", 2, 8, VerifyError, "unknown param 'lr'"),
    (
        "param lr = 1\nparam lr = 2\ndef Setup():\ndef Predict():\ndef Learn():\n",
        2,
        7,
        VerifyError,
        "param 'lr' declared twice",
    ),
    ("param s3 = 1\ndef Setup():\ndef Predict():\ndef Learn():\n", 1, 7, ParseError, "'s3' cannot name a param"),
    ("param lr = inf\n", 1, 12, ParseError, "'inf' is not a number literal"),
    ("param lr = s2\n", 1, 12, ParseError, "a param's value must be a number literal"),
    ("def Setup()\n", 1, 12, ParseError, "unexpected end of line"),
    (
        "def Setup():\ndef Predict():\ndef Learn():\n  s1 = s2 + s3\n  s1 = s2 +* s3\n",
        5,
        12,
        ParseError,
        "unexpected '*'",
    ),
]


@pytest.mark.parametrize("line, col, kind, message", LINE_CASES, ids=[c[0] for c in LINE_CASES])
def test_malformed_line(line, col, kind, message):
    with pytest.raises(kind) as info:
        parse(wrap(line), "bad.az")
    err = info.value
    assert (err.loc.file, err.loc.line, err.loc.col) == ("bad.az", 3, col)
    assert message in err.message


@pytest.mark.parametrize("text, line, col, kind, message", FILE_CASES, ids=[c[4] for c in FILE_CASES])
def test_malformed_file(text, line, col, kind, message):
    with pytest.raises(kind) as info:
        parse(text, "bad.az")
    err = info.value
    assert (err.loc.line, err.loc.col) == (line, col)
    assert message in err.message


def test_render_shows_location_line_caret_and_hint():
    with pytest.raises(AzError) as info:
        parse(wrap("s1 = sine(s2)"), "bad.az")
    assert str(info.value).splitlines() == [
        "bad.az:3:8: error: unknown function 'sine'",
        "    s1 = sine(s2)",
        "         ^^^^",
        "hint: did you mean sin or arcsin or min?",
    ]


@pytest.mark.parametrize(
    "line, hint",
    [
        ("s1 = dot(m1, v0)", "write it to a v register"),
        ("v1 = mean(m2)", "mean(m2, axis=1) gives a vector"),
        ("m1 = bcast(v0)", "bcast(v0, axis=0) or bcast(v0, axis=1)"),
        ("s1 = s2 $ s3", None),
        ("s1 = s2 +", "expected"),
        ("x3 = s1", "registers are s<k>"),
    ],
)
def test_hints(line, hint):
    with pytest.raises(AzError) as info:
        parse(wrap(line))
    assert (info.value.hint is None) if hint is None else (hint in info.value.hint)


def test_lark_errors_never_leak():
    # Lark's own exception types must not escape, and nothing chains to them.
    with pytest.raises(ParseError) as info:
        parse("def Setup(:\n")
    assert info.value.__cause__ is None and info.value.__suppress_context__
