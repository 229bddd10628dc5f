"""Numba kernels of the ``"kdtree"`` k-means algorithm: Kanungo et al.'s filtering algorithm.

With few features, a Lloyd pass is cheap per row but a million rows still cost a million bound
checks, and the rows that Hamerly's bounds cannot settle (a fifth of them on the benchmark blobs)
each need every distance.  The filtering algorithm works on boxes instead of rows: a tree of
boxes over the data is built once per fit, and each pass walks it from the root carrying the
centres that may still own some point of the box.  A centre is dropped as soon as another one is
closer to *every* point of the box; when one centre is left the whole box goes to it, using the
box's pre-computed weighted sums, without touching its rows.  Only the leaves that straddle a
border between two cells are resolved row by row.

The tree is a binary space partition on a grid: each row gets the Morton code of its grid cell
(the grid spans the data in its (up to) three widest features), a stable counting sort on the
codes orders the rows, and a node splits where its rows' codes first differ, i.e. the smallest
grid box holding them is halved along one feature.  Building it costs a few passes over the
data, unlike a kd-tree's median splits (a pass per level).  Boxes stored for pruning are the
tight bounding boxes of their rows in every feature.

Exactness: the pruning test has a safety margin far above rounding (see :func:`_farther`), so
a pruned centre is strictly farther by more than any rounding could hide; rows of straddling
leaves compare the remaining centres with Lloyd's own distance formula, in index order, ties to
the lowest index.  Labels therefore equal Lloyd's.  Centres are the same means summed in another
order.

Determinism: the tree, the order of the tasks (subtrees at a fixed depth) and their partial sums
do not depend on the thread count; the partial sums are reduced in task order by the caller.
"""

import contextlib
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from palettelab.core.buffers import BufferPool
from palettelab.core.numba_config import FASTMATH

LEAF_SIZE = 16  # rows below which a node is not split further
TASK_DEPTH = 6  # subtrees rooted at this depth are the units of parallel work (at most 64)
GRID_BITS = 24  # the finest grid: 2**24 cells (rows sharing a cell are split by value)
RADIX_BITS = 8  # code bits sorted per counting-sort pass (256 buckets)
MAX_DEPTH = 60  # deeper nodes stay leaves (only for data spread over many orders of magnitude)
_MARGIN = 1e-12  # relative safety margin of the pruning test (rounding is about 1e-16)
_CHUNK = 65536  # rows per chunk of the parallel counting-sort pass


# ---------------------------------------------------------------------------------------------
# building the tree


@njit(nogil=True, cache=True)
def _bounds(X):
    """Smallest and largest value of every feature (numpy's axis-0 reductions stride through a
    narrow C-ordered array column by column: 20x slower)."""
    d = X.shape[1]
    lo = np.full(d, np.inf)
    hi = np.full(d, -np.inf)
    for i in range(X.shape[0]):
        for t in range(d):
            x = np.float64(X[i, t])
            lo[t] = min(lo[t], x)
            hi[t] = max(hi[t], x)
    return lo, hi


@njit(forceinline=True, _nrt=False)
def _spread(x, n_dims):
    """The bits of cell index x, ``n_dims`` apart (x < 2**24, 2**12 or 2**8)."""
    if n_dims == 2:
        x = (x | (x << 8)) & 0x00FF00FF
        x = (x | (x << 4)) & 0x0F0F0F0F
        x = (x | (x << 2)) & 0x33333333
        x = (x | (x << 1)) & 0x55555555
    elif n_dims == 3:
        x = (x | (x << 16)) & 0xFF0000FF
        x = (x | (x << 8)) & 0x0300F00F
        x = (x | (x << 4)) & 0x030C30C3
        x = (x | (x << 2)) & 0x09249249
    return x


@njit(nogil=True, cache=True)
def _morton_codes(X, dims, lo, scale, bits, codes):
    """Each row's Morton code on a grid of 2**bits cells per chosen feature (1 to 3 of them)."""
    n_dims = dims.shape[0]
    top = (1 << bits) - 1
    for i in range(X.shape[0]):
        code = 0
        for q in range(n_dims):
            cell = min(max(int((np.float64(X[i, dims[q]]) - lo[q]) * scale[q]), 0), top)
            code |= _spread(np.int64(cell), n_dims) << q
        codes[i] = code


@njit(nogil=True)
def _counting_pass(shift, codes, perm, X, w, src_lo, src_hi, codes_out, perm_out, X_out, w_out,
                   dst_lo):
    """Stable counting sort of rows [src_lo, src_hi) on code bits [shift, shift + RADIX_BITS),
    written from row ``dst_lo`` of the outputs.

    A pass scatters into only 256 buckets: with 4096 and more, the scattered writes touched so
    many pages that a pass was several times slower here."""
    mask = (1 << RADIX_BITS) - 1
    pos = np.zeros(mask + 2, dtype=np.int64)
    for i in range(src_lo, src_hi):
        pos[((codes[i] >> shift) & mask) + 1] += 1
    pos[0] = dst_lo
    for b in range(1, mask + 2):
        pos[b] += pos[b - 1]
    d = X.shape[1]
    for i in range(src_lo, src_hi):
        b = (codes[i] >> shift) & mask
        p = pos[b]
        pos[b] = p + 1
        codes_out[p] = codes[i]
        perm_out[p] = perm[i]
        w_out[p] = w[i]
        for t in range(d):
            X_out[p, t] = X[i, t]


@njit(nogil=True, parallel=True, cache=True)
def _top_pass(shift, codes, X, w, codes_out, perm_out, X_out, w_out):
    """The most significant digit's pass, from the caller's arrays into tree order; returns the
    bucket starts.  Chunks of rows are counted and scattered in parallel, each from its own
    offsets within a bucket (chunk order kept: the sort stays stable)."""
    n, d = X.shape
    n_buckets = 1 << RADIX_BITS
    mask = n_buckets - 1
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    pos = np.zeros((n_chunks, n_buckets), dtype=np.int64)
    for c in prange(n_chunks):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            pos[c, (codes[i] >> shift) & mask] += 1
    starts = np.empty(n_buckets + 1, dtype=np.int64)
    total = 0
    for b in range(n_buckets):
        starts[b] = total
        for c in range(n_chunks):
            count = pos[c, b]
            pos[c, b] = total
            total += count
    starts[n_buckets] = total
    for c in prange(n_chunks):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            b = (codes[i] >> shift) & mask
            p = pos[c, b]
            pos[c, b] = p + 1
            codes_out[p] = codes[i]
            perm_out[p] = i
            w_out[p] = w[i]
            for t in range(d):
                X_out[p, t] = X[i, t]
    return starts


@njit(nogil=True, parallel=True, cache=True)
def _sort_buckets(starts, shift, codes, perm, Xs, ws, codes_tmp, perm_tmp, X_tmp, w_tmp):
    """Finish the sort inside each top bucket: least significant digit first, alternating
    between the rows and a scratch copy; a bucket (most are a few thousand rows) stays in
    cache while it is sorted."""
    for b in prange(starts.shape[0] - 1):
        s, e = starts[b], starts[b + 1]
        if e - s < 2:
            continue
        in_tmp = False
        for lo_bit in range(0, shift, RADIX_BITS):
            if in_tmp:
                _counting_pass(lo_bit, codes_tmp, perm_tmp, X_tmp, w_tmp, s, e, codes, perm, Xs,
                               ws, s)
            else:
                _counting_pass(lo_bit, codes, perm, Xs, ws, s, e, codes_tmp, perm_tmp, X_tmp,
                               w_tmp, s)
            in_tmp = not in_tmp
        if in_tmp:  # a loop, not slice copies (see _grow)
            for p in range(s, e):
                codes[p] = codes_tmp[p]
                perm[p] = perm_tmp[p]
                ws[p] = w_tmp[p]
                for t in range(Xs.shape[1]):
                    Xs[p, t] = X_tmp[p, t]


@njit(forceinline=True, _nrt=False)
def _swap_rows(Xs, ws, perm, a, b):
    for t in range(Xs.shape[1]):
        x = Xs[a, t]
        Xs[a, t] = Xs[b, t]
        Xs[b, t] = x
    x = ws[a]
    ws[a] = ws[b]
    ws[b] = x
    i = perm[a]
    perm[a] = perm[b]
    perm[b] = i


@njit(nogil=True)
def _split_rows(Xs, ws, perm, s, e):
    """Split rows [s, e) of one grid cell in place at the middle of their widest feature;
    returns the first row of the upper part, or -1 when they cannot be split (all equal)."""
    d = Xs.shape[1]
    best_t = 0
    best_w = -1.0
    mid = 0.0
    for t in range(d):
        lo = np.inf
        hi = -np.inf
        for p in range(s, e):
            x = np.float64(Xs[p, t])
            lo = min(lo, x)
            hi = max(hi, x)
        if hi - lo > best_w:
            best_w = hi - lo
            best_t = t
            mid = 0.5 * (lo + hi)
    a = s
    b = e - 1
    while True:
        while a <= b and np.float64(Xs[a, best_t]) < mid:
            a += 1
        while a <= b and np.float64(Xs[b, best_t]) >= mid:
            b -= 1
        if a >= b:
            break
        _swap_rows(Xs, ws, perm, a, b)
    if a == s or a == e:
        return -1
    return a


@njit(forceinline=True, _nrt=False)
def _code_split(codes, s, e):
    """First row of [s, e) in the upper half of the smallest grid box holding them all (its
    highest differing code bit set), or -1 if they share one cell."""
    diff = codes[s] ^ codes[e - 1]
    if diff == 0:
        return -1
    bit = 1
    while diff > 1:
        diff >>= 1
        bit <<= 1
    a, b = s, e - 1  # codes[a] has the bit clear, codes[b] has it set
    while b - a > 1:
        m = (a + b) // 2
        if codes[m] & bit:
            b = m
        else:
            a = m
    return b


@njit(forceinline=True, _nrt=False)
def _leaf_summary(Xs, ws, s, e, rec):
    """A leaf's record: tight box (``rec[:d]`` low, ``rec[d:2d]`` high), weighted sums of its
    rows (``rec[2d:3d]``) and their total weight (``rec[3d]``)."""
    d = Xs.shape[1]
    for t in range(d):
        rec[t] = np.inf
        rec[d + t] = -np.inf
        rec[2 * d + t] = 0.0
    wsum = 0.0
    for p in range(s, e):
        wp = np.float64(ws[p])
        wsum += wp
        for t in range(d):
            x = np.float64(Xs[p, t])
            rec[t] = min(rec[t], x)
            rec[d + t] = max(rec[d + t], x)
            rec[2 * d + t] += wp * x
    rec[3 * d] = wsum


@njit(nogil=True, cache=True)
def _link_nodes(codes, Xs, ws, perm, leaf_size, task_depth, max_depth, links, records):
    """The nodes, in depth-first (pre-)order: (links, records, tasks, paths).

    A node is split where its rows' codes first differ (the smallest grid box holding them is
    halved, so no node is empty); rows sharing one grid cell are split by
    :func:`_split_rows`.  ``links[node]`` is (first row, end row, right child or -1 for a leaf,
    owner, pass of the owner) -- the left child is the next node; ``records[node]`` is its box
    and sums (:func:`_leaf_summary`), written into the given arrays (or larger copies when they
    are too short).  The two per-node arrays keep a node in two or three cache lines: the pass
    visits nodes scattered over the whole tree.  Tasks are the roots of the
    parallel work: the nodes at ``task_depth`` and leaves above it; ``paths[task]`` lists a
    task's ancestors from the root (-1 after the last).
    """
    n, d = Xs.shape
    cap = links.shape[0]  # grows if ever exceeded
    up = np.empty((cap, 2), dtype=np.int64)  # parent and depth of each node
    tasks = np.empty(1 << task_depth, dtype=np.int64)
    n_tasks = 0
    size = 2 * (max_depth + 2)
    st_s = np.empty(size, dtype=np.int64)  # stack of (rows start, stop, parent, right child)
    st_e = np.empty(size, dtype=np.int64)
    st_p = np.empty(size, dtype=np.int64)
    st_r = np.empty(size, dtype=np.bool_)
    st_s[0], st_e[0], st_p[0], st_r[0] = 0, n, -1, False
    top = 1
    m = 0
    while top > 0:
        top -= 1
        s, e, par, is_right = st_s[top], st_e[top], st_p[top], st_r[top]
        if m == cap:
            cap *= 2
            links, records = _grow(links, cap), _grow(records, cap)
            up = _grow(up, cap)
        node = m
        m += 1
        links[node, 0], links[node, 1], links[node, 2] = s, e, -1
        links[node, 3], links[node, 4] = -1, -2  # no owner yet
        depth = 0 if par < 0 else up[par, 1] + 1
        up[node, 0], up[node, 1] = par, depth
        if is_right:
            links[par, 2] = node
        split = -1
        if e - s > leaf_size and depth < max_depth:
            split = _code_split(codes, s, e)
            if split < 0:
                split = _split_rows(Xs, ws, perm, s, e)
        if depth == task_depth or (split < 0 and depth < task_depth):
            tasks[n_tasks] = node
            n_tasks += 1
        if split < 0:
            _leaf_summary(Xs, ws, s, e, records[node])
            continue
        st_s[top], st_e[top], st_p[top], st_r[top] = split, e, node, True
        st_s[top + 1], st_e[top + 1], st_p[top + 1], st_r[top + 1] = s, split, node, False
        top += 2
    for node in range(m - 1, -1, -1):  # children follow their parent: records bottom-up
        r = links[node, 2]
        if r < 0:
            continue
        for t in range(d):
            records[node, t] = min(records[node + 1, t], records[r, t])
            records[node, d + t] = max(records[node + 1, d + t], records[r, d + t])
        for t in range(2 * d, 3 * d + 1):
            records[node, t] = records[node + 1, t] + records[r, t]
    paths = np.full((n_tasks, task_depth), -1, dtype=np.int64)
    for q in range(n_tasks):
        node = tasks[q]
        for lvl in range(up[node, 1] - 1, -1, -1):
            node = up[node, 0]
            paths[q, lvl] = node
    return links[:m], records[:m], tasks[:n_tasks], paths


@njit(nogil=True, cache=True)
def _grow(a, size):
    """``a`` (2-D) in a larger array of ``size`` rows.  Copied in a loop: a slice copy pulls in
    Numba's shape-error message, whose string code took 6 s to compile."""
    out = np.empty((size, a.shape[1]), dtype=a.dtype)
    for i in range(a.shape[0]):
        for t in range(a.shape[1]):
            out[i, t] = a[i, t]
    return out


class Tree(NamedTuple):
    """The filtering tree of one data set (see :func:`build_tree`).  ``links`` also holds the
    per-node owner state of the run that uses it."""

    perm: np.ndarray  # row of X at each tree position
    Xs: np.ndarray  # X in tree order
    ws: np.ndarray  # weights in tree order
    links: np.ndarray
    records: np.ndarray
    tasks: np.ndarray
    paths: np.ndarray


def _index_dtype(n: int) -> type:
    return np.int32 if n < 2**31 else np.int64


def _new_scratch(key: tuple) -> tuple:
    """Work arrays of :func:`build_tree` for n rows: the codes in row order and in tree order,
    and the sort's second copy of the permutation, rows and weights."""
    n, d, x_dtype, w_dtype = key
    return (np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32),
            np.empty(n, dtype=_index_dtype(n)), np.empty((n, d), dtype=x_dtype),
            np.empty(n, dtype=w_dtype))


#: the build's scratch arrays, kept for the next build of the same size: a fresh 100 MB costs a
#: page fault per page first touched, measured here at 20-150 ms for a million rows.  Larger
#: ones (from about 4 million rows) are not kept: the app would hold them for nothing.
_SCRATCH = BufferPool(_new_scratch)
_SCRATCH_KEEP_BYTES = 1 << 27


def build_tree(X: np.ndarray, w: np.ndarray) -> Tree:
    """The filtering tree over rows X (weights w)."""
    n, d = X.shape
    lo_all, hi_all = _bounds(X)
    extent = hi_all - lo_all
    n_dims = min(d, 3)
    dims = np.sort(np.argsort(-extent, kind="stable")[:n_dims]).astype(np.int64)
    bits = GRID_BITS // n_dims
    total_bits = bits * n_dims
    lo = lo_all[dims]
    ext = extent[dims]
    scale = np.where(ext > 0, (1 << bits) / np.where(ext > 0, ext, 1.0), 0.0)
    perm = np.empty(n, dtype=_index_dtype(n))
    Xs = np.empty_like(X)
    ws = np.empty_like(w)
    # node arrays as numpy makes them (huge pages for large arrays: a pass visits nodes all over
    # them, and on 4 KB pages most visits missed the TLB); pages never written cost nothing
    cap = n // 2 + 64
    links = np.empty((cap, 5), dtype=np.int64)
    records = np.empty((cap, 3 * d + 1))
    key = (n, d, X.dtype, w.dtype)
    keep = n * (12 + d * X.itemsize + w.itemsize) <= _SCRATCH_KEEP_BYTES
    scratch = _SCRATCH.lend(key) if keep else contextlib.nullcontext(_new_scratch(key))
    with scratch as (codes, codes_s, perm_tmp, X_tmp, w_tmp):
        _morton_codes(X, dims, lo, scale, bits, codes)
        shift = max(total_bits - RADIX_BITS, 0)
        starts = _top_pass(shift, codes, X, w, codes_s, perm, Xs, ws)
        if shift > 0:  # the row-order codes are spent: their array is the sort's other copy
            _sort_buckets(starts, shift, codes_s, perm, Xs, ws, codes, perm_tmp, X_tmp, w_tmp)
        links, records, tasks, paths = _link_nodes(codes_s, Xs, ws, perm, LEAF_SIZE, TASK_DEPTH,
                                                   MAX_DEPTH, links, records)
    return Tree(perm, Xs, ws, links, records, tasks, paths)


# ---------------------------------------------------------------------------------------------
# one pass: labels and weighted sums per task


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _farther(C, j, b, records, node):
    """Whether centre j is farther than centre b from every point of the node's box, by a
    margin that no rounding can hide.

    |x - c_j|^2 - |x - c_b|^2 = sum_t u_t (c_jt + c_bt - 2 x_t) with u = c_j - c_b is linear in
    x, smallest at the box corner v that maximises u.x.  j is dropped only if that minimum
    exceeds ``_MARGIN`` times the sum of two scales, each about 1e4 times a rounding error it
    must cover: sum |u_t| (|c_jt| + |c_bt| + 2 |v_t|), that of the test itself, and the largest
    |x - c_b|^2 in the box, that of the distances Lloyd would compare for any row in it.
    """
    d = C.shape[1]
    q = 0.0
    scale = 0.0
    for t in range(d):
        cj = C[j, t]
        cb = C[b, t]
        lo = records[node, t]
        hi = records[node, d + t]
        u = cj - cb
        v = hi if u > 0 else lo
        q += u * (cj + cb - 2.0 * v)
        far = max(abs(hi - cb), abs(lo - cb))
        scale += abs(u) * (abs(cj) + abs(cb) + 2.0 * abs(v)) + far * far
    return q > _MARGIN * scale


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _filter(C, records, node, cand, lvl):
    """Filter the candidates at ``cand[lvl - 1]`` (count in ``cand[lvl - 1, k]``) into
    ``cand[lvl]``: drop those that the one closest to the box centre beats on the whole box.

    Keeps index order; returns how many are left and that closest candidate.  (Rows of ``cand``
    are indexed, never sliced: a slice is a reference-counted view, and the counting cost more
    than the test on this path.)
    """
    d = C.shape[1]
    k = C.shape[0]
    n_in = cand[lvl - 1, k]
    best = cand[lvl - 1, 0]
    best_d = np.inf
    for r in range(n_in):
        j = cand[lvl - 1, r]
        s = 0.0
        for t in range(d):
            diff = 0.5 * (records[node, t] + records[node, d + t]) - C[j, t]
            s += diff * diff
        if s < best_d:
            best_d = s
            best = j
    n_out = 0
    for r in range(n_in):
        j = cand[lvl - 1, r]
        if j == best or not _farther(C, j, best, records, node):
            cand[lvl, n_out] = j
            n_out += 1
    cand[lvl, k] = n_out
    return n_out, best


@njit(forceinline=True, _nrt=False)
def _write_rows(links, node, a, labels):
    """Give every row of the node the label a; returns how many changed."""
    changed = 0
    for p in range(links[node, 0], links[node, 1]):
        if labels[p] != a:
            labels[p] = a
            changed += 1
    return changed


@njit(forceinline=True, _nrt=False)
def _relabel_mixed(links, node, a, pass_no, labels, stack):
    """Label a every row of a node that the previous pass split: only its parts that the
    previous pass gave to another centre, or left mixed, are touched."""
    stack[0] = node
    top = 1
    changed = 0
    while top > 0:
        top -= 1
        m = stack[top]
        owner = links[m, 3] if links[m, 4] == pass_no - 1 else -2
        if owner == a:
            continue
        if owner == -1 and links[m, 2] >= 0:  # split last time: its children were visited
            stack[top] = links[m, 2]
            stack[top + 1] = m + 1
            top += 2
        else:
            changed += _write_rows(links, m, a, labels)
    return changed


@njit(forceinline=True, _nrt=False)
def _give_node(links, records, node, a, prev, pass_no, labels, sums, wsums, task, stack):
    """All rows of the node go to centre a: its pre-computed sums are added, and the labels
    that differ are written.  ``prev`` is what the previous pass did with these rows: gave them
    all to one centre (>= 0), split the node (-1), or unknown (-2).  Returns labels changed."""
    d = sums.shape[2]
    for t in range(d):
        sums[task, a, t] += records[node, 2 * d + t]
    wsums[task, a] += records[node, 3 * d]
    if prev == a:
        changed = 0
    elif prev == -1:
        changed = _relabel_mixed(links, node, a, pass_no, labels, stack)
    else:
        changed = _write_rows(links, node, a, labels)
    links[node, 3] = a
    links[node, 4] = pass_no
    return changed


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _leaf_rows(links, node, C, cand, lvl, Xs, ws, labels, sums, wsums, task):
    """Rows of a straddling leaf: each goes to its nearest candidate in ``cand[lvl]`` (Lloyd's
    difference-form distance, ties to the lowest index).  Returns labels changed."""
    d = Xs.shape[1]
    n_cand = cand[lvl, C.shape[0]]
    changed = 0
    for p in range(links[node, 0], links[node, 1]):
        a = cand[lvl, 0]
        best_d = np.inf
        for r in range(n_cand):
            j = cand[lvl, r]
            s = 0.0
            for t in range(d):
                diff = np.float64(Xs[p, t]) - C[j, t]
                s += diff * diff
            if s < best_d:
                best_d = s
                a = j
        wp = np.float64(ws[p])
        wsums[task, a] += wp
        for t in range(d):
            sums[task, a, t] += wp * np.float64(Xs[p, t])
        if labels[p] != a:
            labels[p] = a
            changed += 1
    return changed


@njit(nogil=True, fastmath=FASTMATH)
def _task(task, C, pass_no, tasks, paths, links, records, Xs, ws, labels, sums, wsums):
    """Labels and sums of one task's subtree (into ``sums[task]``): the candidates are first
    filtered down the path from the root, then carried through the subtree depth-first."""
    k = C.shape[0]
    sums[task] = 0.0
    wsums[task] = 0.0
    levels = MAX_DEPTH + 2
    cand = np.empty((levels, k + 1), dtype=np.int64)  # per level: candidates, then their count
    for j in range(k):
        cand[0, j] = j
    cand[0, k] = k
    for lvl in range(paths.shape[1]):
        node = paths[task, lvl]
        if node < 0 or cand[0, k] == 1:
            break
        n, _ = _filter(C, records, node, cand, 1)
        for r in range(n + 1):
            cand[0, r] = cand[1, r]
        cand[0, k] = n
    # depth first through the subtree; a node's candidates are at its parent's level.  Each
    # entry also carries what the previous pass did with the node's rows when it did not visit
    # the node: gave them whole to one centre (an ancestor's owner), or -2 if unknown.
    st_node = np.empty(levels * 2, dtype=np.int64)
    st_lvl = np.empty(levels * 2, dtype=np.int64)
    st_prev = np.empty(levels * 2, dtype=np.int64)
    relabel_stack = np.empty(levels * 2, dtype=np.int64)
    st_node[0] = tasks[task]
    st_lvl[0] = 1
    st_prev[0] = -2
    top = 1
    changed = 0
    while top > 0:
        top -= 1
        node = st_node[top]
        lvl = st_lvl[top]
        prev = links[node, 3] if links[node, 4] == pass_no - 1 else st_prev[top]
        n, best = _filter(C, records, node, cand, lvl)
        if n == 1:
            changed += _give_node(links, records, node, best, prev, pass_no, labels, sums, wsums,
                                  task, relabel_stack)
            continue
        links[node, 3] = -1
        links[node, 4] = pass_no
        if links[node, 2] < 0:
            changed += _leaf_rows(links, node, C, cand, lvl, Xs, ws, labels, sums, wsums, task)
            continue
        st_node[top], st_lvl[top], st_prev[top] = links[node, 2], lvl + 1, prev
        st_node[top + 1], st_lvl[top + 1], st_prev[top + 1] = node + 1, lvl + 1, prev
        top += 2
    return changed


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def filter_par(C, pass_no, tasks, paths, links, records, Xs, ws, labels, sums, wsums, changed):
    """One E-step with the M-step's sums per task (``sums[task]``); returns labels changed.

    ``C`` is the float64 centres; ``pass_no`` counts the passes over this tree from 0 (whether
    a node's owner is from the previous pass); ``labels`` are in tree order (row ``perm[p]`` of
    X has label ``labels[p]``): in X's order, the rows of one leaf are scattered over the whole
    label array, and reaching them cost more than the rest of the pass.
    """
    for task in prange(tasks.shape[0]):
        # a prange index is unsigned: as it is, _task and its helpers compiled a second time
        changed[task] = _task(np.int64(task), C, pass_no, tasks, paths, links, records, Xs, ws,
                              labels, sums, wsums)
    return changed.sum()


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def filter_ser(C, pass_no, tasks, paths, links, records, Xs, ws, labels, sums, wsums, changed):
    """:func:`filter_par` in the calling thread."""
    for task in range(tasks.shape[0]):
        changed[task] = _task(task, C, pass_no, tasks, paths, links, records, Xs, ws, labels,
                              sums, wsums)
    return changed.sum()


@njit(nogil=True, cache=True)
def from_tree_order(perm, tree_labels, out):
    """``out[perm[p]] = tree_labels[p]``."""
    for p in range(perm.shape[0]):
        out[perm[p]] = tree_labels[p]
