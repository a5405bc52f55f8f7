"""Native stage: llvmlite IR helpers (types, chunked vector access, loops, in-order reductions).

Every reduction here adds its terms strictly in index order starting from the first term, the order the
NumPy reference defines; vector instructions are only used across independent outputs (elementwise ops,
the rows of a matrix-vector product), never to reassociate a sum. No fast-math flags are ever set.
"""

from __future__ import annotations

from llvmlite import ir

F64, I64, I32, I1 = ir.DoubleType(), ir.IntType(64), ir.IntType(32), ir.IntType(1)
PTR = ir.PointerType()
W = 8  # vector chunk width in doubles (one AVX-512 register, two AVX2 registers)
UNROLL_CHUNKS = 8  # up to this many chunks are emitted straight-line; more become a loop


def vec(w: int) -> ir.VectorType:
    return ir.VectorType(F64, w)


def i64(x: int) -> ir.Constant:
    return ir.Constant(I64, x)


def f64(x: float) -> ir.Constant:
    return ir.Constant(F64, x)


def u64(x: int) -> ir.Constant:
    """A 64-bit constant given as an unsigned value (the IR text wants it signed)."""
    return ir.Constant(I64, x - (1 << 64) if x >= 1 << 63 else x)


def splat(b: ir.IRBuilder, x, w: int):
    v = b.insert_element(ir.Constant(vec(w), ir.Undefined), x, ir.Constant(I32, 0))
    return b.shuffle_vector(v, v, ir.Constant(ir.VectorType(I32, w), [0] * w))


def as_i64(x):
    return i64(x) if isinstance(x, int) else x


def add(b: ir.IRBuilder, x, y):
    """Integer add that folds when both sides are Python ints (straight-line code stays readable)."""
    if isinstance(x, int) and isinstance(y, int):
        return x + y
    if isinstance(x, int) and x == 0:
        return y
    if isinstance(y, int) and y == 0:
        return x
    return b.add(as_i64(x), as_i64(y))


def mul(b: ir.IRBuilder, x, y):
    if isinstance(x, int) and isinstance(y, int):
        return x * y
    return b.mul(as_i64(x), as_i64(y))


def at(b: ir.IRBuilder, base, off):
    """Address of double number `off` (Python int or i64 value) after `base`."""
    if isinstance(off, int) and off == 0:
        return base
    return b.gep(base, [as_i64(off)], source_etype=F64)


def load(b: ir.IRBuilder, base, off, w: int):
    return b.load(at(b, base, off), typ=vec(w), align=8)


def store(b: ir.IRBuilder, value, base, off) -> None:
    b.store(value, at(b, base, off), align=8)


def load1(b: ir.IRBuilder, base, off=0):
    return b.load(at(b, base, off), typ=F64, align=8)


def first_chunk(n: int) -> tuple[int, int]:
    """The chunk an in-order reduction starts from: (0, W), or the whole range when it is shorter."""
    return (0, min(n, W))


def for_range(b: ir.IRBuilder, n: int, body, carry=(), unroll: int = UNROLL_CHUNKS, start: int = 0):
    """Run body(i, *carry) -> new carry for i in [start, n); straight-line when short, else an IR loop.

    `carry` values flow from one iteration into the next (accumulators); the final carry is returned.
    """
    carry = list(carry)
    if n - start <= unroll:
        for k in range(start, n):
            carry = list(body(k, *carry) or ())
        return carry
    pre = b.block
    loop = b.append_basic_block("loop")
    done = b.append_basic_block("loop.done")
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(i64(start), pre)
    phis = []
    for c in carry:
        p = b.phi(c.type)
        p.add_incoming(c, pre)
        phis.append(p)
    new = list(body(i, *phis) or ())
    nxt = b.add(i, i64(1))
    end = b.block
    i.add_incoming(nxt, end)
    for p, c in zip(phis, new):
        p.add_incoming(c, end)
    b.cbranch(b.icmp_signed("<", nxt, i64(n)), loop, done)
    b.position_at_end(done)
    return new


def for_chunks(b: ir.IRBuilder, n: int, body) -> None:
    """body(offset, width) over [0, n) in chunks of W (a loop over the full chunks when there are many)."""
    full, tail = divmod(n, W)
    for_range(b, full, lambda k: body(mul(b, k, W), W) and None)
    if tail:
        body(full * W, tail)


def elements(b: ir.IRBuilder, v, w: int) -> list:
    return [b.extract_element(v, ir.Constant(I32, e)) for e in range(w)]


def seq_reduce(b: ir.IRBuilder, n: int, terms) -> list:
    """In-order sums of one or more term streams: terms(offset, width) -> list of <width x double>.

    acc = t[0]; acc = acc + t[1]; ... exactly like `np.cumsum(t)[-1]`.
    """
    first_off, first_w = first_chunk(n)
    accs = None
    for v in terms(first_off, first_w):
        es = elements(b, v, first_w)
        acc = es[0]
        for e in es[1:]:
            acc = b.fadd(acc, e)
        accs = (accs or []) + [acc]

    def body(k, *accs):
        out = []
        for acc, v in zip(accs, terms(mul(b, k, W), W)):
            for e in elements(b, v, W):
                acc = b.fadd(acc, e)
            out.append(acc)
        return out

    full, tail = divmod(n, W)
    if full >= 1:
        accs = for_range(b, full, body, accs, start=1)
        if tail:
            accs = _tail(b, accs, terms(full * W, tail), tail)
    return accs


def _tail(b, accs, vs, w):
    out = []
    for acc, v in zip(accs, vs):
        for e in elements(b, v, w):
            acc = b.fadd(acc, e)
        out.append(acc)
    return out


def _shuffle(b, x, y, mask):
    return b.shuffle_vector(x, y, ir.Constant(ir.VectorType(I32, len(mask)), mask))


# The classic three-stage 8x8 transpose: one single-instruction shuffle per output at every stage.
_STAGES = (
    (1, [0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]),  # interleave doubles
    (2, [0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]),  # interleave 128-bit pairs
    (4, [0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]),  # interleave 256-bit halves
)


def _transpose8(b: ir.IRBuilder, rows: list) -> list:
    rows = list(rows)
    for dist, lo, hi in _STAGES:
        out = [None] * 8
        for i in range(8):
            if not i & dist:
                out[i], out[i + dist] = _shuffle(b, rows[i], rows[i + dist], lo), _shuffle(b, rows[i], rows[i + dist], hi)
        rows = out
    return rows


def transpose(b: ir.IRBuilder, rows: list, w: int) -> list:
    """Columns of a block given as row vectors: rows[r] is <w>, the result col[j] is <len(rows)>."""
    nrows = len(rows)
    if nrows == W and w == W:
        return _transpose8(b, rows)
    if nrows == 1:
        return elements(b, rows[0], w)  # a single row: its elements are the (scalar-wide) columns
    parts, width = list(rows), w
    while len(parts) > 1:
        if len(parts) % 2:
            parts.append(ir.Constant(vec(width), [0.0] * width))
        mask = ir.Constant(ir.VectorType(I32, 2 * width), list(range(2 * width)))
        parts = [b.shuffle_vector(parts[i], parts[i + 1], mask) for i in range(0, len(parts), 2)]
        width *= 2
    big = parts[0]
    return [b.shuffle_vector(big, big, ir.Constant(ir.VectorType(I32, nrows), [r * w + j for r in range(nrows)]))
            for j in range(w)]


def row_reduce(b: ir.IRBuilder, R: int, C: int, terms, finish) -> None:
    """Per-row in-order sums for R rows of C columns, vectorised across rows (independent outputs).

    terms(row, col_offset, width) -> list of <width> term vectors (one per accumulator);
    finish(row_start, nrows, accs) consumes the <nrows> accumulators of a block of rows.
    """
    def block(r0, nr):
        def cols(off, w):
            per_row = [terms(add(b, r0, r), off, w) for r in range(nr)]
            n_acc = len(per_row[0])
            return [transpose(b, [pr[a] for pr in per_row], w) for a in range(n_acc)]

        def widen(x):  # a single-row block works on scalars; keep the accumulator a 1-vector
            return x if nr > 1 else b.insert_element(ir.Constant(vec(1), ir.Undefined), x, ir.Constant(I32, 0))

        first = cols(*first_chunk(C))
        accs = [widen(c[0]) for c in first]
        accs = [_add_cols(b, acc, c[1:], widen) for acc, c in zip(accs, first)]

        def body(k, *accs):
            return [_add_cols(b, acc, c, widen) for acc, c in zip(accs, cols(mul(b, k, W), W))]

        full, tail = divmod(C, W)
        if full >= 1:
            accs = for_range(b, full, body, accs, start=1)
            if tail:
                accs = [_add_cols(b, acc, c, widen) for acc, c in zip(accs, cols(full * W, tail))]
        finish(r0, nr, accs)

    full, tail = divmod(R, W)
    for_range(b, full, lambda k: block(mul(b, k, W), W) and None, unroll=2)
    if tail:
        block(full * W, tail)


def _add_cols(b, acc, cols, widen):
    for c in cols:
        acc = b.fadd(acc, widen(c))
    return acc
