//! Point-in-time user and item features: one output row per (entity, time) query, computed
//! only from the entity's events strictly before that time, so a training row never sees
//! its own future.
//!
//! Each entity's events and queries are swept together in time order: events are added to
//! running aggregates (with sliding windows for the "last N days" features) until the next
//! query's time, then the query reads them.

use std::cmp::Ordering;
use std::collections::VecDeque;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use arrow_array::{ArrayRef, BooleanArray};
use arrow_schema::DataType;

use super::session::{event_kinds, EventKind};
use super::time::{epoch_nanos, span, DAY};
use crate::error::{EcomkitError, Result};
use crate::frame::{factorize, Frame};

/// The events the as-of kernels read; every slice has one value per event.
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    /// Entity code of each event (shared with the queries' codes).
    pub entity: &'a [u32],
    /// Event time (ns).
    pub times: &'a [i64],
    /// Event kind.
    pub kinds: &'a [EventKind],
    /// Money value of the event (price of the item; NaN = unknown).
    pub values: &'a [f64],
    /// Category code of the event (`u32::MAX` = none).
    pub categories: &'a [u32],
}

/// Queries: entity code and time of each output row.
#[derive(Debug, Clone, Copy)]
pub struct Queries<'a> {
    /// Entity code of each query.
    pub entity: &'a [u32],
    /// Query time (ns): only events strictly before it count.
    pub times: &'a [i64],
}

/// User features as of each query, by name (see [`USER_FEATURES`]); `preferred_category`
/// is the row of an event with the preferred category (`u32::MAX` = none).
#[derive(Debug, Clone, Default)]
pub struct UserFeatures {
    /// One vector per name of [`USER_FEATURES`], aligned with the queries.
    pub values: Vec<Vec<f64>>,
    /// An event row holding the preferred category, per query (`u32::MAX` = none).
    pub preferred_category_row: Vec<u32>,
}

/// Names of the numeric user features, in output order.
pub const USER_FEATURES: [&str; 8] = [
    "n_events",
    "lifetime_purchases",
    "aov_90d",
    "days_since_last_purchase",
    "recency_days",
    "frequency_90d",
    "monetary_90d",
    "category_diversity",
];

/// Names of the item features, in output order.
pub const ITEM_FEATURES: [&str; 7] = [
    "purchases_30d",
    "view_to_purchase_rate",
    "avg_price_7d",
    "popularity_30d",
    "trending_ratio",
    "price_percentile_in_category",
    "n_views",
];

fn check(events: &Events<'_>, queries: &Queries<'_>) -> Result<()> {
    let n = events.entity.len();
    EcomkitError::check_length("time", "the events", n, events.times.len())?;
    EcomkitError::check_length("event", "the events", n, events.kinds.len())?;
    EcomkitError::check_length("value", "the events", n, events.values.len())?;
    EcomkitError::check_length("category", "the events", n, events.categories.len())?;
    EcomkitError::check_length(
        "as_of",
        "its entity column",
        queries.entity.len(),
        queries.times.len(),
    )
}

/// Rows of each entity code in time order (stable), for events and for queries.
fn by_entity(entity: &[u32], times: &[i64], n_entities: usize) -> (Vec<usize>, Vec<u32>) {
    let mut offsets = vec![0usize; n_entities + 1];
    for &e in entity {
        offsets[e as usize + 1] += 1;
    }
    for i in 0..n_entities {
        offsets[i + 1] += offsets[i];
    }
    let mut cursor = offsets.clone();
    let mut rows = vec![0u32; entity.len()];
    for (row, &e) in entity.iter().enumerate() {
        rows[cursor[e as usize]] = row as u32;
        cursor[e as usize] += 1;
    }
    let mut slices = Vec::with_capacity(n_entities);
    let mut rest = rows.as_mut_slice();
    for e in 0..n_entities {
        let (head, tail) = rest.split_at_mut(offsets[e + 1] - offsets[e]);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .with_min_len(256)
        .for_each(|s| s.sort_by_key(|&r| times[r as usize]));
    (offsets, rows)
}

/// Sum and count over a sliding window `[t − width, t)` of values added in time order.
#[derive(Debug, Default, Clone)]
struct Window {
    width: i64,
    items: VecDeque<(i64, f64)>,
    sum: f64,
}

impl Window {
    fn new(width: i64) -> Self {
        Self {
            width,
            ..Default::default()
        }
    }

    fn push(&mut self, time: i64, value: f64) {
        self.items.push_back((time, value));
        self.sum += value;
    }

    /// Drop what is older than `t − width`; recount the sum exactly (no drift).
    fn advance(&mut self, t: i64) {
        let mut dropped = false;
        while self
            .items
            .front()
            .is_some_and(|&(time, _)| span(time, t) > i128::from(self.width))
        {
            self.items.pop_front();
            dropped = true;
        }
        if dropped {
            self.sum = self.items.iter().map(|&(_, v)| v).sum();
        }
    }

    fn count(&self) -> usize {
        self.items.len()
    }
}

/// What an entity's running aggregates do in the sweep of [`sweep`].
trait EntityState: Default {
    /// One row of output.
    type Row: Copy + Send;
    /// Add the event at `row` (events come in time order).
    fn add(&mut self, events: &Events<'_>, row: usize);
    /// The features at time `t` (all events before `t` added).
    fn read(&mut self, t: i64) -> Self::Row;
}

/// Each entity's events and queries swept together in time order: events strictly before a
/// query's time are added to a fresh `S`, then the query reads it. One output per query.
fn sweep<S: EntityState>(
    events: &Events<'_>,
    queries: &Queries<'_>,
    n_entities: usize,
) -> Result<Vec<Option<S::Row>>> {
    check(events, queries)?;
    let (event_offsets, event_rows) = by_entity(events.entity, events.times, n_entities);
    let (query_offsets, query_rows) = by_entity(queries.entity, queries.times, n_entities);
    let per_entity: Vec<Vec<(u32, S::Row)>> = (0..n_entities)
        .into_par_iter()
        .with_min_len(256)
        .map(|e| {
            let evs = &event_rows[event_offsets[e]..event_offsets[e + 1]];
            let qs = &query_rows[query_offsets[e]..query_offsets[e + 1]];
            let mut state = S::default();
            let mut next = 0usize;
            qs.iter()
                .map(|&q| {
                    let t = queries.times[q as usize];
                    while next < evs.len() && events.times[evs[next] as usize] < t {
                        state.add(events, evs[next] as usize);
                        next += 1;
                    }
                    (q, state.read(t))
                })
                .collect()
        })
        .collect();
    let mut out = vec![None; queries.entity.len()];
    for (q, row) in per_entity.into_iter().flatten() {
        out[q as usize] = Some(row);
    }
    Ok(out)
}

/// Days from `since` to `t`; NaN without `since`.
fn days_between(since: Option<i64>, t: i64) -> f64 {
    since.map_or(f64::NAN, |s| span(s, t) as f64 / DAY as f64)
}

/// Mean of a window's values; NaN when it is empty.
fn mean(window: &Window) -> f64 {
    if window.count() > 0 {
        window.sum / window.count() as f64
    } else {
        f64::NAN
    }
}

#[derive(Debug)]
struct UserState {
    n_events: usize,
    purchases: usize,
    last_event: Option<i64>,
    last_purchase: Option<i64>,
    purchases_90: Window,
    /// Per category: events seen and the row of the latest.
    categories: FxHashMap<u32, (usize, u32)>,
    best: u32,
    best_count: usize,
}

impl Default for UserState {
    fn default() -> Self {
        Self {
            n_events: 0,
            purchases: 0,
            last_event: None,
            last_purchase: None,
            purchases_90: Window::new(90 * DAY),
            categories: FxHashMap::default(),
            best: u32::MAX,
            best_count: 0,
        }
    }
}

impl EntityState for UserState {
    type Row = ([f64; 8], u32);

    fn add(&mut self, events: &Events<'_>, row: usize) {
        let time = events.times[row];
        self.n_events += 1;
        self.last_event = Some(time);
        if events.kinds[row] == EventKind::Purchase {
            self.purchases += 1;
            self.last_purchase = Some(time);
            let value = events.values[row];
            self.purchases_90
                .push(time, if value.is_nan() { 0.0 } else { value });
        }
        let category = events.categories[row];
        if category != u32::MAX {
            let entry = self.categories.entry(category).or_insert((0, 0));
            entry.0 += 1;
            entry.1 = row as u32;
            // Ties go to the most recent: this category was just seen.
            if entry.0 >= self.best_count {
                self.best = category;
                self.best_count = entry.0;
            }
        }
    }

    fn read(&mut self, t: i64) -> Self::Row {
        self.purchases_90.advance(t);
        let values = [
            self.n_events as f64,
            self.purchases as f64,
            mean(&self.purchases_90),
            days_between(self.last_purchase, t),
            days_between(self.last_event, t),
            self.purchases_90.count() as f64,
            self.purchases_90.sum,
            self.categories.len() as f64,
        ];
        let preferred = self
            .categories
            .get(&self.best)
            .map_or(u32::MAX, |&(_, row)| row);
        (values, preferred)
    }
}

/// Per user and query time: `n_events` (events before), `lifetime_purchases`, `aov_90d`
/// (mean value of the purchases of the last 90 days; NaN without one),
/// `days_since_last_purchase` (NaN without one), `recency_days` (since the latest event of
/// any kind), `frequency_90d` (purchases in the last 90 days), `monetary_90d` (their
/// value; NaN values count 0), `category_diversity` (distinct categories seen); and the
/// preferred category: the mode of the categories of all events before, ties going to the
/// category seen most recently.
pub fn user_features(
    events: &Events<'_>,
    queries: &Queries<'_>,
    n_entities: usize,
) -> Result<UserFeatures> {
    let rows = sweep::<UserState>(events, queries, n_entities)?;
    let mut values = vec![vec![f64::NAN; rows.len()]; USER_FEATURES.len()];
    let mut preferred_category_row = vec![u32::MAX; rows.len()];
    for (q, (row, preferred)) in rows
        .into_iter()
        .enumerate()
        .filter_map(|(q, r)| Some((q, r?)))
    {
        for (column, value) in values.iter_mut().zip(row) {
            column[q] = value;
        }
        preferred_category_row[q] = preferred;
    }
    Ok(UserFeatures {
        values,
        preferred_category_row,
    })
}

#[derive(Debug)]
struct ItemState {
    views: usize,
    purchases: usize,
    purchases_30: Window,
    views_30: Window,
    views_7: Window,
    prices_7: Window,
}

impl Default for ItemState {
    fn default() -> Self {
        Self {
            views: 0,
            purchases: 0,
            purchases_30: Window::new(30 * DAY),
            views_30: Window::new(30 * DAY),
            views_7: Window::new(7 * DAY),
            prices_7: Window::new(7 * DAY),
        }
    }
}

impl EntityState for ItemState {
    type Row = [f64; 6];

    fn add(&mut self, events: &Events<'_>, row: usize) {
        let time = events.times[row];
        match events.kinds[row] {
            EventKind::View => {
                self.views += 1;
                self.views_30.push(time, 1.0);
                self.views_7.push(time, 1.0);
            }
            EventKind::Purchase => {
                self.purchases += 1;
                self.purchases_30.push(time, 1.0);
            }
            _ => {}
        }
        if !events.values[row].is_nan() {
            self.prices_7.push(time, events.values[row]);
        }
    }

    fn read(&mut self, t: i64) -> Self::Row {
        for window in [
            &mut self.purchases_30,
            &mut self.views_30,
            &mut self.views_7,
            &mut self.prices_7,
        ] {
            window.advance(t);
        }
        let v30 = self.views_30.count() as f64;
        [
            self.purchases_30.count() as f64,
            if self.views > 0 {
                self.purchases as f64 / self.views as f64
            } else {
                f64::NAN
            },
            mean(&self.prices_7),
            v30,
            if v30 > 0.0 {
                (self.views_7.count() as f64 / 7.0) / (v30 / 30.0)
            } else {
                f64::NAN
            },
            self.views as f64,
        ]
    }
}

/// Per item and query time (events strictly before): `purchases_30d`,
/// `view_to_purchase_rate` (purchases / views over the whole history; NaN without views),
/// `avg_price_7d` (mean value of the item's events of the last 7 days that carry one),
/// `popularity_30d` (views in the last 30 days), `trending_ratio` (daily views of the last
/// 7 days / daily views of the last 30; NaN without views in 30 days),
/// `price_percentile_in_category` (see [`price_percentiles`]) and `n_views`.
pub fn item_features(
    events: &Events<'_>,
    queries: &Queries<'_>,
    n_entities: usize,
) -> Result<Vec<Vec<f64>>> {
    let rows = sweep::<ItemState>(events, queries, n_entities)?;
    let mut values = vec![vec![f64::NAN; rows.len()]; ITEM_FEATURES.len()];
    for (q, row) in rows
        .into_iter()
        .enumerate()
        .filter_map(|(q, r)| Some((q, r?)))
    {
        // Output order: the percentile goes between trending_ratio and n_views.
        for (k, value) in row.into_iter().enumerate() {
            values[if k == 5 { 6 } else { k }][q] = value;
        }
    }
    values[5] = price_percentiles(events, queries);
    Ok(values)
}

/// The percentile of each queried item's latest known price (before the query time) among
/// the latest known prices of all items of its category at that time, as pandas
/// `rank(pct=True)`: `(less + (equal + 1) / 2) / n`, ties averaged. The item's category is
/// the one of its latest event with a category. NaN when the item has no price or category
/// yet.
pub fn price_percentiles(events: &Events<'_>, queries: &Queries<'_>) -> Vec<f64> {
    // One sweep over all events and queries in time order; at equal times events come
    // after queries (strictly before).
    let mut order: Vec<(i64, bool, u32)> = events
        .times
        .iter()
        .enumerate()
        .map(|(r, &t)| (t, true, r as u32))
        .chain(
            queries
                .times
                .iter()
                .enumerate()
                .map(|(r, &t)| (t, false, r as u32)),
        )
        .collect();
    order.par_sort_unstable();
    // Each category's latest prices are counted in a Fenwick tree over the distinct prices
    // its events ever have: O(log n) per event and query (a sorted Vec was O(n) per event,
    // quadratic with one large category).
    let mut counts: FxHashMap<u32, PriceCounts> = FxHashMap::default();
    for (&price, &category) in events.values.iter().zip(events.categories) {
        if !price.is_nan() && category != u32::MAX {
            counts.entry(category).or_default().prices.push(price);
        }
    }
    for category in counts.values_mut() {
        category.prepare();
    }
    let mut latest: FxHashMap<u32, (f64, u32)> = FxHashMap::default();
    let mut out = vec![f64::NAN; queries.times.len()];
    for (_, is_event, row) in order {
        let row = row as usize;
        if is_event {
            let (price, category) = (events.values[row], events.categories[row]);
            if price.is_nan() || category == u32::MAX {
                continue;
            }
            let item = events.entity[row];
            if let Some((old_price, old_category)) = latest.insert(item, (price, category)) {
                if old_price == price && old_category == category {
                    continue;
                }
                if let Some(old) = counts.get_mut(&old_category) {
                    old.add(old_price, -1);
                }
            }
            if let Some(counts) = counts.get_mut(&category) {
                counts.add(price, 1);
            }
        } else if let Some(&(price, category)) = latest.get(&queries.entity[row]) {
            if let Some(counts) = counts.get(&category) {
                let (less, equal) = counts.less_and_equal(price);
                out[row] = (less as f64 + (equal as f64 + 1.0) / 2.0) / counts.total as f64;
            }
        }
    }
    out
}

/// How many of a category's items have each latest price: a Fenwick tree over the distinct
/// prices the category's events have (sorted; -0.0 and 0.0 are one price, as `<` sees them).
#[derive(Default)]
struct PriceCounts {
    prices: Vec<f64>,
    tree: Vec<i64>,
    total: i64,
}

impl PriceCounts {
    fn prepare(&mut self) {
        self.prices
            .sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
        self.prices.dedup_by(|a, b| a == b);
        self.tree = vec![0; self.prices.len() + 1];
    }

    /// The position of `price`, which is one of the category's event prices.
    fn position(&self, price: f64) -> usize {
        self.prices.partition_point(|&p| p < price)
    }

    fn add(&mut self, price: f64, delta: i64) {
        self.total += delta;
        let mut i = self.position(price) + 1;
        while i < self.tree.len() {
            self.tree[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Items with a price below the first `end` distinct prices.
    fn prefix(&self, end: usize) -> i64 {
        let (mut i, mut sum) = (end, 0);
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// (items priced below `price`, items priced exactly `price`).
    fn less_and_equal(&self, price: f64) -> (i64, i64) {
        let at = self.position(price);
        let less = self.prefix(at);
        (less, self.prefix(at + 1) - less)
    }
}

/// Column names of the events frame and the as-of frame (which has `entity` and `time`).
#[derive(Debug, Clone)]
pub struct AsOfColumns {
    /// The entity column (user or item), in both frames.
    pub entity: String,
    /// The time column, in both frames.
    pub time: String,
    /// The event type column (strings) of the events.
    pub event: String,
    /// The money value column of the events (item price), if any.
    pub value: Option<String>,
    /// The category column of the events, if any.
    pub category: Option<String>,
    /// The event values of a view, an add-to-cart and a purchase.
    pub event_names: [String; 3],
}

/// Whether keys of these two types can be matched: both text (any string kind, or a
/// dictionary of one), both integers (any width), or of one type. Text never matches
/// integers: "007" is not 7.
fn keys_match(a: &DataType, b: &DataType) -> bool {
    fn family(data_type: &DataType) -> Option<bool> {
        match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(true),
            DataType::Dictionary(_, values) => family(values),
            other if other.is_integer() => Some(false),
            _ => None,
        }
    }
    a == b || (family(a).is_some() && family(a) == family(b))
}

/// Events and queries read from frames, with entity codes shared by both.
struct AsOfInput {
    entity: Vec<u32>,
    times: Vec<i64>,
    kinds: Vec<EventKind>,
    values: Vec<f64>,
    categories: Vec<u32>,
    query_entity: Vec<u32>,
    query_times: Vec<i64>,
    n_entities: usize,
}

impl AsOfInput {
    fn read(events: &Frame, as_of: &Frame, columns: &AsOfColumns) -> Result<Self> {
        let n = events.num_rows();
        let entity_events = events.column(&columns.entity, "entity")?;
        let entity_queries = as_of.column(&columns.entity, "as_of")?;
        if !keys_match(entity_events.data_type(), entity_queries.data_type()) {
            return Err(EcomkitError::invalid_type(
                EcomkitError::column_argument("as_of", &columns.entity),
                format!(
                    "the type of the events' column, {}",
                    entity_events.data_type()
                ),
                entity_queries.data_type(),
            ));
        }
        let chunks = entity_events
            .chunks()
            .iter()
            .chain(entity_queries.chunks())
            .map(|c| c.as_ref());
        let codes = factorize(chunks, n + as_of.num_rows(), &columns.entity)?;
        let (entity, query_entity) = codes.ids().split_at(n);
        let names = [
            columns.event_names[0].as_str(),
            columns.event_names[1].as_str(),
            columns.event_names[2].as_str(),
        ];
        let kinds = event_kinds(&events.column(&columns.event, "event")?, names, "event")?;
        let values = match &columns.value {
            Some(name) => events.column(name, "value")?.to_f64("value")?.into_owned(),
            None => vec![f64::NAN; n],
        };
        let categories = match &columns.category {
            Some(name) => {
                let column = events.column(name, "category")?;
                let mut codes = column.groups("category")?.ids().to_vec();
                for row in column.missing_rows() {
                    codes[row] = u32::MAX;
                }
                codes
            }
            None => vec![u32::MAX; n],
        };
        Ok(Self {
            entity: entity.to_vec(),
            times: epoch_nanos(&events.column(&columns.time, "time")?, "time")?,
            kinds,
            values,
            categories,
            query_entity: query_entity.to_vec(),
            query_times: epoch_nanos(&as_of.column(&columns.time, "as_of")?, "as_of")?,
            n_entities: codes.n_groups(),
        })
    }

    fn events(&self) -> Events<'_> {
        Events {
            entity: &self.entity,
            times: &self.times,
            kinds: &self.kinds,
            values: &self.values,
            categories: &self.categories,
        }
    }

    fn queries(&self) -> Queries<'_> {
        Queries {
            entity: &self.query_entity,
            times: &self.query_times,
        }
    }
}

/// [`user_features`] on frames: the numeric features (named as [`USER_FEATURES`]) and
/// `preferred_category` (values of the events' category column; null when none).
pub fn user_features_frame(
    events: &Frame,
    as_of: &Frame,
    columns: &AsOfColumns,
) -> Result<(Vec<Vec<f64>>, Option<ArrayRef>)> {
    let input = AsOfInput::read(events, as_of, columns)?;
    let features = user_features(&input.events(), &input.queries(), input.n_entities)?;
    let preferred = match &columns.category {
        Some(name) => {
            let column = events.column(name, "category")?;
            let rows: Vec<u32> = features
                .preferred_category_row
                .iter()
                .map(|&r| if r == u32::MAX { 0 } else { r })
                .collect();
            if events.num_rows() == 0 {
                Some(arrow_array::new_null_array(column.data_type(), rows.len()))
            } else {
                let taken = column.take(&rows)?;
                let mask: BooleanArray = features
                    .preferred_category_row
                    .iter()
                    .map(|&r| Some(r == u32::MAX))
                    .collect();
                Some(arrow_select::nullif::nullif(taken.as_ref(), &mask)?)
            }
        }
        None => None,
    };
    Ok((features.values, preferred))
}

/// [`item_features`] on frames (named as [`ITEM_FEATURES`]).
pub fn item_features_frame(
    events: &Frame,
    as_of: &Frame,
    columns: &AsOfColumns,
) -> Result<Vec<Vec<f64>>> {
    let input = AsOfInput::read(events, as_of, columns)?;
    item_features(&input.events(), &input.queries(), input.n_entities)
}
