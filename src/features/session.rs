//! Sessions of click streams: a user's session ends when the gap to their next event is
//! strictly greater than the inactivity timeout (or the session would outlast
//! `max_duration`).
//!
//! One implementation serves batch and online: [`SessionState`] takes one event at a time
//! and the batch kernel [`session_features`] is nothing but a `SessionState` fed each user's
//! events in time order, so training features and serving features cannot drift apart.

use std::hash::Hash;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use chrono_tz::Tz;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::layout::{blocks, for_blocks, prefix_sums, split_blocks, TimeOrder};
use super::time::{local_time, SECOND};
use crate::error::{EcomkitError, Result};
use crate::frame::Column;
use crate::groups::Groups;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    let offsets = &layout.offsets;
    let blocks = blocks(offsets);
    let mut arranged = vec![0i64; users.len()];
    let counts: Vec<i64> = split_blocks(&mut arranged, &blocks, offsets)
        .into_par_iter()
        .map(|(groups, ids)| {
            let base = offsets[groups.start];
            let mut next = -1i64;
            for g in groups {
                let (mut start, mut previous) = (i64::MIN, i64::MIN);
                for k in offsets[g]..offsets[g + 1] {
                    let t = layout.times[k];
                    if k == offsets[g] || config.starts_new(start, previous, t) {
                        next += 1;
                        start = t;
                    }
                    previous = t;
                    ids[k - base] = next;
                }
            }
            next + 1
        })
        .collect();
    let firsts = prefix_sums(&counts);
    for_blocks(&mut arranged, &blocks, offsets, |b, ids| {
        ids.iter_mut().for_each(|id| *id += firsts[b])
    });
    Ok(layout.unarrange(&arranged))
}

/// The batch session kernel's output.
#[derive(Debug, Clone)]
pub struct SessionBatch {
    /// Session id of each row (as [`sessionize`]).
    pub session_ids: Vec<i64>,
    /// Per row: [`EventFeatures::item_views`].
    pub item_views: Vec<u32>,
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
    let n = users.len();
    EcomkitError::check_length("time", "user", n, times.len())?;
    EcomkitError::check_length("event", "user", n, kinds.len())?;
    EcomkitError::check_length("item", "user", n, items.len())?;
    check_durations(config.timeout, config.max_duration)?;
    let layout = TimeOrder::new(users, times);
    let offsets = &layout.offsets;
    let (kinds, items) = (layout.arrange(kinds), layout.arrange(items));
    let blocks = blocks(offsets);
    let mut ids = vec![0i64; n];
    let mut views = vec![0u32; n];
    let mut since = vec![f64::NAN; n];
    let id_slices = split_blocks(&mut ids, &blocks, offsets);
    let view_slices = split_blocks(&mut views, &blocks, offsets);
    let since_slices = split_blocks(&mut since, &blocks, offsets);
    let per_block: Vec<Result<(Vec<SessionSummary>, Vec<u32>)>> = id_slices
        .into_par_iter()
        .zip(view_slices)
        .zip(since_slices)
        .map(|(((groups, ids), (_, views)), (_, since))| {
            let base = offsets[groups.start];
            // Sessions hold a few events each: reserve rather than grow and copy.
            let guess = (offsets[groups.end] - base) / 4 + 16;
            let mut sessions = Vec::with_capacity(guess);
            let mut first_rows = Vec::with_capacity(guess);
            for g in groups {
                let mut state = SessionState::new(*config);
                for k in offsets[g]..offsets[g + 1] {
                    let time = layout.times[k];
                    // A session is stored once, when the next one opens or the user ends.
                    let opens = state
                        .current()
                        .is_none_or(|s| config.starts_new(s.start, s.end, time));
                    if opens {
                        sessions.extend(state.current().copied());
                        first_rows.push(layout.rows[k]);
                    }
                    let event = state.update(time, kinds[k], items[k])?;
                    let local = k - base;
                    ids[local] = first_rows.len() as i64 - 1;
                    views[local] = event.item_views;
                    since[local] = event.seconds_since_item_view;
                }
                sessions.extend(state.current().copied());
            }
            Ok((sessions, first_rows))
        })
        .collect();
    let per_block = per_block.into_iter().collect::<Result<Vec<_>>>()?;
    let counts: Vec<i64> = per_block.iter().map(|(s, _)| s.len() as i64).collect();
    let firsts = prefix_sums(&counts);
    for_blocks(&mut ids, &blocks, offsets, |b, ids| {
        ids.iter_mut().for_each(|id| *id += firsts[b])
    });
    let mut sessions = Vec::with_capacity(counts.iter().sum::<i64>() as usize);
    let mut first_rows = Vec::with_capacity(sessions.capacity());
    for (s, r) in per_block {
        sessions.extend(s);
        first_rows.extend(r);
    }
    Ok(SessionBatch {
        session_ids: layout.unarrange(&ids),
        item_views: layout.unarrange(&views),
        seconds_since_item_view: layout.unarrange(&since),
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
    let items: Vec<Option<u32>> = match &columns.item {
        None => vec![None; frame.num_rows()],
        Some(name) => {
            let column = frame.column(name, "item")?;
            let codes = column.groups("item")?;
            let mut items: Vec<Option<u32>> = codes.ids().iter().map(|&c| Some(c)).collect();
            for row in column.missing_rows() {
                items[row] = None;
            }
            items
        }
    };
    let batch = session_features(&users, &times, &kinds, &items, config)?;
    let s = &batch.sessions;
    let count = |f: fn(&SessionSummary) -> u32| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            s.iter().map(|x| i64::from(f(x))),
        ))
    };
    let stamp = |f: fn(&SessionSummary) -> i64| -> ArrayRef {
        Arc::new(
            TimestampNanosecondArray::from_iter_values(s.iter().map(f))
                .with_timezone_opt(zone.clone()),
        )
    };
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
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..s.len() as i64)),
        user_values,
        stamp(|x| x.start),
        stamp(|x| x.end),
        Arc::new(Float64Array::from_iter_values(
            s.iter().map(|x| x.duration_seconds()),
        )),
        count(|x| x.n_events),
        count(|x| x.n_views),
        count(|x| x.n_carts),
        count(|x| x.n_purchases),
        count(|x| x.n_items),
        Arc::new(BooleanArray::from_iter(
            s.iter().map(|x| Some(x.purchased())),
        )),
        Arc::new(Int32Array::from_iter_values(
            s.iter().map(|x| x.start_hour as i32),
        )),
        Arc::new(BooleanArray::from_iter(
            s.iter().map(|x| Some(x.is_weekend())),
        )),
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
