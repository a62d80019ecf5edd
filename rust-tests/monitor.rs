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
