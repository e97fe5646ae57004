"""Exact Markov-chain attribution of order k, with ChannelAttribution's states.

**States** (ChannelAttribution's ``markov_model``, read from its C++ core): a path
``c_1 > … > c_n`` becomes the sliding windows of ``k = order`` consecutive touches,
``w_i = (c_{i−k+1}, …, c_i)`` for ``i = k … n``, taken on the path *as given* (repeated
channels are not merged first). Two rules complete it:

- **repeated states**: consecutive identical windows are merged into one visit, so the
  chain has no self-loops (``A > A > A > B`` at order 2: windows ``A,A  A,A  A,B`` →
  ``(start) → A,A → A,B``; at order 1 this is "collapse consecutive repeats");
- **paths shorter than k** (``n < k``) are one state, the whole path (``A > B`` at order
  3 is the state ``A,B``, which no longer path visits).

Each path then visits ``(start) → s_1 → … → s_m → (conversion) | (null)``; a path with
``x`` conversions and ``y`` non-converting journeys adds ``x + y`` to each of its
transitions, ``x`` to ``s_m → (conversion)``, ``y`` to ``s_m → (null)``. Transition
probabilities are these counts divided by each state's out-flow.

With ``Q`` the transient-to-transient transition matrix, ``b(s) = P(s → conversion)``
and ``b_v(s) = b(s) × (value of the conversions absorbed from s) / (their number)``, the
conversion probability and expected value from ``(start)`` are ``P = e_start' (I − Q)⁻¹ b``
and ``P^v = e_start' (I − Q)⁻¹ b_v``. Removing channel ``c`` sends every transition into a
state containing ``c`` to ``(null)``: ``P_{−c}`` and ``P^v_{−c}`` solve the same systems
restricted to the states without ``c``. The **removal effects** are
``RE_c = 1 − P_{−c} / P`` and ``RE^v_c = 1 − P^v_{−c} / P^v``; channel ``c`` receives
``conversions × RE_c / Σ_j RE_j`` and ``value × RE^v_c / Σ_j RE^v_j``. ChannelAttribution
estimates the same quantities by simulating the chain; here every system is solved
(sparse LU, or checked BiCGSTAB for chains over 2,000 states), so the answer is exact to
floating-point precision.

The chain is built from a **transition-count table** (``from_state``, ``to_state``,
``n``, ``conversions``, ``nulls``, ``value``). From touches (:func:`touch_transitions`):
one streaming collect of the coded columns (journey, channel code, position, converted,
value), one sort by journey and position, then over journey-aligned slices k-window
state ids from shifted channel codes, consecutive duplicates dropped, one ``group_by``
on ``(from_state, to_state)``. Per-journey paths (lists) are never built.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from closedloop_kit._core.frames import column_names
from closedloop_kit.attribution._paths import PathTable, code_names
from closedloop_kit.attribution._results import with_shares
from closedloop_kit.prepared import transform_touches

__all__ = [
    "MarkovFit",
    "TransitionCounts",
    "fit_markov",
    "markov_credits",
    "markov_path_shares",
    "path_transitions",
    "touch_transitions",
    "walk_steps",
]

_ORDERS = (1, 2, 3, 4)
_CHUNK = 1_000_000  # touches per journey-aligned slice when counting transitions
_DIRECT_MAX = 2_000  # states up to which the chain is solved by sparse LU


@dataclass(frozen=True)
class TransitionCounts:
    """Weighted transition counts between k-window states.

    Attributes
    ----------
    channels
        Channel names; channel code ``i + 1`` is ``channels[i]`` (0 pads short windows).
    order
        The Markov order ``k``.
    table
        ``from_state``, ``to_state`` (UInt64 packed windows; 0 is ``(start)``), ``n``
        (journeys making the transition), ``conversions``, ``nulls``, ``value`` (the
        journeys whose last state is ``to_state``: converted, not converted, their value).
    longest
        The most states one path visits (consecutive repeats merged; a path no journey
        followed counts one more, as ChannelAttribution's counter does); its walk limit
        is derived from it (:func:`walk_steps`); ``None`` when not counted.
    """

    channels: list[str]
    order: int
    table: pl.DataFrame
    longest: int | None = None


@dataclass(frozen=True)
class MarkovFit:
    """Removal effects, channel totals and the labelled transition matrix."""

    removal_effects: pl.DataFrame
    channels: pl.DataFrame
    transition_matrix: pl.DataFrame


def _check_order(order: int) -> None:
    if order not in _ORDERS:
        msg = f"`order` must be 1, 2, 3 or 4, got {order!r}"
        raise ValueError(msg)


def _bits(order: int) -> int:
    """Bits per channel code in a packed window (16 at order 4: up to 65,534 channels)."""
    return min(32, 64 // order)


def _same(j: int) -> pl.Expr:
    """Whether the row ``j`` rows away (negative: ahead) belongs to the same journey."""
    jid = pl.col("journey_id")
    return (jid.shift(j) == jid).fill_null(False)


def _windows(steps: pl.LazyFrame, order: int) -> pl.LazyFrame:
    """The states each journey visits: ``steps`` plus ``_state``, one row per visit."""
    bits = _bits(order)
    state = pl.col("code")
    for j in range(1, order):
        prev = pl.when(_same(j)).then(pl.col("code").shift(j)).otherwise(pl.lit(0, pl.UInt64))
        state = state + prev * pl.lit(2 ** (bits * j), pl.UInt64)
    last_touch = ~_same(-1)
    # a window ends at touch i when it is full (k − 1 touches before it in the journey) or
    # at the journey's last touch (a path shorter than k is one state: the whole path)
    ends = (_same(order - 1) | last_touch) if order > 1 else pl.lit(True)
    return (
        steps.with_columns(state.alias("_state"), ends.alias("_ends"))
        .filter(pl.col("_ends"))
        # consecutive identical windows are one visit (no self-loops)
        .filter((~(_same(1) & (pl.col("_state") == pl.col("_state").shift(1)))).fill_null(True))
    )


def _max_states(kept: pl.LazyFrame) -> int:
    """The most states one journey (path) visits, as ChannelAttribution counts them.

    A path no journey followed counts one more (its C++ step counter adds one there).
    """
    unfollowed = (pl.col("_conv").first() + pl.col("_null").first() == 0).cast(pl.UInt32)
    per = kept.group_by("journey_id").agg((pl.len() + unfollowed).alias("m"))
    return int(per.select(pl.col("m").max()).collect().item() or 0)


def _transitions(steps: pl.LazyFrame, order: int) -> pl.LazyFrame:
    """Transition counts from one row per step, sorted by ``journey_id`` then time.

    ``steps`` has ``journey_id``, ``code`` (UInt64 channel code ≥ 1) and the journey's
    ``_conv``, ``_null``, ``_value`` (conversions, non-conversions, converted value).
    """
    kept = _windows(steps, order)
    last = ~_same(-1)
    return (
        kept.select(
            pl.when(_same(1))
            .then(pl.col("_state").shift(1))
            .otherwise(pl.lit(0, pl.UInt64))
            .alias("from_state"),
            pl.col("_state").alias("to_state"),
            (pl.col("_conv") + pl.col("_null")).alias("n"),
            pl.when(last).then(pl.col("_conv")).otherwise(0.0).alias("conversions"),
            pl.when(last).then(pl.col("_null")).otherwise(0.0).alias("nulls"),
            pl.when(last).then(pl.col("_value")).otherwise(0.0).alias("value"),
        )
        .group_by("from_state", "to_state")
        .agg(pl.col("n", "conversions", "nulls", "value").sum())
    )


def touch_transitions(
    touches: pl.LazyFrame, *, order: int = 1, transform: str = "none", count_states: bool = False
) -> TransitionCounts:
    """Transition counts from touch-level journeys: one streaming collect, one sort.

    Memory is about the coded columns (≈ 30 bytes a touch) plus one sort index; the
    counting runs over journey-aligned slices of ``_CHUNK`` touches.

    Parameters
    ----------
    touches
        ``journey_id``, ``channel``, ``position`` (else ``occurred_at``), ``converted``
        and optional ``value``, one row per touch, in any row order.
    order
        Markov order ``k`` (1–4).
    transform
        Path simplification applied first (:data:`PathTransform`); ``"none"`` is
        ChannelAttribution's construction on the journeys' paths.
    count_states
        Also count the most states a journey visits (:attr:`TransitionCounts.longest`,
        for ``steps="channelattribution"``; one more group-by per slice).

    Returns
    -------
    TransitionCounts
        The small table the chain is solved from.
    """
    _check_order(order)
    cols = column_names(touches)
    by = "position" if "position" in cols else "occurred_at"
    value = pl.col("value").cast(pl.Float64).fill_null(0.0) if "value" in cols else pl.lit(0.0)
    cats = pl.Categories.random()  # private dictionary: codes 0 … C−1 in first-seen order
    name = pl.col("channel").cast(pl.String)
    jid = pl.col("journey_id")
    if not touches.collect_schema()["journey_id"].is_integer():  # dense u32 codes
        jid = jid.cast(pl.String).cast(pl.Categorical(pl.Categories.random())).to_physical()
    narrow = touches.select(
        jid.alias("journey_id"),
        name.cast(pl.Categorical(cats)).alias("channel"),
        pl.col(by).to_physical().alias("position"),
        pl.col("converted").cast(pl.Boolean),
        value.alias("value"),
        *([name.alias("_name")] if transform == "unique" else []),
    ).collect(engine="streaming")
    # names are read while a column still holds the categories (they are freed with it)
    names = [str(n) for n in cats.to_series().to_list()]
    narrow = narrow.with_columns(pl.col("channel").to_physical())
    ordered = _sort_touches(narrow)
    del narrow
    conv = pl.col("converted").cast(pl.Float64)
    parts = []
    longest: int | None = 0 if count_states else None
    for start, stop in _journey_slices(ordered.get_column("journey_id"), _CHUNK):
        chunk = transform_touches(ordered.slice(start, stop - start).lazy(), transform)
        if transform == "unique":  # the channel set in name order, as path_table builds it
            chunk = chunk.sort("journey_id", "_name")
        steps = chunk.select(
            "journey_id",
            (pl.col("channel").cast(pl.UInt64) + pl.lit(1, pl.UInt64)).alias("code"),
            conv.alias("_conv"),
            (1.0 - conv).alias("_null"),
            (pl.col("value") * conv).alias("_value"),
        )
        if longest is not None:  # read once, used twice
            steps = steps.collect().lazy()
            longest = max(longest, _max_states(_windows(steps, order)))
        parts.append(_transitions(steps, order).collect())
    table = (
        pl.concat(parts)
        .group_by("from_state", "to_state")
        .agg(pl.col("n", "conversions", "nulls", "value").sum())
    )
    if table["to_state"].null_count():
        msg = "`channel` has nulls; classify touches first (clk.channels.classify)"
        raise ValueError(msg)
    return _recode(table, names, order, longest)


def _journey_slices(journey_id: pl.Series, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` row ranges of about ``size`` rows that never split a journey."""
    n = journey_id.len()
    bounds = [0]
    while bounds[-1] + size < n:
        cut = bounds[-1] + size
        while cut < n and journey_id[cut] == journey_id[cut - 1]:
            cut += 1
        bounds.append(cut)
    if bounds[-1] < n or n == 0:
        bounds.append(n)
    return list(itertools.pairwise(bounds))


def _sort_touches(frame: pl.DataFrame) -> pl.DataFrame:
    """Sort by ``journey_id, position`` and drop ``position``, one column at a time.

    Integer ids and positions are packed into one UInt64 key when their ranges allow
    (one fast single-key sort); the gather goes column by column, so the peak is the
    frame plus one column, not two copies of the frame.
    """
    lo_j, hi_j, lo_p, hi_p = frame.select(
        pl.col("journey_id").min().alias("a"),
        pl.col("journey_id").max().alias("b"),
        pl.col("position").min().alias("c"),
        pl.col("position").max().alias("d"),
    ).row(0)
    if frame.height and (hi_j - lo_j + 1) * (hi_p - lo_p + 1) < 2**63:
        key = (pl.col("journey_id") - lo_j).cast(pl.UInt64) * (hi_p - lo_p + 1) + (
            pl.col("position") - lo_p
        ).cast(pl.UInt64)
        idx = frame.select(key.arg_sort()).to_series()
    else:
        idx = frame.select(pl.arg_sort_by("journey_id", "position")).to_series()
    frame = frame.drop("position")
    columns = []
    for col in frame.columns:
        columns.append(frame.get_column(col).gather(idx))
        frame = frame.drop(col)
    return pl.DataFrame(columns)


def path_transitions(pt: PathTable, *, order: int = 1) -> TransitionCounts:
    """Transition counts from a :class:`PathTable` (paths weighted by their journeys)."""
    _check_order(order)
    steps = (
        pt.table.lazy()
        .select(
            pl.col("path_id").alias("journey_id"),
            "path",
            pl.col("conversions").alias("_conv"),
            pl.col("nulls").alias("_null"),
            pl.col("value").fill_null(0.0).alias("_value"),
        )
        .explode("path")
        .with_columns((pl.col("path").cast(pl.UInt64) + pl.lit(1, pl.UInt64)).alias("code"))
        .drop("path")
    )
    table = _transitions(steps, order).collect()
    _check_codes(len(pt.channels), order)
    return TransitionCounts(list(pt.channels), order, table, _max_states(_windows(steps, order)))


def _check_codes(n_channels: int, order: int) -> None:
    if n_channels + 1 >= 2 ** _bits(order):
        msg = (
            f"order {order} Markov supports up to {2 ** _bits(order) - 2:,} channels, "
            f"got {n_channels:,}; group channels or lower `order`"
        )
        raise ValueError(msg)


def _recode(
    table: pl.DataFrame, names: list[str], order: int, longest: int | None = None
) -> TransitionCounts:
    """Renumber channel codes so that code ``i + 1`` is the ``i``-th name in sort order."""
    _check_codes(len(names), order)
    order_idx = np.argsort(np.array(names, dtype=object), kind="stable")
    new_code = np.zeros(len(names) + 1, dtype=np.uint64)
    new_code[order_idx + 1] = np.arange(1, len(names) + 1, dtype=np.uint64)
    bits, mask = _bits(order), np.uint64(2 ** _bits(order) - 1)

    def remap(s: pl.Series) -> pl.Series:
        v = s.to_numpy().astype(np.uint64)
        out = np.zeros_like(v)
        for j in range(order):
            shift = np.uint64(bits * j)
            out |= new_code[(v >> shift) & mask] << shift
        return pl.Series(s.name, out, dtype=pl.UInt64)

    table = table.with_columns(remap(table["from_state"]), remap(table["to_state"]))
    return TransitionCounts(sorted(names), order, table, longest)


def _components(states: np.ndarray, order: int) -> np.ndarray:
    """``(n_states, order)`` channel indices of packed windows, newest first; −1 pads."""
    bits, mask = _bits(order), np.uint64(2 ** _bits(order) - 1)
    comps = [((states >> np.uint64(bits * j)) & mask).astype(np.int64) - 1 for j in range(order)]
    return np.stack(comps, axis=1)


def _solve(a: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
    """Solve ``a x = rhs``: sparse LU up to ``_DIRECT_MAX`` states, else BiCGSTAB.

    Higher-order chains are de Bruijn-like graphs whose LU fills in (order 4, 10
    channels: 10k states, 5M factor entries, seconds per removal). The Krylov solve is
    run to a relative residual of 1e-14 and checked; if it fails, LU is used after all.
    """
    if a.shape[0] <= _DIRECT_MAX:
        return np.asarray(spla.splu(a).solve(rhs))
    out = np.empty_like(rhs)
    for j in range(rhs.shape[1]):
        b = rhs[:, j]
        x, info = spla.bicgstab(a, b, rtol=1e-14, atol=0.0, maxiter=10_000)
        scale = max(float(np.abs(b).max()), 1e-300)
        if info != 0 or float(np.abs(a @ x - b).max()) > 1e-12 * scale:
            return np.asarray(spla.splu(a).solve(rhs))
        out[:, j] = x
    return out


def walk_steps(tc: TransitionCounts, steps: int | str | None) -> int | None:
    """The number of transitions a walk may take: ``None`` (unlimited), or a count.

    ``"channelattribution"`` is ChannelAttribution 2.2.5's simulation limit. Its C++
    core counts, per path, the states visited plus the end (``max_npassi``, the largest
    over the paths, unless ``max_step`` is given), and simulates a walk while it has made
    at most that many non-absorbing steps: ``longest + 2`` transitions from ``(start)``,
    ``longest`` being :attr:`TransitionCounts.longest`; a walk that has not converted
    by then never does. (For paths without repeated windows that is ``longest path − k +
    3``.) Measured against its ``removal_effects`` at 5M simulations on random paths of
    longest 4, 6 and 9 at orders 1–3: this limit fits within its noise (≤ 0.002), the
    unlimited chain does not (0.006–0.033); ``benchmarks/ca_simulation.py``.

    Examples
    --------
    >>> tc = TransitionCounts(["A"], 2, pl.DataFrame(), longest=5)
    >>> walk_steps(tc, "channelattribution"), walk_steps(tc, None), walk_steps(tc, 12)
    (7, None, 12)
    """
    if steps is None:
        return None
    if steps == "channelattribution":
        if tc.longest is None:
            msg = "the transition counts were built without `count_states=True`"
            raise ValueError(msg)
        return tc.longest + 2
    if isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1:
        return steps
    msg = f"`steps` must be None, 'channelattribution' or a positive int, got {steps!r}"
    raise ValueError(msg)


def _within(a: sp.csc_matrix, rhs: np.ndarray, steps: int) -> np.ndarray:
    """What is absorbed from state 0 within ``steps`` transitions: Σ_{t<steps} e₀ᵀ Qᵗ r."""
    q = (sp.identity(a.shape[0], format="csr") - a).T.tocsr()
    cur = np.zeros(a.shape[0])
    cur[0] = 1.0
    acc = np.zeros(rhs.shape[1])
    for _ in range(steps):
        acc += cur @ rhs
        cur = q @ cur
    return acc


def fit_markov(tc: TransitionCounts, *, steps: int | None = None) -> MarkovFit:
    """Removal effects of the chain in a transition-count table (module docstring).

    ``steps=None`` solves the chain exactly (walks of any length); an integer counts only
    conversions reached within that many transitions from ``(start)``
    (:func:`walk_steps`), computed exactly by iterating the transition matrix.
    """
    t = tc.table
    src = t["from_state"].to_numpy().astype(np.uint64)
    dst = t["to_state"].to_numpy().astype(np.uint64)
    states, inv = np.unique(np.concatenate([[0], src, dst]).astype(np.uint64), return_inverse=True)
    n = states.size  # states[0] is (start): every real window has a channel in slot 0
    si, di = inv[1 : src.size + 1], inv[src.size + 1 :]
    weight = t["n"].to_numpy().astype(np.float64)
    conv_counts = np.bincount(di, weights=t["conversions"].to_numpy(), minlength=n)
    null_counts = np.bincount(di, weights=t["nulls"].to_numpy(), minlength=n)
    value_counts = np.bincount(di, weights=t["value"].to_numpy(), minlength=n)
    q_counts = sp.csr_matrix((weight, (si, di)), shape=(n, n))
    out = np.asarray(q_counts.sum(axis=1)).ravel() + conv_counts + null_counts
    inv_out = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = sp.diags(inv_out) @ q_counts
    rhs = np.column_stack([conv_counts * inv_out, value_counts * inv_out])
    a = (sp.identity(n, format="csc") - q).tocsc()

    def solve(mask: np.ndarray) -> np.ndarray:
        idx = np.nonzero(mask)[0]
        sub = a[idx][:, idx].tocsc()
        if steps is not None:
            return _within(sub, rhs[idx], steps)
        y = _solve(sub, rhs[idx])
        return np.asarray(y[0], dtype=np.float64)  # idx[0] == 0: (start) is never removed

    full = solve(np.ones(n, dtype=bool))
    comps = _components(states, tc.order)
    comps[0] = -1
    rows = []
    for c, name in enumerate(tc.channels):
        without = solve(~(comps == c).any(axis=1))
        re = [1.0 - without[i] / full[i] if full[i] > 0 else 0.0 for i in range(2)]
        rows.append({"channel": name, "removal_effect": re[0], "removal_effect_value": re[1]})
    re_frame = pl.DataFrame(
        rows,
        schema={
            "channel": pl.String,
            "removal_effect": pl.Float64,
            "removal_effect_value": pl.Float64,
        },
    )
    total_conv, total_value = float(conv_counts.sum()), float(value_counts.sum())
    re_sum = re_frame["removal_effect"].sum()
    rev_sum = re_frame["removal_effect_value"].sum()
    channels = with_shares(
        re_frame.select(
            "channel",
            (pl.col("removal_effect") / re_sum * total_conv if re_sum else pl.lit(0.0)).alias(
                "conversions"
            ),
            (
                pl.col("removal_effect_value") / rev_sum * total_value if rev_sum else pl.lit(0.0)
            ).alias("value"),
        )
    )
    tm = _transition_matrix(tc, comps, q, rhs[:, 0], null_counts * inv_out)
    return MarkovFit(re_frame, channels, tm)


def _transition_matrix(
    tc: TransitionCounts,
    comps: np.ndarray,
    q: sp.csr_matrix,
    absorb_conv: np.ndarray,
    absorb_null: np.ndarray,
) -> pl.DataFrame:
    """``from_state, to_state, probability`` with channel names (``"Email>Webinar"``)."""
    n = comps.shape[0]
    labels = ["(start)"] + [
        ">".join(
            tc.channels[int(comps[i, j])] for j in reversed(range(tc.order)) if comps[i, j] >= 0
        )
        for i in range(1, n)
    ]
    coo = q.tocoo()
    src = np.concatenate([coo.row, np.arange(n), np.arange(n)])
    dst = [labels[i] for i in coo.col] + ["(conversion)"] * n + ["(null)"] * n
    prob = np.concatenate([coo.data, absorb_conv, absorb_null])
    return (
        pl.DataFrame({"from_state": [labels[i] for i in src], "to_state": dst, "probability": prob})
        .filter(pl.col("probability") > 0)
        .sort("from_state", "to_state")
    )


def markov_credits(touches: pl.LazyFrame, removal_effects: pl.DataFrame) -> pl.LazyFrame:
    """Per-touch credit of converting journeys in proportion to their channels' ``RE_c``.

    A converting journey with distinct channels ``C_J`` gives channel ``c`` the share
    ``max(RE_c, 0) / Σ_{j∈C_J} max(RE_j, 0)`` (evenly over ``C_J`` when that sum is 0),
    split evenly over the journey's touches of ``c``. Adds ``credit`` to ``touches``.
    """
    re = removal_effects.lazy().select(
        pl.col("channel").alias("_channel"),
        pl.col("removal_effect").clip(lower_bound=0.0).alias("_re"),
    )
    per_channel = pl.len().over("journey_id", "_channel").cast(pl.Float64)
    denom = (pl.col("_re") / per_channel).sum().over("journey_id")
    n_channels = (1.0 / per_channel).sum().over("journey_id")
    return (
        touches.filter(pl.col("converted"))
        .with_columns(pl.col("channel").cast(pl.String).alias("_channel"))
        .join(re, on="_channel", how="left")
        .with_columns(pl.col("_re").fill_null(0.0))
        .with_columns(
            (
                pl.when(denom > 0).then(pl.col("_re") / denom).otherwise(1.0 / n_channels)
                / per_channel
            ).alias("credit")
        )
        .drop("_channel", "_re")
    )


def markov_path_shares(pt: PathTable, removal_effects: pl.DataFrame) -> pl.DataFrame:
    """``path_id, channel, share`` of each converting path (as :func:`markov_credits`)."""
    re = removal_effects.select(
        "channel", pl.col("removal_effect").clip(lower_bound=0.0).alias("_re")
    )
    per = (
        pt.table.filter(pl.col("conversions") > 0)
        .select("path_id", pl.col("path").list.unique().alias("code"))
        .explode("code")
        .with_columns(pl.col("code").cast(pl.UInt32))
        .join(code_names(pt), on="code", how="left")
        .join(re, on="channel", how="left")
        .with_columns(pl.col("_re").fill_null(0.0))
    )
    return per.select(
        "path_id",
        "channel",
        pl.when(pl.col("_re").sum().over("path_id") > 0)
        .then(pl.col("_re") / pl.col("_re").sum().over("path_id"))
        .otherwise(1.0 / pl.len().over("path_id"))
        .alias("share"),
    )
