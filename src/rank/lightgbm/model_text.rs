//! Checks of LightGBM's model text before LightGBM parses it.
//!
//! LightGBM trusts the numbers of its own format: a tree whose `num_leaves` is not a
//! number, whose child indices point outside the tree or form a loop, or whose split feature
//! is beyond `max_feature_idx` is read without complaint, and then predicting from it reads
//! out of bounds (a segmentation fault) or never ends. So every tree is checked here —
//! counts, array lengths, index ranges, a proper binary tree — and a bad one is a named
//! error instead.

use std::collections::HashMap;

use crate::error::{EcomkitError, Result};

fn bad(why: impl std::fmt::Display) -> EcomkitError {
    EcomkitError::invalid_value(
        "model",
        format!("not a complete LightGBM model text ({why})"),
    )
}

/// `model` checked to be LightGBM's text format with every tree it announces and every tree
/// well formed, without its `tree_sizes=` line.
///
/// With `tree_sizes`, LightGBM parses the trees in an OpenMP loop at the offsets it names,
/// and a cut or corrupted tree there aborts the process (a C++ exception inside the parallel
/// region: "terminate called without an active exception") or reads past the text. Without
/// it, LightGBM parses the trees one after the other, and a bad tree is an error it reports.
pub(super) fn checked_model_text(model: &str) -> Result<String> {
    if !model.starts_with("tree") {
        return Err(bad("it does not start with the line 'tree'"));
    }
    let Some(end) = model.lines().position(|l| l == "end of trees") else {
        return Err(bad("no 'end of trees' line: the text is cut short"));
    };
    let lines: Vec<&str> = model.lines().take(end).collect();
    let first_tree = lines
        .iter()
        .position(|l| l.starts_with("Tree="))
        .unwrap_or(lines.len());
    let header = key_values(&lines[..first_tree], "the header")?;
    let max_feature_idx = integer(&header, "max_feature_idx", "the header", 0, i32::MAX as i64)?;
    integer(&header, "num_class", "the header", 1, i32::MAX as i64)?;
    let per_iteration = integer(&header, "num_tree_per_iteration", "the header", 1, 1 << 20)?;
    if let Some(names) = header.get("feature_names") {
        let count = names.split_whitespace().count() as i64;
        if count != max_feature_idx + 1 {
            return Err(bad(format!(
                "feature_names holds {count} names, max_feature_idx={max_feature_idx} wants {}",
                max_feature_idx + 1
            )));
        }
    }
    let mut kept = String::with_capacity(model.len());
    let trees = lines.iter().filter(|l| l.starts_with("Tree=")).count() as i64;
    for line in model.split_inclusive('\n') {
        match line.strip_prefix("tree_sizes=") {
            Some(sizes) => {
                let announced = sizes.split_whitespace().count() as i64;
                if announced != trees {
                    return Err(bad(format!(
                        "its header announces {announced} trees, the text holds {trees}"
                    )));
                }
            }
            None => kept.push_str(line),
        }
    }
    if trees % per_iteration != 0 {
        return Err(bad(format!(
            "{trees} trees is not a whole number of iterations of {per_iteration} trees"
        )));
    }
    let starts: Vec<usize> = (first_tree..lines.len())
        .filter(|&i| lines[i].starts_with("Tree="))
        .chain([lines.len()])
        .collect();
    for (index, pair) in starts.windows(2).enumerate() {
        check_tree(&lines[pair[0] + 1..pair[1]], index, max_feature_idx)?;
    }
    Ok(kept)
}

/// The `key=value` lines of a block (blank lines skipped); a key given twice is an error,
/// since which one LightGBM would read is not ours to guess.
fn key_values<'a>(lines: &[&'a str], block: &str) -> Result<HashMap<&'a str, &'a str>> {
    let mut map = HashMap::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let Some((key, value)) = line.split_once('=') else {
            continue; // free text such as the parameters section
        };
        if map.insert(key, value).is_some() {
            return Err(bad(format!("{block} gives '{key}' twice")));
        }
    }
    Ok(map)
}

fn integer(map: &HashMap<&str, &str>, key: &str, block: &str, min: i64, max: i64) -> Result<i64> {
    let value = map
        .get(key)
        .ok_or_else(|| bad(format!("{block} has no '{key}'")))?;
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            bad(format!(
                "{block}: {key} is '{value}', expected an integer from {min} to {max}"
            ))
        })
}

/// The `len` numbers of the array `key` (absent: None unless `required`).
fn numbers<T: std::str::FromStr>(
    map: &HashMap<&str, &str>,
    key: &str,
    block: &str,
    len: usize,
    required: bool,
) -> Result<Option<Vec<T>>> {
    let Some(value) = map.get(key) else {
        return if required {
            Err(bad(format!("{block} has no '{key}'")))
        } else {
            Ok(None)
        };
    };
    let parsed: Option<Vec<T>> = value.split_whitespace().map(|v| v.parse().ok()).collect();
    match parsed {
        Some(values) if values.len() == len => Ok(Some(values)),
        Some(values) => Err(bad(format!(
            "{block}: {key} holds {} values, expected {len}",
            values.len()
        ))),
        None => Err(bad(format!(
            "{block}: {key} holds a value that is not a number"
        ))),
    }
}

fn check_tree(lines: &[&str], index: usize, max_feature_idx: i64) -> Result<()> {
    let block = format!("tree {index}");
    let map = key_values(lines, &block)?;
    let leaves = integer(&map, "num_leaves", &block, 1, 1 << 24)? as usize;
    let num_cat = integer(&map, "num_cat", &block, 0, 1 << 24)? as usize;
    numbers::<f64>(&map, "leaf_value", &block, leaves, true)?;
    if let Some(linear) = map.get("is_linear") {
        match linear.trim() {
            "0" => {}
            "1" => check_linear(&map, &block, leaves, max_feature_idx)?,
            other => {
                return Err(bad(format!(
                    "{block}: is_linear is '{other}', expected 0 or 1"
                )))
            }
        }
    }
    if let Some(shrinkage) = map.get("shrinkage") {
        if shrinkage.trim().parse::<f64>().is_err() {
            return Err(bad(format!(
                "{block}: shrinkage is '{shrinkage}', not a number"
            )));
        }
    }
    if leaves == 1 {
        return Ok(());
    }
    let inner = leaves - 1;
    let ints = |key: &str| numbers::<i64>(&map, key, &block, inner, true).map(Option::unwrap);
    let features = ints("split_feature")?;
    let decisions = ints("decision_type")?;
    let left = ints("left_child")?;
    let right = ints("right_child")?;
    let thresholds = numbers::<f64>(&map, "threshold", &block, inner, true)?.unwrap();
    for key in [
        "split_gain",
        "internal_value",
        "internal_weight",
        "internal_count",
    ] {
        numbers::<f64>(&map, key, &block, inner, false)?;
    }
    for key in ["leaf_weight", "leaf_count"] {
        numbers::<f64>(&map, key, &block, leaves, false)?;
    }
    if let Some(f) = features
        .iter()
        .find(|&&f| !(0..=max_feature_idx).contains(&f))
    {
        return Err(bad(format!(
            "{block}: split feature {f} is outside 0..={max_feature_idx} (max_feature_idx)"
        )));
    }
    let categories = check_categories(&map, &block, num_cat)?;
    for (node, (&decision, &threshold)) in decisions.iter().zip(&thresholds).enumerate() {
        // Bit 0: categorical split; bit 1: default left; bits 2-3: missing type 0, 1 or 2.
        if !(0..=127).contains(&decision) || (decision >> 2) & 3 == 3 {
            return Err(bad(format!(
                "{block}: decision_type {decision} of node {node} is not one LightGBM writes"
            )));
        }
        if decision & 1 == 1
            && !(threshold >= 0.0 && threshold < categories as f64 && threshold.fract() == 0.0)
        {
            return Err(bad(format!(
                "{block}: categorical node {node} names category set {threshold} of {categories}"
            )));
        }
    }
    check_structure(&left, &right, leaves, &block)
}

/// `cat_boundaries` and `cat_threshold` of a tree with `num_cat` category sets: the number
/// of sets a categorical node may name.
fn check_categories(map: &HashMap<&str, &str>, block: &str, num_cat: usize) -> Result<usize> {
    if num_cat == 0 {
        return Ok(0);
    }
    let bounds = numbers::<i64>(map, "cat_boundaries", block, num_cat + 1, true)?.unwrap();
    let words = map
        .get("cat_threshold")
        .ok_or_else(|| bad(format!("{block} has no 'cat_threshold'")))?;
    let words: Option<Vec<u32>> = words.split_whitespace().map(|v| v.parse().ok()).collect();
    let words = words.ok_or_else(|| bad(format!("{block}: cat_threshold holds a non-number")))?;
    let rising = bounds.windows(2).all(|w| w[0] <= w[1]);
    if bounds[0] != 0 || !rising || bounds[num_cat] != words.len() as i64 {
        return Err(bad(format!(
            "{block}: cat_boundaries do not rise from 0 to the {} words of cat_threshold",
            words.len()
        )));
    }
    Ok(num_cat)
}

/// Linear-tree leaves: a constant and `num_features` (feature, coefficient) pairs per leaf.
fn check_linear(
    map: &HashMap<&str, &str>,
    block: &str,
    leaves: usize,
    max_feature_idx: i64,
) -> Result<()> {
    numbers::<f64>(map, "leaf_const", block, leaves, true)?;
    let counts = numbers::<i64>(map, "num_features", block, leaves, true)?.unwrap();
    if counts
        .iter()
        .any(|&c| !(0..=max_feature_idx + 1).contains(&c))
    {
        return Err(bad(format!(
            "{block}: num_features holds an impossible count"
        )));
    }
    let total = counts.iter().sum::<i64>() as usize;
    let features = numbers::<i64>(map, "leaf_features", block, total, true)?.unwrap();
    if features.iter().any(|f| !(0..=max_feature_idx).contains(f)) {
        return Err(bad(format!(
            "{block}: leaf_features names a feature beyond max_feature_idx"
        )));
    }
    numbers::<f64>(map, "leaf_coeff", block, total, true)?;
    Ok(())
}

/// The children of the `leaves - 1` inner nodes form one binary tree rooted at node 0 (a
/// child `c >= 0` is inner node `c`, `c < 0` is leaf `!c`): every node and leaf reached
/// exactly once, so a prediction walks a finite path inside the arrays.
fn check_structure(left: &[i64], right: &[i64], leaves: usize, block: &str) -> Result<()> {
    let inner = leaves - 1;
    let (mut inner_seen, mut leaf_seen) = (vec![false; inner], vec![false; leaves]);
    let mut stack = vec![0usize];
    inner_seen[0] = true;
    while let Some(node) = stack.pop() {
        for child in [left[node], right[node]] {
            let seen = if child >= 0 {
                inner_seen.get_mut(child as usize)
            } else {
                leaf_seen.get_mut(!child as usize)
            };
            match seen {
                Some(seen) if !*seen => *seen = true,
                _ => {
                    return Err(bad(format!(
                        "{block}: node {node} has child {child}, which is outside the tree or \
                         reached twice"
                    )))
                }
            }
            if child >= 0 {
                stack.push(child as usize);
            }
        }
    }
    if inner_seen.contains(&false) || leaf_seen.contains(&false) {
        return Err(bad(format!(
            "{block}: some nodes are not reached from the root"
        )));
    }
    Ok(())
}
