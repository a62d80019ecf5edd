//! Feature kernels from Rust: hand-worked rolling windows, sessions, time zones, and the
//! batch kernel against the online state.

use chrono_tz::America::Los_Angeles;
use ecomkit::features::time::{local_time, parse_duration, DAY, HOUR, MINUTE};
use ecomkit::features::{
    rolling, session_features, sessionize, EventKind, RollingColumn, SessionConfig, SessionState,
    SessionSummary, Stat, Window,
};
use ecomkit::groups::Groups;
use ecomkit::rng::Rng;

fn window(text: &str) -> Window {
    Window::parse(text).unwrap()
}

#[test]
fn rolling_windows_are_half_open_durations() {
    let groups = Groups::from_keys(&[0u32, 0, 0, 0, 1]).unwrap();
    let times = [0, DAY, 4 * DAY, 7 * DAY, 0];
    let values = [1.0, 2.0, f64::NAN, 8.0, 5.0];
    let columns = [RollingColumn {
        values: &values,
        stats: vec![Stat::Sum, Stat::Count, Stat::Mean, Stat::Slope, Stat::Max],
    }];
    let out = rolling(&groups, &times, &columns, &[window("7d")], 1).unwrap();
    // (t − 7d, t]: day 7 drops day 0.
    assert_eq!(out[0], vec![1.0, 3.0, 3.0, 10.0, 5.0]);
    assert_eq!(out[1], vec![1.0, 2.0, 2.0, 2.0, 1.0]);
    assert_eq!(out[2], vec![1.0, 1.5, 1.5, 5.0, 5.0]);
    assert!(out[3][0].is_nan());
    assert!((out[3][1] - 1.0).abs() < 1e-12);
    assert!(
        (out[3][3] - 1.0).abs() < 1e-12,
        "slope of (1, 2) and (7, 8) is 1 per day"
    );
    assert_eq!(out[4], vec![1.0, 2.0, 2.0, 8.0, 5.0]);
}

#[test]
fn durations_parse_like_pandas_offsets() {
    assert_eq!(parse_duration("30m", "timeout").unwrap(), 30 * MINUTE);
    assert_eq!(parse_duration("30min", "timeout").unwrap(), 30 * MINUTE);
    assert_eq!(parse_duration("7D", "windows").unwrap(), 7 * DAY);
    assert_eq!(parse_duration("1.5h", "windows").unwrap(), 90 * MINUTE);
    for bad in ["", "7", "d", "-1d", "0s", "7 parsecs"] {
        assert!(parse_duration(bad, "windows").is_err(), "{bad}");
    }
}

#[test]
fn local_time_follows_daylight_saving() {
    // 2024-03-10 09:40 UTC is 01:40 PST; 10:05 UTC is 03:05 PDT.
    let spring = 1_710_063_600 * 1_000_000_000i64; // 2024-03-10 09:40 UTC
    assert_eq!(local_time(spring, Los_Angeles).hour, 1);
    assert_eq!(local_time(spring + 25 * MINUTE, Los_Angeles).hour, 3);
    // 2024-03-02 04:00 UTC is Friday 2024-03-01 20:00 in Los Angeles.
    let evening = 1_709_352_000 * 1_000_000_000i64;
    let local = local_time(evening, Los_Angeles);
    assert_eq!((local.hour, local.weekday), (20, 4));
    assert_eq!(local_time(evening, chrono_tz::UTC).weekday, 5);
}

#[test]
fn sessions_split_on_gaps_strictly_greater_than_the_timeout() {
    let users = Groups::from_keys(&["b", "a", "b", "b", "a"]).unwrap();
    let times = [0, 0, 30 * MINUTE, 61 * MINUTE, HOUR];
    let ids = sessionize(&users, &times, 30 * MINUTE, None).unwrap();
    // b (first seen) gets sessions 0 and 1, a gets 2 and 3.
    assert_eq!(ids, vec![0, 2, 0, 1, 3]);
    let capped = sessionize(&users, &times, 2 * HOUR, Some(45 * MINUTE)).unwrap();
    assert_eq!(capped, vec![0, 2, 0, 1, 3]);
}

#[test]
fn batch_sessions_equal_the_online_state_on_random_streams() {
    for seed in 0..50 {
        let mut rng = Rng::new(seed);
        let n = 1 + rng.below(400) as usize;
        let users: Vec<u32> = (0..n).map(|_| rng.below(7) as u32).collect();
        let times: Vec<i64> = (0..n)
            .map(|_| rng.below(6 * 60) as i64 * (MINUTE / 4))
            .collect();
        let kinds: Vec<EventKind> = (0..n)
            .map(|_| match rng.below(10) {
                0 => EventKind::Cart,
                1 => EventKind::Purchase,
                2 => EventKind::Other,
                _ => EventKind::View,
            })
            .collect();
        let items: Vec<Option<u32>> = (0..n)
            .map(|_| (!rng.chance(0.1)).then(|| rng.below(5) as u32))
            .collect();
        let config = SessionConfig {
            timeout: 10 * MINUTE,
            max_duration: (seed % 2 == 0).then_some(40 * MINUTE),
            time_zone: Los_Angeles,
        };
        let groups = Groups::from_keys(&users).unwrap();
        let batch = session_features(&groups, &times, &kinds, &items, &config, true).unwrap();
        assert_eq!(
            batch.session_ids,
            sessionize(&groups, &times, config.timeout, config.max_duration).unwrap()
        );
        // Online: each user's events in time order (ties in input order).
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&r| (groups.ids()[r], times[r]));
        let mut states: Vec<Option<(SessionState<u32>, i64)>> = vec![None; 7];
        for row in order {
            let slot = &mut states[users[row] as usize];
            let (state, first) =
                slot.get_or_insert_with(|| (SessionState::new(config), batch.session_ids[row]));
            let event = state.update(times[row], kinds[row], items[row]).unwrap();
            let id = batch.session_ids[row];
            assert_eq!(*first + event.session as i64, id);
            assert_eq!(i64::from(event.item_views), batch.item_views[row]);
            let since = batch.seconds_since_item_view[row];
            assert!(
                event.seconds_since_item_view == since
                    || (since.is_nan() && event.seconds_since_item_view.is_nan())
            );
            let summary = batch.sessions.summary(id as usize);
            let current = state.current().unwrap();
            if current.n_events == summary.n_events {
                // The batch keeps no last kind.
                let current = SessionSummary {
                    last_kind: None,
                    ..*current
                };
                assert_eq!(current, summary);
                let first = batch.sessions.first_rows[id as usize] as usize;
                assert_eq!(
                    (groups.ids()[first], times[first]),
                    (groups.ids()[row], current.start)
                );
            }
        }
    }
}

#[test]
fn online_state_refuses_events_out_of_order() {
    let config = SessionConfig {
        timeout: MINUTE,
        max_duration: None,
        time_zone: chrono_tz::UTC,
    };
    let mut state = SessionState::new(config);
    state.update(10, EventKind::View, Some(1u8)).unwrap();
    let err = state.update(5, EventKind::View, Some(1)).unwrap_err();
    assert!(err.to_string().contains("time order"), "{err}");
}

#[test]
fn as_of_features_use_only_earlier_events() {
    use ecomkit::features::{user_features, Events, Queries, USER_FEATURES};
    let entity = [0u32, 0, 0];
    let times = [0, DAY, 2 * DAY];
    let kinds = [EventKind::Purchase, EventKind::View, EventKind::Purchase];
    let values = [10.0, f64::NAN, 30.0];
    let categories = [4u32, 5, 5];
    let events = Events {
        entity: &entity,
        times: &times,
        kinds: &kinds,
        values: &values,
        categories: &categories,
    };
    let queries = Queries {
        entity: &[0, 0, 0],
        times: &[0, 2 * DAY, 3 * DAY],
    };
    let out = user_features(&events, &queries, 1).unwrap();
    let column = |name: &str| &out.values[USER_FEATURES.iter().position(|n| *n == name).unwrap()];
    assert_eq!(column("lifetime_purchases"), &vec![0.0, 1.0, 2.0]);
    assert_eq!(column("monetary_90d"), &vec![0.0, 10.0, 40.0]);
    assert!(column("aov_90d")[0].is_nan());
    assert_eq!(column("days_since_last_purchase")[2], 1.0);
    // Category 5 reaches category 4's count at day 1 and is the more recent: it wins.
    assert_eq!(out.preferred_category_row, vec![u32::MAX, 1, 2]);
}

#[test]
fn utc_fast_path_agrees_with_the_tz_database() {
    let mut rng = Rng::new(4);
    for _ in 0..10_000 {
        let nanos = (rng.below(4_000_000_000) as i64 - 1_000_000_000) * 1_000_000_000;
        let fast = local_time(nanos, chrono_tz::UTC);
        let slow = local_time(nanos, chrono_tz::Etc::UTC);
        assert_eq!(fast, slow, "{nanos}");
    }
}

#[test]
fn a_reset_state_follows_a_new_stream_as_a_fresh_one() {
    let config = SessionConfig {
        timeout: 30 * MINUTE,
        max_duration: None,
        time_zone: Los_Angeles,
    };
    let stream = [
        (0, EventKind::View, Some(1u32)),
        (MINUTE, EventKind::View, Some(1)),
        (2 * MINUTE, EventKind::Cart, None),
    ];
    let mut used = SessionState::new(config);
    for t in [5 * MINUTE, 90 * MINUTE] {
        used.update(t, EventKind::View, Some(1)).unwrap();
    }
    used.reset();
    assert_eq!((used.n_sessions(), used.current()), (0, None));
    let mut fresh = SessionState::new(config);
    for (time, kind, item) in stream {
        // Debug text, so that NaN (no earlier view) equals NaN.
        assert_eq!(
            format!("{:?}", used.update(time, kind, item).unwrap()),
            format!("{:?}", fresh.update(time, kind, item).unwrap())
        );
    }
    assert_eq!(used.current(), fresh.current());
}
