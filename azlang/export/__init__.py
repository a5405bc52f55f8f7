"""Export stage: a program as a standalone module for NumPy, PyTorch or JAX (`azc export`, azlang.export).

    to_source(program, to="numpy", name=None, dce=True) -> str      the module's text
    to_class(program, to="numpy", ...) -> type                        the class, loaded from that text

The class: params as constructor arguments (their defaults), `seed`, `classification`; `fit(X, y, epochs=1)`,
`decision_function`, `predict`, `predict_proba`; the registers as attributes after fit. See docs/api.md.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

from azlang.errors import ConfigError
from azlang.export import codegen
from azlang.ir.nodes import COMPONENTS, Program
from azlang.syntax.printer import format_comment

TARGETS = ("numpy", "torch", "jax")
METHODS = {"setup": "setup", "predict": "predict_step", "learn": "learn_step"}


def _target(to: str):
    if to not in TARGETS:
        raise ConfigError(f"unknown export target {to!r}", hint=f"one of {', '.join(TARGETS)}")
    if to == "numpy":
        from azlang.export import numpy_target as mod
    elif to == "torch":
        from azlang.export import torch_target as mod
    else:
        from azlang.export import jax_target as mod
    return mod


def prepare(program: Program, dce: bool = True) -> Program:
    """Dead code removed (random draws kept when any draw is live, so the stream stays aligned), comments kept."""
    if not dce:
        return program
    from azlang.passes.dce import eliminate

    return codegen.carry_comments(program, eliminate(program))


def to_source(program: Program, to: str = "numpy", name: str | None = None, dce: bool = True,
              source: str | None = None) -> str:
    mod = _target(to)
    target = mod.TARGET
    program = prepare(program, dce)
    stem = Path(source or program.source or name or "algorithm").stem
    name = name or codegen.class_name_of(stem)
    indent = " " * 8
    _check_names(program)
    bodies = {}
    for comp in COMPONENTS:
        in_doc = comp == "setup" and not program.params  # then these comments head the class docstring
        lines = [] if in_doc else [indent + format_comment(c) for c in program.component(comp).comments]
        header = program.component(comp).header_comment
        lines += [indent + format_comment(header)] if header else []
        body = codegen.component_body(program, comp, target, indent)
        code = "\n".join(body)
        pre = mod.component_prelude(code, indent) if hasattr(mod, "component_prelude") else []
        if re.search(r"\bF\b", code):
            pre = [f"{indent}F = self.F"] + pre
        bodies[comp] = "\n".join(lines + pre + body + (mod.component_epilogue(indent) if hasattr(
            mod, "component_epilogue") else []))
    regs = codegen.registers(program)
    init_args, init_body = _init_parts(program)
    cls = mod.CLASS.format(
        name=name, doc=_docstring(program, stem), registers=tuple(f"{k}{a}" for k, a in regs),
        init_args=init_args, init_body=init_body, reset=mod.reset_lines(regs),
        setup=bodies["setup"], predict=bodies["predict"], learn=bodies["learn"],
    )
    head = mod.HEADER.format(title=f"{name}: the azlang algorithm {stem}, exported for {to}.",
                             source=source or program.source or "a program in memory")
    helpers = codegen.helpers_source(cls, target.runtime)
    runtime = f"\n\n# --- runtime: helpers copied from azlang/export/runtime_*.py ---\n\n{helpers}\n" if helpers else ""
    return head + cls + runtime


RESERVED = {"F", "seed", "classification", "rng", "memory", "set_memory", "fit", "predict", "setup", "self",
            "REGISTERS", "key", "np", "torch", "jax", "jnp", "math"}


def _check_names(program: Program) -> None:
    for p in program.params:
        if p.name in RESERVED or re.fullmatch(r"[svm]\d+", p.name):
            raise ConfigError(f"param {p.name!r} would clash with a name of the exported class",
                              hint="rename the param in the .az source")


def _docstring(program: Program, stem: str) -> str:
    lines = [f"The azlang algorithm {stem}."]
    lead = program.params[0].comments if program.params else program.setup.comments
    lines += [c.lstrip("#").strip() for c in lead]
    lines += [c.lstrip("#").strip() for c in program.footer]
    body = "\n    ".join(lines).replace('"""', "'''")
    return f'    """{body}\n    """'


def _init_parts(program: Program) -> tuple[str, str]:
    args = "".join(f"{p.name}={p.value!r}, " for p in program.params)
    body = []
    for i, p in enumerate(program.params):
        if i > 0:
            body += [format_comment(c) for c in p.comments]
        note = f"  {format_comment(p.trailing)}" if p.trailing else "  # param"
        body.append(f"self.{p.name} = {p.name}{note}")
    return args, "".join(line + "\n        " for line in body)


def to_class(program: Program, to: str = "numpy", name: str | None = None, dce: bool = True) -> type:
    """Load the exported module in memory and return its class."""
    text = to_source(program, to, name, dce)
    module = types.ModuleType(f"azlang_export_{to}")
    module.__dict__["__source__"] = text
    exec(compile(text, f"<azlang export {to}>", "exec"), module.__dict__)
    cls = [v for k, v in module.__dict__.items() if isinstance(v, type) and v.__module__ == module.__name__
           and hasattr(v, "REGISTERS")]
    return cls[0]


__all__ = ["TARGETS", "prepare", "to_class", "to_source"]
