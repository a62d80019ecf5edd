//! Criterion benchmarks of the Rust kernels: `make bench-rust`.

use std::hint::black_box;

use arrow_array::StringArray;
use criterion::{criterion_group, criterion_main, Criterion};
use ecomkit::abtest::{Aggregates, Encoding, HashVersion, MetricKind, MetricSpec, Split};
use ecomkit::datasets::experiment_units;
use ecomkit::frame::Frame;
use ecomkit::groups::Groups;
use ecomkit::rng::Rng;
use ecomkit::score::{explosive_score_columns, rank_within_groups, robust_zscore, ScoreOptions};

const N: usize = 1_000_000;
const GROUPS: u64 = 2_000;

fn data() -> (Vec<Vec<f64>>, Groups) {
    let mut rng = Rng::new(0);
    let keys: Vec<u64> = (0..N).map(|_| rng.below(GROUPS)).collect();
    let features = (0..4)
        .map(|_| (0..N).map(|_| rng.normal()).collect())
        .collect();
    (features, Groups::from_keys(&keys).unwrap())
}

fn bench(c: &mut Criterion) {
    let (features, groups) = data();
    let options = ScoreOptions::default();
    c.bench_function("robust_zscore 1M rows, 2k groups", |b| {
        b.iter(|| robust_zscore(black_box(&features[0]), &groups, &options).unwrap())
    });
    c.bench_function("rank_within_groups 1M rows, 2k groups", |b| {
        b.iter(|| rank_within_groups(black_box(&features[1]), &groups).unwrap())
    });
    let columns: Vec<(&str, &[f64], f64)> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (["a", "b", "c", "d"][i], f.as_slice(), 1.0))
        .collect();
    c.bench_function("explosive_score 1M rows, 4 features, 2k groups", |b| {
        b.iter(|| explosive_score_columns(black_box(&columns), groups.clone(), &options).unwrap())
    });
    let mut rng = Rng::new(1);
    let keys: Vec<String> = (0..N)
        .map(|_| format!("cat{}", rng.below(GROUPS)))
        .collect();
    c.bench_function("Groups::from_keys 1M strings, 2k groups", |b| {
        b.iter(|| Groups::from_keys(black_box(&keys)).unwrap())
    });
    experiments(c);
}

fn experiments(c: &mut Criterion) {
    let ids = StringArray::from_iter_values((0..N).map(|i| format!("user-{i:08}")));
    let split = Split {
        seed: "bench-exp".into(),
        num_variations: 3,
        coverage: 1.0,
        weights: None,
        hash_version: HashVersion::V2,
        encoding: Encoding::Utf16,
        namespace: None,
        per_category: vec![],
    };
    c.bench_function("Split::assign 1M string ids, 3 variants", |b| {
        b.iter(|| split.assign(black_box(&ids), None).unwrap())
    });
    let units = Frame::from(experiment_units(N, 0, 0.05).unwrap());
    let metrics = ["converted", "clicks", "gmv"].map(|name| MetricSpec {
        name: name.into(),
        kind: MetricKind::Mean {
            column: name.into(),
            covariate: None,
        },
    });
    c.bench_function(
        "Aggregates::from_units 1M rows, 2 variants, 3 metrics",
        |b| {
            b.iter(|| Aggregates::from_units(black_box(&units), "variant", None, &metrics).unwrap())
        },
    );
}

fn bench_features(c: &mut Criterion) {
    use ecomkit::features::time::{DAY, MINUTE};
    use ecomkit::features::{
        rolling, session_features, sessionize, EventKind, RollingColumn, SessionConfig, Stat,
        Window,
    };
    // 1,000 entities × 1,000 days, sorted by entity then day (as daily snapshots are).
    let entity: Vec<u32> = (0..N as u32).map(|i| i / 1000).collect();
    let days: Vec<i64> = (0..N as i64).map(|i| (i % 1000) * DAY).collect();
    let mut rng = Rng::new(1);
    let values: Vec<f64> = (0..N).map(|_| rng.normal()).collect();
    let groups = Groups::from_keys(&entity).unwrap();
    let column = [RollingColumn {
        values: &values,
        stats: vec![Stat::Mean, Stat::Std, Stat::Slope],
    }];
    let windows = [Window::parse("7d").unwrap(), Window::parse("30d").unwrap()];
    c.bench_function(
        "rolling 1M rows, 1 column × 2 windows × (mean, std, slope)",
        |b| b.iter(|| rolling(&groups, black_box(&days), &column, &windows, 1).unwrap()),
    );
    // 1M events of 20,000 users in time order (as logs are).
    let users: Vec<u32> = (0..N).map(|_| rng.below(20_000) as u32).collect();
    let times: Vec<i64> = (0..N as i64).map(|i| i * (MINUTE / 10)).collect();
    let user_groups = Groups::from_keys(&users).unwrap();
    let kinds: Vec<EventKind> = (0..N)
        .map(|_| {
            if rng.chance(0.1) {
                EventKind::Cart
            } else {
                EventKind::View
            }
        })
        .collect();
    let items: Vec<Option<u32>> = (0..N).map(|_| Some(rng.below(5_000) as u32)).collect();
    let config = SessionConfig {
        timeout: 30 * MINUTE,
        max_duration: None,
        time_zone: chrono_tz::UTC,
    };
    c.bench_function("sessionize 1M events, 20k users", |b| {
        b.iter(|| sessionize(&user_groups, black_box(&times), config.timeout, None).unwrap())
    });
    c.bench_function("session_features 1M events, 20k users", |b| {
        b.iter(|| {
            session_features(
                &user_groups,
                black_box(&times),
                &kinds,
                &items,
                &config,
                false,
            )
            .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench, bench_features
}
criterion_main!(benches);
