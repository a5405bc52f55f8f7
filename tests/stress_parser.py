"""Stress script (not collected by pytest): the parser fuzz generator run for many inputs, with counts.

    python tests/stress_parser.py --api 25000 --cli 600 --seed 1

Counts, per path: inputs, programs accepted, clean AzErrors, tracebacks (any other exception) and hangs
(an input that takes longer than --hang seconds). Prints the first few failing inputs to reproduce them.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_support import random_file_bytes, random_source


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def run_api(n: int, seed: int, hang: float) -> dict:
    from azlang import api
    from azlang.errors import AzError

    counts = {"inputs": 0, "programs": 0, "errors": 0, "tracebacks": 0, "hangs": 0}
    rng, examples = random.Random(seed), []
    for _ in range(n):
        text = random_source(rng)
        counts["inputs"] += 1
        signal.setitimer(signal.ITIMER_REAL, hang)
        try:
            api.parse(text, "fuzz.az")
            counts["programs"] += 1
        except AzError as exc:
            exc.render()
            counts["errors"] += 1
        except Hang:
            counts["hangs"] += 1
            examples.append(("hang", text[:200]))
        except Exception as exc:  # noqa: BLE001 - counting exactly these
            counts["tracebacks"] += 1
            examples.append((type(exc).__name__, text[:200]))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return counts | {"examples": examples[:5]}


def run_cli(n: int, seed: int, hang: float) -> dict:
    from typer.testing import CliRunner

    from azlang.cli import app

    counts = {"inputs": 0, "exit 0": 0, "exit 1": 0, "tracebacks": 0, "hangs": 0}
    rng, examples, runner = random.Random(seed + 1), [], CliRunner()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prog.az"
        for _ in range(n):
            data = random_file_bytes(rng)
            path.write_bytes(data)
            counts["inputs"] += 1
            signal.setitimer(signal.ITIMER_REAL, hang)
            try:
                res = runner.invoke(app, ["check", str(path)])
            except Hang:
                counts["hangs"] += 1
                examples.append(("hang", data[:200]))
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            bad = (res.exception is not None and not isinstance(res.exception, SystemExit)) \
                or res.exit_code not in (0, 1) or "Traceback" in res.output
            if bad:
                counts["tracebacks"] += 1
                examples.append((repr(res.exception), data[:200]))
            else:
                counts[f"exit {res.exit_code}"] += 1
    return counts | {"examples": examples[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", type=int, default=25000)
    parser.add_argument("--cli", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=float, default=5.0)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    for name, fn, n in (("api", run_api, args.api), ("cli", run_cli, args.cli)):
        start = time.perf_counter()
        result = fn(n, args.seed, args.hang)
        examples = result.pop("examples")
        print(f"{name}: {result} in {time.perf_counter() - start:.1f}s")
        for kind, sample in examples:
            print(f"  {kind}: {sample!r}")


if __name__ == "__main__":
    main()
