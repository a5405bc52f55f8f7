"""Test support: random `.az` sources for parser fuzzing, hostile on purpose (shared by test_fuzz_parser.py and
the stress script tests/stress_parser.py, which runs the same generator for many more inputs).

A source is a valid program, mutated: lines swapped for hostile ones (deep nesting, huge or long literals,
out-of-range registers), characters inserted or deleted, odd line breaks, and, for files, odd encodings.
"""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VALID = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "stdlib").glob("*.az"))] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples" / "evolved").glob("*.az"))]
BREAKS = ["\n", "\r", "\r\n", "\f", "\v", "\u2028", "\u2029", "\x85", "\x1c", "\x00", "\ufeff", "\t", " "]
NOISE = "sSvVmM0123456789.eE+-*/=()[],:#_ \tabcdefghijklnopqrtuwxyz\u00e9\u03bb\U0001f600"
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252"]


def hostile_line(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        depth = rng.choice([1, 2, 30, 33, 200, 1000, 5000])
        return "s3 = " + rng.choice(["f(", "abs(", "(", "dot(v1, "]) * depth + "s1" + ")" * depth
    if kind == 1:
        exponent = rng.randrange(10 ** rng.randrange(1, 9))
        return f"s3 = {rng.choice(['1', '9.5', '0.', '.5'])}e{rng.choice(['', '-', '+'])}{exponent}"
    if kind == 2:
        return "v1[" + "9" * rng.choice([1, 10, 4300, 4301, 5000]) + "] = " + rng.choice(["1.0", "1e9999999", "-0.0"])
    if kind == 3:
        return f"{rng.choice('svm')}{rng.choice([999, 1000, 99999999999, 10**50])} = s1 + s2"
    if kind == 4:
        return "s3 = " + "".join(rng.choice("0123456789") for _ in range(rng.choice([17, 800, 801, 4400]))) + ".5"
    if kind == 5:
        return "param " + rng.choice(["lr", "s1", "inf", "x" * 300]) + " = " + rng.choice(["1e400", "nan", "-1", "1"])
    if kind == 6:
        return "m1[" + rng.choice(["0.5", "1.5", "0", "-1", "lr"]) + ", 0] = " + rng.choice(["3.5e38", "1"])
    if kind == 7:
        size = rng.choice(["", ", n_features", ", (n_features, n_features)"])
        return "v1 = uniform(" + rng.choice(["-1e39", "0", "lr"]) + ", 1" + size + ")"
    if kind == 8:
        args = rng.choice(["", "v0", "v0, s0", "x"])
        return "def " + rng.choice(["Setup", "Predict", "Learn", "Bogus"]) + "(" + args + "):"
    return "".join(rng.choice(NOISE) for _ in range(rng.randrange(1, 40)))


def random_source(rng: random.Random) -> str:
    """One fuzzed source text."""
    lines = rng.choice(VALID).split("\n")
    for _ in range(rng.randrange(0, 4)):
        i = rng.randrange(len(lines) + 1)
        action = rng.randrange(4)
        if action == 0:
            lines.insert(i, hostile_line(rng))
        elif action == 1 and lines:
            lines[min(i, len(lines) - 1)] = hostile_line(rng)
        elif action == 2 and lines:
            del lines[min(i, len(lines) - 1)]
        else:
            j = min(i, len(lines) - 1)
            if lines:
                s = lines[j]
                k = rng.randrange(len(s) + 1)
                lines[j] = s[:k] + rng.choice(NOISE + "".join(BREAKS)) + s[k + rng.randrange(2):]
    separator = "\n" if rng.random() < 0.6 else rng.choice(BREAKS[:3])
    text = separator.join(lines)
    if rng.random() < 0.2:  # sprinkle odd breaks anywhere
        k = rng.randrange(len(text) + 1)
        text = text[:k] + rng.choice(BREAKS) + text[k:]
    return text


def random_file_bytes(rng: random.Random) -> bytes:
    """A fuzzed source as a file: mostly UTF-8, sometimes another encoding or broken bytes."""
    text = random_source(rng)
    roll = rng.random()
    if roll < 0.7:
        return text.encode("utf-8", errors="surrogatepass")
    if roll < 0.9:
        return text.encode(rng.choice(ENCODINGS), errors="replace")
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randrange(1, 5)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)
