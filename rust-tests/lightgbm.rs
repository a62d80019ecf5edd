//! LambdaRank through LightGBM from Rust (cargo feature `lightgbm`, or `lightgbm-dynamic` with
//! `ECOMKIT_LIGHTGBM_LIB` set), on LightGBM's example.

use std::path::PathBuf;

use ecomkit::groups::Groups;
use ecomkit::rank::lightgbm::{train, Model, TrainData};
use ecomkit::rank::svmlight::load_svmlight;
use ecomkit::rank::{ranking_metric, RankingMetric, RankingOptions};

fn example(name: &str) -> Option<ecomkit::rank::svmlight::Svmlight> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/lightgbm-lambdarank")
        .join(name);
    if !path.exists() {
        eprintln!("skipped: {} is absent", path.display());
        return None;
    }
    Some(load_svmlight(&path).unwrap())
}

#[test]
fn lightgbm_lambdarank_learns_and_round_trips() {
    let (Some(train_set), Some(test_set)) = (example("rank.train"), example("rank.test")) else {
        return;
    };
    let n = train_set.n_features.max(test_set.n_features);
    let pad = |d: &ecomkit::rank::svmlight::Svmlight| -> Vec<f64> {
        d.x.chunks(d.n_features)
            .flat_map(|row| {
                row.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0.0, n - d.n_features))
            })
            .collect()
    };
    let (x_train, x_test) = (pad(&train_set), pad(&test_set));
    let data = TrainData {
        x: &x_train,
        n_features: n,
        labels: &train_set.labels,
        group: train_set.group.as_deref(),
    };
    let params = "objective=lambdarank min_data_in_leaf=50 seed=7 num_threads=2 verbosity=-1";
    let trained = train(&data, params, 30, None, None).unwrap();
    assert_eq!(trained.best_iteration, 30);
    let again = train(&data, params, 30, None, None).unwrap();
    assert_eq!(
        trained.model, again.model,
        "same data, params and seed: same model"
    );

    let model = Model::from_string(&trained.model).unwrap();
    let scores = model.predict(&x_test, n).unwrap();
    let query_of: Vec<u32> = test_set
        .group
        .as_ref()
        .unwrap()
        .iter()
        .enumerate()
        .flat_map(|(g, &size)| std::iter::repeat_n(g as u32, size as usize))
        .collect();
    let groups = Groups::from_keys(&query_of).unwrap();
    let ndcg = ranking_metric(
        RankingMetric::Ndcg,
        &test_set.labels,
        &scores,
        &groups,
        &[Some(5)],
        &RankingOptions::default(),
    )
    .unwrap();
    let mean = ndcg[0].iter().sum::<f64>() / ndcg[0].len() as f64;
    assert!(mean > 0.55, "ndcg@5 on the test queries: {mean}");
    // A wrong group vector is a named error, not a crash.
    let bad = TrainData {
        group: Some(&[3, 4]),
        ..data
    };
    let err = train(&bad, params, 1, None, None).unwrap_err();
    assert!(err.to_string().contains("group"), "{err}");
}
