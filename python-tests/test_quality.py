"""Data-quality validation (`monitor.validate`) against straightforward pandas, on random
frames with injected defects: nulls, out-of-range values, unknown categories, bad SKUs,
duplicates, out-of-order times, dangling keys, missing days and a spike."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ecomkit import errors, monitor

EVENTS = ["view", "addtocart", "transaction"]
AS_OF = pd.Timestamp("2026-11-30T12:00:00Z")


def defective_frame(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    users = np.array([f"u{i}" for i in range(1 + n // 20)], dtype=object)
    frame = pd.DataFrame(
        {
            "interaction_id": rng.integers(0, n * 2, n),
            "user_id": rng.choice(users, n),
            "product_id": rng.integers(0, 60, n),
            "price": np.round(rng.gamma(2.0, 30.0, n), 2),
            "event": rng.choice(EVENTS + ["click"], n, p=[0.6, 0.25, 0.13, 0.02]),
            "sku": [
                f"{rng.integers(10_000, 99_999)}{'AB'[rng.integers(0, 2)] * rng.integers(0, 3)}"
                for _ in range(n)
            ],  # fmt: skip
            "timestamp": AS_OF
            - pd.to_timedelta(np.sort(rng.uniform(0, 20 * 86400, n))[::-1], unit="s"),  # fmt: skip
        }
    )
    defects = rng.integers(0, n, 12)
    frame.loc[defects[:3], "user_id"] = None
    frame.loc[defects[3:5], "price"] = -rng.uniform(1, 10, 2)
    frame.loc[defects[5:6], "price"] = np.nan
    frame.loc[defects[6:8], "sku"] = ["12AB", "abcde"]
    frame.loc[defects[8:10], "timestamp"] = frame["timestamp"].iloc[0] - pd.Timedelta("30D")
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame["timestamp"] = frame.groupby("user_id", dropna=False)["timestamp"].transform(
        lambda s: s.sort_values().to_numpy() if rng.random() < 0.7 else s.to_numpy()
    )
    if seed % 3 == 0:  # a day without events for some users, and a spike
        day = (AS_OF - pd.Timedelta("5D")).floor("1D")
        frame = frame[frame["timestamp"].dt.floor("1D") != day].reset_index(drop=True)
    if seed % 4 == 1:
        spike = frame.sample(n=n // 2, random_state=seed, replace=True)
        spike["timestamp"] = AS_OF - pd.Timedelta("3D")
        frame = pd.concat([frame, spike], ignore_index=True)
    products = pd.DataFrame({"product_id": np.arange(0, 55)})
    return frame, products


RULES = {
    "columns": {
        "user_id": {"not_null": True, "dtype": "string"},
        "price": {"min": 0.0, "max": 150.0, "max_null_fraction": 0.01},
        "event": {"in": EVENTS},
        "sku": {"pattern": "^[0-9]{5}[A-Z]*$"},
    },
    "unique": [["interaction_id"], ["user_id", "product_id"]],
    "ordered": {"time": "timestamp", "by": "user_id"},
    "references": {"product_id": "products.product_id"},
    "freshness": {"time": "timestamp", "max_age": "6h"},
    "volume": {"previous": 420, "max_drop": 0.05},
    "coverage": {"by": "user_id", "time": "timestamp", "every": "1d"},
    "anomaly": {"time": "timestamp", "every": "1d", "max_z": 3.5},
}


def expected_failures(frame: pd.DataFrame, products: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """Each rule's failing rows (or count), written the plain pandas way."""
    price, ts = frame["price"], frame["timestamp"]
    day = ts.dt.tz_convert("UTC").dt.floor("1D")
    missing_days = 0
    for _, days in day.groupby(frame["user_id"]):
        present = days.unique()
        span = (present.max() - present.min()).days + 1
        missing_days += span - len(present)
    counts = (
        day.value_counts()
        .reindex(pd.date_range(day.min(), day.max(), freq="1D"), fill_value=0)
        .to_numpy(dtype=float)
    )
    median = np.median(counts)
    mad = np.median(np.abs(counts - median))
    scale = (
        1.482602218505602 * mad
        if mad > 0
        else 1.2533141373155003 * np.mean(np.abs(counts - median))
    )
    z = (counts - median) / scale if scale > 0 else np.zeros_like(counts)
    rows = lambda mask: list(np.flatnonzero(np.asarray(mask)))  # noqa: E731
    return {
        ("not_null", "user_id"): rows(frame["user_id"].isna()),
        ("dtype", "user_id"): 0,
        ("min", "price"): rows(price < 0.0),
        ("max", "price"): rows(price > 150.0),
        ("max_null_fraction", "price"): rows(price.isna()),
        ("in", "event"): rows(frame["event"].notna() & ~frame["event"].isin(EVENTS)),
        ("pattern", "sku"): rows(
            frame["sku"].notna() & ~frame["sku"].str.contains("^[0-9]{5}[A-Z]*$", regex=True)
        ),
        ("unique", "interaction_id"): rows(frame.duplicated(["interaction_id"])),
        ("unique", "user_id,product_id"): rows(frame.duplicated(["user_id", "product_id"])),
        ("ordered", "timestamp,user_id"): rows(
            frame.groupby("user_id")["timestamp"].diff() < pd.Timedelta(0)
        ),
        ("references", "product_id"): rows(~frame["product_id"].isin(products["product_id"])),
        ("freshness", "timestamp"): int(AS_OF - ts.max() > pd.Timedelta("6h")),
        ("volume", ""): int(len(frame) < 420 * 0.95),
        ("coverage", "user_id,timestamp"): missing_days,
        ("anomaly", "timestamp"): int(np.sum(np.abs(z) > 3.5)),
    }


@pytest.mark.parametrize("seed", range(40))
def test_counts_equal_plain_pandas(seed):
    frame, products = defective_frame(seed)
    report = monitor.validate(frame, RULES, references={"products": products}, as_of=AS_OF)
    table = report.to_arrow().to_pylist()
    expected = expected_failures(frame, products)
    assert [(r["rule"], r["column"]) for r in table] == list(expected)
    for row in table:
        want = expected[(row["rule"], row["column"])]
        if isinstance(want, list):
            assert row["n_failed"] == len(want), row
            assert row["examples"] == want[:5], row
            assert row["fraction_failed"] == pytest.approx(len(want) / len(frame), abs=1e-15)
            if row["rule"] != "max_null_fraction":
                assert row["passed"] == (not want), row
                got = report.failed_rows(row["rule"], row["column"])
                assert list(got.index) == want
        else:
            assert row["n_failed"] == want, row
            assert row["passed"] == (want == 0), row
    assert report.passed == all(r["passed"] for r in table)


def test_frames_of_every_kind_give_the_same_report():
    pl = pytest.importorskip("polars")
    frame, products = defective_frame(3)
    want = monitor.validate(frame, RULES, references={"products": products}, as_of=AS_OF)
    for kind in (pa.Table.from_pandas(frame, preserve_index=False), pl.from_pandas(frame)):
        got = monitor.validate(kind, RULES, references={"products": products}, as_of=AS_OF)
        assert got.to_arrow().drop(["message"]).equals(want.to_arrow().drop(["message"]))
        assert type(got.to_dataframe()) is type(kind)
        assert len(got.failed_rows("min", "price")) == len(want.failed_rows("min", "price"))


def test_categoricals_integers_and_booleans_are_checked_as_text():
    frame = pd.DataFrame({"event": pd.Categorical(["view", "click", None, "view"]),
                          "code": [1, 2, 3, 2], "flag": [True, False, True, True]})  # fmt: skip
    report = monitor.validate(
        frame,
        {
            "columns": {
                "event": {"in": ["view"], "dtype": "category", "not_null": True},
                "code": {"in": [1, 2], "dtype": "int"},
                "flag": {"in": [True], "dtype": "bool"},
            }
        },
    )
    got = {(r["rule"], r["column"]): r["n_failed"] for r in report.to_arrow().to_pylist()}
    assert got == {("in", "event"): 1, ("dtype", "event"): 0, ("not_null", "event"): 1,
                   ("in", "code"): 1, ("dtype", "code"): 0, ("in", "flag"): 1,
                   ("dtype", "flag"): 0}  # fmt: skip


def test_a_wrong_dtype_fails_with_what_it_got():
    frame = pd.DataFrame({"user_id": [1, 2], "price": ["1", "2"]})
    report = monitor.validate(frame, {"columns": {"user_id": {"dtype": "string"},
                                                  "price": {"dtype": "float"}}})  # fmt: skip
    rows = report.to_arrow().to_pylist()
    assert [r["passed"] for r in rows] == [False, False]
    assert rows[0]["message"] == "expected string, got Int64"


def test_freshness_reads_time_zones_and_naive_times_as_utc():
    frame = pd.DataFrame({"ts": pd.to_datetime(["2026-03-29T00:30:00"]).tz_localize(
        "Europe/Berlin")})  # fmt: skip
    rules = {"freshness": {"time": "ts", "max_age": "2h"}}
    # 00:30 Berlin (CET, +01:00) is 23:30 UTC the day before.
    assert monitor.validate(frame, rules, as_of="2026-03-29T01:30:00Z").passed
    assert not monitor.validate(frame, rules, as_of="2026-03-29T01:31:00Z").passed
    assert monitor.validate(frame, rules, as_of=dt.datetime(2026, 3, 29, 1, 0)).passed
    naive = pd.DataFrame({"ts": pd.to_datetime(["2026-03-29T00:30:00"])})
    assert monitor.validate(naive, rules, as_of=pd.Timestamp("2026-03-29T02:30:00")).passed
    assert not monitor.validate(naive, rules, as_of="2026-03-29T02:31:00").passed


def test_coverage_counts_utc_days_across_a_dst_change():
    # Berlin's clocks went forward on 2026-03-29: daily rows at local midnight are 23 h apart
    # across it, yet one per UTC day.
    days = pd.date_range("2026-03-27", "2026-03-31", freq="1D", tz="Europe/Berlin")
    frame = pd.DataFrame({"asin": "B1", "date": days.tz_convert("UTC") + pd.Timedelta("2h")})
    rules = {"coverage": {"by": "asin", "time": "date", "every": "1d"}}
    assert monitor.validate(frame, rules).passed
    gap = frame.drop(index=2).reset_index(drop=True)
    report = monitor.validate(gap, rules)
    missing = report.failed_rows("coverage")
    assert list(missing["asin"]) == ["B1"] and len(missing) == 1


def test_empty_frames_and_frames_without_values():
    empty = pd.DataFrame({"user_id": pd.Series([], dtype=object), "ts": pd.to_datetime([])})
    report = monitor.validate(empty, {"columns": {"user_id": {"not_null": True}},
                                      "unique": [["user_id"]],
                                      "coverage": {"by": "user_id", "time": "ts", "every": "1d"},
                                      "anomaly": {"time": "ts", "every": "1d"},
                                      "freshness": {"time": "ts", "max_age": "1h"},
                                      "volume": {"previous": 10, "max_drop": 0.5}})  # fmt: skip
    rows = {r["rule"]: r for r in report.to_arrow().to_pylist()}
    assert rows["not_null"]["passed"] and rows["unique"]["passed"]
    assert rows["coverage"]["passed"] and rows["anomaly"]["passed"]
    assert not rows["freshness"]["passed"] and rows["freshness"]["message"] == "no times to check"
    assert not rows["volume"]["passed"]
    keyed = monitor.validate(empty, {"ordered": {"time": "ts", "by": "user_id"},
                                     "references": {"user_id": "users.user_id"}},
                             references={"users": pd.DataFrame({"user_id": ["u1"]})})  # fmt: skip
    assert keyed.passed and [r["n_failed"] for r in keyed.to_arrow().to_pylist()] == [0, 0]
    nothing = monitor.validate(pd.DataFrame({"sku": [None, None]}),
                               {"columns": {"sku": {"pattern": "^A", "in": ["A"]}}})  # fmt: skip
    assert nothing.passed
    one = pd.DataFrame({"user_id": [None], "ts": [pd.NaT]})
    report = monitor.validate(one, {"columns": {"user_id": {"not_null": True}},
                                    "ordered": {"time": "ts"}})  # fmt: skip
    assert [r["n_failed"] for r in report.to_arrow().to_pylist()] == [1, 0]


def test_rules_from_a_settings_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        "[validate.columns.user_id]\nnot_null = true\n\n[validate.columns.price]\nmin = 0.0\n\n"
        '[validate]\nunique = [["interaction_id"]]\n'
    )
    frame, _ = defective_frame(1)
    from_file = monitor.validate(frame, path)
    from_dict = monitor.validate(frame, {"columns": {"user_id": {"not_null": True},
                                                     "price": {"min": 0.0}},
                                         "unique": [["interaction_id"]]})  # fmt: skip
    assert from_file.to_arrow().equals(from_dict.to_arrow())
    (tmp_path / "none.toml").write_text("[score]\ntop_n = 3\n")
    with pytest.raises(errors.InvalidValueError, match=r"no \[validate\] section"):
        monitor.validate(frame, tmp_path / "none.toml")


def test_report_outputs_and_raise_for_failures(tmp_path):
    frame, products = defective_frame(0)
    report = monitor.validate(frame, RULES, references={"products": products}, as_of=AS_OF)
    assert not report.passed
    assert report.to_dict()["passed"] is False
    assert "| rule | column |" in report.to_markdown()
    assert "<table>" in report._repr_html_()
    assert repr(report).startswith("QualityReport(")
    with pytest.raises(errors.ValidationFailed, match="rules failed") as caught:
        report.raise_for_failures()
    assert caught.value.report is report
    assert "min price:" in str(caught.value)
    clean = monitor.validate(frame, {"columns": {"event": {"not_null": True}}})
    clean.raise_for_failures()
    assert clean.summary() == "all 1 rules passed"
    pytest.importorskip("matplotlib")
    path = tmp_path / "quality.png"
    report.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("rules", "error", "message"),
    [
        ({"columns": {"price": {"min": "0"}}}, errors.InvalidTypeError,
         "rules.columns.price.min: expected a number, got text"),
        ({"columns": {"nope": {"not_null": True}}}, errors.ColumnNotFoundError,
         "column 'nope' not found"),
        ({"columns": {"price": {"between": 1}}}, errors.InvalidValueError,
         "unknown rule 'between'"),
        ({"columnz": {}}, errors.InvalidValueError, "unknown key 'columnz'"),
        ({"unique": "user_id"}, errors.InvalidTypeError, "rules.unique: expected a list"),
        ({"freshness": {"time": "timestamp", "max_age": "6 hours please"}},
         errors.InvalidValueError, "rules.freshness.max_age"),
        ({"volume": {"previous": 10, "max_drop": 2.0}}, errors.InvalidValueError,
         r"rules.volume.max_drop: expected a fraction in \[0, 1\]"),
        ({"references": {"product_id": "products"}}, errors.InvalidValueError, "table.column"),
        ({"references": {"product_id": "items.id"}}, errors.InvalidValueError,
         "names the frame 'items'"),
        ({"columns": {"sku": {"pattern": "(["}}}, errors.InvalidValueError,
         "not a regular expression"),
        ({"columns": {"price": {"in": ["1"]}}}, errors.InvalidTypeError, "price"),
        ({"ordered": {"time": "event"}}, errors.InvalidTypeError, "a timestamp or date"),
        ({"anomaly": {"time": "timestamp", "every": "1d", "max_z": 0}}, errors.InvalidValueError,
         "max_z"),
        ({"columns": {"price": {"max": object()}}}, errors.InvalidTypeError,
         "rules.columns.price.max"),
    ],
)  # fmt: skip
def test_bad_rules_name_where_they_are(rules, error, message):
    frame, products = defective_frame(2, n=50)
    with pytest.raises(error, match=message):
        monitor.validate(frame, rules, references={"products": products})


def test_bad_arguments():
    frame, _ = defective_frame(2, n=50)
    with pytest.raises(errors.InvalidTypeError, match="rules: expected a dict"):
        monitor.validate(frame, [("not_null", "user_id")])
    with pytest.raises(errors.InvalidTypeError, match="references: expected a dict"):
        monitor.validate(frame, {}, references=[frame])
    with pytest.raises(errors.InvalidValueError, match="as_of: expected an ISO time"):
        monitor.validate(frame, {}, as_of="yesterday")
    report = monitor.validate(frame, {"columns": {"price": {"min": 0}}})
    with pytest.raises(errors.InvalidValueError, match=re.escape("no 'max' rule")):
        report.failed_rows("max")
