//! Property tests (proptest) of the parsers that read what users type or files they hand
//! over: no input panics, and what is accepted is consistent.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono_tz::Tz;
use ecomkit::features::time::{local_time, parse_duration, DAY, HOUR, MINUTE, SECOND, WEEK};
use ecomkit::rank::svmlight::load_svmlight;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_a_duration_or_a_named_error(text in ".{0,12}") {
        match parse_duration(&text, "timeout") {
            Ok(nanos) => prop_assert!(nanos >= 1),
            Err(error) => prop_assert!(error.to_string().starts_with("timeout")),
        }
    }

    #[test]
    fn a_whole_number_of_a_unit_is_exact(
        count in prop_oneof![1i64..1_000_000, 1i64..i64::MAX],
        (unit, nanos) in prop::sample::select(vec![
            ("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", SECOND), ("min", MINUTE),
            ("m", MINUTE), ("h", HOUR), ("D", DAY), ("d", DAY), ("w", WEEK),
        ]),
    ) {
        // Exact where it fits in i64 nanoseconds (about 292 years), a named error beyond.
        let parsed = parse_duration(&format!("{count}{unit}"), "window").ok();
        prop_assert_eq!(parsed, count.checked_mul(nanos));
    }

    #[test]
    fn local_time_of_any_instant_agrees_with_the_tz_database(
        nanos in any::<i64>(),
        zone in prop::sample::select(vec![
            Tz::Europe__Berlin, Tz::America__New_York, Tz::Asia__Kolkata,
            Tz::Australia__Lord_Howe, Tz::Pacific__Chatham,
        ]),
    ) {
        let local = local_time(nanos, zone);
        prop_assert!(local.hour < 24 && local.weekday < 7);
        // The UTC fast path (plain arithmetic) and the tz database (Etc/UTC) agree.
        prop_assert_eq!(local_time(nanos, Tz::UTC), local_time(nanos, Tz::Etc__UTC));
    }

    #[test]
    fn any_libsvm_text_is_a_consistent_csr_matrix_or_a_named_error(
        lines in prop::collection::vec(prop::collection::vec(prop::sample::select(vec![
            "1", "0", "-1", "2.5", "nan", "x", "qid:3", "#", "0:1", "1:0.5", "3:2", "3:1",
            "7:1e308", "2:-0", "40:1", "-1:2", "1:", ":1", "1:x", "99999999999:1", "", "\t",
        ]), 0..6), 0..8),
    ) {
        static CASE: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ecomkit-svmlight-{}-{}", std::process::id(), CASE.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.txt");
        let text: Vec<String> = lines.iter().map(|words| words.join(" ")).collect();
        std::fs::write(&path, text.join("\n")).unwrap();
        let result = load_svmlight(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        let Ok(data) = result else { return Ok(()) };
        let rows = data.labels.len();
        prop_assert_eq!(data.indptr.len(), rows + 1);
        prop_assert_eq!(data.indptr[0], 0);
        prop_assert_eq!(*data.indptr.last().unwrap() as usize, data.indices.len());
        prop_assert_eq!(data.indices.len(), data.values.len());
        for row in data.indptr.windows(2) {
            let indices = &data.indices[row[0] as usize..row[1] as usize];
            prop_assert!(indices.windows(2).all(|pair| pair[0] < pair[1]));
            prop_assert!(indices.iter().all(|&j| j >= 0 && (j as usize) < data.n_features));
        }
    }
}

/// Rows that repeat an earlier row's group, as the group ids of `factorize_columns` say.
fn repeats_by_group_ids(columns: &[Vec<&dyn arrow_array::Array>], n_rows: usize) -> Vec<u64> {
    let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
    let groups = ecomkit::frame::factorize_columns(columns, n_rows, &names).unwrap();
    let mut seen = vec![false; groups.n_groups()];
    (0u64..)
        .zip(groups.ids())
        .filter(|&(_, &id)| std::mem::replace(&mut seen[id as usize], true))
        .map(|(row, _)| row)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The hashed duplicate check agrees with numbering the groups, for every key type
    /// (nulls, NaN and -0.0 included), one to three columns, in one or two chunks.
    #[test]
    fn duplicate_rows_are_the_rows_of_a_group_seen_before(
        rows in prop::collection::vec(
            (prop::option::of(0i64..4), prop::option::of(0usize..4), 0usize..6, any::<bool>()),
            0..200,
        ),
        wide in any::<bool>(),
        layout in 0usize..4,
        split in 0.0f64..1.0,
    ) {
        use std::sync::Arc;
        use arrow_array::{ArrayRef, DictionaryArray, Float64Array, Int64Array, StringArray,
                          StringViewArray, types::Int32Type};
        let n = rows.len();
        let scale = if wide { 1i64 << 40 } else { 1 };
        let ints: ArrayRef = Arc::new(rows.iter().map(|r| r.0.map(|v| v * scale))
            .collect::<Int64Array>());
        let words = ["a", "bb", "a much longer text than sixteen bytes", ""];
        let texts: Vec<Option<&str>> = rows.iter().map(|r| r.1.map(|i| words[i])).collect();
        let strings: ArrayRef = if layout % 2 == 0 {
            Arc::new(texts.iter().copied().collect::<StringArray>())
        } else {
            Arc::new(texts.iter().copied().collect::<StringViewArray>())
        };
        let categories: ArrayRef = Arc::new(
            texts.iter().copied().collect::<DictionaryArray<Int32Type>>());
        let values = [0.0, -0.0, f64::NAN, 1.5, -f64::NAN, 2.0];
        let floats: ArrayRef = Arc::new(rows.iter().map(|r| (r.3 || r.2 > 0).then_some(values[r.2]))
            .collect::<Float64Array>());
        let cut = (split * n as f64) as usize;
        let chunked = |a: &ArrayRef| vec![a.slice(0, cut), a.slice(cut, n - cut)];
        let sets: Vec<Vec<ArrayRef>> = match layout {
            0 => vec![ints.clone()],
            1 => vec![ints.clone(), strings.clone()],
            2 => vec![floats.clone(), categories.clone()],
            _ => vec![strings.clone(), floats.clone(), ints.clone()],
        }.iter().map(chunked).collect();
        let columns: Vec<Vec<&dyn arrow_array::Array>> = sets.iter()
            .map(|chunks| chunks.iter().map(|c| c.as_ref()).collect()).collect();
        let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
        let found = ecomkit::frame::duplicate_rows(&columns, n, &names).unwrap();
        prop_assert_eq!(found, repeats_by_group_ids(&columns, n));
        // A single column too (the narrow-integer table and the hashed path).
        let first = &columns[..1];
        prop_assert_eq!(ecomkit::frame::duplicate_rows(first, n, &names[..1]).unwrap(),
                        repeats_by_group_ids(first, n));
    }
}
