"""Tool stage: what each op computes, in words, for the generated ops reference (docs/ops.md).

The words are keyed by an op's spelling and operand kinds, never by a copy of the table: a new row with a
spelling not described here makes `describe` fail, and tests/test_docs.py with it.
"""

from __future__ import annotations

from azlang.ir.ops import CONST, INDEX_SET, NOOP, RANDOM, RECIP, OpDef

_ELEMENTWISE = "element by element"
_INFIX = {"+": "sum", "-": "difference", "*": "product", "/": "quotient"}
_INFIX_NOTES = {"/": " (x / 0 is +-inf, 0 / 0 is NaN)"}
_UNARY = {
    "abs": "the absolute value of a",
    "sin": "the sine of a", "cos": "the cosine of a", "tan": "the tangent of a",
    "arcsin": "the arcsine of a (NaN outside [-1, 1])", "arccos": "the arccosine of a (NaN outside [-1, 1])",
    "arctan": "the arctangent of a",
    "exp": "e to the power a (inf on overflow)", "log": "the natural logarithm of a (NaN below 0, -inf at 0)",
}
_BINARY_CALL = {"minimum": "smaller of the two", "maximum": "larger of the two"}
_AXIS_WORDS = {0: "down each column (one value per column)", 1: "along each row (one value per row)"}
_SHAPES = {"s": "a scalar", "v": "a vector of F elements", "m": "an F x F matrix"}


def describe(op: OpDef) -> str:
    """One sentence: what the op writes to its destination."""
    if op.form == NOOP:
        return "does nothing (a placeholder that mutation can later change)"
    if op.form == CONST:
        return "sets the scalar to a constant (a float64 literal or a param)"
    if op.form == INDEX_SET:
        where = "element i" if op.out == "v" else "element (i, j)"
        return (f"sets {where} to a constant (stored as float32); an integer index is a position, a decimal "
                "in [0, 1) a fraction of F (index = floor(F * fraction)); other elements keep their values")
    if op.form == RANDOM:
        what = ("uniform draw in [lo, hi) (lo when lo >= hi)" if op.spelling == "uniform"
                else "Gaussian draw with the given mean and standard deviation")
        each = "" if op.out == "s" else ", one independent draw per element"
        return f"a {what}{each} (bounds stored as float32)"
    if op.form == RECIP:
        return "1 / a" + (f", {_ELEMENTWISE}" if op.out != "s" else "") + " (1/0 is inf)"
    if op.spelling in _INFIX:
        return _infix(op)
    return _call(op)


def _infix(op: OpDef) -> str:
    a, b = op.ins
    word = _INFIX[op.spelling]
    if a != b:
        return f"the scalar a times every element of b ({_SHAPES[b]})"
    note = _INFIX_NOTES.get(op.spelling, "")
    if a == "s":
        return f"the {word} a {op.spelling} b{note}"
    extra = " (not a matrix product: see matmul)" if op.spelling == "*" and a == "m" else ""
    return f"the {word} of a and b, {_ELEMENTWISE}{extra}{note}"


def _call(op: OpDef) -> str:
    name, kinds = op.spelling, op.ins
    if name in _UNARY:
        return _UNARY[name] + (f", {_ELEMENTWISE}" if kinds[0] != "s" else "")
    if name in _BINARY_CALL:
        return f"the {_BINARY_CALL[name]}" + (f", {_ELEMENTWISE}" if kinds[0] != "s" else "")
    if name == "heaviside":
        if kinds[0] == "s":
            return "1 if a >= 0 else 0 (1 at exactly 0, as the reference)"
        return f"1 where a > 0 else 0, {_ELEMENTWISE} (0 at exactly 0, unlike the scalar op)"
    return _STRUCTURAL[(name, kinds, op.axis)]


_STRUCTURAL = {
    ("bcast", ("s",), None): "a vector with every element equal to a",
    ("bcast", ("v",), 0): "a matrix whose every column is a: m[i, j] = a[i]",
    ("bcast", ("v",), 1): "a matrix whose every row is a: m[i, j] = a[j]",
    ("norm", ("v",), None): "the Euclidean norm sqrt(sum of squares), summed in index order",
    ("norm", ("m",), None): "the Frobenius norm sqrt(sum of all squares), summed row by row",
    ("norm", ("m",), 0): f"the Euclidean norm {_AXIS_WORDS[0]}",
    ("norm", ("m",), 1): f"the Euclidean norm {_AXIS_WORDS[1]}",
    ("dot", ("v", "v"), None): "the inner product sum(a[i] * b[i]), summed in index order",
    ("dot", ("m", "v"), None): "the matrix-vector product: out[i] = sum over j of a[i, j] * b[j]",
    ("outer", ("v", "v"), None): "the outer product: m[i, j] = a[i] * b[j]",
    ("transpose", ("m",), None): "the transpose: out[i, j] = a[j, i]",
    ("matmul", ("m", "m"), None): "the matrix product: out[i, j] = sum over k of a[i, k] * b[k, j]",
    ("mean", ("v",), None): "the mean of the elements",
    ("mean", ("m",), None): "the mean of all elements",
    ("mean", ("m",), 1): f"the mean {_AXIS_WORDS[1]}",
    ("std", ("v",), None): "the standard deviation sqrt(E[x^2] - E[x]^2), unclamped (NaN when rounding makes it "
                           "negative)",
    ("std", ("m",), None): "the standard deviation of all elements, sqrt(E[x^2] - E[x]^2), unclamped",
    ("std", ("m",), 1): f"the standard deviation {_AXIS_WORDS[1]}, sqrt(E[x^2] - E[x]^2), unclamped",
}
