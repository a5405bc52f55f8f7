"""The command line the table scripts of this folder share: ROOT (the runs), -o JSON; prints the Markdown."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


def main(doc: str, table: Callable[[Path], dict], *renders: Callable[[dict], str]) -> None:
    """Build `table(ROOT)`, print each render of it (separated by a blank line), write it as JSON with -o."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("-o", dest="out", type=Path, default=None, help="also write the table as JSON here")
    args = ap.parse_args()
    result = table(args.root)
    print("\n\n".join(render(result) for render in renders))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
