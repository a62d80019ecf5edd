//! Criterion benchmarks of the Rust kernels: `make bench-rust`.

use std::hint::black_box;

use arrow_array::StringArray;
use criterion::{criterion_group, criterion_main, Criterion};
use ecomkit::datasets::experiment_units;
use ecomkit::experiment::{Aggregates, Encoding, HashVersion, MetricKind, MetricSpec, Split};
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
