"""``ecomkit demo``: the main job end to end on built-in data.

generate ASIN data → per-product rolling features (``ecomkit.features``) → explosive score
per (site, category) →
``scores.parquet``, ``group_stats.csv``, ``top_candidates_YYYYMMDD.csv``; then a synthetic
two-arm experiment with a known 5% lift → its uplift report ``uplift.csv`` / ``uplift.md``;
a LambdaRank model ranking the products against the explosive score → ``rank/`` (model,
metrics, lift curve and its plot); click-stream sessions and point-in-time user features →
``sessions.parquet``, ``user_features.parquet``; monitoring: a drifted week of clicks
against the week before (``ecomkit.monitor.drift``) and a batch with injected defects
(``validate``, then ``clean_events``) → ``monitoring/``; and ``summary.md`` over all of it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _io, abtest, datasets, metrics, monitor, plots, rank
from .features import asin_daily_features, session_features, user_features
from .pipeline import _report_files
from .score import explosive_score, group_stats, plot_group_stats

#: The demo's weights: a falling BSR and fast-arriving reviews make a product "explosive";
#: a good listing helps a little.
WEIGHTS = {"bsr_trend_7d": -1.0, "review_velocity_7d": 1.0, "listing_quality": 0.25}
BY = ["site", "category"]


def latest_features(daily: pa.Table) -> pa.Table:
    """One row per ASIN at its latest date, with the ASIN features of
    :func:`ecomkit.features.asin_daily_features` (7- and 30-day windows).

    Input must be sorted by ASIN then date, as ``asin_daily`` is.
    """
    features = asin_daily_features(daily)
    asin = features["asin"].to_numpy(zero_copy_only=False)
    ends = np.r_[np.flatnonzero(asin[1:] != asin[:-1]), len(asin) - 1]
    return features.take(pa.array(ends))


def run(
    out: str | Path = "ecomkit-demo",
    *,
    n_asins: int = 5000,
    n_days: int = 120,
    seed: int = 0,
    top_n: int = 10,
) -> dict[str, Any]:
    """Run the demo and write its artefacts into ``out``; returns a summary dict.

    >>> import pathlib, tempfile
    >>> from ecomkit import demo
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> summary = demo.run(out, n_asins=300, n_days=40)
    >>> sorted(p.name for p in out.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['group_stats.csv', 'group_stats.png', 'monitoring', 'rank', 'scores.parquet',
     'sessions.parquet', 'summary.md', 'top_candidates_20240209.csv', 'uplift.csv',
     'uplift.md', 'uplift.png', 'user_features.parquet']
    >>> summary["monitoring"]["dataset_drift"], summary["monitoring"]["validation_passed"]
    (True, False)
    """
    out = Path(out)
    started = time.perf_counter()
    daily = datasets.asin_daily(n_asins, n_days, seed, backend="pyarrow")
    snapshot = latest_features(daily)
    scored = explosive_score(snapshot, WEIGHTS, BY, clip=10.0)
    stats = group_stats(snapshot, list(WEIGHTS), BY)
    top = explosive_score(snapshot, WEIGHTS, BY, top_n=top_n, clip=10.0).sort_by(
        [("site", "ascending"), ("category", "ascending"), ("rank", "ascending")]
    )
    day = pc.max(daily["date"]).as_py()
    truth = datasets.exploding_asins(n_asins, n_days, seed)
    found = set(top["asin"].to_pylist()) & set(truth)
    seconds = time.perf_counter() - started

    paths = {
        "scores": _io.write_table(scored, out / "scores.parquet"),
        "group_stats": _io.write_table(stats, out / "group_stats.csv"),
        "top_candidates": _io.write_table(top, out / f"top_candidates_{day:%Y%m%d}.csv"),
    }
    stats_plot = plots.optional(lambda p: plot_group_stats(scored, BY, path=p, max_groups=16),
                       out / "group_stats.png")  # fmt: skip
    if stats_plot:
        paths["group_stats_plot"] = stats_plot
    best = top.sort_by([("explosive_score", "descending")]).slice(0, 5)
    lines = [
        "# ecomkit demo: explosive score",
        "",
        f"- data: `asin_daily(n_asins={n_asins}, n_days={n_days}, seed={seed})`: "
        f"{daily.num_rows:,} daily rows, {snapshot.num_rows:,} products, latest day {day}",
        f"- groups (site × category): {stats.num_rows // len(WEIGHTS)}",
        f"- weights: {WEIGHTS}",
        f"- top {top_n} per group: {top.num_rows} candidates; "
        f"{len(found)} of the {len(truth)} products generated to explode are among them",
        f"- run time: {seconds:.2f} s",
        *(["- ![explosive score per group](group_stats.png)"] if stats_plot else []),
        "",
        "## Five highest scores",
        "",
        "| site | category | asin | bsr | bsr_trend_7d | review_velocity_7d | explosive_score |",
        "|---|---|---|---|---|---|---|",
    ]

    def number(value: Any, spec: str) -> str:
        return "" if value is None or value != value else format(value, spec)  # null, NaN

    for row in best.to_pylist():
        lines.append(
            f"| {row['site']} | {row['category']} | {row['asin']} | {row['bsr']} | "
            f"{number(row['bsr_trend_7d'], '.3f')} | {number(row['review_velocity_7d'], '.2f')}"
            f" | {number(row['explosive_score'], '.2f')} |"
        )
    lines.append("")
    ranking = _ranking_step(out, n_asins, n_days, seed)
    paths.update(ranking.pop("files"))
    lines += ranking.pop("lines")
    experiment = _experiment_step(out, seed)
    paths.update(experiment.pop("files"))
    lines += experiment.pop("lines")
    clicks = _sessions_step(out, seed)
    paths.update(clicks.pop("files"))
    lines += clicks.pop("lines")
    watched = _monitoring_step(out, seed)
    paths.update(watched.pop("files"))
    lines += watched.pop("lines")
    lines += ["Files: " + ", ".join(f"`{p.name}`" for p in paths.values()), ""]
    paths["summary"] = _io.write_text("\n".join(lines), out / "summary.md")
    return {
        "out": str(out),
        "files": {name: str(path) for name, path in paths.items()},
        "rows": daily.num_rows,
        "products": snapshot.num_rows,
        "candidates": top.num_rows,
        "exploding_found": len(found),
        "exploding_total": len(truth),
        "ranking": ranking,
        "experiment": experiment,
        "sessions": clicks,
        "monitoring": watched,
        "seconds": round(seconds, 3),
    }


#: Features of the demo's LambdaRank model.
RANK_FEATURES = [
    "bsr_trend_7d",
    "bsr_trend_30d",
    "review_velocity_7d",
    "price_volatility_30d",
    "listing_quality",
    "rating",
    "log_bsr",
    "price",
]


def _ranking_step(out: Path, n_asins: int, n_days: int, seed: int) -> dict:
    """LambdaRank trained on another seed's products, evaluated on this one's against the
    naive baseline (popularity: the best sellers first) and the explosive score →
    ``rank/`` artefacts, a ranking-report picture and a reliability diagram."""
    started = time.perf_counter()
    train = datasets.ranking(n_asins, n_days, seed + 1, backend="pandas")
    test = datasets.ranking(n_asins, n_days, seed, backend="pandas")
    params = {"learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20, "seed": seed,
              "num_threads": 2, "lambdarank_truncation_level": 20}  # fmt: skip
    model = rank.train_lambdarank(train[RANK_FEATURES], train["label"], params=params,
                                  num_boost_round=100, groups=train["group"])  # fmt: skip
    test["model_score"] = model.predict(test[RANK_FEATURES])
    report = metrics.ranking_report(test, "group", "label", "model_score", k=(1, 3, 5, 10),
                                    baseline="popularity")  # fmt: skip
    explosive = metrics.ranking_report(test, "group", "label", "explosive_score",
                                       k=(10,))["recall"].iloc[0]  # fmt: skip
    folder = out / "rank"
    folder.mkdir(parents=True, exist_ok=True)
    curve = report.attrs["lift_curve"]
    # A binary LightGBM on the same features: are its probabilities calibrated?
    binary = rank.train_binary(train[RANK_FEATURES], train["label"], params={"seed": seed,
                               "num_threads": 2}, num_boost_round=50)  # fmt: skip
    reliability = metrics.calibration_curve(test["label"], binary.predict(test[RANK_FEATURES]),
                                            n_bins=10, strategy="uniform")  # fmt: skip
    files = {
        "rank_model": model.save(folder / "model.txt"),
        "rank_metrics": _io.write_table(report, folder / "metrics.csv"),
        "rank_lift_curve": _io.write_table(curve, folder / "lift_curve.csv"),
    }
    pictures = {
        "rank_plot": plots.optional(lambda p: metrics.plot_lift_curve(
            curve, p, title="LambdaRank vs popularity"), folder / "lift_curve.png"),
        "rank_report_plot": plots.optional(lambda p: metrics.plot_ranking_report(
            report, p, title="LambdaRank vs popularity"), folder / "ranking_report.png"),
        "calibration_plot": plots.optional(lambda p: metrics.plot_calibration(
            reliability, p, title="Binary LightGBM: reliability"), folder / "calibration.png"),
    }  # fmt: skip
    files.update({name: path for name, path in pictures.items() if path is not None})
    at10 = report[report["k"] == 10].iloc[0]
    lines = [
        "## Ranking: LambdaRank vs popularity and the explosive score",
        "",
        f"- trained on `ranking(seed={seed + 1})` products (label: generated to explode), "
        f"evaluated on this run's {len(test):,} products in {test['group'].nunique()} groups",
        f"- recall@10: model {at10['recall']:.3f}, popularity (best sellers first) "
        f"{at10['baseline_recall']:.3f} (lift {at10['lift']:.2f}), explosive score "
        f"{explosive:.3f}; ndcg@10 {at10['ndcg']:.3f}",
        *(f"- ![{name}](rank/{path.name})" for name, path in pictures.items() if path),
        f"- files in `rank/`: {', '.join(Path(p).name for p in files.values())}",
        f"- run time: {time.perf_counter() - started:.2f} s",
        "",
    ]
    return {"files": files, "lines": lines, "recall_at_10": float(at10["recall"]),
            "baseline_recall_at_10": float(at10["baseline_recall"]),
            "explosive_recall_at_10": float(explosive)}  # fmt: skip


#: The true relative lift of the demo experiment.
TRUE_LIFT = 0.05


def _sessions_step(out: Path, seed: int, n_users: int = 20_000, n_days: int = 14) -> dict:
    """Click-stream sessions (30-minute timeout, Berlin local time) → ``sessions.parquet``,
    and point-in-time user features as of the last day → ``user_features.parquet``."""
    started = time.perf_counter()
    clicks = datasets.clickstream(n_users, n_days, seed, backend="pyarrow")
    sessions, _ = session_features(clicks, time_zone="Europe/Berlin", transitions=True)
    end = pc.max(clicks["timestamp"]).as_py()
    users = pa.table({"visitorid": pc.unique(clicks["visitorid"])})
    as_of = users.append_column(
        "timestamp", pa.array([end] * users.num_rows, clicks["timestamp"].type)
    )
    profile = user_features(clicks, as_of)
    files = {
        "sessions": _io.write_table(sessions, out / "sessions.parquet"),
        "user_features": _io.write_table(profile, out / "user_features.parquet"),
    }
    purchased = pc.mean(sessions["purchased"].cast(pa.float64())).as_py()
    lines = [
        "## Click-stream sessions",
        "",
        f"- data: `clickstream(n_users={n_users}, n_days={n_days}, seed={seed})`: "
        f"{clicks.num_rows:,} events",
        f"- sessions (30-minute timeout): {sessions.num_rows:,}; "
        f"{purchased:.1%} end in a purchase; "
        f"mean length {pc.mean(sessions['n_events']).as_py():.1f} events",
        f"- user features as of {end:%Y-%m-%d %H:%M} UTC for {profile.num_rows:,} users",
        f"- run time: {time.perf_counter() - started:.2f} s",
        "",
    ]
    return {"files": files, "lines": lines, "sessions": sessions.num_rows}


def _experiment_step(out: Path, seed: int, n_users: int = 1_000_000) -> dict[str, Any]:
    """Synthetic users of a two-arm experiment with a known lift → the uplift report."""
    started = time.perf_counter()
    units = datasets.experiment_units(n_users, seed, lift=TRUE_LIFT, backend="pyarrow")
    metrics = {
        "converted": "converted",
        "ctr": ("clicks", "impressions"),
        "gmv_per_user": "gmv",
    }
    report = abtest.evaluate_experiment(
        units, "variant", metrics, "control", covariates={"gmv_per_user": "pre_spend"},
        correction="holm",
    )  # fmt: skip
    seconds = time.perf_counter() - started
    files = {
        "uplift_csv": _io.write_table(report.to_arrow(), out / "uplift.csv"),
        "uplift_md": _io.write_text(report.to_markdown(), out / "uplift.md"),
    }
    picture = plots.optional(lambda p: report.plot(p, title="Demo experiment: lift by metric"),
                    out / "uplift.png")  # fmt: skip
    if picture:
        files["uplift_plot"] = picture
    rows = {r["metric"]: r for r in report.to_arrow().to_pylist()}
    recovered = {
        m: bool(rows[m]["rel_ci_low"] <= TRUE_LIFT <= rows[m]["rel_ci_high"])
        for m in ("converted", "ctr")
    }
    lines = [
        "## Experiment: uplift report",
        "",
        f"- data: `experiment_units({n_users:,}, seed={seed}, lift={TRUE_LIFT})`, "
        f"variants assigned with GrowthBook's hash; true relative lift {TRUE_LIFT:.0%} "
        "on conversion and CTR",
        *(
            f"- {m}: estimated {rows[m]['rel_lift']:+.2%} "
            f"[{rows[m]['rel_ci_low']:+.2%}, {rows[m]['rel_ci_high']:+.2%}], "
            f"p = {rows[m]['p_value']:.2g}; true lift inside the 95% interval: "
            f"{'yes' if recovered[m] else 'no'}"
            for m in ("converted", "ctr")
        ),
        f"- gmv_per_user with CUPED on pre_spend: variance reduced by "
        f"{rows['gmv_per_user']['variance_reduction']:.0%}",
        f"- sample-ratio check p = {report.srm_p_value:.3g}",
        f"- run time: {seconds:.2f} s",
        *(["- ![lift by metric](uplift.png)"] if picture else []),
        "",
    ]
    return {"files": files, "lines": lines, "recovered": recovered,
            "seconds": round(seconds, 3)}  # fmt: skip


#: The rules the demo checks on a batch of click-stream events (the `[validate]` shape).
CLICK_RULES = {
    "columns": {
        "visitorid": {"not_null": True},
        "price": {"min": 0.0, "max_null_fraction": 0.01},
        "event": {"in": ["view", "addtocart", "transaction"]},
    },
    "unique": [["timestamp", "visitorid", "event", "itemid"]],
    "ordered": {"time": "timestamp"},
    "freshness": {"time": "timestamp", "max_age": "6h"},
}


def _monitoring_step(out: Path, seed: int, n_users: int = 20_000) -> dict[str, Any]:
    """Two weeks of clicks: the second week (prices up 15%, a promoted category) drifts from
    the first → ``monitoring/drift.*``; a day of the second week with injected defects
    (null visitors, negative prices, an unknown event, repeated events out of order, a bot)
    is validated → ``monitoring/quality.*``, then cleaned → ``monitoring/dropped.csv``."""
    import pandas as pd

    started = time.perf_counter()
    folder = out / "monitoring"
    clicks = datasets.clickstream(n_users, 14, seed, backend="pandas")
    split = clicks["timestamp"].min().normalize() + pd.Timedelta(days=7)
    reference = clicks[clicks["timestamp"] < split].reset_index(drop=True)
    current = clicks[clicks["timestamp"] >= split].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    current["price"] = (current["price"] * 1.15).round(2)
    promoted = rng.random(len(current)) < 0.25  # a promotion: a quarter of events on one
    current.loc[promoted, "categoryid"] = 3
    for week in (reference, current):  # categories, not numbers
        week["categoryid"] = week["categoryid"].astype(str)
    columns = ["event", "price", "categoryid", "itemid"]
    drifted = monitor.drift(reference, current, columns)
    files = {f"drift_{k}": Path(v) for k, v in _report_files(drifted, folder, "drift").items()}

    day = current[current["timestamp"] >= current["timestamp"].max().normalize()]
    batch = day.reset_index(drop=True).astype({"visitorid": "Int64"})
    hit = rng.choice(len(batch), 40, replace=False)
    batch.loc[hit[:10], "visitorid"] = pd.NA
    batch.loc[hit[10:20], "price"] = -batch.loc[hit[10:20], "price"]
    batch.loc[hit[20:25], "event"] = "click"
    bot_start = batch["timestamp"].iloc[len(batch) // 2]
    bot = pd.DataFrame({"timestamp": bot_start + pd.to_timedelta(np.arange(120) * 500, "ms"),
                        "visitorid": -1, "event": "view", "itemid": rng.integers(0, 500, 120),
                        "categoryid": "0", "price": 9.99})  # fmt: skip
    batch = pd.concat([batch, batch.iloc[hit[25:]], bot], ignore_index=True)
    as_of = batch["timestamp"].max() + pd.Timedelta(hours=1)
    quality = monitor.validate(batch, CLICK_RULES, as_of=as_of)
    written = _report_files(quality, folder, "quality")
    files.update({f"quality_{k}": Path(v) for k, v in written.items()})
    cleaned, dropped = monitor.clean_events(batch, max_events_per_minute=60)
    files["dropped"] = _io.write_table(dropped, folder / "dropped.csv")
    reasons = dropped["reason"].value_counts().to_dict()
    table = drifted.to_dataframe()
    failed = quality.to_dataframe().query("not passed")
    lines = [
        "## Monitoring: drift and data quality",
        "",
        f"- drift of `clickstream(n_users={n_users}, n_days=14, seed={seed})`: week 2 "
        f"({len(current):,} events; prices +15%, a quarter of events on promoted category 3) "
        f"against week 1 ({len(reference):,}): "
        + ", ".join(f"{r.column} {r.method} {r.statistic:.3g}"
                    + (" **drifted**" if r.drifted else "") for r in table.itertuples())
        + f"; dataset drift: {'yes' if drifted.dataset_drift else 'no'}",
        f"- validation of the last day ({len(batch):,} events, defects injected): "
        + (", ".join(f"{r.rule} on {r.column or 'the batch'}: {r.n_failed} failed"
                     for r in failed.itertuples()) or "every rule passed"),
        f"- cleaning (bots: more than 60 events a minute): {len(cleaned):,} events kept, "
        f"{reasons.get('duplicate', 0)} duplicates and {reasons.get('bot', 0)} bot events "
        "dropped",
        *(f"- ![{name}](monitoring/{name}.png)" for name in ("drift", "quality")
          if f"{name}_png" in files),
        f"- files in `monitoring/`: {', '.join(p.name for p in files.values())}",
        f"- run time: {time.perf_counter() - started:.2f} s",
        "",
    ]  # fmt: skip
    return {"files": files, "lines": lines, "dataset_drift": drifted.dataset_drift,
            "drifted_columns": drifted.drifted_columns, "validation_passed": quality.passed,
            "dropped": reasons}  # fmt: skip
