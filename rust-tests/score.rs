//! The explosive score from Rust: reference checks, frames, errors, thread counts.

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::Schema;
use ecomkit::datasets::{asin_daily, DEFAULT_START};
use ecomkit::frame::Frame;
use ecomkit::groups::Groups;
use ecomkit::rng::Rng;
use ecomkit::score::{
    explosive_score, group_stats, rank_within_groups, robust_zscore, ScoreOptions, ZeroMad,
    MAD_TO_SD, MEAN_AD_TO_SD,
};
use ecomkit::EcomkitError;

/// Median by a full sort: the obvious definition, to check the O(n) selection against.
fn sorted_median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// z-scores of one group by the documented definition, written plainly.
fn naive_z(values: &[f64]) -> Vec<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return vec![f64::NAN; values.len()];
    }
    let median = sorted_median(finite.clone());
    let deviations: Vec<f64> = finite.iter().map(|x| (x - median).abs()).collect();
    let mad = sorted_median(deviations.clone());
    let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
    let scale = if mad > 0.0 {
        MAD_TO_SD * mad
    } else {
        MEAN_AD_TO_SD * mean_ad
    };
    values
        .iter()
        .map(|&x| {
            if !x.is_finite() {
                f64::NAN
            } else if scale == 0.0 {
                0.0
            } else {
                (x - median) / scale
            }
        })
        .collect()
}

fn random_values(rng: &mut Rng, n: usize) -> Vec<f64> {
    let style = rng.below(3);
    (0..n)
        .map(|_| match rng.below(12) {
            0 => f64::NAN,
            1 if style == 0 => f64::INFINITY,
            _ => match style {
                0 => rng.normal(),
                1 => rng.below(3) as f64,
                _ => (rng.normal() * 3.0).exp(),
            },
        })
        .collect()
}

#[test]
fn robust_zscore_matches_the_plain_definition_on_random_groups() {
    let mut rng = Rng::new(11);
    for _ in 0..2000 {
        let n = rng.below(50) as usize;
        let n_groups = 1 + rng.below(6);
        let values = random_values(&mut rng, n);
        let keys: Vec<u64> = (0..n).map(|_| rng.below(n_groups)).collect();
        let groups = Groups::from_keys(&keys).unwrap();
        let z = robust_zscore(&values, &groups, &ScoreOptions::default()).unwrap();
        for key in 0..n_groups {
            let rows: Vec<usize> = (0..n).filter(|&i| keys[i] == key).collect();
            let members: Vec<f64> = rows.iter().map(|&i| values[i]).collect();
            for (&row, want) in rows.iter().zip(naive_z(&members)) {
                let got = z[row];
                assert!(
                    (got.is_nan() && want.is_nan())
                        || (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "row {row}: got {got}, want {want}"
                );
            }
        }
    }
}

#[test]
fn zero_mad_option_zero_flattens_the_group() {
    let values = [5.0, 5.0, 5.0, 9.0];
    let options = ScoreOptions {
        zero_mad: ZeroMad::Zero,
        ..Default::default()
    };
    let z = robust_zscore(&values, &Groups::single(4).unwrap(), &options).unwrap();
    assert_eq!(z, vec![0.0; 4]);
}

fn small_frame() -> Frame {
    let category: DictionaryArray<Int32Type> = vec!["toys", "toys", "toys", "books", "books"]
        .into_iter()
        .collect();
    RecordBatch::try_from_iter([
        ("category", Arc::new(category) as ArrayRef),
        (
            "bsr",
            Arc::new(Float64Array::from(vec![500.0, 20.0, 800.0, 10.0, 30.0])) as ArrayRef,
        ),
        (
            "reviews",
            Arc::new(Float64Array::from(vec![3.0, 40.0, 1.0, 9.0, 2.0])) as ArrayRef,
        ),
    ])
    .unwrap()
    .into()
}

#[test]
fn explosive_score_hand_worked() {
    let weights = [("bsr".to_string(), -1.0), ("reviews".to_string(), 1.0)];
    let result = explosive_score(
        &small_frame(),
        &weights,
        &["category".to_string()],
        &ScoreOptions::default(),
    )
    .unwrap();
    // toys: bsr median 500, MAD 300; reviews median 3, MAD 2.
    let toys_second = 480.0 / (MAD_TO_SD * 300.0) + 37.0 / (MAD_TO_SD * 2.0);
    assert!((result.score[1] - toys_second).abs() < 1e-12);
    assert_eq!(result.rank, vec![2, 1, 3, 1, 2]);
    assert_eq!(result.groups.n_groups(), 2);
}

#[test]
fn several_batches_give_the_same_result_as_one() {
    let frame = Frame::from(asin_daily(200, 20, 1, DEFAULT_START).unwrap());
    let batch = &frame.batches()[0];
    let half = batch.num_rows() / 2;
    let split = Frame::new(
        batch.schema(),
        vec![
            batch.slice(0, half),
            batch.slice(half, batch.num_rows() - half),
        ],
    )
    .unwrap();
    let weights = [("bsr".to_string(), -1.0), ("price".to_string(), 0.3)];
    let by = ["site".to_string(), "category".to_string()];
    let one = explosive_score(&frame, &weights, &by, &ScoreOptions::default()).unwrap();
    let two = explosive_score(&split, &weights, &by, &ScoreOptions::default()).unwrap();
    assert_eq!(one.rank, two.rank);
    assert_eq!(one.score, two.score);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let frame = Frame::from(asin_daily(2000, 30, 2, DEFAULT_START).unwrap());
    let weights = [("bsr".to_string(), -1.0), ("review_count".to_string(), 1.0)];
    let by = ["site".to_string(), "category".to_string()];
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| explosive_score(&frame, &weights, &by, &ScoreOptions::default()).unwrap())
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(one.z, four.z);
    assert_eq!(one.rank, four.rank);
}

#[test]
fn ranks_match_a_stable_sort() {
    let mut rng = Rng::new(5);
    for _ in 0..500 {
        let n = rng.below(40) as usize;
        let scores: Vec<f64> = (0..n)
            .map(|_| {
                if rng.chance(0.1) {
                    f64::NAN
                } else {
                    rng.below(5) as f64
                }
            })
            .collect();
        let keys: Vec<u64> = (0..n).map(|_| rng.below(3)).collect();
        let rank = rank_within_groups(&scores, &Groups::from_keys(&keys).unwrap()).unwrap();
        for key in 0..3 {
            let mut rows: Vec<usize> = (0..n).filter(|&i| keys[i] == key).collect();
            // Stable sort by descending score, NaN last: the definition.
            rows.sort_by(|&a, &b| match (scores[a].is_nan(), scores[b].is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ => scores[b].total_cmp(&scores[a]),
            });
            for (position, &row) in rows.iter().enumerate() {
                assert_eq!(rank[row] as usize, position + 1);
            }
        }
    }
}

#[test]
fn group_stats_layout() {
    let features = ["bsr".to_string(), "reviews".to_string()];
    let stats = group_stats(
        &small_frame(),
        &features,
        &["category".to_string()],
        ZeroMad::MeanAd,
    )
    .unwrap();
    let names: Vec<String> = stats
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        ["category", "feature", "count", "n_nan", "median", "mad", "scale"]
    );
    assert_eq!(stats.num_rows(), 4);
    let medians = stats
        .column(4)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(medians.values().to_vec(), vec![500.0, 3.0, 20.0, 5.5]);
}

#[test]
fn bad_inputs_give_named_errors() {
    let frame = small_frame();
    let by = ["category".to_string()];
    let options = ScoreOptions::default();
    let err = explosive_score(&frame, &[("price".into(), 1.0)], &by, &options).unwrap_err();
    assert!(matches!(err, EcomkitError::ColumnNotFound { .. }), "{err}");
    let err = explosive_score(&frame, &[("category".into(), 1.0)], &[], &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "weights (column 'category'): expected a numeric column (float, integer or decimal), \
         got Dictionary(Int32, Utf8)"
    );
    let err = explosive_score(&frame, &[], &by, &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "weights: expected at least one feature, got none"
    );
    let err = explosive_score(&frame, &[("bsr".into(), f64::NAN)], &by, &options).unwrap_err();
    assert!(err.to_string().contains("must be a finite number"));
    let bad_clip = ScoreOptions {
        clip: Some(0.0),
        ..Default::default()
    };
    let err = explosive_score(&frame, &[("bsr".into(), 1.0)], &by, &bad_clip).unwrap_err();
    assert_eq!(err.to_string(), "clip: must be a positive number, got 0");
    let empty = Frame::new(Arc::new(Schema::empty()), vec![]).unwrap();
    let err = explosive_score(&empty, &[("bsr".into(), 1.0)], &[], &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "frame: is empty; expected at least one row"
    );
    let names = StringArray::from(vec!["a"]);
    let err = robust_zscore(
        &[1.0, 2.0],
        &Groups::from_keys(&[names.value(0)]).unwrap(),
        &options,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        EcomkitError::LengthMismatch {
            expected: 2,
            got: 1,
            ..
        }
    ));
}
