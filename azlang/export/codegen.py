"""Export stage: target-independent code generation: dead code removed, comments carried over, each
instruction turned into one line by the target's op templates, and the runtime helpers the code uses copied in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from azlang.ir.nodes import COMPONENTS, Index, Instruction, ParamRef, Program
from azlang.ir.ops import CONST, INDEX_SET, RANDOM
from azlang.syntax.printer import format_comment, format_instruction

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RUNTIME_DIR = Path(__file__).resolve().parent


@dataclass
class Target:
    """How one library spells registers, values and ops. `ops` maps op id -> expression template over
    {a}, {b} (input registers) and {F}; set ops are spelled by `const`, `index_set` and `random`."""

    name: str
    ops: dict[int, str]
    reg: callable
    value: callable  # (arg, float32: bool) -> expression
    index: callable  # Index -> expression
    assign: callable  # (dst, expr, kind) -> line
    index_set: callable  # (dst, [index expressions], value) -> line
    random: callable  # (instruction, kind, [value expressions]) -> expression
    const: callable  # (value expression) -> expression
    runtime: tuple[str, ...] = ()  # runtime_*.py files (in this package) whose helpers may be copied
    extra: dict = field(default_factory=dict)


def instruction_line(ins: Instruction, t: Target) -> str:
    od = ins.opdef
    if od.out is None:
        return "pass"
    dst = t.reg(od.out, ins.out)
    if od.form == CONST:
        return t.assign(dst, t.const(t.value(ins.args[0], False)), od.out)
    if od.form == INDEX_SET:
        idx = [t.index(a) for a in ins.args[:-1]]
        return t.index_set(dst, idx, t.value(ins.args[-1], True))
    if od.form == RANDOM:
        return t.assign(dst, t.random(ins, od.out, [t.value(a, True) for a in ins.args]), od.out)
    regs = dict(zip("ab", (t.reg(k, r) for k, r in zip(od.ins, (ins.in1, ins.in2)))))
    return t.assign(dst, t.ops[ins.op].format(**regs, F="F"), od.out)


def component_body(program: Program, name: str, t: Target, indent: str) -> list[str]:
    """The component's lines: own-line comments (also those of removed instructions), each instruction with
    its `.az` text as a trailing comment unless the source gave one."""
    comp = program.component(name)
    lines: list[str] = []
    for ins in comp.instructions:
        lines += [indent + format_comment(c) for c in ins.comments]
        code = instruction_line(ins, t)
        note = format_comment(ins.trailing) if ins.trailing else f"# {format_instruction(ins)}"
        line = f"{indent}{code}  {note}"
        lines += [line] if len(line) <= 120 else [indent + note, indent + code]  # long lines: comment above
    lines += [indent + format_comment(c) for c in comp.footer]
    if not comp.instructions:
        lines.append(indent + "pass")
    return lines


def carry_comments(original: Program, reduced: Program) -> Program:
    """Own-line comments of instructions dce removed move to the next kept instruction (or the footer)."""
    from dataclasses import replace

    for name in COMPONENTS:
        kept_ids = {id(i) for i in reduced.component(name).instructions}
        pending: list[str] = []
        new = []
        for ins in original.component(name).instructions:
            if id(ins) not in kept_ids:
                pending += list(ins.comments)
                continue
            new.append(replace(ins, comments=tuple(pending) + ins.comments) if pending else ins)
            pending = []
        comp = reduced.component(name)
        comp = replace(comp, instructions=tuple(new), footer=tuple(pending) + comp.footer)
        reduced = replace(reduced, **{name: comp})
    return reduced


def registers(program: Program) -> list[tuple[str, int]]:
    """Every register the program touches plus the reserved s0, s1, v0, in bank order."""
    regs = {("s", 0), ("s", 1), ("v", 0)}
    for _, _, ins in program.instructions():
        regs.update(ins.reads())
        if ins.writes():
            regs.add(ins.writes())
    order = {"s": 0, "v": 1, "m": 2}
    return sorted(regs, key=lambda r: (order[r[0]], r[1]))


def uses_random(program: Program) -> bool:
    return any(ins.opdef.form == RANDOM for _, _, ins in program.instructions())


def helpers_source(code: str, runtime) -> str:
    """Source of the runtime helpers `code` mentions, and of those they mention, in the runtime's order."""
    blocks: dict[str, str] = {}
    for name in runtime:  # read as text: generating torch code must not need torch installed
        blocks.update(_top_level_blocks((RUNTIME_DIR / f"{name}.py").read_text(encoding="utf-8")))
    needed: set[str] = set()
    frontier = set(IDENT.findall(code))
    while frontier:
        new = {n for n in frontier if n in blocks and n not in needed}
        needed |= new
        frontier = {w for n in new for w in IDENT.findall(blocks[n])}
    return "\n\n\n".join(b for n, b in blocks.items() if n in needed)


def _top_level_blocks(src: str) -> dict[str, str]:
    """name -> source of each top-level def, class or assignment (decorated or multi-line)."""
    blocks: dict[str, str] = {}
    current, lines = None, []
    for line in src.splitlines():
        if line and not line[0].isspace() and not line.startswith((")", "]", "}")):
            if current:
                blocks[current] = "\n".join(lines).rstrip()
            m = re.match(r"(?:def|class)\s+(\w+)|(\w+)\s*=", line)
            current = (m.group(1) or m.group(2)) if m and not line.startswith(("import", "from")) else None
            lines = [line]
        else:
            lines.append(line)
    if current:
        blocks[current] = "\n".join(lines).rstrip()
    return {k: v for k, v in blocks.items() if not k.startswith("__")}


def value_expr(arg, float32: bool, param_prefix: str = "self.") -> str:
    """A constant: a literal (already rounded like the reference stores it) or a param, rounded at use."""
    if isinstance(arg, ParamRef):
        ref = f"{param_prefix}{arg.name}"
        return f"_f32({ref})" if float32 else f"float({ref})"
    return repr(float(arg))


def index_expr(arg: Index) -> str:
    return str(int(arg.value)) if not arg.fraction else f"_index(F, {float(arg.value)!r})"


def class_name_of(stem: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", stem)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p) or "Algorithm"
    return name if name[0].isalpha() else "Algorithm" + name


# The class templates the targets share: the constructor (params, seed, classification), and for the
# object-style targets (numpy, torch) the memory reset and the three component methods.
CLASS_HEAD = '''

class {name}:
{doc}

    REGISTERS = {registers!r}

    def __init__(self, {init_args}seed=0, classification=False):
        {init_body}self.seed = seed  # seeds the random stream (SplitMix64, as `azc run --seed`)
        self.classification = classification  # training sees sigmoid(s1) in s1, as azlang's accuracy tasks
'''

OBJECT_STEPS = '''
    def _reset(self, F):
        self.F = F
        self.rng = SplitMix64(self.seed)
{reset}

    def setup(self):
{setup}

    def predict_step(self):
{predict}

    def learn_step(self):
{learn}
'''
