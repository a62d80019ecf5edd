"""Pictures of ecomkit's results, for notebooks and reports (matplotlib: the optional extra
``ecomkit[plot]``).

Every function draws values ecomkit has already computed (it derives no statistic), returns
the matplotlib ``Figure``, and with ``path`` also writes it there as a PNG, atomically. The
result objects call these from their ``plot()`` methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import _frames, _io


def _figure(draw: Callable[[Any], None], path: str | Path | None, what: str,
            ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)) -> Any:  # fmt: skip
    """A new figure with `ncols` axes drawn by `draw(axes)`, written to `path` if given."""
    matplotlib = _frames.require("matplotlib", what)
    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]))
    draw(axes)
    fig.tight_layout()
    if path is not None:
        _io.atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
        plt.close(fig)
    return fig


def optional(draw: Callable[[Path], Any], path: Path) -> Path | None:
    """Draw one picture with `draw(path)`; None (and no file) without matplotlib, an
    optional extra: reports and the demo are written without their pictures."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    draw(path)
    return path


def _column(frame: Any, name: str) -> list[Any]:
    """One column of a pandas / polars / pyarrow frame or a dict of lists, as a list."""
    if isinstance(frame, dict):
        return list(frame[name])
    column = frame[name]
    return column.to_list() if hasattr(column, "to_list") else column.to_pylist()


def _has(frame: Any, name: str) -> bool:
    names = frame.keys() if isinstance(frame, dict) else getattr(frame, "columns", None)
    return name in (names if names is not None else frame.column_names)


def _draw_lift_curve(ax: Any, curve: Any, title: str) -> None:
    fractions = _column(curve, "fraction")
    ax.plot(fractions, _column(curve, "recall"), marker="o", label="model")
    if _has(curve, "baseline_recall"):
        ax.plot(fractions, _column(curve, "baseline_recall"), marker="s", label="baseline")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    ax.set_xlabel("fraction of each group ranked")
    ax.set_ylabel("mean recall")
    ax.set_title(title)
    ax.legend()


def lift_curve(curve: Any, path: str | Path | None = None, *, title: str | None = None) -> Any:
    """The lift curve of :func:`ecomkit.metrics.lift_curve` (or a ranking report's
    ``.attrs["lift_curve"]``): mean recall of the model, and of the baseline, against the
    fraction of each group ranked."""
    return _figure(lambda ax: _draw_lift_curve(ax, curve, title or "Lift curve"), path,
                   "plotting a lift curve")  # fmt: skip


def ranking_report(report: Any, path: str | Path | None = None, *,
                   title: str | None = None) -> Any:  # fmt: skip
    """:func:`ecomkit.metrics.ranking_report` in two panels: its lift curve, and NDCG@k and
    recall@k of the model (with the baseline's recall) by k."""

    def draw(axes: Any) -> None:
        _draw_lift_curve(axes[0], report.attrs["lift_curve"], "Lift curve")
        ks = _column(report, "k")
        axes[1].plot(ks, _column(report, "ndcg"), marker="o", label="model NDCG@k")
        axes[1].plot(ks, _column(report, "recall"), marker="^", label="model recall@k")
        if _has(report, "baseline_recall"):
            axes[1].plot(ks, _column(report, "baseline_recall"), marker="s",
                         label="baseline recall@k")  # fmt: skip
        axes[1].set_xlabel("k (cut-off per group)")
        axes[1].set_ylabel("mean over groups")
        axes[1].set_xticks(ks)
        axes[1].set_ylim(0, 1.05)
        axes[1].set_title(title or "Ranking metrics by k")
        axes[1].legend()

    return _figure(draw, path, "plotting a ranking report", ncols=2)


def uplift(report: Any, path: str | Path | None = None, *, title: str | None = None) -> Any:
    """An :class:`ecomkit.abtest.UpliftReport`: each metric's relative lift over control
    with its confidence interval (one row per metric and variant; a dashed line at 0)."""
    rows = [r for r in report.to_arrow().to_pylist() if r.get("rel_lift") is not None]

    def draw(ax: Any) -> None:
        labels, lifts, low, high = [], [], [], []
        for r in rows:
            labels.append(f"{r['metric']} ({r['variant']})")
            lifts.append(100 * r["rel_lift"])
            ci_low, ci_high = r.get("rel_ci_low"), r.get("rel_ci_high")
            finite = ci_low is not None and ci_high is not None and math.isfinite(ci_low)
            low.append(100 * (r["rel_lift"] - ci_low) if finite else 0.0)
            high.append(100 * (ci_high - r["rel_lift"]) if finite else 0.0)
        positions = list(range(len(rows)))[::-1]
        ax.errorbar(lifts, positions, xerr=[low, high], fmt="o", capsize=4)
        ax.axvline(0, linestyle="--", color="grey")
        ax.set_yticks(positions)
        ax.set_yticklabels(labels)
        ax.set_xlabel(f"relative lift over {report.control} (%), with {1 - report.alpha:.0%} CI")
        ax.set_title(title or "Uplift by metric")

    return _figure(draw, path, "plotting an uplift report", size=(7.0, 1.2 + 0.6 * len(rows)))


def drift(report: Any, columns: Sequence[str], path: str | Path | None = None, *,
          title: str | None = None) -> Any:  # fmt: skip
    """An :class:`ecomkit.monitor.DriftReport`: reference vs current histograms (numeric
    columns, shares per bin on shared edges) or category shares (categorical columns, the
    20 categories with the largest share on either side), one panel per column."""
    import numpy as np
    import pyarrow as pa

    reference, kind, current, current_kind = report._samples
    table = report.to_arrow()
    kinds = dict(zip(table.column("column").to_pylist(), table.column("kind").to_pylist(),
                     strict=True))  # fmt: skip
    columns = [c for c in columns if c in kinds]

    def values(frame: Any, frame_kind: str, name: str) -> list[Any]:
        array = pa.table(_frames.select(frame, frame_kind, [name])).column(0)
        return [v for v in array.to_pylist() if v is not None and v == v]

    def draw(axes: Any) -> None:
        axes = np.atleast_1d(axes)
        if not columns:
            axes[0].text(0.5, 0.5, "no drifted columns", ha="center", va="center")
            axes[0].set_axis_off()
        for ax, name in zip(axes, columns, strict=False):  # one axis when nothing drifted
            ref, cur = values(reference, kind, name), values(current, current_kind, name)
            if kinds[name] == "numeric" and ref and cur:
                edges = np.histogram_bin_edges(np.asarray(ref + cur, dtype=float), bins=30)
                for sample, label in ((ref, "reference"), (cur, "current")):
                    weights = np.full(len(sample), 1.0 / len(sample))
                    ax.hist(sample, bins=edges, weights=weights, alpha=0.5, label=label)
            else:
                from collections import Counter

                ref_counts, cur_counts = Counter(map(str, ref)), Counter(map(str, cur))
                shares = {key: max(ref_counts[key] / max(len(ref), 1),
                                   cur_counts[key] / max(len(cur), 1))
                          for key in ref_counts | cur_counts}  # fmt: skip
                shown = sorted(shares, key=shares.__getitem__, reverse=True)[:20]
                positions = np.arange(len(shown))
                for offset, (counts, n, label) in enumerate(
                    ((ref_counts, len(ref), "reference"), (cur_counts, len(cur), "current"))
                ):
                    shares = [counts[k] / max(n, 1) for k in shown]
                    ax.bar(positions + 0.4 * offset, shares, width=0.4, label=label)
                ax.set_xticks(positions + 0.2)
                ax.set_xticklabels(shown, rotation=45, ha="right")
            ax.set_title(name)
            ax.set_ylabel("share")
            ax.legend()
        if title:
            axes[0].figure.suptitle(title)

    return _figure(draw, path, "plotting a drift report", ncols=max(len(columns), 1),
                   size=(4.5, 3.5))  # fmt: skip


def quality(report: Any, path: str | Path | None = None, *, title: str | None = None) -> Any:
    """An :class:`ecomkit.monitor.QualityReport`: the share of failing rows (periods) per
    rule, failed rules in red."""
    rows = report.to_arrow().to_pylist()

    def draw(ax: Any) -> None:
        labels = [f"{r['rule']} {r['column']}".strip() for r in rows]
        colours = ["tab:green" if r["passed"] else "tab:red" for r in rows]
        from matplotlib.ticker import MaxNLocator, PercentFormatter

        ax.barh(labels, [r["fraction_failed"] for r in rows], color=colours)
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_xlabel("rows (periods) failed")
        ax.set_title(title or report.summary().split(":")[0])  # the names are the labels

    return _figure(draw, path, "plotting a quality report",
                   size=(7.0, 1.0 + 0.35 * max(len(rows), 1)))  # fmt: skip


def calibration(curve: Any, path: str | Path | None = None, *, title: str | None = None) -> Any:
    """A reliability diagram of :func:`ecomkit.metrics.calibration_curve`'s frame: observed
    frequency against mean predicted probability per bin (marker size: the bin's count),
    beside the diagonal of perfect calibration."""

    def draw(ax: Any) -> None:
        counts = _column(curve, "count")
        largest = max(counts) if counts else 1
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
        ax.plot(_column(curve, "prob_pred"), _column(curve, "prob_true"), color="C0")
        ax.scatter(_column(curve, "prob_pred"), _column(curve, "prob_true"),
                   s=[20 + 180 * c / largest for c in counts], label="bins", zorder=3)  # fmt: skip
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed frequency")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(title or "Reliability diagram")
        ax.legend()

    return _figure(draw, path, "plotting a calibration curve")


def group_stats(frame: Any, by: str | Sequence[str], score: str = "explosive_score",
                path: str | Path | None = None, *, max_groups: int = 30,
                title: str | None = None) -> Any:  # fmt: skip
    """The distribution of ``score`` per group of ``by`` (a box per group, the largest
    ``max_groups`` groups), e.g. of :func:`ecomkit.score.explosive_score`'s output: where
    :func:`ecomkit.score.group_stats` says a group's median or MAD is off, this shows it."""
    import pyarrow as pa

    names = [by] if isinstance(by, str) else list(by)
    table = pa.table(_frames.prepare(frame)[0]).select([*names, score])
    keys = list(zip(*(table[n].to_pylist() for n in names), strict=True))
    values: dict[tuple, list[float]] = {}
    for key, value in zip(keys, table[score].to_pylist(), strict=True):
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            values.setdefault(key, []).append(value)
    shown = sorted(values, key=lambda k: (-len(values[k]), str(k)))[:max_groups]

    def draw(ax: Any) -> None:
        import matplotlib

        # matplotlib 3.10 renamed vert=False (deprecated since 3.11) to orientation=.
        major, minor = (int(p) for p in matplotlib.__version__.split(".")[:2])
        sideways = {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}
        ax.boxplot([values[k] for k in shown], **sideways)
        ax.set_yticks(range(1, len(shown) + 1))
        ax.set_yticklabels([" / ".join(map(str, k)) for k in shown])
        ax.set_xlabel(score)
        ax.set_ylabel(" × ".join(names))
        ax.set_title(title or f"{score} per group")

    return _figure(draw, path, "plotting group statistics", size=(7.0, 1.5 + 0.3 * len(shown)))
