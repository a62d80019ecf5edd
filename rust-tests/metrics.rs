//! Ranking and classification metrics from Rust: hand-worked cases and conventions.

use ecomkit::groups::Groups;
use ecomkit::metrics::classification::{roc_auc, Isotonic};
use ecomkit::metrics::{ranking_metric, Gain, NoRelevant, RankingMetric, RankingOptions, Ties};

fn metric(
    metric: RankingMetric,
    labels: &[f64],
    scores: &[f64],
    keys: &[&str],
    k: Option<usize>,
    options: RankingOptions,
) -> Vec<f64> {
    let groups = Groups::from_keys(keys).unwrap();
    ranking_metric(metric, labels, scores, &groups, &[k], &options)
        .unwrap()
        .remove(0)
}

#[test]
fn ndcg_by_hand_with_unsorted_groups() {
    // Group q: labels 0, 2, 0, 1 ranked by score; group r interleaved with it.
    let labels = [0.0, 1.0, 2.0, 0.0, 0.0, 1.0];
    let scores = [0.9, 0.5, 0.8, 0.1, 0.7, 0.6];
    let keys = ["q", "r", "q", "r", "q", "q"];
    let values = metric(
        RankingMetric::Ndcg,
        &labels,
        &scores,
        &keys,
        None,
        RankingOptions::default(),
    );
    let dcg = 3.0 / 3f64.log2() + 1.0 / 5f64.log2();
    let idcg = 3.0 + 1.0 / 3f64.log2();
    assert!((values[0] - dcg / idcg).abs() < 1e-15);
    assert!((values[1] - 1.0).abs() < 1e-15);
}

#[test]
fn conventions_for_ties_and_groups_without_relevant_items() {
    let average = RankingOptions {
        ties: Ties::Average,
        gain: Gain::Linear,
        ..Default::default()
    };
    let tied = metric(
        RankingMetric::Ndcg,
        &[0.0, 1.0],
        &[0.5, 0.5],
        &["a", "a"],
        Some(1),
        average,
    );
    assert_eq!(tied[0], 0.5);
    let stable = metric(
        RankingMetric::Ndcg,
        &[0.0, 1.0],
        &[0.5, 0.5],
        &["a", "a"],
        Some(1),
        RankingOptions::default(),
    );
    assert_eq!(stable[0], 0.0);
    let one = RankingOptions {
        no_relevant: NoRelevant::One,
        ..Default::default()
    };
    assert_eq!(
        metric(RankingMetric::Ndcg, &[0.0], &[1.0], &["a"], None, one)[0],
        1.0
    );
    let skip = RankingOptions {
        no_relevant: NoRelevant::Skip,
        ..Default::default()
    };
    assert!(metric(RankingMetric::Recall, &[0.0], &[1.0], &["a"], None, skip)[0].is_nan());
}

#[test]
fn auc_and_isotonic_by_hand() {
    // Pairs (pos, neg): (0.35 > 0.1), (0.35 < 0.4), (0.8 > both): 3 of 4.
    let auc = roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8], None).unwrap();
    assert!((auc - 0.75).abs() < 1e-15);
    let fit = Isotonic::fit(&[1.0, 2.0, 3.0, 4.0], &[0.0, 1.0, 0.0, 1.0], None).unwrap();
    assert_eq!(fit.y, vec![0.0, 0.5, 0.5, 1.0]);
    assert_eq!(fit.transform(0.0), 0.0);
    assert_eq!(fit.transform(3.5), 0.75);
}

#[test]
fn svmlight_is_read_as_csr_and_densified_on_request() {
    use ecomkit::rank::svmlight::load_svmlight;
    let dir = std::env::temp_dir().join(format!("ecomkit-svm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.svm");
    std::fs::write(&path, "1 3:0.5 1:2 # comment\n0 qid:4 2:1\n\n1\n").unwrap();
    let data = load_svmlight(&path).unwrap();
    assert_eq!(data.indptr, [0, 2, 3, 3]);
    assert_eq!(data.indices, [1, 3, 2]);
    assert_eq!(data.values, [2.0, 0.5, 1.0]);
    assert_eq!(
        (data.n_features, data.labels.clone()),
        (4, vec![1.0, 0.0, 1.0])
    );
    let dense = data.to_dense().unwrap();
    assert_eq!(dense, [0., 2., 0., 0.5, 0., 0., 1., 0., 0., 0., 0., 0.]);

    std::fs::write(&path, "1 1:1 2000000000:1\n0 2:1\n").unwrap();
    let wide = load_svmlight(&path).unwrap();
    assert_eq!((wide.n_features, wide.values.len()), (2_000_000_001, 3));
    let err = wide.to_dense().unwrap_err().to_string();
    assert!(err.contains("2 rows × 2000000001 columns"), "{err}");

    std::fs::write(&path, "1 1:1 1:2\n").unwrap();
    let err = load_svmlight(&path).unwrap_err().to_string();
    assert!(
        err.contains("line 1: feature index 1 appears twice"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The module paths renamed in this release still resolve (deprecated) to the same items.
#[test]
#[allow(deprecated)]
fn old_module_paths_are_aliases() {
    let (y, p) = ([0.0, 1.0, 1.0, 0.0], [0.1, 0.8, 0.3, 0.4]);
    assert_eq!(
        ecomkit::rank::classification::roc_auc(&y, &p, None).unwrap(),
        roc_auc(&y, &p, None).unwrap()
    );
    let _: ecomkit::rank::metrics::RankingMetric = RankingMetric::Ndcg;
    let encoding = ecomkit::abtest::Encoding::Utf16;
    assert_eq!(
        ecomkit::experiment::fnv1a32("user-1", encoding),
        ecomkit::abtest::fnv1a32("user-1", encoding)
    );
}
