"""Time ecomkit against pandas and polars doing the same work, check that the outputs agree,
and print one table of medians and ratios. A benchmark, not a test: `make bench`.

    python benches/compare.py                      # every case at full size
    python benches/compare.py --rows 1000000       # smaller
    python benches/compare.py --case explosive_score --repeat 5
    python benches/compare.py --case assign_ids --case uplift_report

Sizes: explosive_score and assign_ids use --rows rows (10M); uplift_report and roc_auc
10 × --rows (100M); ranking_metrics --rows / 10 groups of 50 items (1M groups).

Each case generates its data once, runs every implementation `--repeat` times (pandas, the
slowest, fewer), checks the outputs against ecomkit's, and reports the median wall time.
"ratio" is the other implementation's time divided by ecomkit's on the same input kind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

import ecomkit
from ecomkit.score import explosive_score


@dataclass
class Timing:
    case: str
    name: str
    seconds: float
    baseline: str | None = None  # the ecomkit row this one is compared with


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        result = None  # free the previous result before the clock starts
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# --- explosive score --------------------------------------------------------------------

WEIGHTS = {"bsr": -1.0, "reviews": 1.0, "price": 0.3, "rating": 0.5}
BY = ["site", "category"]


def explosive_data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    sites = np.array([f"site_{i}" for i in range(10)])
    categories = np.array([f"category_{i:03d}" for i in range(200)])
    return pd.DataFrame(
        {
            "site": sites[rng.integers(0, len(sites), rows)],
            "category": categories[rng.integers(0, len(categories), rows)],
            "bsr": rng.lognormal(8, 2, rows),
            "reviews": rng.lognormal(3, 1.5, rows),
            "price": rng.lognormal(3, 0.7, rows),
            "rating": rng.normal(4.2, 0.4, rows),
        }
    )


def explosive_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """The straightforward pandas groupby implementation (the seed pipeline's)."""
    keys = [df[b] for b in BY]
    out = {}
    score = pd.Series(0.0, index=df.index)
    for feature, weight in WEIGHTS.items():
        x = df[feature]
        median = x.groupby(keys, sort=False).transform("median")
        mad = (x - median).abs().groupby(keys, sort=False).transform("median")
        z = (x - median) / (1.482602218505602 * mad)
        out[f"z_{feature}"] = z
        score = score + weight * z.fillna(0.0)
    out["explosive_score"] = score
    out["rank"] = score.groupby(keys, sort=False).rank(method="first", ascending=False)
    return df.assign(**out)


def explosive_polars(df: pl.DataFrame) -> pl.DataFrame:
    """The best polars expression we know for the same output."""
    zs = []
    for feature in WEIGHTS:
        median = pl.col(feature).median().over(BY)
        mad = (pl.col(feature) - median).abs().median().over(BY)
        zs.append(((pl.col(feature) - median) / (1.482602218505602 * mad)).alias(f"z_{feature}"))
    score = pl.sum_horizontal(
        [weight * pl.col(f"z_{f}").fill_nan(0.0).fill_null(0.0) for f, weight in WEIGHTS.items()]
    ).alias("explosive_score")
    return (
        df.with_columns(zs)
        .with_columns(score)
        .with_columns(
            pl.col("explosive_score").rank("ordinal", descending=True).over(BY).alias("rank")
        )
    )


def check_same(ours: pd.DataFrame, theirs: pd.DataFrame, label: str) -> None:
    for column in [f"z_{f}" for f in WEIGHTS] + ["explosive_score"]:
        np.testing.assert_allclose(
            ours[column].to_numpy(dtype=float),
            theirs[column].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=f"{label}: {column}",
        )
    np.testing.assert_array_equal(
        ours["rank"].to_numpy(dtype=np.int64), theirs["rank"].to_numpy(dtype=np.int64), label
    )


def case_explosive_score(rows: int, repeat: int) -> list[Timing]:
    case = f"explosive_score {rows:,} rows, 4 features, by site×category"
    df = explosive_data(rows)
    pdf = pl.from_pandas(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    cat = df.astype({"site": "category", "category": "category"})
    print(f"{case}: {df.groupby(BY).ngroups} groups", file=sys.stderr)

    timings = []
    t, ours_pd = timed(lambda: explosive_score(df, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (pandas in/out)", t))
    t, _ = timed(lambda: explosive_score(cat, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (pandas, category keys)", t))
    t, ours_pl = timed(lambda: explosive_score(pdf, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (polars in/out)", t))
    t, _ = timed(lambda: explosive_score(table, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (pyarrow in/out)", t))

    t, theirs = timed(lambda: explosive_pandas(df), max(1, repeat // 2))
    timings.append(Timing(case, "pandas groupby", t, "ecomkit (pandas in/out)"))
    check_same(ours_pd, theirs, "pandas")
    t, theirs_pl = timed(lambda: explosive_polars(pdf), repeat)
    timings.append(Timing(case, "polars expressions", t, "ecomkit (polars in/out)"))
    check_same(ours_pl.to_pandas(), theirs_pl.to_pandas(), "polars")
    return timings


# --- traffic splitting -------------------------------------------------------------------

ASSIGN_CODE = """
import sys, time
import pyarrow as pa, pyarrow.compute as pc, numpy as np
from ecomkit.abtest import TrafficSplitter
n, repeat = int(sys.argv[1]), int(sys.argv[2])
ids = pc.binary_join_element_wise("user-", pc.cast(pa.array(np.arange(n)), pa.string()), "")
splitter = TrafficSplitter("bench-exp", ["control", "a", "b"])
times = []
for _ in range(repeat):
    start = time.perf_counter()
    splitter.assign_index(ids)
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2])
"""


def case_assign_ids(rows: int, repeat: int) -> list[Timing]:
    """Assign `rows` string ids to 3 variants; GrowthBook's Python SDK timed on a sample."""
    from growthbook import Experiment, GrowthBook

    from ecomkit.abtest import TrafficSplitter

    case = f"assign {rows:,} string ids to 3 variants (GrowthBook v2 hash)"
    ids = pc.binary_join_element_wise("user-", pc.cast(pa.array(np.arange(rows)), pa.string()), "")
    splitter = TrafficSplitter("bench-exp", ["control", "a", "b"])
    timings = []
    t, ours = timed(lambda: splitter.assign_index(ids), repeat)
    timings.append(Timing(case, "ecomkit TrafficSplitter.assign_index (all cores)", t))
    env = {**os.environ, "RAYON_NUM_THREADS": "1"}
    one = subprocess.run(
        [sys.executable, "-c", ASSIGN_CODE, str(rows), str(repeat)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    t_one = float(one.stdout.strip())
    timings.append(Timing(case, "ecomkit TrafficSplitter.assign_index (1 thread)", t_one))

    sample = 20_000
    experiment = Experiment(key="bench-exp", variations=[0, 1, 2], hashVersion=2)
    sample_ids = ids.slice(0, sample).to_pylist()

    def growthbook_run() -> list[int]:
        return [GrowthBook(attributes={"id": i}).run(experiment).variationId for i in sample_ids]

    t, theirs = timed(growthbook_run, max(1, repeat // 2))
    np.testing.assert_array_equal(ours[:sample], theirs, "growthbook")
    timings.append(
        Timing(
            case,
            f"growthbook SDK run() per id (timed on {sample:,}, scaled)",
            t * rows / sample,
            "ecomkit TrafficSplitter.assign_index (1 thread)",
        )  # fmt: skip
    )
    print(f"{case}: {rows / t_one / 1e6:.1f}M ids/s on one thread", file=sys.stderr)
    return timings


# --- uplift report --------------------------------------------------------------------------

UPLIFT_METRICS = ["converted", "clicks", "gmv"]


def uplift_data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 3, rows).astype(np.int8)
    lift = np.array([1.0, 1.01, 1.02])[codes]
    return pd.DataFrame(
        {
            "variant": pd.Categorical.from_codes(codes, ["control", "a", "b"]),
            "converted": (rng.random(rows) < 0.05 * lift).astype(np.int8),
            "clicks": rng.poisson(2.0, rows).astype(np.float64),
            "gmv": rng.exponential(3.0, rows) * lift,
        }
    )


def uplift_pandas(df: pd.DataFrame) -> dict[tuple[str, str], float]:
    """pandas groupby for count/mean/var, then scipy / statsmodels per variant × metric."""
    from statsmodels.stats.proportion import proportions_ztest

    agg = df.groupby("variant", observed=True)[UPLIFT_METRICS].agg(["count", "mean", "var"])
    p_values = {}
    for variant in ("a", "b"):
        t, c = agg.loc[variant], agg.loc["control"]
        n_t, n_c = t[("converted", "count")], c[("converted", "count")]
        _, p = proportions_ztest(
            [t[("converted", "mean")] * n_t, c[("converted", "mean")] * n_c], [n_t, n_c]
        )
        p_values[(variant, "converted")] = p
        for metric in ("clicks", "gmv"):
            p_values[(variant, metric)] = stats.ttest_ind_from_stats(
                t[(metric, "mean")], np.sqrt(t[(metric, "var")]), t[(metric, "count")],
                c[(metric, "mean")], np.sqrt(c[(metric, "var")]), c[(metric, "count")],
                equal_var=False,
            ).pvalue  # fmt: skip
    return p_values


def uplift_polars(df: pl.DataFrame) -> dict[tuple[str, str], float]:
    """polars group_by for count/mean/var, then the same scipy calls."""
    agg = df.group_by("variant").agg(
        [pl.len().alias("n")]
        + [pl.col(m).mean().alias(f"{m}_mean") for m in UPLIFT_METRICS]
        + [pl.col(m).var().alias(f"{m}_var") for m in UPLIFT_METRICS]
    )
    rows = {r["variant"]: r for r in agg.to_dicts()}
    p_values = {}
    for variant in ("a", "b"):
        t, c = rows[variant], rows["control"]
        for metric in ("clicks", "gmv"):
            p_values[(variant, metric)] = stats.ttest_ind_from_stats(
                t[f"{metric}_mean"], np.sqrt(t[f"{metric}_var"]), t["n"],
                c[f"{metric}_mean"], np.sqrt(c[f"{metric}_var"]), c["n"], equal_var=False,
            ).pvalue  # fmt: skip
    return p_values


def case_uplift_report(rows: int, repeat: int) -> list[Timing]:
    from ecomkit.abtest import evaluate_experiment

    rows *= 10  # 100M unit rows at the default --rows
    case = f"uplift report, {rows:,} unit rows, 3 variants, 3 metrics"
    df = uplift_data(rows)
    pdf = pl.from_pandas(df)
    timings = []
    t, ours = timed(lambda: evaluate_experiment(df, "variant", UPLIFT_METRICS, "control"),
                    repeat)  # fmt: skip
    timings.append(Timing(case, "ecomkit evaluate_experiment (pandas in)", t))
    t, _ = timed(lambda: evaluate_experiment(pdf, "variant", UPLIFT_METRICS, "control"), repeat)
    timings.append(Timing(case, "ecomkit evaluate_experiment (polars in)", t))
    t, theirs = timed(lambda: uplift_pandas(df), max(1, repeat // 2))
    timings.append(
        Timing(case, "pandas groupby + scipy", t, "ecomkit evaluate_experiment (pandas in)")
    )
    t, theirs_pl = timed(lambda: uplift_polars(pdf), repeat)
    timings.append(
        Timing(case, "polars group_by + scipy", t, "ecomkit evaluate_experiment (polars in)")
    )
    frame = ours.to_dataframe()
    for (variant, metric), p in {**theirs, **theirs_pl}.items():
        mine = frame[(frame["variant"] == variant) & (frame["metric"] == metric)]["p_value"].iloc[0]
        np.testing.assert_allclose(mine, p, rtol=1e-6, err_msg=f"{variant} {metric}")
    return timings


# --- ranking metrics ---------------------------------------------------------------------------

CUTS = [1, 5, 10]


def ranking_data(n_groups: int, size: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    n = n_groups * size
    groups = np.repeat(np.arange(n_groups, dtype=np.int64), size)
    labels = np.where(rng.random(n) < 0.1, rng.integers(1, 4, n), 0).astype(np.float64)
    scores = labels * 0.3 + rng.random(n)
    return labels, scores, groups


def ours_ranking(labels, scores, groups) -> dict[str, dict[int, float]]:
    from ecomkit import metrics

    out = metrics.ranking_metrics(labels, scores, groups, k=CUTS, gain="linear",
                                  metrics=["ndcg", "average_precision", "recall"])  # fmt: skip
    return {"ndcg": out["ndcg"], "map": out["average_precision"], "recall": out["recall"]}


def case_ranking_metrics(rows: int, repeat: int) -> list[Timing]:
    """NDCG, MAP and recall at k = 1, 5, 10 over rows/10 groups × 50 items (1M × 50 at the
    default --rows); scikit-learn and ranx timed on subsets and scaled linearly."""
    import ranx
    from sklearn.metrics import ndcg_score

    n_groups = rows // 10
    case = f"ndcg/map/recall @1,5,10, {n_groups:,} groups × 50 items"
    labels, scores, groups = ranking_data(n_groups)
    timings = []
    t, ours = timed(lambda: ours_ranking(labels, scores, groups), repeat)
    timings.append(Timing(case, "ecomkit ranking_metrics (one call)", t))

    subset = 2000  # scikit-learn: one ndcg_score call per group and cut-off
    y2, s2 = labels[: subset * 50].reshape(subset, 50), scores[: subset * 50].reshape(subset, 50)

    def sklearn_loop() -> dict[int, float]:
        pairs = list(zip(y2, s2, strict=True))
        return {k: float(np.mean([ndcg_score([y], [s], k=k) for y, s in pairs])) for k in CUTS}

    t, theirs = timed(sklearn_loop, 1)
    ours_subset = ours_ranking(labels[: subset * 50], scores[: subset * 50], groups[: subset * 50])
    for k in CUTS:
        np.testing.assert_allclose(ours_subset["ndcg"][k], theirs[k], rtol=1e-9, err_msg="sklearn")
    timings.append(Timing(case, f"scikit-learn ndcg_score per group (ndcg only; {subset:,} "
                                "groups, scaled)", t * n_groups / subset,
                          "ecomkit ranking_metrics (one call)"))  # fmt: skip

    sub = min(n_groups, 100_000)
    qrels, run = {}, {}
    for g in range(sub):
        rows_g = slice(g * 50, (g + 1) * 50)
        lab, sco = labels[rows_g], scores[rows_g]
        qrels[str(g)] = {str(i): int(lab[i]) for i in np.flatnonzero(lab > 0)}
        run[str(g)] = {str(i): float(sco[i]) for i in range(50)}
    keep = [q for q in qrels if qrels[q]]
    qrels_r = ranx.Qrels({q: qrels[q] for q in keep})
    run_r = ranx.Run({q: run[q] for q in keep})
    wanted = [f"{m}@{k}" for m in ("ndcg", "map", "recall") for k in CUTS]
    ranx.evaluate(qrels_r, run_r, wanted)  # JIT warm-up
    t, _ = timed(lambda: ranx.evaluate(qrels_r, run_r, wanted), repeat)
    timings.append(Timing(case, f"ranx evaluate after JIT warm-up ({len(keep):,} groups, "
                                "scaled)", t * n_groups / len(keep),
                          "ecomkit ranking_metrics (one call)"))  # fmt: skip
    return timings


def case_roc_auc(rows: int, repeat: int) -> list[Timing]:
    from sklearn.metrics import roc_auc_score

    from ecomkit import metrics

    rows *= 10  # 100M at the default --rows
    case = f"roc_auc over {rows:,} rows"
    rng = np.random.default_rng(3)
    y = (rng.random(rows) < 0.2).astype(np.float64)
    p = np.round(y * 0.2 + rng.random(rows), 6)  # ties, as real scores have
    timings = []
    t, ours = timed(lambda: metrics.roc_auc(y, p), repeat)
    timings.append(Timing(case, "ecomkit roc_auc", t))
    t, theirs = timed(lambda: roc_auc_score(y, p), max(1, repeat // 2))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    timings.append(Timing(case, "scikit-learn roc_auc_score", t, "ecomkit roc_auc"))
    return timings


SIGNALS = ["bsr", "price", "review_count"]


def rolling_pandas(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """pandas groupby().rolling("7D") for mean and std; the slope from rolling means of t,
    y, t·y and t² (the vectorised way; rolling.apply(np.polyfit) would take hours), the
    means of t and t² shared by the three signals."""
    d = df.sort_values(["asin", "date"], kind="stable")
    days = (d["date"] - d["date"].min()).dt.days.astype(float)
    frame = d[["asin", "date"]].copy()
    frame["t"] = days
    frame["tt"] = days * days
    for column in SIGNALS:
        y = d[column].astype(float)
        frame[column] = y
        frame[f"{column}_ty"] = days * y
    rolled = frame.set_index("date").groupby("asin", sort=False)
    out = {}
    for window in ("7D", "30D"):
        r = rolled.rolling(window)
        means = r.mean()
        stds = r[SIGNALS].std()
        label = window.lower()
        mt = means["t"]
        var_t = means["tt"] - mt * mt
        for column in SIGNALS:
            my = means[column]
            slope = (means[f"{column}_ty"] - mt * my) / var_t.where(var_t > 1e-9)
            out[f"{column}_mean_{label}"] = my.to_numpy()
            out[f"{column}_std_{label}"] = stds[column].to_numpy()
            out[f"{column}_slope_{label}"] = slope.to_numpy()
    order = d.index.to_numpy()
    return {name: _unsort(values, order) for name, values in out.items()}


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def rolling_polars(df: pl.DataFrame) -> pl.DataFrame:
    """polars rolling_*_by over each ASIN: the same moments as the pandas version."""
    days = (pl.col("date") - pl.col("date").min()).dt.total_days().cast(pl.Float64)
    exprs = []
    for window in ("7d", "30d"):

        def mean(e: pl.Expr, w: str = window) -> pl.Expr:
            return e.rolling_mean_by("date", window_size=w).over("asin")

        for column in SIGNALS:
            y = pl.col(column).cast(pl.Float64)
            mt, my = mean(days), mean(y)
            var_t = mean(days * days) - mt * mt
            exprs += [
                my.alias(f"{column}_mean_{window}"),
                y.rolling_std_by("date", window_size=window)
                .over("asin")
                .alias(f"{column}_std_{window}"),
                pl.when(var_t > 1e-9)
                .then((mean(days * y) - mt * my) / var_t)
                .alias(f"{column}_slope_{window}"),
            ]
    return df.select(exprs)


def check_rolling(ours: pd.DataFrame, theirs: dict[str, np.ndarray], df: pd.DataFrame) -> None:
    """Agreement up to the others' rounding: pandas' and polars' add/remove updates drift by
    ~1e-8 of the signal's magnitude (ecomkit recomputes when the spread collapses), and the
    moment formula of their slope loses digits to cancellation."""
    for name, values in theirs.items():
        scale = float(
            np.abs(df[name.split("_")[0] if "review" not in name else "review_count"]).max()
        )
        rtol = 1e-6 if "slope" in name else 1e-9
        np.testing.assert_allclose(
            ours[name], values, rtol=rtol, atol=1e-7 * scale, equal_nan=True, err_msg=name
        )


def case_rolling_features(rows: int, repeat: int) -> list[Timing]:
    """5,000 ASINs × 730 days × 3 signals × 2 windows × (mean, std, slope)."""
    from ecomkit import features

    daily = ecomkit.datasets.asin_daily(5000, 730, backend="pyarrow")
    df = daily.to_pandas(date_as_object=False)
    pdf = pl.from_arrow(daily)
    case = f"rolling features, {len(df):,} rows (5k ASINs × 730 days), 18 outputs"

    def ours(frame):
        return features.rolling(frame, "asin", "date", SIGNALS, ["7d", "30d"],
                                ["mean", "std", "slope"])  # fmt: skip

    timings = []
    t, out = timed(lambda: ours(df), repeat)
    timings.append(Timing(case, "ecomkit rolling, pandas in/out", t))
    t, _ = timed(lambda: ours(pdf), repeat)
    timings.append(Timing(case, "ecomkit rolling, polars in/out", t))
    t, theirs = timed(lambda: rolling_pandas(df), max(1, repeat // 2))
    check_rolling(out, theirs, df)
    timings.append(Timing(case, "pandas groupby().rolling()", t, "ecomkit rolling, pandas in/out"))
    t, theirs = timed(lambda: rolling_polars(pdf), repeat)
    check_rolling(out, {name: theirs[name].to_numpy() for name in theirs.columns}, df)
    timings.append(
        Timing(case, "polars rolling_*_by().over()", t, "ecomkit rolling, polars in/out")
    )
    return timings


def _sorted_into_sessions_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """Events sorted by (user, time), numbered into sessions: diff > 30 min or a new user."""
    d = df[["visitorid", "timestamp", "event", "itemid"]]
    d = d.sort_values(["visitorid", "timestamp"], kind="stable")
    gap = d["timestamp"].diff() > pd.Timedelta("30min")
    new = gap | d["visitorid"].ne(d["visitorid"].shift())
    return d.assign(
        session=new.cumsum() - 1,
        is_view=d["event"] == "view",
        is_cart=d["event"] == "addtocart",
        is_purchase=d["event"] == "transaction",
    )


def _session_table_pandas(d: pd.DataFrame) -> pd.DataFrame:
    sessions = d.groupby("session").agg(
        start=("timestamp", "min"),
        end=("timestamp", "max"),
        n_events=("event", "size"),
        n_view=("is_view", "sum"),
        n_addtocart=("is_cart", "sum"),
        n_transaction=("is_purchase", "sum"),
        n_items=("itemid", "nunique"),
    )
    sessions["duration_seconds"] = (sessions["end"] - sessions["start"]).dt.total_seconds()
    sessions["purchased"] = sessions["n_transaction"] > 0
    sessions["start_hour"] = sessions["start"].dt.hour
    sessions["is_weekend"] = sessions["start"].dt.day_of_week >= 5
    return sessions


def sessions_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """The session table only (fewer outputs than ecomkit's): sort, diff > 30 min within
    the user, cumsum, then one groupby().agg()."""
    return _session_table_pandas(_sorted_into_sessions_pandas(df))


def session_features_pandas(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All that `features.session_features` returns: the session table, and the events with
    their session, the views of their item in the session so far and the seconds since the
    item's previous view there. A stable sort by (session, item) puts each session's item's
    events together in time order; running sums restarted at each run's first row give the
    per-item columns (5.8 s per 5M events, against 7.0 s for the same through
    groupby([session, item]) cumsum / shift / ffill). The generated events all have an
    item; a null one would need the care ecomkit takes (no views, no previous view)."""
    d = _sorted_into_sessions_pandas(df)
    sessions = _session_table_pandas(d)
    d = d[["session", "itemid", "timestamp", "is_view"]]
    d = d.sort_values(["session", "itemid"], kind="stable")
    first = d["session"].ne(d["session"].shift()) | d["itemid"].ne(d["itemid"].shift())
    views_so_far = d["is_view"].cumsum()
    views = views_so_far - (views_so_far - d["is_view"]).where(first).ffill().astype("int64")
    # The previous view's time; each run's first row holds a sentinel so ffill stays inside.
    sentinel = d["timestamp"].min() - pd.Timedelta(1, "D")
    previous = d["timestamp"].where(d["is_view"]).shift().mask(first, sentinel).ffill()
    seconds = (d["timestamp"] - previous.mask(previous == sentinel)).dt.total_seconds()
    order = d.index.to_numpy()
    events = df.assign(
        session_id=_unsort(d["session"].to_numpy(), order),
        item_views_in_session=_unsort(views.to_numpy(), order),
        seconds_since_item_view=_unsort(seconds.to_numpy(), order),
    )
    return sessions, events


def _sorted_into_sessions_polars(df: pl.DataFrame) -> pl.DataFrame:
    new = (pl.col("timestamp").diff() > pl.duration(minutes=30)) | (
        pl.col("visitorid") != pl.col("visitorid").shift()
    )
    used = ["row", "visitorid", "timestamp", "event", "itemid"]
    return (
        df.select([name for name in used if name in df.columns])
        .sort(["visitorid", "timestamp"], maintain_order=True)
        .with_columns(session=new.fill_null(True).cum_sum() - 1)
    )


def _session_table_polars(d: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    return (
        d.group_by("session")
        .agg(
            start=pl.col("timestamp").min(),
            end=pl.col("timestamp").max(),
            n_events=pl.len(),
            n_view=(pl.col("event") == "view").sum(),
            n_addtocart=(pl.col("event") == "addtocart").sum(),
            n_transaction=(pl.col("event") == "transaction").sum(),
            n_items=pl.col("itemid").n_unique(),
        )
        .with_columns(
            duration_seconds=(pl.col("end") - pl.col("start")).dt.total_seconds(fractional=True),
            purchased=pl.col("n_transaction") > 0,
            start_hour=pl.col("start").dt.hour(),
            is_weekend=pl.col("start").dt.weekday() >= 6,
        )
    )


def sessions_polars(df: pl.DataFrame) -> pl.DataFrame:
    """The session table only (fewer outputs than ecomkit's)."""
    return _session_table_polars(_sorted_into_sessions_polars(df))


def session_features_polars(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All that `features.session_features` returns, as session_features_pandas: one sort
    into sessions, then the table and the per-item running sums as two lazy queries run
    together (the per-item columns through .over(["session", "itemid"]) took 10.4 s per 5M
    events, against 1.9 s this way)."""
    d = _sorted_into_sessions_polars(df.with_row_index("row")).lazy()
    is_view = pl.col("event") == "view"
    first = (
        (pl.col("session") != pl.col("session").shift())
        | (pl.col("itemid") != pl.col("itemid").shift())
    ).fill_null(True)
    views_so_far = is_view.cast(pl.Int64).cum_sum()
    micros = pl.col("timestamp").dt.epoch("us")
    sentinel = pl.lit(np.iinfo(np.int64).min)
    previous = (
        pl.when(first).then(sentinel).otherwise(pl.when(is_view).then(micros).shift(1))
    ).forward_fill()
    events = (
        d.sort(["session", "itemid"], maintain_order=True)
        .with_columns(
            item_views_in_session=views_so_far
            - pl.when(first).then(views_so_far - is_view.cast(pl.Int64)).forward_fill(),
            seconds_since_item_view=pl.when(previous != sentinel).then((micros - previous) / 1e6),
        )
        .sort("row")
        .drop("row")
        .rename({"session": "session_id"})
    )
    sessions, events = pl.collect_all([_session_table_polars(d), events])
    return sessions, events


def session_outputs(result: tuple) -> dict[str, np.ndarray]:
    """What check_sessions compares, as numpy arrays (the frames themselves are let go)."""
    sessions, events = result
    out = {
        column: np.sort(sessions[column].to_numpy().astype(float))
        for column in ("n_events", "n_view", "n_items", "duration_seconds")
    }
    for column in ("session_id", "item_views_in_session", "seconds_since_item_view"):
        values = events[column]
        if isinstance(values, pl.Series):
            values = values.fill_null(np.nan) if values.dtype.is_float() else values
        out[column] = np.asarray(values.to_numpy())
    return out


def check_sessions(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> None:
    """The same sessions (one-to-one ids), table columns and per-event features."""
    for column in ("n_events", "n_view", "n_items", "duration_seconds"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-12, err_msg=column)
    ids, their_ids = ours["session_id"], theirs["session_id"]
    mapped = np.empty(len(ours["n_events"]), dtype=np.int64)
    mapped[ids] = their_ids  # ours are numbered by first appearance, theirs by user id
    assert np.array_equal(mapped[ids], their_ids), "session ids are not one-to-one"
    assert len(np.unique(mapped)) == len(mapped), "session ids are not one-to-one"
    np.testing.assert_array_equal(ours["item_views_in_session"], theirs["item_views_in_session"])
    # pandas' total_seconds rounds 1.344 s to 1.3439999999999999
    np.testing.assert_allclose(
        ours["seconds_since_item_view"], theirs["seconds_since_item_view"], rtol=1e-12
    )


def case_sessions(rows: int, repeat: int) -> list[Timing]:
    """Sessionization and session features of ~5 × rows events (50M by default). The
    pandas and polars halves run one after the other, each on its own copy of the events,
    so that the two copies and their outputs are never in memory together."""
    from ecomkit import features

    n_users = max(1, rows * 5 // 56)  # about 56 events per user over 30 days: 50M events

    def clicks() -> pa.Table:  # the columns session features read (a smaller peak memory)
        events = ecomkit.datasets.clickstream(n_users, 30, backend="pyarrow")
        return events.select(["timestamp", "visitorid", "event", "itemid"])

    df = clicks().to_pandas()
    case = f"sessions + session features, {len(df):,} events, {n_users:,} users"
    ours_pandas = "ecomkit session_features, pandas in/out"
    ours_polars = "ecomkit session_features, polars in/out"
    timings = []
    t, result = timed(lambda: features.session_features(df), repeat)
    ours, result = session_outputs(result), None
    timings.append(Timing(case, ours_pandas, t))
    t, result = timed(lambda: session_features_pandas(df), 1)
    check_sessions(ours, session_outputs(result))
    result = None
    timings.append(Timing(case, "pandas, the same outputs (table + per-item columns)", t,
                          ours_pandas))  # fmt: skip
    t, result = timed(lambda: sessions_pandas(df), 1)
    assert len(result) == len(ours["n_events"])
    result = df = None
    timings.append(Timing(case, "pandas, session table only", t, ours_pandas))

    pdf = pl.from_arrow(clicks())
    t, result = timed(lambda: features.session_features(pdf), repeat)
    check_sessions(ours, session_outputs(result))
    result = None
    timings.append(Timing(case, ours_polars, t))
    t, result = timed(lambda: session_features_polars(pdf), max(1, repeat // 2))
    check_sessions(ours, session_outputs(result))
    result = None
    timings.append(Timing(case, "polars, the same outputs (table + per-item columns)", t,
                          ours_polars))  # fmt: skip
    t, result = timed(lambda: sessions_polars(pdf), max(1, repeat // 2))
    assert result.height == len(ours["n_events"])
    assert int(result["n_items"].sum()) == int(ours["n_items"].sum())
    timings.append(Timing(case, "polars, session table only", t, ours_polars))
    return timings


# --- monitoring: drift and validation ----------------------------------------------------


def alternated(
    fns: dict[str, Callable[[], object]], repeat: int
) -> dict[str, tuple[float, object]]:
    """Median wall time of each function over `repeat` rounds that run them in turn (so a
    slow spell of the machine hits every implementation alike), with its last result."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, object] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            results[name] = None
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in fns}


def drift_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames of 10 numeric and 10 categorical (20 levels) columns;
    the current one shifted in every other column."""
    rng = np.random.default_rng(seed)
    levels = [f"c{j:02d}" for j in range(20)]

    def frame(shift: float) -> pd.DataFrame:
        columns: dict[str, object] = {}
        for i in range(10):
            columns[f"num_{i}"] = rng.normal(shift * (i % 2), 1.0 + i / 10, rows)
        for i in range(10):
            p = np.arange(1.0, 21.0) ** (1.0 + shift * (i % 2))
            codes = rng.choice(20, rows, p=p / p.sum()).astype(np.int8)
            columns[f"cat_{i}"] = pd.Categorical.from_codes(codes, levels)
        return pd.DataFrame(columns)

    return frame(0.0), frame(0.3)


def drift_scipy(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """The same statistics as a per-column loop: normed Wasserstein (scipy) for numbers,
    Jensen–Shannon (scipy) of the category shares."""
    from scipy.spatial import distance

    out = {}
    for name in reference.columns:
        ref, cur = reference[name], current[name]
        if isinstance(ref.dtype, pd.CategoricalDtype):
            keys = sorted(set(ref.unique()) | set(cur.unique()))
            r = ref.value_counts().reindex(keys, fill_value=0).to_numpy(float)
            c = cur.value_counts().reindex(keys, fill_value=0).to_numpy(float)
            out[name] = float(distance.jensenshannon(r / r.sum(), c / c.sum()))
        else:
            norm = max(float(np.std(ref.to_numpy())), 0.001)
            out[name] = stats.wasserstein_distance(ref.to_numpy(), cur.to_numpy()) / norm
    return out


def drift_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report

    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=reference, current_data=current)
    table = next(m["result"] for m in report.as_dict()["metrics"]
                 if m["metric"] == "DataDriftTable")  # fmt: skip
    return {k: float(v["drift_score"]) for k, v in table["drift_by_columns"].items()}


def case_drift(rows: int, repeat: int) -> list[Timing]:
    """drift(method="auto") of --rows reference against --rows current rows × 20 columns;
    Evidently's DataDriftPreset where it is installed (make bench runs this case in
    .venv-evidently)."""
    case = f"drift {rows:,} + {rows:,} rows × 20 columns (10 numeric, 10 categorical)"
    reference, current = drift_frames(rows)
    ours_name = "ecomkit monitor.drift (pandas in)"
    fns: dict[str, Callable[[], object]] = {
        ours_name: lambda: ecomkit.monitor.drift(reference, current),
        "scipy per-column loop (same statistics)": lambda: drift_scipy(reference, current),
    }
    try:
        import evidently  # noqa: F401

        fns["Evidently DataDriftPreset"] = lambda: drift_evidently(reference, current)
    except ImportError:
        print("drift: evidently is not installed; run `make bench` for it", file=sys.stderr)
    results = alternated(fns, repeat)
    rows_ = results[ours_name][1].to_dataframe().set_index("column")
    ours = {name: float(rows_.loc[name, "statistic"]) for name in rows_.index}
    assert set(rows_["method"]) == {"wasserstein", "jensenshannon"}
    for name, (_, theirs) in results.items():
        if name != ours_name:
            for column, value in theirs.items():
                np.testing.assert_allclose(ours[column], value, rtol=1e-9, err_msg=column)
    return [Timing(case, name, t, None if name == ours_name else ours_name)
            for name, (t, _) in results.items()]  # fmt: skip


#: 20 rules over 10 columns of an events frame: 13 column rules, 2 unique, 1 ordered.
VALIDATE_RULES = {
    "columns": {
        "user_id": {"not_null": True, "dtype": "int64"},
        "price": {"min": 0.0, "max": 1e5, "max_null_fraction": 0.01},
        "quantity": {"not_null": True, "min": 1, "max": 100},
        "rating": {"min": 1.0, "max": 5.0, "max_null_fraction": 0.5},
        "event": {"not_null": True, "in": ["view", "addtocart", "transaction"]},
        "sku": {"not_null": True, "pattern": "^[0-9]{5}[A-Z]*$"},
        "country": {"in": ["DE", "FR", "GB", "US", "PL"]},
        "timestamp": {"not_null": True},
    },
    "unique": [["interaction_id"], ["invoice", "sku"]],
    "ordered": {"time": "timestamp"},
}


def validate_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Events with a few defects in every checked column; strings Arrow-backed, as pandas 3
    stores them (and pandas 2 with `future.infer_string`)."""
    rng = np.random.default_rng(seed)
    price = np.round(rng.gamma(2.0, 30.0, rows), 2)
    price[rng.integers(0, rows, 100)] = -1.0
    price[rng.integers(0, rows, 1000)] = np.nan
    rating = rng.uniform(1.0, 5.0, rows)
    rating[rng.integers(0, rows, rows // 3)] = np.nan
    quantity = rng.integers(1, 10, rows)
    quantity[rng.integers(0, rows, 50)] = 0
    event = rng.choice(np.array(["view", "addtocart", "transaction", "click"]), rows,
                       p=[0.7, 0.2, 0.09999, 0.00001])  # fmt: skip
    suffix = rng.choice(np.array(["", "A", "AB", "x"]), rows, p=[0.5, 0.3, 0.19999, 0.00001])
    sku = pd.Series(rng.integers(10_000, 100_000, rows)).astype(str) + suffix
    seconds = np.sort(rng.integers(0, 30 * 86400, rows))
    swaps = rng.integers(1, rows, 100)
    seconds[swaps] = seconds[swaps - 1] - 1
    text = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's `str`, Arrow-backed
    return pd.DataFrame({
        "interaction_id": rng.permutation(rows) + (rng.random(rows) < 1e-5),
        "invoice": rng.integers(0, rows // 2, rows),
        "user_id": rng.integers(0, rows // 20, rows),
        "price": price, "quantity": quantity, "rating": rating,
        "event": pd.array(event, text), "sku": pd.array(sku.to_numpy(object), text),
        "country": pd.array(rng.choice(np.array(["DE", "FR", "GB", "US", "PL", "XX"]), rows,
                                       p=[0.3, 0.2, 0.2, 0.2, 0.09999, 0.00001]), text),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s"),
    })  # fmt: skip


def pandera_schema():  # noqa: ANN201 (pandera is optional)
    import pandera.pandas as pda

    rules = VALIDATE_RULES["columns"]

    def null_share(limit: float):  # noqa: ANN202
        return pda.Check(lambda s: s.isna().mean() <= limit, name="max_null_fraction",
                         ignore_na=False)  # fmt: skip

    def bounds(name: str) -> list:
        return [pda.Check.ge(rules[name]["min"]), pda.Check.le(rules[name]["max"])]

    def in_order(df: pd.DataFrame) -> pd.Series:
        return df["timestamp"].diff().fillna(pd.Timedelta(0)) >= pd.Timedelta(0)

    ordered = pda.Check(in_order, name="ordered")
    return pda.DataFrameSchema({
        "interaction_id": pda.Column(int, unique=True, report_duplicates="exclude_first"),
        "user_id": pda.Column("int64", nullable=False),
        "price": pda.Column(float, [*bounds("price"), null_share(0.01)], nullable=True),
        "quantity": pda.Column(int, bounds("quantity"), nullable=False),
        "rating": pda.Column(float, [*bounds("rating"), null_share(0.5)], nullable=True),
        "event": pda.Column(str, pda.Check.isin(rules["event"]["in"]), nullable=False),
        "sku": pda.Column(str, pda.Check.str_matches(rules["sku"]["pattern"]), nullable=False),
        "country": pda.Column(str, pda.Check.isin(rules["country"]["in"]), nullable=True),
        "timestamp": pda.Column("datetime64[ns]", nullable=False),
    }, checks=[ordered], unique=["invoice", "sku"], report_duplicates="exclude_first")  # fmt: skip


def validate_pandera(schema, frame: pd.DataFrame) -> int:  # noqa: ANN001
    """Failure cases of pandera's lazy validation (every check run)."""
    import pandera.errors

    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        return len(errors.failure_cases)
    return 0


def validate_polars(frame: pl.DataFrame) -> dict[tuple[str, str], int]:
    """The 20 checks as one polars select of failing counts."""
    rules = VALIDATE_RULES["columns"]
    c = pl.col
    checks = {
        ("not_null", "user_id"): c("user_id").null_count(),
        ("min", "price"): (c("price") < 0).sum(),
        ("max", "price"): (c("price") > 1e5).sum(),
        ("max_null_fraction", "price"): (c("price").is_null() | c("price").is_nan()).sum(),
        ("not_null", "quantity"): c("quantity").null_count(),
        ("min", "quantity"): (c("quantity") < 1).sum(),
        ("max", "quantity"): (c("quantity") > 100).sum(),
        ("min", "rating"): (c("rating") < 1).sum(),
        ("max", "rating"): (c("rating") > 5).sum(),
        ("max_null_fraction", "rating"): (c("rating").is_null() | c("rating").is_nan()).sum(),
        ("not_null", "event"): c("event").null_count(),
        ("in", "event"): (~c("event").is_in(rules["event"]["in"])).sum(),
        ("not_null", "sku"): c("sku").null_count(),
        ("pattern", "sku"): (~c("sku").str.contains(rules["sku"]["pattern"])).sum(),
        ("in", "country"): (~c("country").is_in(rules["country"]["in"])).sum(),
        ("not_null", "timestamp"): c("timestamp").null_count(),
        ("unique", "interaction_id"): pl.len() - c("interaction_id").n_unique(),
        ("unique", "invoice,sku"): pl.len() - pl.struct("invoice", "sku").n_unique(),
        ("ordered", "timestamp"): (c("timestamp").diff() < 0).sum(),
    }
    counts = frame.select(**{f"{r}|{col}": e for (r, col), e in checks.items()}).row(0)
    assert frame.schema["user_id"] == pl.Int64  # the dtype rule
    return {key: int(n) for key, n in zip(checks, counts, strict=True)}


def case_validate(rows: int, repeat: int) -> list[Timing]:
    """validate() of --rows rows × 20 rules; pandera (pandas backend) where installed."""
    case = f"validate {rows:,} rows × 20 rules"
    frame = validate_frame(rows)
    polars_frame = pl.from_pandas(frame)
    ours_pd, ours_pl = (
        "ecomkit monitor.validate (pandas in)",
        "ecomkit monitor.validate (polars in)",
    )
    fns: dict[str, Callable[[], object]] = {
        ours_pd: lambda: ecomkit.monitor.validate(frame, VALIDATE_RULES),
        ours_pl: lambda: ecomkit.monitor.validate(polars_frame, VALIDATE_RULES),
        "polars expressions (one select)": lambda: validate_polars(polars_frame),
    }
    baselines = {"polars expressions (one select)": ours_pl}
    try:
        schema = pandera_schema()
        fns["pandera (pandas backend, lazy)"] = lambda: validate_pandera(schema, frame)
        baselines["pandera (pandas backend, lazy)"] = ours_pd
    except ImportError:
        print("validate: pandera is not installed; run `make bench` for it", file=sys.stderr)
    results = alternated(fns, repeat)
    report = results[ours_pd][1].to_dataframe()
    assert len(report) == 20, len(report)
    ours = {(r.rule, r.column): r.n_failed for r in report.itertuples()}
    for key, n in results["polars expressions (one select)"][1].items():
        assert ours[key] == n, (key, ours[key], n)
    return [Timing(case, name, t, baselines.get(name)) for name, (t, _) in results.items()]


CASES: dict[str, Callable[[int, int], list[Timing]]] = {
    "rolling_features": case_rolling_features,
    "sessions": case_sessions,
    "ranking_metrics": case_ranking_metrics,
    "roc_auc": case_roc_auc,
    "explosive_score": case_explosive_score,
    "assign_ids": case_assign_ids,
    "uplift_report": case_uplift_report,
    "drift": case_drift,
    "validate": case_validate,
}


def print_table(timings: list[Timing]) -> None:
    by_name = {(t.case, t.name): t.seconds for t in timings}
    print()
    print("| case | implementation | median s | ratio vs ecomkit |")
    print("|---|---|---:|---:|")
    for t in timings:
        ratio = ""
        if t.baseline is not None:
            ratio = f"{t.seconds / by_name[(t.case, t.baseline)]:.1f}×"
        print(f"| {t.case} | {t.name} | {t.seconds:.3f} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--skip", choices=sorted(CASES), action="append", default=[])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"ecomkit {ecomkit.__version__}, pandas {pd.__version__}, polars {pl.__version__}, "
        f"pyarrow {pa.__version__}, numpy {np.__version__}; {os.cpu_count()} cores",
        file=sys.stderr,
    )
    timings = []
    for name in [c for c in args.case or sorted(CASES) if c not in args.skip]:
        timings += CASES[name](args.rows, args.repeat)
    print_table(timings)


if __name__ == "__main__":
    main()
