//! Experiments from Rust: GrowthBook's conformance cases, splitting, aggregates, reports.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use ecomkit::abtest::stats::{chi_square_gof, welch_ttest};
use ecomkit::abtest::{
    bucket_ranges, choose_variation, evaluate, in_namespace, Aggregates, Encoding, EvaluateOptions,
    HashVersion, Hasher, MetricKind, MetricSpec, Namespace, Split,
};
use ecomkit::datasets::experiment_units;
use ecomkit::frame::Frame;
use ecomkit::EcomkitError;
use serde_json::Value;

fn growthbook_cases() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/growthbook/bucketing_cases.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("valid JSON")),
        Err(_) => {
            eprintln!("skipped: {} is absent", path.display());
            None
        }
    }
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn growthbook_conformance_cases() {
    let Some(cases) = growthbook_cases() else {
        return;
    };
    for case in cases["hash"].as_array().unwrap() {
        let (seed, value) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        match HashVersion::new(case[2].as_i64().unwrap(), "version") {
            Ok(version) => {
                let bucket = Hasher::new(seed, version, Encoding::Utf16).bucket(value);
                assert_eq!(bucket, case[3].as_f64().unwrap(), "{case}");
            }
            Err(EcomkitError::InvalidValue { .. }) => assert!(case[3].is_null()),
            Err(other) => panic!("{other}"),
        }
    }
    for case in cases["getBucketRange"].as_array().unwrap() {
        let args = &case[1];
        let weights = (!args[2].is_null()).then(|| floats(&args[2]));
        let ranges = bucket_ranges(
            args[0].as_u64().unwrap() as usize,
            args[1].as_f64().unwrap(),
            weights.as_deref(),
        );
        let expected = case[2].as_array().unwrap();
        assert_eq!(ranges.len(), expected.len(), "{case}");
        for ((start, end), want) in ranges.iter().zip(expected) {
            let want = floats(want);
            assert!(
                (start - want[0]).abs() < 1e-9 && (end - want[1]).abs() < 1e-9,
                "{case}"
            );
        }
    }
    for case in cases["chooseVariation"].as_array().unwrap() {
        let ranges: Vec<(f64, f64)> = case[2]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()))
            .collect();
        let chosen = choose_variation(case[1].as_f64().unwrap(), &ranges);
        assert_eq!(i64::from(chosen), case[3].as_i64().unwrap(), "{case}");
    }
    for case in cases["inNamespace"].as_array().unwrap() {
        let ns = &case[2];
        let namespace = Namespace {
            id: ns[0].as_str().unwrap().to_string(),
            start: ns[1].as_f64().unwrap(),
            end: ns[2].as_f64().unwrap(),
        };
        let ids = StringArray::from(vec![case[1].as_str().unwrap()]);
        let inside = in_namespace(&ids, &namespace, Encoding::Utf16).unwrap();
        assert_eq!(inside[0], case[3].as_bool().unwrap(), "{case}");
    }
}

fn split(seed: &str, weights: Option<Vec<f64>>) -> Split {
    Split {
        seed: seed.into(),
        num_variations: 2,
        coverage: 1.0,
        weights,
        hash_version: HashVersion::V2,
        encoding: Encoding::Utf16,
        namespace: None,
        per_category: vec![],
    }
}

#[test]
fn assignments_follow_the_weights_and_repeat() {
    let ids = StringArray::from_iter_values((0..200_000).map(|i| format!("user-{i}")));
    let assigned = split("exp", Some(vec![0.8, 0.2]))
        .assign(&ids, None)
        .unwrap();
    let share = assigned.iter().filter(|&&v| v == 1).count() as f64 / 200_000.0;
    assert!((share - 0.2).abs() < 0.005, "{share}");
    let again = split("exp", Some(vec![0.8, 0.2]))
        .assign(&ids, None)
        .unwrap();
    assert_eq!(assigned, again);
    // A dictionary-encoded column assigns exactly as the plain one.
    let dictionary: arrow_array::DictionaryArray<arrow_array::types::Int32Type> = (0..200_000)
        .map(|i| format!("user-{i}"))
        .collect::<Vec<_>>()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        split("exp", Some(vec![0.8, 0.2]))
            .assign(&dictionary, None)
            .unwrap(),
        assigned
    );
}

#[test]
fn bad_splits_are_named_errors() {
    let ids = StringArray::from(vec!["a"]);
    let err = split("e", Some(vec![0.9, 0.3]))
        .assign(&ids, None)
        .unwrap_err();
    assert!(err.to_string().starts_with("weights:"), "{err}");
    let floats = Float64Array::from(vec![1.0]);
    let err = split("e", None).assign(&floats, None).unwrap_err();
    assert!(matches!(err, EcomkitError::InvalidType { .. }), "{err}");
}

fn units_frame(variants: Vec<&str>, y: Vec<f64>) -> Frame {
    Frame::from(
        RecordBatch::try_from_iter([
            ("variant", Arc::new(StringArray::from(variants)) as ArrayRef),
            ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
        ])
        .unwrap(),
    )
}

fn mean_metric(column: &str, covariate: Option<&str>) -> MetricSpec {
    MetricSpec {
        name: column.into(),
        kind: MetricKind::Mean {
            column: column.into(),
            covariate: covariate.map(Into::into),
        },
    }
}

fn options(control: &str) -> EvaluateOptions {
    EvaluateOptions {
        control: control.into(),
        alpha: 0.05,
        correction: None,
        expected_weights: None,
    }
}

#[test]
fn welch_by_hand() {
    // t: 1, 2, 3, 4 (mean 2.5, var 5/3); c: 2, 4, 6 (mean 4, var 4).
    let frame = units_frame(
        vec!["t", "t", "t", "t", "c", "c", "c"],
        vec![1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0],
    );
    let aggregates =
        Aggregates::from_units(&frame, "variant", None, &[mean_metric("y", None)]).unwrap();
    let report = evaluate(&aggregates, &options("c")).unwrap();
    let row = &report.rows[0];
    let expected = welch_ttest(2.5, 5.0 / 3.0, 4.0, 4.0, 4.0, 3.0, 0.05);
    assert_eq!(row.test, "welch_t");
    assert!((row.p_value - expected.p_value).abs() < 1e-14);
    assert!((row.abs_lift + 1.5).abs() < 1e-14);
    // scipy.stats.ttest_ind([1, 2, 3, 4], [2, 4, 6], equal_var=False).pvalue
    assert!(
        (row.p_value - 0.33382370007750106).abs() < 1e-9,
        "{}",
        row.p_value
    );
}

#[test]
fn merged_parts_equal_one_pass() {
    let batch = experiment_units(50_000, 1, 0.05).unwrap();
    let frame = Frame::from(batch.clone());
    let metrics = [
        mean_metric("gmv", Some("pre_spend")),
        mean_metric("converted", None),
    ];
    let whole = Aggregates::from_units(&frame, "variant", None, &metrics).unwrap();
    let parts: Vec<Aggregates> = (0..4)
        .map(|i| {
            let part = Frame::from(batch.slice(i * 12_500, 12_500));
            Aggregates::from_units(&part, "variant", None, &metrics).unwrap()
        })
        .collect();
    let merged = parts[1..]
        .iter()
        .fold(parts[0].clone(), |acc, p| acc.merge(p).unwrap());
    let (a, b) = (
        evaluate(&whole, &options("control")).unwrap(),
        evaluate(&merged, &options("control")).unwrap(),
    );
    for (x, y) in a.rows.iter().zip(&b.rows) {
        assert!((x.p_value - y.p_value).abs() < 1e-9 * x.p_value.max(1e-300).max(1.0));
        assert!((x.value - y.value).abs() < 1e-9 * x.value.abs().max(1.0));
    }
}

#[test]
fn missing_control_and_sample_ratio() {
    let frame = units_frame(vec!["a", "b"], vec![1.0, 2.0]);
    let aggregates =
        Aggregates::from_units(&frame, "variant", None, &[mean_metric("y", None)]).unwrap();
    let err = evaluate(&aggregates, &options("control")).unwrap_err();
    assert!(err.to_string().starts_with("control_variant:"), "{err}");
    // scipy.stats.chisquare([5000, 5300]).pvalue
    let (_, p) = chi_square_gof(&[5000.0, 5300.0], &[1.0, 1.0]).unwrap();
    assert!((p - 0.003116693839866867).abs() < 1e-12);
}

/// The two aggregation paths — masked sums for at most four cells, rows sorted by cell for
/// more — give the same cells: three segments × two variants (six cells, sorted) against
/// each segment's rows alone (two cells, masked), with and without a covariate.
#[test]
fn masked_and_sorted_aggregation_agree() {
    use ecomkit::rng::Rng;
    let frame_of = |rows: &[(usize, usize, f64, f64)]| {
        let names = ["control", "treatment"];
        let days = ["d0", "d1", "d2"];
        Frame::from(
            RecordBatch::try_from_iter([
                (
                    "variant",
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|r| names[r.0]),
                    )) as ArrayRef,
                ),
                (
                    "day",
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|r| days[r.1]),
                    )) as _,
                ),
                (
                    "y",
                    Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))) as _,
                ),
                (
                    "x",
                    Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))) as _,
                ),
            ])
            .unwrap(),
        )
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    for seed in 0..20 {
        let mut rng = Rng::new(seed);
        let n = 2_000 + rng.below(30_000) as usize;
        let rows: Vec<(usize, usize, f64, f64)> = (0..n)
            .map(|_| {
                let x = rng.normal();
                let (variant, day) = (rng.below(2) as usize, rng.below(3) as usize);
                (variant, day, 3.0 + x + rng.normal() + day as f64, x)
            })
            .collect();
        for covariate in [None, Some("x")] {
            let metrics = [mean_metric("y", covariate)];
            let whole =
                Aggregates::from_units(&frame_of(&rows), "variant", Some("day"), &metrics).unwrap();
            for (s, day) in whole.segments.iter().enumerate() {
                let d: usize = day[1..].parse().unwrap();
                let part: Vec<_> = rows.iter().copied().filter(|r| r.1 == d).collect();
                let alone =
                    Aggregates::from_units(&frame_of(&part), "variant", None, &metrics).unwrap();
                for (v, variant) in whole.variants.iter().enumerate() {
                    let a = alone.variants.iter().position(|x| x == variant).unwrap();
                    let (sorted, masked) = (&whole.cells[s][v][0], &alone.cells[0][a][0]);
                    assert_eq!(whole.units[s][v], alone.units[0][a]);
                    assert_eq!(sorted.moments.n, masked.moments.n);
                    for i in 0..3 {
                        assert!(close(sorted.moments.mean[i], masked.moments.mean[i]));
                        for j in 0..3 {
                            let (p, q) =
                                (sorted.moments.comoment[i][j], masked.moments.comoment[i][j]);
                            assert!(close(p, q), "seed {seed} {day} {variant}: {p} vs {q}");
                        }
                    }
                }
            }
        }
    }
}
