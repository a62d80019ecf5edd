//! LambdaRank through LightGBM from Rust (cargo feature `lightgbm`, or `lightgbm-dynamic` with
//! `ECOMKIT_LIGHTGBM_LIB` set), on LightGBM's example.

use std::path::PathBuf;

use ecomkit::groups::Groups;
use ecomkit::metrics::{ranking_metric, RankingMetric, RankingOptions};
use ecomkit::rank::lightgbm::{train, Matrix, Model, TrainData};
use ecomkit::rank::svmlight::load_svmlight;

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
    let dense = |d: &ecomkit::rank::svmlight::Svmlight| -> Vec<f64> {
        let x = d.to_dense().unwrap();
        x.chunks(d.n_features)
            .flat_map(|row| {
                row.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0.0, n - d.n_features))
            })
            .collect()
    };
    let (x_train, x_test) = (dense(&train_set), dense(&test_set));
    let data = TrainData {
        x: Matrix::Dense {
            values: &x_train,
            n_features: n,
        },
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
    let scores = model
        .predict(Matrix::Dense {
            values: &x_test,
            n_features: n,
        })
        .unwrap();
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

fn csr(d: &ecomkit::rank::svmlight::Svmlight, n_features: usize) -> Matrix<'_> {
    Matrix::Csr {
        indptr: &d.indptr,
        indices: &d.indices,
        values: &d.values,
        n_features,
    }
}

#[test]
fn lightgbm_trains_and_predicts_a_sparse_matrix_as_its_dense_form() {
    let (Some(train_set), Some(test_set)) = (example("rank.train"), example("rank.test")) else {
        return;
    };
    let n = train_set.n_features.max(test_set.n_features);
    let params = "objective=lambdarank min_data_in_leaf=50 seed=7 num_threads=2 verbosity=-1";
    let sparse = TrainData {
        x: csr(&train_set, n),
        labels: &train_set.labels,
        group: train_set.group.as_deref(),
    };
    let widened: Vec<f64> = train_set
        .to_dense()
        .unwrap()
        .chunks(train_set.n_features)
        .flat_map(|row| {
            row.iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, n - train_set.n_features))
        })
        .collect();
    let dense = TrainData {
        x: Matrix::Dense {
            values: &widened,
            n_features: n,
        },
        ..sparse
    };
    let from_sparse = train(&sparse, params, 10, None, None).unwrap();
    let from_dense = train(&dense, params, 10, None, None).unwrap();
    assert_eq!(from_sparse.model, from_dense.model);
    let model = Model::from_string(&from_sparse.model).unwrap();
    let test_dense: Vec<f64> = test_set
        .to_dense()
        .unwrap()
        .chunks(test_set.n_features)
        .flat_map(|row| {
            row.iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, n - test_set.n_features))
        })
        .collect();
    let by_rows = model
        .predict(Matrix::Dense {
            values: &test_dense,
            n_features: n,
        })
        .unwrap();
    assert_eq!(model.predict(csr(&test_set, n)).unwrap(), by_rows);
    // Offsets or indices that do not hold together are named errors, not reads out of bounds.
    let indices: Vec<i32> = test_set.indices.iter().map(|&j| j + n as i32).collect();
    let bad = Matrix::Csr {
        indptr: &test_set.indptr,
        indices: &indices,
        values: &test_set.values,
        n_features: n,
    };
    let err = model.predict(bad).unwrap_err().to_string();
    assert!(err.contains("feature index"), "{err}");
    let short = Matrix::Csr {
        indptr: &test_set.indptr[..3],
        indices: &test_set.indices,
        values: &test_set.values,
        n_features: n,
    };
    let err = model.predict(short).unwrap_err().to_string();
    assert!(err.contains("indptr"), "{err}");
}
