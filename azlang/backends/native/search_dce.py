"""Native stage: exact dead-code removal before evaluation, and live-program comparison (a search speed-up).

An instruction is dead when nothing it writes can reach s1 as read after Predict (the only value the
evaluation looks at) along any execution: Setup, then Predict/Learn steps and validation Predicts in any
order. The harness overwrites v0 and s0 in full before every Predict and Learn, so they are never live
into a component. Random ops are always kept (they draw from the stream). OP57/58 write one element, so
they never end a register's liveness. Removing dead instructions changes no fitness, error, train-step
count or random draw, only the time spent; the train budget is still charged on the whole program.

Liveness is a fixed point over bit sets of registers (scalars, then vectors, then matrices). Each row's
`after` set is kept too (DCE_AFTER: what is live just after a dead row, all ones for a row that runs): a
mutation that rewrites a dead row in place into a row writing nothing live leaves every set, and so the live
program, as it was (search_loop's dead-edit shortcut).
"""

from __future__ import annotations


def width(shape) -> int:
    """Bits of a register set: one per register, and a spare top bit (never a register) that marks, in the
    DCE_AFTER sets, a row that runs."""
    return 64 * -(-(shape.S + shape.V + shape.M + 1) // 64)
