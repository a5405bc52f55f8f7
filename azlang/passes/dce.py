"""Pass stage: dead-code elimination: drop every instruction whose result can never reach a prediction.

Uses strong liveness over the whole evaluation loop (azlang.ir.analysis), so dead cycles such as a Learn
update of a register that no Predict ever reads go too, and so does every no_op.

Multi-class tasks predict the logit vector v1 instead of s1; pass `multiclass=True` (PassOptions.multiclass,
`azc opt --multiclass`) for such programs, or dce removes the whole network.

Random ops. A random draw whose value is dead still advances the random stream, and evaluation shares one
stream across Setup, all training steps and all tasks, so removing it would change the values every later
live draw sees. Policy "keep" (the default) therefore keeps every dead draw when the program has at least
one live draw, and removes dead draws only when no live draw exists (then the fitness is exactly the same;
only the caller's generator ends in a different state). A uniform op with literal low >= high draws
nothing and is always removable. Policy "drop" removes all dead draws (fitness may then change).
"""

from __future__ import annotations

from azlang.ir.analysis import draws_random, liveness
from azlang.ir.nodes import COMPONENTS, Program
from azlang.passes import PassOptions, register


def _draws(program: Program) -> dict[str, set[int]]:
    return {c: {i for i, ins in enumerate(program.component(c)) if draws_random(ins)} for c in COMPONENTS}


def kept_instructions(program: Program, random_policy: str = "keep",
                      multiclass: bool = False) -> dict[str, tuple[bool, ...]]:
    """Per component, which instructions dce keeps (`multiclass`: v1 is the prediction, see liveness)."""
    live = liveness(program, multiclass=multiclass).live
    if random_policy == "keep":
        draws = _draws(program)
        if any(live[c][i] for c in COMPONENTS for i in draws[c]):
            # Kept draws read no registers, so forcing them live leaves the rest of the analysis unchanged.
            return {c: tuple(ok or i in draws[c] for i, ok in enumerate(live[c])) for c in COMPONENTS}
    elif random_policy != "drop":
        raise ValueError(f"unknown random policy {random_policy!r} (keep or drop)")
    return live


def eliminate(program: Program, random_policy: str = "keep", multiclass: bool = False) -> Program:
    kept = kept_instructions(program, random_policy, multiclass)
    for c in COMPONENTS:
        instrs = program.component(c).instructions
        program = program.with_component(c, (ins for ins, ok in zip(instrs, kept[c]) if ok))
    return program


def live_bytecode(bc, multiclass: bool = False):
    """A Bytecode less its dead code (random policy "keep"), rows and constants copied bit for bit; `bc` itself
    when nothing is dead. Select and final evaluations run this instead of the best program as the search found
    it (dead matrix-vector products and all): same fitness, train steps and metrics on every task. Dead draws
    go only when no draw is live, which changes nothing but the end state of the evaluation's own Rng."""
    import numpy as np

    from azlang.ir.bytecode import Bytecode, from_bytecode

    kept = kept_instructions(from_bytecode(bc), "keep", multiclass)
    rows = np.array([ok for c in COMPONENTS for ok in kept[c]], dtype=bool)
    if rows.all():
        return bc
    return Bytecode(bc.code[rows], bc.data[rows], tuple(sum(kept[c]) for c in COMPONENTS))


@register("dce", "remove instructions that cannot influence a prediction")
def dce(program: Program, options: PassOptions) -> Program:
    return eliminate(program, options.random_policy, options.multiclass)
