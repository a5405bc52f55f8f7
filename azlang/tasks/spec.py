"""Task stage: the task-spec mini language `DATASET:PART[:OPTION...]` (grammar in docs/tasks.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from azlang.errors import TaskSpecError

SYNTHETIC = ("linear", "affine", "teacher", "zeros", "ones", "increment")
DATASETS = ("cifar", "mnist", "fashion")
PARTS = ("search", "select", "all")
FILES = ("csv", "npz")  # own data: `csv:PATH[:OPTION...]`, options also KEY=VALUE (azlang/tasks/tabular.py)

# Reference default seed lists (docs/semantics.md, section 13.1); beyond their end, seeds continue at previous + 1.
DEFAULT_PARAM_SEEDS = (1001, 1012, 1010, 1000, 1006, 1008, 1007, 1003)
DEFAULT_DATA_SEEDS = (11001, 11012, 11010, 11000, 11006, 11008, 11007, 11003)

_OPTION = re.compile(r"^([FNVEDSPI])(\d+(?:\.\d*)?(?:e-?\d+)?)$")
_PAIR = re.compile(r"^(\d)v(\d)$")
_OPTION_HELP = ("options are F<features> N<train> V<valid> E<epochs> D<tasks> S<data seed> P<param seed> "
                "I<increment>, and the words test, acc, rms")


@dataclass(frozen=True)
class TaskSpec:
    """A parsed spec. `None` fields take the dataset's defaults."""

    text: str
    dataset: str
    part: str | None = None  # "3v5", "search", "select", "all" for datasets; None for synthetic
    F: int | None = None
    N: int | None = None
    V: int | None = None
    E: int = 1
    D: int = 1
    S: int | None = None
    P: int | None = None
    increment: float = 1.0
    test: bool = False
    eval_type: str | None = None  # forced "rms" / "accuracy"
    path: str | None = None  # csv / npz: the data file
    extra: tuple[tuple[str, str], ...] = ()  # csv / npz: KEY=VALUE options and words such as raw

    @property
    def is_synthetic(self) -> bool:
        return self.dataset in SYNTHETIC

    @property
    def pair(self) -> tuple[int, int] | None:
        m = _PAIR.match(self.part or "")
        return (int(m.group(1)), int(m.group(2))) if m else None

    def seeds(self) -> list[tuple[int, int]]:
        """(data_seed, param_seed) of each of the D tasks, by the reference's rule."""
        data = _seed_list(self.S, DEFAULT_DATA_SEEDS, self.D)
        param = _seed_list(self.P, DEFAULT_PARAM_SEEDS, self.D)
        return list(zip(data, param))

    def with_defaults(self, **defaults) -> TaskSpec:
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})


def _seed_list(start: int | None, defaults: tuple[int, ...], n: int) -> list[int]:
    seeds = list(defaults) if start is None else [start]
    while len(seeds) < n:
        seeds.append(seeds[-1] + 1)
    return seeds[:n]


def parse_spec(text: str) -> TaskSpec:
    """Parse `linear:F4:D10`, `cifar:3v5:F16`, `mnist:select:F16:D100`, ... or raise TaskSpecError."""
    fields = [f.strip() for f in text.strip().split(":")]
    dataset = fields[0].lower()
    if dataset in FILES:
        return _parse_file_spec(text, dataset, fields[1:])
    if dataset not in SYNTHETIC + DATASETS:
        raise TaskSpecError(f"unknown dataset {dataset!r} in task spec {text!r}",
                            hint=f"known: {', '.join(SYNTHETIC + DATASETS + FILES)}")
    part, options = None, fields[1:]
    if dataset in DATASETS:
        if not options or not (_PAIR.match(options[0]) or options[0] in PARTS):
            raise TaskSpecError(f"task spec {text!r} needs a part after {dataset}:",
                                hint="a class pair like 3v5, or search, select or all")
        part, options = options[0], options[1:]
        _check_pair(text, part)
    values: dict = {}
    for opt in options:
        _apply_option(text, opt, values)
    spec = TaskSpec(text=text, dataset=dataset, part=part, **values)
    _check(spec)
    return spec


def _parse_file_spec(text: str, dataset: str, options: list[str]) -> TaskSpec:
    """`csv:PATH[:OPTION...]`: the standard options plus KEY=VALUE ones and words (checked by the builder)."""
    if not options or not options[0]:
        raise TaskSpecError(f"task spec {text!r} needs a file after {dataset}:", hint=f"e.g. {dataset}:data.{dataset}")
    values: dict = {}
    extra = []
    for opt in options[1:]:
        key, sep, value = opt.partition("=")
        if sep or (opt.lower() not in ("test", "acc", "accuracy", "rms") and not _OPTION.match(opt)):
            extra.append((key.strip().lower(), value.strip()))
        else:
            _apply_option(text, opt, values)
    spec = TaskSpec(text=text, dataset=dataset, path=options[0], extra=tuple(extra), **values)
    _check(spec)
    return spec


def _check_pair(text: str, part: str) -> None:
    m = _PAIR.match(part)
    if m and m.group(1) == m.group(2):
        raise TaskSpecError(f"task spec {text!r}: a binary task needs two different classes")


def _apply_option(text: str, opt: str, values: dict) -> None:
    if opt.lower() == "test":
        values["test"] = True
        return
    if opt.lower() in ("acc", "accuracy", "rms"):
        values["eval_type"] = "rms" if opt.lower() == "rms" else "accuracy"
        return
    m = _OPTION.match(opt)
    if not m:
        raise TaskSpecError(f"task spec {text!r}: cannot read option {opt!r}", hint=_OPTION_HELP)
    letter, number = m.groups()
    if letter == "I":
        values["increment"] = float(number)
        return
    if not number.isdigit():
        raise TaskSpecError(f"task spec {text!r}: option {opt!r} needs a whole number")
    if len(number) > 12:  # before int(): no huge conversions, and every bound below is shorter
        raise TaskSpecError(f"task spec {text!r}: option {opt[:20]!r}... is out of range",
                            hint=f"{letter} must be at most {LIMITS[letter]}")
    values[letter] = int(number)


# Upper bounds: far above any real task, low enough that a typo is an error, not a MemoryError.
LIMITS = {"F": 4096, "N": 1_000_000, "V": 1_000_000, "E": 10_000, "D": 100_000, "S": 2**32 - 1, "P": 2**32 - 1}
MAX_VALUES = 200_000_000  # features x examples x tasks of one spec (1.6 GB of float64)
_WHAT = {"F": "features", "N": "train examples", "V": "valid examples", "E": "epochs", "D": "tasks",
         "S": "the data seed", "P": "the param seed"}


def _check(spec: TaskSpec) -> None:
    for name in ("F", "N", "V", "E", "D"):
        value = getattr(spec, name)
        if value is not None and value < 1:
            raise TaskSpecError(f"task spec {spec.text!r}: {name} must be at least 1")
    for name, limit in LIMITS.items():
        value = getattr(spec, name)
        if value is not None and value > limit:
            raise TaskSpecError(f"task spec {spec.text!r}: {name}{value} is out of range",
                                hint=f"{name} ({_WHAT[name]}) must be at most {limit}")
    size = spec.D * ((spec.N or 100) + (spec.V or 100)) * (spec.F or 4)
    if size > MAX_VALUES:
        raise TaskSpecError(f"task spec {spec.text!r} describes {size:,} values, more than {MAX_VALUES:,}",
                            hint="use fewer tasks (D), examples (N, V) or features (F)")
    if spec.dataset == "teacher" and spec.F is not None and spec.F < 4:
        raise TaskSpecError(f"task spec {spec.text!r}: the teacher network needs F >= 4")
