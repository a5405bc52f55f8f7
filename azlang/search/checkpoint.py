"""Search stage: checkpoints: the whole run state pickled, written atomically (temporary file + os.replace).

A checkpoint holds the experiment Rng, every island's population, FEC cache, hurdle and counters, the
best candidate so far and the finished experiments; resuming from one taken at a sweep boundary in a
single-island run continues exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from azlang.errors import AzError

FORMAT = 1


def save(path: str | Path, state) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump((FORMAT, state), f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: str | Path):
    try:
        with open(path, "rb") as f:
            fmt, state = pickle.load(f)
    except FileNotFoundError:
        raise AzError(f"no checkpoint at {path}", hint="is this a run directory written by `azc evolve`?") from None
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise AzError(f"cannot read checkpoint {path}: {e}") from None
    if fmt != FORMAT:
        raise AzError(f"checkpoint {path} has format {fmt}; this version reads format {FORMAT}")
    return state
