//! Drift statistics from Rust: hand-worked cases (the random comparisons with scipy and
//! Evidently are in python-tests/test_monitor.py).

use arrow_array::{Float64Array, StringArray};
use ecomkit::monitor::{columns, drift_test, Binning, DriftOptions, DriftTest, Method, Sample};

fn test(method: Method, reference: &Sample, current: &Sample) -> DriftTest {
    let options = DriftOptions {
        binning: Binning::Evidently,
        ..Default::default()
    };
    drift_test(method, reference, current, &options).unwrap()
}

/// Two categories in shares 0.5/0.5 (reference) against 0.25/0.75 (current).
const REFERENCE: Sample = Sample::Categorical {
    codes: &[0, 1],
    n_categories: 2,
};
const CURRENT: Sample = Sample::Categorical {
    codes: &[0, 1, 1, 1],
    n_categories: 2,
};

#[test]
fn psi_of_two_categories_by_hand() {
    let (reference, current) = (REFERENCE, CURRENT);
    let result = test(Method::Psi, &reference, &current);
    let expected = (0.5 - 0.25) * (0.5f64 / 0.25).ln() + (0.5 - 0.75) * (0.5f64 / 0.75).ln();
    assert!((result.statistic - expected).abs() < 1e-15);
    assert!(result.drifted && result.pvalue.is_nan() && result.threshold == 0.1);
}

#[test]
fn chi2_and_z_test_by_hand() {
    // Expected current counts 2, 2 (reference 1:1 scaled to 4 rows); observed 1, 3.
    let (reference, current) = (REFERENCE, CURRENT);
    let chi2 = test(Method::ChiSquare, &reference, &current);
    assert!((chi2.statistic - 1.0).abs() < 1e-15);
    assert!((chi2.pvalue - 0.317_310_507_862_914_1).abs() < 1e-12);
    let z = test(Method::ZTest, &reference, &current);
    // p1 = 1/2, p2 = 3/4, pooled 2/3: z = -0.25 / sqrt(2/9 · 3/4).
    assert!((z.statistic - (-0.25 / (2.0f64 / 9.0 * 0.75).sqrt())).abs() < 1e-15);
}

#[test]
fn wasserstein_is_normed_by_the_reference_std() {
    // Shifting by 1 moves every unit of mass by 1; the reference std is 1.
    let reference = [-1.0, 1.0];
    let current = [0.0, 2.0];
    let result = test(
        Method::Wasserstein,
        &Sample::Numeric(&reference),
        &Sample::Numeric(&current),
    );
    assert!((result.statistic - 1.0).abs() < 1e-15);
}

#[test]
fn columns_leave_missing_values_out_and_share_sorted_categories() {
    let reference = StringArray::from(vec![Some("b"), None, Some("a")]);
    let current = StringArray::from(vec![Some("c"), Some("a")]);
    let (r, c) = columns(&reference, &current, false).unwrap();
    assert_eq!((r.missing, c.missing), (1, 0));
    match (r.sample(), c.sample()) {
        (
            Sample::Categorical {
                codes: r,
                n_categories: 3,
            },
            Sample::Categorical { codes: c, .. },
        ) => assert_eq!((r, c), (&[1, 0][..], &[2, 0][..])),
        other => panic!("expected categories, got {other:?}"),
    }
    let numbers = Float64Array::from(vec![Some(1.0), Some(f64::NAN), None]);
    let (r, _) = columns(&numbers, &numbers, false).unwrap();
    assert_eq!((r.sample().len(), r.missing), (1, 2));
}

#[test]
fn a_distance_method_refuses_categories() {
    let sample = Sample::Categorical {
        codes: &[0],
        n_categories: 1,
    };
    let error = drift_test(
        Method::Wasserstein,
        &sample,
        &sample,
        &DriftOptions::default(),
    );
    assert!(error.unwrap_err().to_string().contains("method"));
}

#[test]
fn ks_by_hand() {
    let reference = Sample::Numeric(&[1.0, 2.0, 3.0, 4.0]);
    let current = Sample::Numeric(&[3.0, 4.0, 5.0, 6.0]);
    let ks = test(Method::Ks, &reference, &current);
    // D = 1/2; exact p = 1 - P(D < 1/2) for n = m = 4: 54 of 70 paths stay inside, 0.7714.
    assert_eq!(ks.statistic, 0.5);
    assert!((ks.pvalue - 54.0 / 70.0).abs() < 1e-12, "{}", ks.pvalue);
    assert!(!ks.drifted);
}

#[test]
fn auto_method_is_evidently_choice() {
    use ecomkit::monitor::{auto_method, Kind};
    assert_eq!(auto_method(Kind::Numeric, 1000, 6), Method::Ks);
    assert_eq!(auto_method(Kind::Numeric, 1000, 5), Method::ChiSquare);
    assert_eq!(auto_method(Kind::Categorical, 10, 2), Method::ZTest);
    assert_eq!(auto_method(Kind::Numeric, 1001, 6), Method::Wasserstein);
    assert_eq!(
        auto_method(Kind::Categorical, 1001, 50),
        Method::JensenShannon
    );
}

#[test]
fn drift_report_of_two_frames_has_a_row_per_column() {
    use arrow_array::{Array, BooleanArray, RecordBatch};
    use ecomkit::frame::Frame;
    use ecomkit::monitor::{drift_report, Request};
    use std::sync::Arc;

    let batch = |shift: f64| {
        let x: Float64Array = (0..100).map(|i| Some(i as f64 + shift)).collect();
        let s: StringArray = (0..100).map(|i| Some(["a", "b"][i % 2])).collect();
        Frame::from(
            RecordBatch::try_from_iter([
                ("x", Arc::new(x) as Arc<dyn Array>),
                ("s", Arc::new(s) as Arc<dyn Array>),
            ])
            .unwrap(),
        )
    };
    let requests: Vec<Request> = ["x", "s"]
        .iter()
        .map(|c| Request {
            column: c.to_string(),
            method: None,
            threshold: None,
        })
        .collect();
    let options = DriftOptions::default();
    let report = drift_report(&batch(0.0), &batch(60.0), &requests, &[], &options, 0.5).unwrap();
    let drifted = report.table.column_by_name("drifted").unwrap();
    let drifted = drifted.as_any().downcast_ref::<BooleanArray>().unwrap();
    assert_eq!(drifted.values().iter().collect::<Vec<_>>(), [true, false]);
    assert_eq!((report.share_drifted, report.dataset_drift), (0.5, true));
    let error = drift_report(&batch(0.0), &batch(0.0), &requests, &[], &options, 2.0);
    assert!(error.unwrap_err().to_string().contains("drift_share"));
}

fn shop_frame() -> ecomkit::frame::Frame {
    use arrow_array::{Array, RecordBatch};
    use std::sync::Arc;
    let price = Float64Array::from(vec![Some(9.5), None, Some(-1.0), Some(20.0), Some(3.0)]);
    let sku = StringArray::from(vec!["A-1", "A-2", "b3", "A-2", "A-5"]);
    ecomkit::frame::Frame::from(
        RecordBatch::try_from_iter([
            ("price", Arc::new(price) as Arc<dyn Array>),
            ("sku", Arc::new(sku) as Arc<dyn Array>),
        ])
        .unwrap(),
    )
}

#[test]
fn validate_counts_the_failing_rows_of_each_rule() {
    use ecomkit::monitor::{parse_rules, validate, RuleValue};
    let text = |s: &str| RuleValue::Text(s.to_string());
    let table = |pairs: Vec<(&str, RuleValue)>| {
        RuleValue::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let rules = table(vec![
        (
            "columns",
            table(vec![
                (
                    "price",
                    table(vec![
                        ("not_null", RuleValue::Flag(true)),
                        ("min", RuleValue::Number(0.0)),
                    ]),
                ),
                ("sku", table(vec![("pattern", text("^[A-Z]-[0-9]$"))])),
            ]),
        ),
        ("unique", RuleValue::List(vec![text("sku")])),
    ]);
    let rules = parse_rules(&rules).unwrap();
    let report = validate(&shop_frame(), &rules, &[], 0).unwrap();
    let failed: Vec<(&str, String, Vec<u64>)> = report
        .checks
        .iter()
        .map(|c| (c.rule, c.column.clone(), c.rows.clone()))
        .collect();
    assert_eq!(
        failed,
        [
            ("not_null", "price".to_string(), vec![1]),
            ("min", "price".to_string(), vec![2]),
            ("pattern", "sku".to_string(), vec![2]),
            ("unique", "sku".to_string(), vec![3]),
        ]
    );
    assert!(!report.passed());
    assert_eq!(report.table().num_rows(), 4);
}

#[test]
fn a_misspelt_rule_is_named_in_the_error() {
    use ecomkit::monitor::{parse_rules, RuleValue};
    let rules = RuleValue::Table(vec![(
        "columns".to_string(),
        RuleValue::Table(vec![(
            "price".to_string(),
            RuleValue::Table(vec![("mn".to_string(), RuleValue::Number(0.0))]),
        )]),
    )]);
    let message = parse_rules(&rules).unwrap_err().to_string();
    assert!(message.contains("unknown rule 'mn'"), "{message}");
}

#[test]
fn merged_counts_of_pieces_equal_the_counts_of_the_whole() {
    use arrow_array::{Array, RecordBatch};
    use ecomkit::frame::Frame;
    use ecomkit::monitor::{count, profile, profile_drift};
    use std::sync::Arc;
    let frame = |from: usize, to: usize| {
        let x: Float64Array = (from..to).map(|i| Some((i * 7 % 13) as f64)).collect();
        let s: StringArray = (from..to).map(|i| Some(["a", "b", "c"][i % 3])).collect();
        Frame::from(
            RecordBatch::try_from_iter([
                ("x", Arc::new(x) as Arc<dyn Array>),
                ("s", Arc::new(s) as Arc<dyn Array>),
            ])
            .unwrap(),
        )
    };
    let columns = ["x".to_string(), "s".to_string()];
    let reference = profile(&frame(0, 200), &columns, 5).unwrap();
    let whole = count(&frame(200, 500), &reference).unwrap();
    let first = count(&frame(200, 350), &reference).unwrap();
    let second = count(&frame(350, 500), &reference).unwrap();
    let merged: Vec<_> = first
        .iter()
        .zip(&second)
        .map(|(a, b)| a.merge(b).unwrap())
        .collect();
    assert_eq!(merged, whole);
    let report = profile_drift(&reference, &merged, &[None, None], &[None, None], 0.5).unwrap();
    assert_eq!(report.table.num_rows(), 2);
}

#[test]
fn clean_events_by_hand_across_the_spring_forward_gap() {
    use arrow_array::{Array, RecordBatch, TimestampSecondArray};
    use ecomkit::frame::Frame;
    use ecomkit::monitor::clean::{clean_events, CleanOptions, BOT, DUPLICATE};
    use std::sync::Arc;
    // Local Berlin times: 2024-03-31 01:30 (CET), 02:30 (skipped: the offset before, CET),
    // 03:30 (CEST); user "b" has three events within a minute.
    let local = |h: i64, m: i64| 1_711_843_200 + h * 3600 + m * 60; // 2024-03-31 00:00
    let batch = RecordBatch::try_from_iter([
        (
            "user",
            Arc::new(StringArray::from(vec!["a", "a", "a", "a", "b", "b", "b"])) as _,
        ),
        (
            "time",
            Arc::new(TimestampSecondArray::from(vec![
                local(1, 30),
                local(2, 30),
                local(3, 30),
                local(3, 30),
                local(5, 0),
                local(5, 0) + 20,
                local(5, 0) + 59,
            ])) as _,
        ),
    ])
    .unwrap();
    let options = CleanOptions {
        max_events_per_minute: Some(2.0),
        time_zone: "Europe/Berlin".parse().unwrap(),
        ..CleanOptions::default()
    };
    let cleaned = clean_events(&Frame::from(batch), "user", "time", &options).unwrap();
    let times = cleaned.events.column(1);
    let times = times
        .as_any()
        .downcast_ref::<TimestampSecondArray>()
        .unwrap();
    let expected = [
        local(1, 30) - 3600,
        local(2, 30) - 3600,
        local(3, 30) - 7200,
    ];
    assert_eq!(times.values().to_vec(), expected);
    assert_eq!(times.timezone(), Some("UTC"));
    let reasons = cleaned.dropped.column(1);
    let reasons = reasons.as_any().downcast_ref::<StringArray>().unwrap();
    let reasons: Vec<&str> = reasons.iter().map(Option::unwrap).collect();
    assert_eq!(reasons, [DUPLICATE, BOT, BOT, BOT]);
}
