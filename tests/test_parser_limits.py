"""Hostile source text: huge literals, deep nesting, out-of-bounds registers, odd line breaks (issue 11, items 5-6).

Every case ends in a ParseError with a location and a hint, never a RecursionError, ValueError, MemoryError
or a parse that takes as long as the literal is big.
"""

from __future__ import annotations

import fractions

import pytest

from azlang import api
from azlang.errors import AzError, ParseError, source_lines
from azlang.ir.nodes import MAX_MEMORY
from azlang.syntax import numbers, parse


def program(learn_line: str) -> str:
    """A valid program with one extra line in Learn, on line 6, starting at column 3."""
    return f"def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  {learn_line}\n"


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(text, "x.az")
    return info.value


# --- item 5: literals, nesting, registers ---------------------------------------------------------------------

@pytest.mark.parametrize("line,width", [("v1[0] = 1e9999999", "float32"), ("s3 = 1e9999999", "float64"),
                                        ("s3 = uniform(-1e9999999, 1)", "float32"), ("s3 = -1e400", "float64"),
                                        ("v1[0] = 3.5e38", "float32")])
def test_out_of_range_literals_are_clear_errors(line, width):
    err = error_of(program(line))
    assert f"out of {width} range" in err.message and err.loc.line == 6 and err.hint


def test_huge_exponents_never_build_an_exact_fraction(monkeypatch):
    # 1e9999999 used to build a ten-million-digit Fraction (a hang). Only finite, nonzero doubles may now
    # reach the exact reading, and their exponents are small.
    real = fractions.Fraction

    def guarded(text, *args):
        assert not (isinstance(text, str) and "e" in text and "9999999" in text), "exact fraction of a huge exponent"
        return real(text, *args)

    monkeypatch.setattr(numbers, "Fraction", guarded)
    assert numbers.read_float32("1e9999999") == float("inf")
    assert numbers.read_float32("1e-9999999", negative=True) == 0.0
    assert str(numbers.read_float32("1e-9999999", negative=True)) == "-0.0"
    assert numbers.read_float32("0.1") == float(numbers.np.float32(0.1))


def test_float32_rounding_near_the_top_of_the_range_is_unchanged():
    # the largest float32 is 3.40282347e38; halfway to 2**128 (3.4028235678e38) rounds to infinity
    top = float(numbers.np.finfo(numbers.np.float32).max)
    assert numbers.read_float32("3.4028235e38") == top and numbers.read_float32("3.40282356e38") == top
    assert numbers.read_float32("3.4028236e38") == float("inf")


@pytest.mark.parametrize("depth", [33, 500, 20000])
def test_deep_nesting_is_a_parse_error_not_a_recursion_error(depth):
    err = error_of(program("s3 = " + "f(" * depth + "s1" + ")" * depth))
    assert "nested more than" in err.message and err.loc.line == 6


def test_nesting_within_the_limit_still_reaches_the_usual_message():
    err = api_error(program("s3 = abs(abs(s2))"))
    assert "calls cannot be nested" in err.message


def api_error(text: str) -> AzError:
    with pytest.raises(AzError) as info:
        api.parse(text, "x.az")
    return info.value


@pytest.mark.parametrize("line", ["v1[" + "9" * 5000 + "] = 1.0", "s3 = " + "9" * 5000 + ".5",
                                  "s3 = 0." + "1" * 4400, "param lr = " + "1" * 4301])
def test_literals_beyond_the_length_limit_are_clear_errors(line):
    text = program(line) if not line.startswith("param") else line + "\n" + program("s3 = s1 + s2")
    err = error_of(text)
    assert "too long" in err.message and err.hint


def test_long_but_legal_literals_read_exactly():
    digits = "0." + "3" * 700
    assert parse(program(f"s3 = {digits}")).learn.instructions[0].args[0] == float(digits)


@pytest.mark.parametrize("kind", ["s", "v", "m"])
def test_register_indices_are_bounded_by_the_memory_limit(kind):
    top = MAX_MEMORY.size(kind) - 1
    rhs = {"s": "s1 + s2", "v": "v1 + v2", "m": "m1 + m2"}[kind]
    assert parse(program(f"{kind}{top} = {rhs}")).required_memory().size(kind) == top + 1
    for bad in (f"{kind}{top + 1}", f"{kind}99999999999", kind + "9" * 5000):
        err = error_of(program(f"{bad} = {rhs}"))
        assert "beyond the memory limit" in err.message and f"{kind}{top}" in err.hint and err.loc.col == 3


def test_register_bound_applies_to_operands_too():
    err = error_of(program("s3 = s1 + s99999999999"))
    assert err.loc.col == 13 and "s99999999999" in err.message


def test_huge_element_index_is_a_clear_error():
    err = error_of(program("v1[" + "9" * 100 + "] = 1.0"))
    assert "too large" in err.message and err.loc.col == 6


# --- item 6: the line shown is the line the parser counted -------------------------------------------------

ODD_BREAKS = ["\f", "\v", "\u2028", "\u2029", "\x85", "\x1c", "\x1d", "\x1e"]


@pytest.mark.parametrize("char", ODD_BREAKS)
def test_shown_line_is_the_one_lark_counts(char):
    # the odd character sits in a comment on line 2; the error is on line 7
    text = f"def Setup():\n  # a{char}b\n  s2 = 0.1\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  s3 = s1 $ s2\n"
    err = error_of(text)
    assert err.loc.line == 7
    shown = err.render().splitlines()
    assert shown[1] == "    s3 = s1 $ s2" and shown[2] == "  " + " " * 10 + "^"


@pytest.mark.parametrize("char", ["\v", "\u2028", "\x85", "\x00"])
def test_odd_character_within_the_error_line_is_shown_as_a_mark_and_the_caret_stays(char):
    err = error_of(program(f"s3 = s1 +{char} s2"))
    shown = err.render().splitlines()
    assert err.loc.line == 6 and shown[1] == "    s3 = s1 +? s2" and shown[2].index("^") == 2 + err.loc.col - 1


def test_form_feed_is_whitespace_within_a_line():
    assert parse(program("s3 = s1 +\f s2")) == parse(program("s3 = s1 + s2"))


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"])
def test_lone_cr_and_crlf_files_parse_the_same_through_the_api(eol):
    text = program("s3 = s1 + s2").replace("\n", eol)
    assert api.parse(text) == api.parse(program("s3 = s1 + s2"))


@pytest.mark.parametrize("eol", ["\r", "\r\n"])
def test_errors_in_cr_files_show_the_right_line(eol):
    err = error_of(program("s3 = s1 $ s2").replace("\n", eol))
    assert err.loc.line == 6 and err.render().splitlines()[1] == "    s3 = s1 $ s2"


def test_missing_component_at_end_of_cr_file_points_past_the_last_line():
    err = api_error("def Setup():\r  s2 = 0.1\r")
    assert err.loc.line == 2 and err.loc.col == len("  s2 = 0.1") + 1


def test_source_lines_matches_what_the_parser_numbers():
    assert source_lines("a\fb\x85c\u2028d\re\r\nf\ng") == ["a\fb\x85c\u2028d", "e", "f", "g"]
    assert source_lines("\ufeffa\nb") == ["a", "b"]


def test_long_lines_are_shown_as_a_window_around_the_caret():
    err = error_of(program("s3 = s1 + s2" + " " * 500 + "$"))
    line, caret = err.render().splitlines()[1:3]
    assert len(line) < 200 and line.rstrip().endswith("$") and line.strip().startswith("...")
    assert caret.index("^") == line.index("$")


def test_tabs_before_the_error_keep_the_caret_under_it():
    err = error_of(program("s3 =\ts1 $ s2"))
    line, caret = err.render().splitlines()[1:3]
    assert caret.index("^") == line.index("$") and caret.count("\t") == 1
