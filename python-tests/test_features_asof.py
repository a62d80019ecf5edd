"""Point-in-time user and item features, interaction scores, session transitions, the
categorical encoder and temporal_split, against straightforward pandas loops.

Tolerance: 1e-9 relative for money sums and rates; counts exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import to_kind, to_pandas

import ecomkit
from ecomkit.errors import ColumnNotFoundError, InvalidTypeError, InvalidValueError
from ecomkit.features import (
    CategoricalEncoder,
    interaction_scores,
    item_features,
    session_features,
    temporal_split,
    user_features,
)

DAY = pd.Timedelta("1D")


def random_events(rng: np.random.Generator, n: int, n_users: int, n_items: int) -> pd.DataFrame:
    hours = rng.integers(0, 24 * 120, size=n)
    df = pd.DataFrame(
        {
            "visitorid": rng.integers(0, n_users, size=n),
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(hours, "h"),
            "event": rng.choice(
                ["view", "addtocart", "transaction", "other"], size=n, p=[0.6, 0.15, 0.2, 0.05]
            ),  # fmt: skip
            "itemid": rng.integers(0, n_items, size=n),
            "price": rng.choice([5.0, 10.0, 12.5, 40.0, np.nan], size=n),
            "categoryid": rng.choice([1.0, 2.0, 3.0, np.nan], size=n),
        }
    )
    return df


def random_queries(rng, events: pd.DataFrame, entity: str, n: int) -> pd.DataFrame:
    hours = rng.integers(-24, 24 * 130, size=n)
    return pd.DataFrame(
        {
            entity: rng.choice(np.r_[events[entity].unique(), [10_000]], size=n),
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(hours, "h"),
        }
    )


def before(events: pd.DataFrame, entity: str, key, t) -> pd.DataFrame:
    e = events[(events[entity] == key) & (events["timestamp"] < t)]
    return e.sort_values("timestamp", kind="stable")


def user_reference(events: pd.DataFrame, queries: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for user, t in zip(queries["visitorid"], queries["timestamp"], strict=True):
        e = before(events, "visitorid", user, t)
        p = e[e["event"] == "transaction"]
        p90 = p[p["timestamp"] >= t - 90 * DAY]
        cats = e["categoryid"].dropna()
        preferred = np.nan
        if len(cats):
            counts = cats.value_counts()
            tied = counts[counts == counts.max()].index
            last_seen = {c: i for i, c in enumerate(cats)}
            preferred = max(tied, key=lambda c: last_seen[c])
        rows.append(
            {
                "n_events": len(e),
                "lifetime_purchases": len(p),
                "aov_90d": p90["price"].fillna(0).mean() if len(p90) else np.nan,
                "days_since_last_purchase": (t - p["timestamp"].max()) / DAY if len(p) else np.nan,
                "recency_days": (t - e["timestamp"].max()) / DAY if len(e) else np.nan,
                "frequency_90d": len(p90),
                "monetary_90d": p90["price"].fillna(0).sum(),
                "category_diversity": cats.nunique(),
                "preferred_category": preferred,
            }
        )
    return pd.DataFrame(rows)


def item_reference(events: pd.DataFrame, queries: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for item, t in zip(queries["itemid"], queries["timestamp"], strict=True):
        e = before(events, "itemid", item, t)
        views = e[e["event"] == "view"]
        v30 = (views["timestamp"] >= t - 30 * DAY).sum()
        v7 = (views["timestamp"] >= t - 7 * DAY).sum()
        tx = e[e["event"] == "transaction"]
        prices7 = e.loc[e["timestamp"] >= t - 7 * DAY, "price"].dropna()
        # Latest (price, category) of every item before t, then the percentile.
        known = events[
            (events["timestamp"] < t) & events["price"].notna() & events["categoryid"].notna()
        ].sort_values("timestamp", kind="stable")
        latest = known.groupby("itemid").tail(1).set_index("itemid")
        percentile = np.nan
        if item in latest.index:
            price, category = latest.loc[item, ["price", "categoryid"]]
            peers = latest.loc[latest["categoryid"] == category, "price"]
            less, equal = (peers < price).sum(), (peers == price).sum()
            percentile = (less + (equal + 1) / 2) / len(peers)
        rows.append(
            {
                "purchases_30d": (tx["timestamp"] >= t - 30 * DAY).sum(),
                "view_to_purchase_rate": len(tx) / len(views) if len(views) else np.nan,
                "avg_price_7d": prices7.mean() if len(prices7) else np.nan,
                "popularity_30d": v30,
                "trending_ratio": (v7 / 7) / (v30 / 30) if v30 else np.nan,
                "price_percentile_in_category": percentile,
                "n_views": len(views),
            }
        )
    return pd.DataFrame(rows)


def assert_frame_close(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    for column in expected.columns:
        a = got[column].to_numpy(dtype=float)
        b = expected[column].to_numpy(dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=column)


@pytest.mark.parametrize("seed", range(15))
def test_user_features_match_pandas(seed):
    rng = np.random.default_rng(seed)
    events = random_events(rng, int(rng.integers(1, 400)), int(rng.integers(1, 10)), 20)
    queries = random_queries(rng, events, "visitorid", int(rng.integers(1, 60)))
    out = user_features(events.sample(frac=1.0, random_state=seed), queries)
    assert out.index.equals(queries.index)
    assert_frame_close(out, user_reference(events, queries))


@pytest.mark.parametrize("seed", range(15))
def test_item_features_match_pandas(seed):
    rng = np.random.default_rng(100 + seed)
    events = random_events(rng, int(rng.integers(1, 300)), 20, int(rng.integers(1, 12)))
    queries = random_queries(rng, events, "itemid", int(rng.integers(1, 50)))
    out = item_features(events.sample(frac=1.0, random_state=seed), queries)
    assert_frame_close(out, item_reference(events, queries))


def test_no_leakage_strictly_before():
    events = pd.DataFrame(
        {
            "visitorid": [1, 1],
            "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 10:00"], utc=True),
            "event": ["transaction", "transaction"],
            "price": [10.0, 20.0],
            "categoryid": [1, 2],
        }
    )
    queries = pd.DataFrame(
        {
            "visitorid": [1, 1, 1],
            "timestamp": pd.to_datetime(
                ["2024-01-01 10:00:00.000", "2024-01-02 10:00:00.000", "2024-01-02 10:00:00.001"],
                utc=True,
            ),
        }  # fmt: skip
    )
    out = user_features(events, queries)
    # A purchase at the query's own time is not yet known.
    assert out["lifetime_purchases"].tolist() == [0.0, 1.0, 2.0]
    assert out["preferred_category"].tolist()[1:] == [1, 2]  # tie → most recent


def test_users_without_purchases_and_unknown_entities():
    events = pd.DataFrame(
        {
            "visitorid": ["a"],
            "timestamp": pd.to_datetime(["2024-01-01"], utc=True),
            "event": ["view"],
            "price": [3.0],
            "categoryid": ["shoes"],
        }  # fmt: skip
    )
    queries = pd.DataFrame(
        {"visitorid": ["a", "zz"], "timestamp": pd.to_datetime(["2024-02-01"] * 2, utc=True)}
    )
    out = user_features(events, queries)
    assert out["lifetime_purchases"].tolist() == [0.0, 0.0]
    assert np.isnan(out["aov_90d"]).all() and np.isnan(out["days_since_last_purchase"]).all()
    assert out["recency_days"].tolist()[0] == 31.0 and np.isnan(out["recency_days"][1])
    assert out["preferred_category"].tolist()[0] == "shoes"
    assert pd.isna(out["preferred_category"][1])
    no_money = user_features(events.drop(columns=["price", "categoryid"]), queries, value=None,
                             category=None)  # fmt: skip
    assert "preferred_category" not in no_money.columns


def test_frame_kinds(kind):
    rng = np.random.default_rng(5)
    events = random_events(rng, 200, 5, 8)
    queries = random_queries(rng, events, "visitorid", 30)
    expected = user_features(events, queries)
    got = to_pandas(user_features(to_kind(events, kind), to_kind(queries, kind)))
    assert_frame_close(got, expected[["n_events", "aov_90d", "recency_days"]])
    items = random_queries(rng, events, "itemid", 30)
    expected = item_features(events, items)
    got = to_pandas(item_features(to_kind(events, kind), to_kind(items, kind)))
    assert_frame_close(got, expected[["trending_ratio", "price_percentile_in_category"]])


def test_as_of_errors():
    events = random_events(np.random.default_rng(1), 20, 3, 3)
    queries = pd.DataFrame({"visitorid": ["1"], "timestamp": events["timestamp"][:1]})
    with pytest.raises(InvalidTypeError, match=r"as_of \(column 'visitorid'\)"):
        user_features(events, queries)
    with pytest.raises(ColumnNotFoundError, match="as_of: column 'timestamp'"):
        user_features(events, queries.rename(columns={"timestamp": "t"}))
    with pytest.raises(ColumnNotFoundError, match="value: column 'amount'"):
        user_features(events, queries, value="amount")


def test_interaction_scores_match_pandas():
    rng = np.random.default_rng(3)
    events = random_events(rng, 500, 6, 5)
    weights = {"view": 1.0, "addtocart": 3.0, "transaction": 5.0}
    as_of = pd.Timestamp("2024-03-01", tz="UTC")
    out = interaction_scores(events, half_life="5d", weights=weights, as_of=as_of)
    e = events[events["timestamp"] < as_of]
    age = (as_of - e["timestamp"]) / pd.Timedelta("5D")
    contrib = e["event"].map(weights).fillna(0.0) * np.exp2(-age)
    expected = (
        e.assign(c=contrib)
        .groupby(["visitorid", "itemid"], sort=False)
        .agg(score=("c", "sum"), n_events=("c", "size"), last_time=("timestamp", "max"))
        .reset_index()
    )
    assert (
        out[["visitorid", "itemid"]].values.tolist()
        == expected[["visitorid", "itemid"]].values.tolist()
    )
    np.testing.assert_allclose(out["score"], expected["score"], rtol=1e-12)
    assert out["n_events"].tolist() == expected["n_events"].tolist()
    assert (out["last_time"] == expected["last_time"]).all()
    latest = interaction_scores(events, half_life="5d", weights=weights)
    assert len(latest) == events.groupby(["visitorid", "itemid"]).ngroups
    with pytest.raises(InvalidValueError, match="half_life"):
        interaction_scores(events, half_life="-1d")


def test_transition_probabilities_match_a_loop():
    rng = np.random.default_rng(8)
    events = random_events(rng, 300, 4, 5)
    events["timestamp"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.integers(0, 600, size=len(events))), "m"
    )
    sessions, tagged = session_features(events, transitions=True)
    for sid, group in tagged.groupby("session_id"):
        kinds = group.sort_values("timestamp", kind="stable")["event"].tolist()
        for a in ("view", "addtocart", "transaction"):
            out_of_a = [b for x, b in zip(kinds, kinds[1:], strict=False) if x == a]
            for b in ("view", "addtocart", "transaction"):
                got = sessions.loc[sessions["session_id"] == sid, f"p_{a}_to_{b}"].item()
                expected = out_of_a.count(b) / len(out_of_a) if out_of_a else np.nan
                assert got == pytest.approx(expected, nan_ok=True)


def test_online_transitions_equal_batch():
    events = pd.DataFrame(
        {
            "visitorid": [1] * 4,
            "timestamp": pd.date_range("2024-01-01", periods=4, freq="min", tz="UTC"),  # fmt: skip
            "event": ["view", "view", "addtocart", "view"],
            "itemid": [1, 2, 2, 3],
        }
    )
    sessions, _ = session_features(events, transitions=True)
    state = ecomkit.features.SessionState()
    for row in events.itertuples():
        state.update(row.timestamp, row.event, row.itemid)
    current = state.current()
    for name in [c for c in sessions.columns if c.startswith("p_")]:
        assert current[name] == pytest.approx(sessions[name][0], nan_ok=True)
    assert current["p_view_to_view"] == pytest.approx(1 / 2)


def test_categorical_encoder(tmp_path):
    encoder = CategoricalEncoder(min_frequency=2).fit(["b", "a", "b", "c", "a", None])
    assert encoder.categories_ == ["a", "b"]
    assert encoder.transform(pd.Series(["a", "c", None, "b"])).tolist() == [1, 0, 0, 2]
    # Row order does not change the codes.
    assert (
        CategoricalEncoder().fit(["x", "y"]).categories_
        == CategoricalEncoder().fit(["y", "x"]).categories_
    )
    encoder.save(tmp_path / "vocab.json")
    loaded = CategoricalEncoder.load(tmp_path / "vocab.json")
    assert loaded.transform(["b", "zzz"]).tolist() == [2, 0]
    with pytest.raises(InvalidValueError, match="fit"):
        CategoricalEncoder().transform(["a"])
    with pytest.raises(InvalidValueError, match="JSON"):
        CategoricalEncoder.from_json("{}")


def test_temporal_split():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 1000, 500), "h"),
            "user": rng.integers(0, 40, 500),
        }
    )
    train, valid, test = temporal_split(df, "t")
    assert (len(train), len(valid), len(test)) == (350, 50, 100)
    assert train["t"].max() <= valid["t"].min() and valid["t"].max() <= test["t"].min()
    parts = temporal_split(df, "t", (0.5, 0.5), group="user")
    users = [set(p["user"]) for p in parts]
    assert not users[0] & users[1]
    assert sum(len(p) for p in parts) == len(df)
    with pytest.raises(InvalidValueError, match="fractions"):
        temporal_split(df, "t", (0.5, 0.6))
    with pytest.raises(InvalidTypeError, match="time"):
        temporal_split(df, "user")


def test_empty_events_and_empty_queries():
    events = random_events(np.random.default_rng(0), 10, 2, 2).iloc[:0]
    queries = pd.DataFrame(
        {"visitorid": [1], "timestamp": pd.to_datetime(["2024-01-01"], utc=True)}
    )
    out = user_features(events, queries)
    assert out["n_events"].tolist() == [0.0] and pd.isna(out["preferred_category"][0])
    assert len(user_features(events, queries.iloc[:0])) == 0
    assert len(interaction_scores(events)) == 0
    items = pd.DataFrame({"itemid": [1], "timestamp": queries["timestamp"]})
    assert np.isnan(item_features(events, items)["price_percentile_in_category"][0])
