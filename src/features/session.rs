//! Sessions of click streams: a user's session ends when the gap to their next event is
//! strictly greater than the inactivity timeout (or the session would outlast
//! `max_duration`).
//!
//! One implementation serves batch and online: [`SessionState`] takes one event at a time
//! and the batch kernel [`session_features`] is nothing but a `SessionState` fed each user's
//! events in time order, so training features and serving features cannot drift apart.

use std::borrow::Cow;
use std::hash::Hash;
use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_buffer::{ArrowNativeType, BooleanBufferBuilder};
use arrow_schema::DataType;
use chrono_tz::Tz;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::layout::{blocks, prefix_sums, split_lengths, RowWriter, TimeOrder};
use super::time::{local_time, SECOND};
use crate::error::{EcomkitError, Result};
use crate::frame::Column;
use crate::groups::{Groups, PREFETCH_DISTANCE};

/// What an event is, for the counts of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventKind {
    /// A product page view.
    View,
    /// An add-to-cart.
    Cart,
    /// A purchase (transaction).
    Purchase,
    /// Anything else: counted in `n_events` only.
    #[default]
    Other,
}

impl EventKind {
    /// The three named kinds, in the order of the transition matrix.
    pub const NAMED: [EventKind; 3] = [EventKind::View, EventKind::Cart, EventKind::Purchase];

    /// Position in [`SessionSummary::transitions`].
    pub fn index(self) -> usize {
        match self {
            EventKind::View => 0,
            EventKind::Cart => 1,
            EventKind::Purchase => 2,
            EventKind::Other => 3,
        }
    }
}

/// How sessions are cut and where their local time is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionConfig {
    /// Inactivity timeout in nanoseconds: a gap strictly greater starts a new session.
    pub timeout: i64,
    /// Longest session in nanoseconds (from its first event), if any.
    pub max_duration: Option<i64>,
    /// The IANA zone of `start_hour` and `is_weekend`.
    pub time_zone: Tz,
}

impl SessionConfig {
    /// Whether an event at `time` starts a new session after one that began at `start` and
    /// whose latest event was at `previous`.
    pub fn starts_new(&self, start: i64, previous: i64, time: i64) -> bool {
        time - previous > self.timeout || self.max_duration.is_some_and(|m| time - start > m)
    }
}

/// Features of one session (so far, while it is open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionSummary {
    /// Time of the first event (ns since the epoch, UTC).
    pub start: i64,
    /// Time of the latest event.
    pub end: i64,
    /// Events of any kind.
    pub n_events: u32,
    /// View events.
    pub n_views: u32,
    /// Add-to-cart events.
    pub n_carts: u32,
    /// Purchase events.
    pub n_purchases: u32,
    /// Distinct non-null items.
    pub n_items: u32,
    /// Local hour (0–23) of the start, in the configured zone.
    pub start_hour: u32,
    /// Local weekday of the start, Monday = 0 … Sunday = 6.
    pub start_weekday: u32,
    /// Transitions between consecutive events: `[from][to]`, kinds in the order view,
    /// cart, purchase, other.
    pub transitions: [[u32; 4]; 4],
    /// Kind of the latest event.
    pub last_kind: Option<EventKind>,
}

impl SessionSummary {
    fn open(time: i64, zone: Tz) -> Self {
        let local = local_time(time, zone);
        Self {
            start: time,
            end: time,
            n_events: 0,
            n_views: 0,
            n_carts: 0,
            n_purchases: 0,
            n_items: 0,
            start_hour: local.hour,
            start_weekday: local.weekday,
            transitions: [[0; 4]; 4],
            last_kind: None,
        }
    }

    /// Share of the transitions out of `from` that go to `to`; NaN when none leave `from`.
    pub fn transition_probability(&self, from: EventKind, to: EventKind) -> f64 {
        let row = &self.transitions[from.index()];
        let total: u32 = row.iter().sum();
        if total == 0 {
            f64::NAN
        } else {
            f64::from(row[to.index()]) / f64::from(total)
        }
    }

    /// Seconds from the first to the latest event.
    pub fn duration_seconds(&self) -> f64 {
        (self.end - self.start) as f64 / SECOND as f64
    }

    /// Whether the session holds a purchase (the label of purchase-intent models).
    pub fn purchased(&self) -> bool {
        self.n_purchases > 0
    }

    /// Whether the session started on a Saturday or Sunday, local time.
    pub fn is_weekend(&self) -> bool {
        self.start_weekday >= 5
    }
}

/// What [`SessionState::update`] tells about the event just added.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventFeatures {
    /// Index of the event's session in this state's stream (0, 1, …).
    pub session: u64,
    /// Views of the event's item in this session up to and including this event (0 for a
    /// null item).
    pub item_views: u32,
    /// Seconds since the previous view of the event's item in this session; NaN if none.
    pub seconds_since_item_view: f64,
}

/// One user's stream of events, one at a time: the online form of the session kernels.
///
/// ```
/// use ecomkit::features::{EventKind, SessionConfig, SessionState};
/// let config = SessionConfig { timeout: 30 * 60 * 1_000_000_000, max_duration: None,
///                              time_zone: chrono_tz::UTC };
/// let mut state = SessionState::new(config);
/// let minute = 60 * 1_000_000_000i64;
/// state.update(0, EventKind::View, Some(7u64))?;
/// let second = state.update(5 * minute, EventKind::View, Some(7))?;
/// assert_eq!((second.session, second.item_views, second.seconds_since_item_view), (0, 2, 300.0));
/// let later = state.update(60 * minute, EventKind::Purchase, Some(7))?;
/// assert_eq!(later.session, 1);
/// assert!(state.current().unwrap().purchased());
/// # Ok::<(), ecomkit::EcomkitError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionState<K> {
    config: SessionConfig,
    n_sessions: u64,
    current: Option<SessionSummary>,
    /// Per item of the open session: views so far and the time of the latest view.
    items: FxHashMap<K, (u32, Option<i64>)>,
}

impl<K: Hash + Eq> SessionState<K> {
    /// An empty stream.
    pub fn new(config: SessionConfig) -> Self {
        Self {
            config,
            n_sessions: 0,
            current: None,
            items: FxHashMap::default(),
        }
    }

    /// The open session's features, if any event has been seen.
    pub fn current(&self) -> Option<&SessionSummary> {
        self.current.as_ref()
    }

    /// Forgets the stream, to follow another one (keeps the item table's memory).
    ///
    /// ```
    /// use ecomkit::features::{EventKind, SessionConfig, SessionState};
    /// let config = SessionConfig { timeout: 30 * 60 * 1_000_000_000, max_duration: None,
    ///                              time_zone: chrono_tz::UTC };
    /// let mut state = SessionState::new(config);
    /// state.update(100, EventKind::View, Some(7u64))?;
    /// state.reset(); // the next user's events may start earlier
    /// let first = state.update(0, EventKind::View, Some(7))?;
    /// assert_eq!((first.session, first.item_views, state.n_sessions()), (0, 1, 1));
    /// # Ok::<(), ecomkit::EcomkitError>(())
    /// ```
    pub fn reset(&mut self) {
        self.n_sessions = 0;
        self.current = None;
        self.items.clear();
    }

    /// Number of sessions seen so far (the open one included).
    pub fn n_sessions(&self) -> u64 {
        self.n_sessions
    }

    /// Add one event; events must come in time order (equal times are fine).
    pub fn update(&mut self, time: i64, kind: EventKind, item: Option<K>) -> Result<EventFeatures> {
        let new_session = match &self.current {
            None => true,
            Some(current) => {
                if time < current.end {
                    return Err(EcomkitError::invalid_value(
                        "time",
                        format!(
                            "events must arrive in time order: got {time} ns after {} ns",
                            current.end
                        ),
                    ));
                }
                self.config.starts_new(current.start, current.end, time)
            }
        };
        if new_session {
            self.current = Some(SessionSummary::open(time, self.config.time_zone));
            self.items.clear();
            self.n_sessions += 1;
        }
        let Some(session) = self.current.as_mut() else {
            unreachable!("a session was just opened")
        };
        session.end = time;
        session.n_events += 1;
        if let Some(previous) = session.last_kind {
            session.transitions[previous.index()][kind.index()] += 1;
        }
        session.last_kind = Some(kind);
        match kind {
            EventKind::View => session.n_views += 1,
            EventKind::Cart => session.n_carts += 1,
            EventKind::Purchase => session.n_purchases += 1,
            EventKind::Other => {}
        }
        let (item_views, seconds_since_item_view) = match item {
            None => (0, f64::NAN),
            Some(item) => {
                let entry = self.items.entry(item).or_insert_with(|| {
                    session.n_items += 1;
                    (0, None)
                });
                let since = entry
                    .1
                    .map_or(f64::NAN, |last| (time - last) as f64 / SECOND as f64);
                if kind == EventKind::View {
                    entry.0 += 1;
                    entry.1 = Some(time);
                }
                (entry.0, since)
            }
        };
        Ok(EventFeatures {
            session: self.n_sessions - 1,
            item_views,
            seconds_since_item_view,
        })
    }
}

/// Session ids, one per row: dense, numbered by (user's first appearance, session start).
pub fn sessionize(
    users: &Groups,
    times: &[i64],
    timeout: i64,
    max_duration: Option<i64>,
) -> Result<Vec<i64>> {
    EcomkitError::check_length("time", "user", users.len(), times.len())?;
    check_durations(timeout, max_duration)?;
    let config = SessionConfig {
        timeout,
        max_duration,
        time_zone: chrono_tz::UTC,
    };
    let layout = TimeOrder::new(users, times);
    let blocks = SessionBlocks::new(&layout, &config);
    let mut ids = vec![0i64; users.len()];
    let writer = RowWriter::new(&mut ids);
    (blocks.blocks.into_par_iter().zip(blocks.first_ids)).for_each(|(groups, first)| {
        let mut next = first - 1;
        for g in groups {
            let range = layout.offsets[g]..layout.offsets[g + 1];
            for (k, opens) in range.clone().zip(opens(&layout.times[range], &config)) {
                next += i64::from(opens);
                // SAFETY: `rows[k]` of this block's `k` only (see `RowWriter::write`).
                unsafe { writer.write(layout.rows[k] as usize, next) };
            }
        }
    });
    Ok(ids)
}

/// Whether each of one user's events (in time order) opens a session: the cuts
/// [`SessionState::update`] makes.
fn opens<'a>(times: &'a [i64], config: &'a SessionConfig) -> impl Iterator<Item = bool> + 'a {
    let (mut start, mut previous) = (i64::MIN, i64::MIN);
    times.iter().enumerate().map(move |(i, &time)| {
        let opens = i == 0 || config.starts_new(start, previous, time);
        if opens {
            start = time;
        }
        previous = time;
        opens
    })
}

/// The layout's users cut into blocks for the threads, each block's number of sessions and
/// the id of its first session (a first pass counts them, so every block can write final
/// ids at once).
struct SessionBlocks {
    blocks: Vec<Range<usize>>,
    counts: Vec<usize>,
    first_ids: Vec<i64>,
}

impl SessionBlocks {
    fn new(layout: &TimeOrder, config: &SessionConfig) -> Self {
        let offsets = &layout.offsets;
        let blocks = blocks(offsets);
        let counts: Vec<usize> = blocks
            .par_iter()
            .map(|groups| {
                let users = groups
                    .clone()
                    .map(|g| &layout.times[offsets[g]..offsets[g + 1]]);
                users
                    .map(|times| opens(times, config).filter(|&o| o).count())
                    .sum()
            })
            .collect();
        let as_i64: Vec<i64> = counts.iter().map(|&c| c as i64).collect();
        Self {
            first_ids: prefix_sums(&as_i64),
            blocks,
            counts,
        }
    }

    fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// The batch session kernel's output.
#[derive(Debug, Clone)]
pub struct SessionBatch {
    /// Session id of each row (as [`sessionize`]).
    pub session_ids: Vec<i64>,
    /// Per row: [`EventFeatures::item_views`] (as `i64`, the type of a count column).
    pub item_views: Vec<i64>,
    /// Per row: [`EventFeatures::seconds_since_item_view`].
    pub seconds_since_item_view: Vec<f64>,
    /// One summary per session, by id.
    pub sessions: Vec<SessionSummary>,
    /// The first row (in time order) of each session, by id.
    pub first_rows: Vec<u32>,
}

/// Every user's events fed to a [`SessionState`] in time order (equal times: input order);
/// `items` holds an item code per row (`None` = null item).
pub fn session_features(
    users: &Groups,
    times: &[i64],
    kinds: &[EventKind],
    items: &[Option<u32>],
    config: &SessionConfig,
) -> Result<SessionBatch> {
    EcomkitError::check_length("event", "user", users.len(), kinds.len())?;
    EcomkitError::check_length("item", "user", users.len(), items.len())?;
    let events: Vec<RowEvent> = kinds
        .iter()
        .zip(items)
        .map(|(&kind, item)| RowEvent {
            kind,
            has_item: item.is_some(),
        })
        .collect();
    let keys: Vec<u32> = items.iter().map(|item| item.unwrap_or(0)).collect();
    sessions_of(users, times, &events, &keys, config)
}

/// What the session loop reads of a row besides its time and item, moved into the layout
/// together.
#[derive(Debug, Clone, Copy, Default)]
struct RowEvent {
    kind: EventKind,
    has_item: bool,
}

/// [`session_features`] over any item key (`items[row]` is read only where the row has an
/// item). Outputs are written straight at each event's input row.
fn sessions_of<K>(
    users: &Groups,
    times: &[i64],
    events: &[RowEvent],
    items: &[K],
    config: &SessionConfig,
) -> Result<SessionBatch>
where
    K: Copy + Default + Hash + Eq + Send + Sync,
{
    let n = users.len();
    EcomkitError::check_length("time", "user", n, times.len())?;
    check_durations(config.timeout, config.max_duration)?;
    let layout = TimeOrder::new(users, times);
    let offsets = &layout.offsets;
    let (events, items) = (layout.arrange(events), layout.arrange(items));
    let blocks = SessionBlocks::new(&layout, config);
    let mut sessions = vec![SessionSummary::default(); blocks.total()];
    let mut first_rows = vec![0u32; blocks.total()];
    let session_slices = split_lengths(&mut sessions, blocks.counts.iter().copied());
    let first_row_slices = split_lengths(&mut first_rows, blocks.counts.iter().copied());
    let mut ids = vec![0i64; n];
    let mut views = vec![0i64; n];
    let mut since = vec![f64::NAN; n];
    let (id_writer, view_writer, since_writer) = (
        RowWriter::new(&mut ids),
        RowWriter::new(&mut views),
        RowWriter::new(&mut since),
    );
    (blocks.blocks.into_par_iter())
        .zip(blocks.first_ids)
        .zip(session_slices)
        .zip(first_row_slices)
        .try_for_each(|(((groups, first_id), sessions), first_rows)| {
            let mut state = SessionState::new(*config);
            let mut opened = 0;
            for g in groups {
                state.reset();
                for k in offsets[g]..offsets[g + 1] {
                    let (time, row) = (layout.times[k], layout.rows[k]);
                    if let Some(&ahead) = layout.rows.get(k + PREFETCH_DISTANCE) {
                        id_writer.prefetch(ahead as usize);
                        view_writer.prefetch(ahead as usize);
                        since_writer.prefetch(ahead as usize);
                    }
                    // A session is stored once, when the next one opens or the user ends.
                    let current = state.current();
                    if current.is_none_or(|s| config.starts_new(s.start, s.end, time)) {
                        if let Some(done) = current {
                            sessions[opened - 1] = *done;
                        }
                        first_rows[opened] = row;
                        opened += 1;
                    }
                    let event = events[k];
                    let item = event.has_item.then_some(items[k]);
                    let features = state.update(time, event.kind, item)?;
                    let (row, id) = (row as usize, first_id + opened as i64 - 1);
                    // SAFETY: `rows[k]` of this block's `k` only (see `RowWriter::write`).
                    unsafe {
                        id_writer.write(row, id);
                        view_writer.write(row, i64::from(features.item_views));
                        since_writer.write(row, features.seconds_since_item_view);
                    }
                }
                if let Some(done) = state.current() {
                    sessions[opened - 1] = *done;
                }
            }
            debug_assert_eq!(opened, sessions.len());
            Ok::<(), EcomkitError>(())
        })?;
    Ok(SessionBatch {
        session_ids: ids,
        item_views: views,
        seconds_since_item_view: since,
        sessions,
        first_rows,
    })
}

fn check_durations(timeout: i64, max_duration: Option<i64>) -> Result<()> {
    if timeout <= 0 {
        return Err(EcomkitError::invalid_value(
            "timeout",
            "expected a positive duration",
        ));
    }
    if max_duration.is_some_and(|m| m <= 0) {
        return Err(EcomkitError::invalid_value(
            "max_duration",
            "expected a positive duration",
        ));
    }
    Ok(())
}

/// The kind of each row of a string event column: `names` = (view, cart, purchase).
pub fn event_kinds(
    column: &Column<'_>,
    names: [&str; 3],
    argument: &str,
) -> Result<Vec<EventKind>> {
    let argument = format!("{argument} (column '{}')", column.name());
    let kind = |value: Option<&str>| match value {
        Some(v) if v == names[0] => EventKind::View,
        Some(v) if v == names[1] => EventKind::Cart,
        Some(v) if v == names[2] => EventKind::Purchase,
        _ => EventKind::Other,
    };
    let mut out = Vec::with_capacity(column.len());
    for chunk in column.chunks() {
        strings(chunk, &argument, &mut |value| out.push(kind(value)))?;
    }
    Ok(out)
}

/// Calls `f` with each value of a string or string-dictionary array (None for nulls).
pub(crate) fn strings(
    array: &ArrayRef,
    argument: &str,
    f: &mut dyn FnMut(Option<&str>),
) -> Result<()> {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => array.as_string_view().iter().for_each(f),
        DataType::Dictionary(_, value_type)
            if matches!(
                value_type.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            let dictionary = array.as_any_dictionary();
            let mut values: Vec<Option<String>> = Vec::new();
            strings(dictionary.values(), argument, &mut |v| {
                values.push(v.map(str::to_string))
            })?;
            let keys = dictionary.normalized_keys();
            for (i, key) in keys.into_iter().enumerate() {
                f(if dictionary.is_null(i) {
                    None
                } else {
                    values.get(key).and_then(|v| v.as_deref())
                })
            }
        }
        other => {
            return Err(EcomkitError::invalid_type(
                argument,
                "a string or categorical column",
                other,
            ))
        }
    }
    Ok(())
}

/// The item of each row as a key the session loop can hash: integer ids as they are, float
/// ids by their bits, anything else (strings, categoricals) by a dense code; and the rows
/// without an item (null, or NaN).
fn item_keys<'a>(column: &Column<'a>) -> Result<(Cow<'a, [i64]>, Vec<usize>)> {
    use arrow_array::types::*;
    let missing = column.missing_rows();
    if let [chunk] = column.chunks() {
        if let Some(ids) = chunk.as_primitive_opt::<Int64Type>() {
            return Ok((Cow::Borrowed(ids.values()), missing));
        }
    }
    fn integers<T: ArrowPrimitiveType>(array: &dyn Array, keys: &mut Vec<i64>) {
        // `as_usize` keeps every bit of a 64-bit value and sign-extends narrower ones: one
        // key per distinct id.
        keys.extend(
            array
                .as_primitive::<T>()
                .values()
                .iter()
                .map(|v| v.as_usize() as i64),
        );
    }
    fn floats(values: impl Iterator<Item = f64>, keys: &mut Vec<i64>) {
        keys.extend(values.map(|v| (v + 0.0).to_bits() as i64)); // -0.0 and 0.0 are one id
    }
    let mut keys = Vec::with_capacity(column.len());
    for chunk in column.chunks() {
        let chunk = chunk.as_ref();
        match chunk.data_type() {
            DataType::Int8 => integers::<Int8Type>(chunk, &mut keys),
            DataType::Int16 => integers::<Int16Type>(chunk, &mut keys),
            DataType::Int32 => integers::<Int32Type>(chunk, &mut keys),
            DataType::Int64 => integers::<Int64Type>(chunk, &mut keys),
            DataType::UInt8 => integers::<UInt8Type>(chunk, &mut keys),
            DataType::UInt16 => integers::<UInt16Type>(chunk, &mut keys),
            DataType::UInt32 => integers::<UInt32Type>(chunk, &mut keys),
            DataType::UInt64 => integers::<UInt64Type>(chunk, &mut keys),
            DataType::Float32 => floats(
                chunk
                    .as_primitive::<Float32Type>()
                    .values()
                    .iter()
                    .map(|&v| f64::from(v)),
                &mut keys,
            ),
            DataType::Float64 => floats(
                chunk.as_primitive::<Float64Type>().values().iter().copied(),
                &mut keys,
            ),
            _ => {
                let codes = column.groups("item")?;
                let keys = codes.ids().iter().map(|&code| i64::from(code)).collect();
                return Ok((Cow::Owned(keys), missing));
            }
        }
    }
    Ok((Cow::Owned(keys), missing))
}

/// The per-session table's columns, filled in one pass over the summaries.
struct SessionColumns {
    start: Vec<i64>,
    end: Vec<i64>,
    duration_seconds: Vec<f64>,
    n_events: Vec<i64>,
    n_views: Vec<i64>,
    n_carts: Vec<i64>,
    n_purchases: Vec<i64>,
    n_items: Vec<i64>,
    purchased: BooleanBufferBuilder,
    start_hour: Vec<i32>,
    is_weekend: BooleanBufferBuilder,
}

impl SessionColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            duration_seconds: Vec::with_capacity(n),
            n_events: Vec::with_capacity(n),
            n_views: Vec::with_capacity(n),
            n_carts: Vec::with_capacity(n),
            n_purchases: Vec::with_capacity(n),
            n_items: Vec::with_capacity(n),
            purchased: BooleanBufferBuilder::new(n),
            start_hour: Vec::with_capacity(n),
            is_weekend: BooleanBufferBuilder::new(n),
        }
    }

    fn push(&mut self, s: &SessionSummary) {
        self.start.push(s.start);
        self.end.push(s.end);
        self.duration_seconds.push(s.duration_seconds());
        self.n_events.push(i64::from(s.n_events));
        self.n_views.push(i64::from(s.n_views));
        self.n_carts.push(i64::from(s.n_carts));
        self.n_purchases.push(i64::from(s.n_purchases));
        self.n_items.push(i64::from(s.n_items));
        self.purchased.append(s.purchased());
        self.start_hour.push(s.start_hour as i32);
        self.is_weekend.append(s.is_weekend());
    }
}

/// Column names of a click-stream frame, and the event values that mean view, add-to-cart
/// and purchase.
#[derive(Debug, Clone)]
pub struct ClickColumns {
    /// User (visitor) column.
    pub user: String,
    /// Event time column.
    pub time: String,
    /// Event type column (strings).
    pub event: String,
    /// Item column, if any (nulls allowed).
    pub item: Option<String>,
    /// The event values of a view, an add-to-cart and a purchase.
    pub event_names: [String; 3],
}

impl Default for ClickColumns {
    fn default() -> Self {
        Self {
            user: "visitorid".into(),
            time: "timestamp".into(),
            event: "event".into(),
            item: Some("itemid".into()),
            event_names: ["view".into(), "addtocart".into(), "transaction".into()],
        }
    }
}

/// [`session_features`] on a frame, with the per-session table: `session_id`, the user
/// column, `start`, `end` (timestamps in the time column's zone), `duration_seconds`,
/// `n_events`, `n_<view>`, `n_<cart>`, `n_<purchase>` (named after the event values),
/// `n_items`, `purchased`, `start_hour`, `is_weekend`; with `transitions`, also
/// `p_<from>_to_<to>` for the three named kinds (see
/// [`SessionSummary::transition_probability`]).
pub fn session_features_frame(
    frame: &crate::frame::Frame,
    columns: &ClickColumns,
    config: &SessionConfig,
    transitions: bool,
) -> Result<(SessionBatch, arrow_array::RecordBatch)> {
    use arrow_array::{BooleanArray, Float64Array, Int32Array, Int64Array};
    use arrow_array::{RecordBatch, TimestampNanosecondArray};
    use arrow_schema::{Field, Schema, TimeUnit};
    use std::sync::Arc;

    let users = frame.groups(std::slice::from_ref(&columns.user), "user")?;
    let time_column = frame.column(&columns.time, "time")?;
    let zone = match time_column.data_type() {
        DataType::Timestamp(_, zone) => zone.clone(),
        _ => None,
    };
    let times = super::time::epoch_nanos(&time_column, "time")?;
    let names = [
        columns.event_names[0].as_str(),
        columns.event_names[1].as_str(),
        columns.event_names[2].as_str(),
    ];
    let kinds = event_kinds(&frame.column(&columns.event, "event")?, names, "event")?;
    let mut events: Vec<RowEvent> = kinds
        .into_iter()
        .map(|kind| RowEvent {
            kind,
            has_item: columns.item.is_some(),
        })
        .collect();
    let batch = match &columns.item {
        // No item column: zero-sized keys, nothing to move.
        None => sessions_of(&users, &times, &events, &vec![(); events.len()], config)?,
        Some(name) => {
            let column = frame.column(name, "item")?;
            let (keys, missing) = item_keys(&column)?;
            for row in missing {
                events[row].has_item = false;
            }
            sessions_of(&users, &times, &events, &keys, config)?
        }
    };
    let s = &batch.sessions;
    let (user_field, user_values) = frame.take(&columns.user, &batch.first_rows, "user")?;
    let timestamp = DataType::Timestamp(TimeUnit::Nanosecond, zone.clone());
    let fields = vec![
        Field::new("session_id", DataType::Int64, false),
        user_field.as_ref().clone(),
        Field::new("start", timestamp.clone(), false),
        Field::new("end", timestamp, false),
        Field::new("duration_seconds", DataType::Float64, false),
        Field::new("n_events", DataType::Int64, false),
        Field::new(format!("n_{}", names[0]), DataType::Int64, false),
        Field::new(format!("n_{}", names[1]), DataType::Int64, false),
        Field::new(format!("n_{}", names[2]), DataType::Int64, false),
        Field::new("n_items", DataType::Int64, false),
        Field::new("purchased", DataType::Boolean, false),
        Field::new("start_hour", DataType::Int32, false),
        Field::new("is_weekend", DataType::Boolean, false),
    ];
    // One pass over the summaries fills every column (they are 112 bytes each: a pass per
    // column would read them all thirteen times).
    let mut c = SessionColumns::with_capacity(s.len());
    for x in s {
        c.push(x);
    }
    let stamps = |values: Vec<i64>| -> ArrayRef {
        Arc::new(TimestampNanosecondArray::from(values).with_timezone_opt(zone.clone()))
    };
    let ints = |values: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(values)) };
    let arrays: Vec<ArrayRef> = vec![
        ints((0..s.len() as i64).collect()),
        user_values,
        stamps(c.start),
        stamps(c.end),
        Arc::new(Float64Array::from(c.duration_seconds)),
        ints(c.n_events),
        ints(c.n_views),
        ints(c.n_carts),
        ints(c.n_purchases),
        ints(c.n_items),
        Arc::new(BooleanArray::new(c.purchased.finish(), None)),
        Arc::new(Int32Array::from(c.start_hour)),
        Arc::new(BooleanArray::new(c.is_weekend.finish(), None)),
    ];
    let (mut fields, mut arrays) = (fields, arrays);
    if transitions {
        for from in EventKind::NAMED {
            for to in EventKind::NAMED {
                fields.push(Field::new(
                    format!("p_{}_to_{}", names[from.index()], names[to.index()]),
                    DataType::Float64,
                    false,
                ));
                arrays.push(Arc::new(Float64Array::from_iter_values(
                    s.iter().map(|x| x.transition_probability(from, to)),
                )));
            }
        }
    }
    let table = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
    Ok((batch, table))
}
