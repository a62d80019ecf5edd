//! Sessions of click streams: a user's session ends when the gap to their next event is
//! strictly greater than the inactivity timeout (or the session would outlast
//! `max_duration`).
//!
//! One implementation serves batch and online: [`SessionState`] takes one event at a time
//! and the batch kernel [`session_features`] is nothing but a `SessionState` fed each user's
//! events in time order, so training features and serving features cannot drift apart.

use std::hash::Hash;
use std::mem::MaybeUninit;
use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_buffer::BooleanBuffer;
use arrow_schema::DataType;
use chrono_tz::Tz;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::layout::{
    blocks, gather_pieces, prefix_sums, split_lengths, Records, RowWriter, TimeOrder, GATHER_PIECE,
};
use super::time::{local_time, span, EpochTimes, SECOND};
use crate::error::{EcomkitError, Result};
use crate::frame::{extremes, item_keys, Column};
use crate::groups::{Groups, Partition};

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
        span(previous, time) > i128::from(self.timeout)
            || self
                .max_duration
                .is_some_and(|m| span(start, time) > i128::from(m))
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
        transition_probability(&self.transitions, from, to)
    }

    /// Seconds from the first to the latest event.
    pub fn duration_seconds(&self) -> f64 {
        seconds_between(self.start, self.end)
    }

    /// Whether the session holds a purchase (the label of purchase-intent models).
    pub fn purchased(&self) -> bool {
        self.n_purchases > 0
    }

    /// Whether the session started on a Saturday or Sunday, local time.
    pub fn is_weekend(&self) -> bool {
        is_weekend_day(self.start_weekday)
    }
}

/// Seconds from `start` to `end` (nanoseconds).
fn seconds_between(start: i64, end: i64) -> f64 {
    span(start, end) as f64 / SECOND as f64
}

/// Whether a weekday (Monday = 0 … Sunday = 6) is a Saturday or a Sunday.
fn is_weekend_day(weekday: u32) -> bool {
    weekday >= 5
}

/// Share of the `transitions` (`[from][to]` counts) out of `from` that go to `to`; NaN
/// when none leave `from`.
fn transition_probability(transitions: &[[u32; 4]; 4], from: EventKind, to: EventKind) -> f64 {
    let row = &transitions[from.index()];
    let total: u32 = row.iter().sum();
    if total == 0 {
        f64::NAN
    } else {
        f64::from(row[to.index()]) / f64::from(total)
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
    items: ItemViews<K>,
}

impl<K: Hash + Eq> SessionState<K> {
    /// An empty stream.
    pub fn new(config: SessionConfig) -> Self {
        Self {
            config,
            n_sessions: 0,
            current: None,
            items: ItemViews::default(),
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
                let (entry, new) = self.items.entry(item);
                session.n_items += u32::from(new);
                let since = entry
                    .1
                    .map_or(f64::NAN, |last| span(last, time) as f64 / SECOND as f64);
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

/// Views so far and time of the latest view, of each item of the open session. Sessions
/// are short: their items are found by a scan of a small list, and only a session with
/// more than [`ItemViews::FEW`] items moves them to a hash map.
#[derive(Debug, Clone)]
struct ItemViews<K> {
    few: Vec<(K, (u32, Option<i64>))>,
    many: FxHashMap<K, (u32, Option<i64>)>,
}

impl<K> Default for ItemViews<K> {
    fn default() -> Self {
        Self {
            few: Vec::new(),
            many: FxHashMap::default(),
        }
    }
}

impl<K: Hash + Eq> ItemViews<K> {
    const FEW: usize = 16;

    fn clear(&mut self) {
        self.few.clear();
        // Clearing a hash map writes its whole control array, even when it is empty.
        if !self.many.is_empty() {
            self.many.clear();
        }
    }

    /// The item's (views, latest view), and whether the item is new to the session.
    fn entry(&mut self, item: K) -> (&mut (u32, Option<i64>), bool) {
        if self.many.is_empty() {
            if let Some(i) = self.few.iter().position(|(key, _)| *key == item) {
                return (&mut self.few[i].1, false);
            }
            if self.few.len() < Self::FEW {
                self.few.push((item, (0, None)));
                let last = self.few.len() - 1;
                return (&mut self.few[last].1, true);
            }
            self.many.extend(self.few.drain(..));
        }
        let mut new = false;
        let entry = self.many.entry(item).or_insert_with(|| {
            new = true;
            (0, None)
        });
        (entry, new)
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
    let blocks = SessionBlocks::new(&layout.offsets, |k| layout.times[k], &config);
    let mut ids = vec![0i64; users.len()];
    let writer = RowWriter::new(&mut ids);
    (blocks.blocks.into_par_iter().zip(blocks.first_ids)).for_each(|(groups, first)| {
        let mut next = first - 1;
        for g in groups {
            let range = layout.offsets[g]..layout.offsets[g + 1];
            let times = layout.times[range.clone()].iter().copied();
            for (k, opens) in range.zip(opens(times, &config)) {
                next += i64::from(opens);
                // SAFETY: `rows[k]` of this block's `k` only (see `RowWriter::write`).
                unsafe { writer.write(layout.rows[k] as usize, next) };
            }
        }
    });
    Ok(ids)
}

/// Whether each of one user's events (times in time order) opens a session: the cuts
/// [`SessionState::update`] makes.
fn opens<'a>(
    times: impl Iterator<Item = i64> + 'a,
    config: &'a SessionConfig,
) -> impl Iterator<Item = bool> + 'a {
    let (mut start, mut previous) = (i64::MIN, i64::MIN);
    times.enumerate().map(move |(i, time)| {
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
    /// Blocks of the groups starting at `offsets` (the last one is the number of rows);
    /// `time(k)` is the time of the `k`-th row of the layout.
    fn new(offsets: &[usize], time: impl Fn(usize) -> i64 + Sync, config: &SessionConfig) -> Self {
        let blocks = blocks(offsets);
        let counts: Vec<usize> = blocks
            .par_iter()
            .map(|groups| {
                let users = groups
                    .clone()
                    .map(|g| (offsets[g]..offsets[g + 1]).map(&time));
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
    /// The sessions, by id.
    pub sessions: SessionTable,
}

/// The [`SessionSummary`] of every session, by id, column by column: the per-session
/// table's columns, which become Arrow arrays without a copy. (A `Vec<SessionSummary>` would
/// be 112 bytes a session, written once and then copied column by column.)
///
/// ```
/// use ecomkit::features::{session_features, EventKind, SessionConfig};
/// use ecomkit::groups::Groups;
/// let minute = 60 * 1_000_000_000i64;
/// let config = SessionConfig { timeout: 30 * minute, max_duration: None,
///                              time_zone: chrono_tz::UTC };
/// // User "a" views item 7 twice, then buys it after an hour; user "b" views item 8.
/// let users = Groups::from_keys(&["a", "b", "a", "a"])?;
/// let times = [0, 5 * minute, 10 * minute, 70 * minute];
/// let kinds = [EventKind::View, EventKind::View, EventKind::View, EventKind::Purchase];
/// let items = [Some(7), Some(8), Some(7), Some(7)];
/// let batch = session_features(&users, &times, &kinds, &items, &config, false)?;
/// assert_eq!(batch.session_ids, [0, 2, 0, 1]); // by user's first appearance, then start
/// assert_eq!(batch.item_views, [1, 1, 2, 0]); // a purchase is not a view
/// let table = &batch.sessions;
/// assert_eq!((table.len(), table.n_events.as_slice()), (3, &[2, 1, 1][..]));
/// assert!(table.summary(1).purchased() && !table.summary(0).purchased());
/// assert_eq!(table.first_rows, [0, 3, 1]);
/// # Ok::<(), ecomkit::EcomkitError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionTable {
    /// [`SessionSummary::start`].
    pub start: Vec<i64>,
    /// [`SessionSummary::end`].
    pub end: Vec<i64>,
    /// [`SessionSummary::n_events`].
    pub n_events: Vec<i64>,
    /// [`SessionSummary::n_views`].
    pub n_views: Vec<i64>,
    /// [`SessionSummary::n_carts`].
    pub n_carts: Vec<i64>,
    /// [`SessionSummary::n_purchases`].
    pub n_purchases: Vec<i64>,
    /// [`SessionSummary::n_items`].
    pub n_items: Vec<i64>,
    /// [`SessionSummary::start_hour`].
    pub start_hour: Vec<i32>,
    /// [`SessionSummary::start_weekday`].
    pub start_weekday: Vec<u8>,
    /// [`SessionSummary::transitions`], when asked for; empty otherwise.
    pub transitions: Vec<[[u32; 4]; 4]>,
    /// The first row (in time order) of each session.
    pub first_rows: Vec<u32>,
}

impl SessionTable {
    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// Whether there is no session (no event).
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// Session `id` as the online [`SessionState`] summarises it, but for
    /// [`SessionSummary::last_kind`], which the batch does not keep (`None`), and the
    /// transitions, which are zero unless they were asked for.
    ///
    /// # Panics
    /// If there is no session `id`.
    pub fn summary(&self, id: usize) -> SessionSummary {
        SessionSummary {
            start: self.start[id],
            end: self.end[id],
            n_events: self.n_events[id] as u32,
            n_views: self.n_views[id] as u32,
            n_carts: self.n_carts[id] as u32,
            n_purchases: self.n_purchases[id] as u32,
            n_items: self.n_items[id] as u32,
            start_hour: self.start_hour[id] as u32,
            start_weekday: u32::from(self.start_weekday[id]),
            transitions: self.transitions.get(id).copied().unwrap_or_default(),
            last_kind: None,
        }
    }

    /// Seconds from each session's first to its latest event.
    pub fn duration_seconds(&self) -> Vec<f64> {
        (self.start.par_iter().zip(&self.end))
            .with_min_len(1 << 16)
            .map(|(&start, &end)| seconds_between(start, end))
            .collect()
    }

    /// Room for `n` sessions, every column allocated and not yet written.
    fn with_capacity(n: usize, transitions: bool) -> Self {
        Self {
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            n_events: Vec::with_capacity(n),
            n_views: Vec::with_capacity(n),
            n_carts: Vec::with_capacity(n),
            n_purchases: Vec::with_capacity(n),
            n_items: Vec::with_capacity(n),
            start_hour: Vec::with_capacity(n),
            start_weekday: Vec::with_capacity(n),
            transitions: Vec::with_capacity(if transitions { n } else { 0 }),
            first_rows: Vec::with_capacity(n),
        }
    }

    /// The unwritten room of every column cut into one [`SessionSlots`] per block, of
    /// `counts` sessions each.
    fn slots(&mut self, counts: &[usize], transitions: bool) -> Vec<SessionSlots<'_>> {
        let total = counts.iter().sum();
        fn cut<'a, T>(
            column: &'a mut Vec<T>,
            counts: &[usize],
            total: usize,
        ) -> Vec<&'a mut [MaybeUninit<T>]> {
            split_lengths(
                &mut column.spare_capacity_mut()[..total],
                counts.iter().copied(),
            )
        }
        let transitions: Vec<Option<_>> = if transitions {
            cut(&mut self.transitions, counts, total)
                .into_iter()
                .map(Some)
                .collect()
        } else {
            counts.iter().map(|_| None).collect()
        };
        let mut start = cut(&mut self.start, counts, total).into_iter();
        let mut end = cut(&mut self.end, counts, total).into_iter();
        let mut n_events = cut(&mut self.n_events, counts, total).into_iter();
        let mut n_views = cut(&mut self.n_views, counts, total).into_iter();
        let mut n_carts = cut(&mut self.n_carts, counts, total).into_iter();
        let mut n_purchases = cut(&mut self.n_purchases, counts, total).into_iter();
        let mut n_items = cut(&mut self.n_items, counts, total).into_iter();
        let mut start_hour = cut(&mut self.start_hour, counts, total).into_iter();
        let mut start_weekday = cut(&mut self.start_weekday, counts, total).into_iter();
        let mut first_rows = cut(&mut self.first_rows, counts, total).into_iter();
        let mut transitions = transitions.into_iter();
        let mut next = move || -> Option<SessionSlots<'_>> {
            Some(SessionSlots {
                start: start.next()?,
                end: end.next()?,
                n_events: n_events.next()?,
                n_views: n_views.next()?,
                n_carts: n_carts.next()?,
                n_purchases: n_purchases.next()?,
                n_items: n_items.next()?,
                start_hour: start_hour.next()?,
                start_weekday: start_weekday.next()?,
                first_rows: first_rows.next()?,
                transitions: transitions.next()?,
            })
        };
        let slots: Vec<SessionSlots<'_>> = std::iter::from_fn(&mut next).collect();
        assert_eq!(
            slots.len(),
            counts.len(),
            "one stretch of every column per block"
        );
        slots
    }

    /// Marks the first `n` sessions of every column written.
    ///
    /// # Safety
    /// Every one of them must have been written through [`SessionTable::slots`].
    unsafe fn assume_written(&mut self, n: usize, transitions: bool) {
        // SAFETY: the caller's contract; the capacities are at least `n` (`with_capacity`).
        unsafe {
            self.start.set_len(n);
            self.end.set_len(n);
            self.n_events.set_len(n);
            self.n_views.set_len(n);
            self.n_carts.set_len(n);
            self.n_purchases.set_len(n);
            self.n_items.set_len(n);
            self.start_hour.set_len(n);
            self.start_weekday.set_len(n);
            self.first_rows.set_len(n);
            if transitions {
                self.transitions.set_len(n);
            }
        }
    }
}

/// One block's stretch of every [`SessionTable`] column, not yet written.
struct SessionSlots<'a> {
    start: &'a mut [MaybeUninit<i64>],
    end: &'a mut [MaybeUninit<i64>],
    n_events: &'a mut [MaybeUninit<i64>],
    n_views: &'a mut [MaybeUninit<i64>],
    n_carts: &'a mut [MaybeUninit<i64>],
    n_purchases: &'a mut [MaybeUninit<i64>],
    n_items: &'a mut [MaybeUninit<i64>],
    start_hour: &'a mut [MaybeUninit<i32>],
    start_weekday: &'a mut [MaybeUninit<u8>],
    first_rows: &'a mut [MaybeUninit<u32>],
    transitions: Option<&'a mut [MaybeUninit<[[u32; 4]; 4]>]>,
}

impl SessionSlots<'_> {
    fn len(&self) -> usize {
        self.start.len()
    }

    /// Stores session `i` of the block.
    fn write(&mut self, i: usize, s: &SessionSummary) {
        self.start[i].write(s.start);
        self.end[i].write(s.end);
        self.n_events[i].write(i64::from(s.n_events));
        self.n_views[i].write(i64::from(s.n_views));
        self.n_carts[i].write(i64::from(s.n_carts));
        self.n_purchases[i].write(i64::from(s.n_purchases));
        self.n_items[i].write(i64::from(s.n_items));
        self.start_hour[i].write(s.start_hour as i32);
        self.start_weekday[i].write(s.start_weekday as u8);
        if let Some(transitions) = self.transitions.as_mut() {
            transitions[i].write(s.transitions);
        }
    }
}

/// The fixed columns of the session table (besides the user column and `n_<event>`).
const SESSION_COLUMNS: [&str; 11] = [
    "session_id",
    "start",
    "end",
    "duration_seconds",
    "n_events",
    "n_items",
    "purchased",
    "start_hour",
    "is_weekend",
    "item_views_in_session",
    "seconds_since_item_view",
];

/// The view, add-to-cart and purchase event names: three different names whose `n_<event>`
/// columns do not collide with the session table's own (`view="events"` would give two
/// `n_events`). Batch and online sessions check them alike.
///
/// ```
/// use ecomkit::features::session::check_event_names;
/// let names = |v: &str| [v.to_string(), "addtocart".into(), "transaction".into()];
/// assert!(check_event_names(&names("view")).is_ok());
/// assert!(check_event_names(&names("events")).is_err());
/// ```
pub fn check_event_names(names: &[String; 3]) -> Result<()> {
    for (i, name) in names.iter().enumerate() {
        let column = format!("n_{name}");
        if SESSION_COLUMNS.contains(&column.as_str()) || names[..i].contains(name) {
            return Err(EcomkitError::invalid_value(
                ["view", "cart", "purchase"][i],
                format!(
                    "the event name '{name}' would make the output column '{column}' twice; \
                     expected three different names other than 'events' and 'items'"
                ),
            ));
        }
    }
    Ok(())
}

/// Every user's events fed to a [`SessionState`] in time order (equal times: input order);
/// `items` holds an item code per row (`None` = null item). The sessions' transition counts
/// are kept only with `transitions`.
pub fn session_features(
    users: &Groups,
    times: &[i64],
    kinds: &[EventKind],
    items: &[Option<u32>],
    config: &SessionConfig,
    transitions: bool,
) -> Result<SessionBatch> {
    EcomkitError::check_length("time", "user", users.len(), times.len())?;
    EcomkitError::check_length("event", "user", users.len(), kinds.len())?;
    EcomkitError::check_length("item", "user", users.len(), items.len())?;
    let events: Vec<RowEvent> = (kinds.iter().zip(items))
        .map(|(&kind, item)| RowEvent::new(kind, item.is_some()))
        .collect();
    let keys: Vec<i64> = items
        .iter()
        .map(|item| i64::from(item.unwrap_or(0)))
        .collect();
    sessions_of(
        users.partition(),
        |row| times[row],
        &events,
        Some(&keys),
        config,
        transitions,
    )
}

/// What the session loop reads of a row besides its time and item: the event's kind, and
/// whether it has an item (the top bit), in one byte.
#[derive(Debug, Clone, Copy, Default)]
struct RowEvent(u8);

impl RowEvent {
    const HAS_ITEM: u8 = 0x80;

    fn new(kind: EventKind, has_item: bool) -> Self {
        Self(kind.index() as u8 | if has_item { Self::HAS_ITEM } else { 0 })
    }

    fn kind(self) -> EventKind {
        match self.0 & !Self::HAS_ITEM {
            0 => EventKind::View,
            1 => EventKind::Cart,
            2 => EventKind::Purchase,
            _ => EventKind::Other,
        }
    }

    fn has_item(self) -> bool {
        self.0 & Self::HAS_ITEM != 0
    }
}

/// One event in the session layout. The loop reads its time, item, row and kind, then
/// stores its results for the event in their place, where the gather back into row order
/// reads them: one record per row is all that moves, in each direction.
trait LaidOutEvent: Copy + Send + Sync {
    fn new(time: i64, item: i64, row: u32, event: RowEvent) -> Self;
    fn time(&self) -> i64;
    fn item(&self) -> Option<i64>;
    fn row(&self) -> u32;
    fn event(&self) -> RowEvent;
    /// Replaces the time and item by the event's session id and features.
    fn store(&mut self, session: u32, features: &EventFeatures);
    /// What [`LaidOutEvent::store`] stored: session id, item views, seconds since the
    /// item's previous view.
    fn stored(&self) -> (u32, u32, f64);
}

/// Any event, 24 bytes.
#[derive(Debug, Clone, Copy, Default)]
struct EventRecord {
    /// The time (ns); once the loop has passed, the bits of `seconds_since_item_view`.
    time_or_since: i64,
    /// The item key; once the loop has passed, `session id << 32 | item views`.
    item_or_ids: i64,
    row: u32,
    event: RowEvent,
}

impl LaidOutEvent for EventRecord {
    fn new(time: i64, item: i64, row: u32, event: RowEvent) -> Self {
        Self {
            time_or_since: time,
            item_or_ids: item,
            row,
            event,
        }
    }

    fn time(&self) -> i64 {
        self.time_or_since
    }

    fn item(&self) -> Option<i64> {
        self.event.has_item().then_some(self.item_or_ids)
    }

    fn row(&self) -> u32 {
        self.row
    }

    fn event(&self) -> RowEvent {
        self.event
    }

    fn store(&mut self, session: u32, features: &EventFeatures) {
        self.time_or_since = features.seconds_since_item_view.to_bits() as i64;
        self.item_or_ids = (u64::from(session) << 32 | u64::from(features.item_views)) as i64;
    }

    fn stored(&self) -> (u32, u32, f64) {
        let ids = self.item_or_ids as u64;
        (
            (ids >> 32) as u32,
            ids as u32,
            f64::from_bits(self.time_or_since as u64),
        )
    }
}

/// An event of fewer than 2^29 rows whose item keys fit in a `u32` (item ids mostly do),
/// 16 bytes: the row and the event share a word. A third less memory to fault in, fill and
/// read back than an [`EventRecord`], and no record straddles two cache lines.
#[derive(Debug, Clone, Copy, Default)]
struct CompactRecord {
    /// The time (ns); once the loop has passed, the bits of `seconds_since_item_view`.
    time_or_since: i64,
    /// The item key; once the loop has passed, the session id.
    item_or_session: u32,
    /// The row, and the event in the top [`CompactRecord::EVENT_BITS`] bits; once the loop
    /// has passed, the item views.
    row_event_or_views: u32,
}

impl CompactRecord {
    const EVENT_BITS: u32 = 3;
    const ROW_BITS: u32 = 32 - Self::EVENT_BITS;

    /// Whether `n_rows` rows with item keys in `items` fit.
    fn fits(n_rows: usize, items: Option<&[i64]>) -> bool {
        let in_range = |(low, high): (i64, i64)| low >= 0 && high <= i64::from(u32::MAX);
        n_rows < 1 << Self::ROW_BITS
            && items.is_none_or(|items| extremes(&[items]).is_none_or(in_range))
    }
}

impl LaidOutEvent for CompactRecord {
    fn new(time: i64, item: i64, row: u32, event: RowEvent) -> Self {
        debug_assert!(row < 1 << Self::ROW_BITS && u32::try_from(item).is_ok());
        let event = u32::from(event.0 & 3 | u8::from(event.has_item()) << 2);
        Self {
            time_or_since: time,
            item_or_session: item as u32,
            row_event_or_views: row | event << Self::ROW_BITS,
        }
    }

    fn time(&self) -> i64 {
        self.time_or_since
    }

    fn item(&self) -> Option<i64> {
        self.event()
            .has_item()
            .then_some(i64::from(self.item_or_session))
    }

    fn row(&self) -> u32 {
        self.row_event_or_views & ((1 << Self::ROW_BITS) - 1)
    }

    fn event(&self) -> RowEvent {
        let bits = (self.row_event_or_views >> Self::ROW_BITS) as u8;
        RowEvent(bits & 3 | if bits & 4 != 0 { RowEvent::HAS_ITEM } else { 0 })
    }

    fn store(&mut self, session: u32, features: &EventFeatures) {
        self.time_or_since = features.seconds_since_item_view.to_bits() as i64;
        self.item_or_session = session;
        self.row_event_or_views = features.item_views;
    }

    fn stored(&self) -> (u32, u32, f64) {
        (
            self.item_or_session,
            self.row_event_or_views,
            f64::from_bits(self.time_or_since as u64),
        )
    }
}

/// [`session_features`] with the item keys (`None`: no item column; a key is read only
/// where the row has an item). The events are laid out user by user in time order as
/// [`CompactRecord`]s where they fit, else [`EventRecord`]s; the loop leaves each event's
/// results in its record, and a last pass gathers them back into row order. Each session's
/// columns are written once, when it closes.
fn sessions_of(
    users: Partition,
    time: impl Fn(usize) -> i64 + Sync,
    events: &[RowEvent],
    items: Option<&[i64]>,
    config: &SessionConfig,
    transitions: bool,
) -> Result<SessionBatch> {
    check_durations(config.timeout, config.max_duration)?;
    let event = |row: usize| {
        let item = items.map_or(0, |items| items[row]);
        (time(row), item, row as u32, events[row])
    };
    if CompactRecord::fits(users.n_rows(), items) {
        sessions_in(laid_out::<CompactRecord>(users, event), config, transitions)
    } else {
        sessions_in(laid_out::<EventRecord>(users, event), config, transitions)
    }
}

/// Each row's event (time, item key, row, event) as an `R`, laid out by `users`.
fn laid_out<R: LaidOutEvent>(
    users: Partition,
    event: impl Fn(usize) -> (i64, i64, u32, RowEvent) + Sync,
) -> Records<R> {
    let make = |row| {
        let (time, item, row, event) = event(row);
        R::new(time, item, row, event)
    };
    Records::new(users, make, R::time, R::row)
}

/// The session loop over the laid-out events, then the gather back into row order.
fn sessions_in<R: LaidOutEvent>(
    mut layout: Records<R>,
    config: &SessionConfig,
    transitions: bool,
) -> Result<SessionBatch> {
    let n = layout.records.len();
    let offsets = &layout.offsets;
    let blocks = SessionBlocks::new(offsets, |k| layout.records[k].time(), config);
    let total = blocks.total();
    let mut sessions = SessionTable::with_capacity(total, transitions);
    let block_slots = sessions.slots(&blocks.counts, transitions);
    let block_lengths = blocks
        .blocks
        .iter()
        .map(|b| offsets[b.end] - offsets[b.start]);
    let block_records = split_lengths(&mut layout.records, block_lengths);
    (blocks.blocks.par_iter())
        .zip(blocks.first_ids)
        .zip(block_slots)
        .zip(block_records)
        .try_for_each(|(((groups, first_id), mut slots), records)| {
            let base = offsets[groups.start];
            let mut state = SessionState::new(*config);
            let mut opened = 0;
            for g in groups.clone() {
                state.reset();
                for record in &mut records[offsets[g] - base..offsets[g + 1] - base] {
                    let time = record.time();
                    // A session is stored once, when the next one opens or the user ends.
                    let current = state.current();
                    if current.is_none_or(|s| config.starts_new(s.start, s.end, time)) {
                        if let Some(done) = current {
                            slots.write(opened - 1, done);
                        }
                        slots.first_rows[opened].write(record.row());
                        opened += 1;
                    }
                    let features = state.update(time, record.event().kind(), record.item())?;
                    // Ids are below the number of rows, which fits in a u32.
                    record.store((first_id as usize + opened - 1) as u32, &features);
                }
                if let Some(done) = state.current() {
                    slots.write(opened - 1, done);
                }
            }
            // The block's session count came from the same cuts (`SessionBlocks`).
            assert_eq!(opened, slots.len(), "sessions counted and written differ");
            Ok::<(), EcomkitError>(())
        })?;
    // SAFETY: the loop wrote every session of every block (checked above); on an error or
    // a panic the columns drop unwritten, empty.
    unsafe { sessions.assume_written(total, transitions) };
    let (mut ids, mut views, mut since) = (
        Vec::<i64>::with_capacity(n),
        Vec::<i64>::with_capacity(n),
        Vec::<f64>::with_capacity(n),
    );
    let pieces = (ids.spare_capacity_mut()[..n].par_chunks_mut(GATHER_PIECE))
        .zip(views.spare_capacity_mut()[..n].par_chunks_mut(GATHER_PIECE))
        .zip(since.spare_capacity_mut()[..n].par_chunks_mut(GATHER_PIECE));
    gather_pieces(
        &layout.records,
        layout.positions(),
        pieces,
        |((ids, views), since), rows| {
            for (i, ((id, views), since)) in ids.iter_mut().zip(views).zip(since).enumerate() {
                let (session, item_views, seconds) = rows.record(i).stored();
                id.write(i64::from(session));
                views.write(i64::from(item_views));
                since.write(seconds);
            }
        },
    );
    // SAFETY: the pieces cover every row, and each piece wrote all its slots.
    unsafe {
        ids.set_len(n);
        views.set_len(n);
        since.set_len(n);
    }
    Ok(SessionBatch {
        session_ids: ids,
        item_views: views,
        seconds_since_item_view: since,
        sessions,
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
    const PIECE: usize = 1 << 18;
    let argument = EcomkitError::column_argument(argument, column.name());
    let kind = |value: Option<&str>| match value {
        Some(v) if v == names[0] => EventKind::View,
        Some(v) if v == names[1] => EventKind::Cart,
        Some(v) if v == names[2] => EventKind::Purchase,
        _ => EventKind::Other,
    };
    // Pieces of the chunks (slices share their buffers) go to the threads.
    let pieces: Vec<ArrayRef> = (column.chunks().iter())
        .flat_map(|chunk| {
            (0..chunk.len())
                .step_by(PIECE)
                .map(|start| chunk.slice(start, PIECE.min(chunk.len() - start)))
        })
        .collect();
    let n = column.len();
    let mut out = Vec::with_capacity(n);
    let slots = split_lengths(
        &mut out.spare_capacity_mut()[..n],
        pieces.iter().map(|piece| piece.len()),
    );
    (pieces.par_iter().zip(slots)).try_for_each(|(piece, slots)| {
        let mut slots = slots.iter_mut();
        strings(piece, &argument, &mut |value| {
            if let Some(slot) = slots.next() {
                slot.write(kind(value));
            }
        })?;
        assert!(slots.next().is_none(), "one value per row");
        Ok::<(), EcomkitError>(())
    })?;
    // SAFETY: the pieces cover the column and `strings` calls back once per value, so
    // every slot was written; on an error `out` drops empty.
    unsafe { out.set_len(n) };
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
            for row in crate::frame::DictionaryRows::new(dictionary).iter() {
                f(row.and_then(|key| values.get(key).and_then(|v| v.as_deref())))
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

/// What [`session_features_frame`] returns: the per-row outputs of [`SessionBatch`] and the
/// per-session table.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch, StringArray, TimestampSecondArray};
/// use ecomkit::features::{session_features_frame, ClickColumns, SessionConfig};
/// use ecomkit::frame::Frame;
/// let batch = RecordBatch::try_from_iter([
///     ("visitorid", Arc::new(Int64Array::from(vec![1, 1, 2])) as _),
///     ("timestamp", Arc::new(TimestampSecondArray::from(vec![0, 600, 0])) as _),
///     ("event", Arc::new(StringArray::from(vec!["view", "addtocart", "view"])) as _),
///     ("itemid", Arc::new(Int64Array::from(vec![Some(5), Some(5), None])) as _),
/// ])?;
/// let config = SessionConfig { timeout: 1_800_000_000_000, max_duration: None,
///                              time_zone: chrono_tz::UTC };
/// let out = session_features_frame(&Frame::from(batch), &ClickColumns::default(), &config,
///                                  false)?;
/// assert_eq!(out.session_ids, [0, 0, 1]);
/// assert_eq!(out.sessions.num_rows(), 2);
/// let names: Vec<_> = out.sessions.schema().fields().iter().map(|f| f.name().clone()).collect();
/// assert_eq!(&names[..4], ["session_id", "visitorid", "start", "end"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionFrame {
    /// Session id of each row (as [`sessionize`]).
    pub session_ids: Vec<i64>,
    /// Per row: [`EventFeatures::item_views`].
    pub item_views: Vec<i64>,
    /// Per row: [`EventFeatures::seconds_since_item_view`].
    pub seconds_since_item_view: Vec<f64>,
    /// One row per session id (see [`session_features_frame`]).
    pub sessions: arrow_array::RecordBatch,
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
) -> Result<SessionFrame> {
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
    let times = EpochTimes::new(&time_column, "time")?;
    check_event_names(&columns.event_names)?;
    let names = [
        columns.event_names[0].as_str(),
        columns.event_names[1].as_str(),
        columns.event_names[2].as_str(),
    ];
    let kinds = event_kinds(&frame.column(&columns.event, "event")?, names, "event")?;
    let has_items = columns.item.is_some();
    // One byte each, as the kinds: collected in their place.
    let mut events: Vec<RowEvent> = (kinds.into_iter())
        .map(|kind| RowEvent::new(kind, has_items))
        .collect();
    let item_column = (columns.item.as_ref())
        .map(|name| frame.column(name, "item"))
        .transpose()?;
    let keys = match &item_column {
        None => None,
        Some(column) => {
            let (keys, missing) = item_keys(column)?;
            for row in missing {
                events[row] = RowEvent::new(events[row].kind(), false);
            }
            Some(keys)
        }
    };
    let batch = sessions_of(
        users.into_partition(),
        |row| times.get(row),
        &events,
        keys.as_deref(),
        config,
        transitions,
    )?;
    if SESSION_COLUMNS.contains(&columns.user.as_str()) {
        return Err(EcomkitError::invalid_value(
            "user",
            format!(
                "the user column '{}' has the name of an output column of the session table; \
                 rename it",
                columns.user
            ),
        ));
    }
    let (user_field, user_values) =
        frame.take(&columns.user, &batch.sessions.first_rows, "user")?;
    let timestamp = DataType::Timestamp(TimeUnit::Nanosecond, zone.clone());
    let mut fields = vec![
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
    let SessionBatch {
        session_ids,
        item_views,
        seconds_since_item_view,
        sessions: s,
    } = batch;
    let stamps = |values: Vec<i64>| -> ArrayRef {
        Arc::new(TimestampNanosecondArray::from(values).with_timezone_opt(zone.clone()))
    };
    let ints = |values: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(values)) };
    let n_sessions = s.len();
    let duration = s.duration_seconds();
    let purchased = BooleanBuffer::collect_bool(n_sessions, |i| s.n_purchases[i] > 0);
    let is_weekend = BooleanBuffer::collect_bool(n_sessions, |i| {
        is_weekend_day(u32::from(s.start_weekday[i]))
    });
    let probabilities: Vec<ArrayRef> = if transitions {
        let mut out: Vec<ArrayRef> = Vec::with_capacity(9);
        for from in EventKind::NAMED {
            for to in EventKind::NAMED {
                fields.push(Field::new(
                    format!("p_{}_to_{}", names[from.index()], names[to.index()]),
                    DataType::Float64,
                    false,
                ));
                out.push(Arc::new(Float64Array::from_iter_values(
                    s.transitions
                        .iter()
                        .map(|counts| transition_probability(counts, from, to)),
                )));
            }
        }
        out
    } else {
        Vec::new()
    };
    // The columns move into Arrow arrays as they are: no copy.
    let mut arrays: Vec<ArrayRef> = vec![
        ints((0..n_sessions as i64).into_par_iter().collect()),
        user_values,
        stamps(s.start),
        stamps(s.end),
        Arc::new(Float64Array::from(duration)),
        ints(s.n_events),
        ints(s.n_views),
        ints(s.n_carts),
        ints(s.n_purchases),
        ints(s.n_items),
        Arc::new(BooleanArray::new(purchased, None)),
        Arc::new(Int32Array::from(s.start_hour)),
        Arc::new(BooleanArray::new(is_weekend, None)),
    ];
    arrays.extend(probabilities);
    let table = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
    Ok(SessionFrame {
        session_ids,
        item_views,
        seconds_since_item_view,
        sessions: table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both record layouts give back what they were made of, then what was stored.
    fn round_trip<R: LaidOutEvent>(item: i64, row: u32) {
        for kind in [
            EventKind::View,
            EventKind::Cart,
            EventKind::Purchase,
            EventKind::Other,
        ] {
            for has_item in [false, true] {
                let mut record = R::new(-5, item, row, RowEvent::new(kind, has_item));
                assert_eq!((record.time(), record.row()), (-5, row));
                assert_eq!(record.event().kind(), kind);
                assert_eq!(record.item(), has_item.then_some(item));
                let features = EventFeatures {
                    session: 0,
                    item_views: u32::MAX,
                    seconds_since_item_view: f64::NAN,
                };
                record.store(u32::MAX - 1, &features);
                let (session, views, since) = record.stored();
                assert_eq!((session, views), (u32::MAX - 1, u32::MAX));
                assert!(since.is_nan());
            }
        }
    }

    #[test]
    fn event_records_keep_their_fields() {
        let largest_compact_row = (1 << CompactRecord::ROW_BITS) - 1;
        round_trip::<CompactRecord>(i64::from(u32::MAX), largest_compact_row);
        round_trip::<CompactRecord>(0, 0);
        round_trip::<EventRecord>(i64::MIN, u32::MAX);
        assert_eq!(std::mem::size_of::<CompactRecord>(), 16);
        assert!(CompactRecord::fits(10, Some(&[0, i64::from(u32::MAX)])));
        assert!(!CompactRecord::fits(10, Some(&[-1, 3])));
        assert!(!CompactRecord::fits(10, Some(&[1 << 32])));
        assert!(!CompactRecord::fits(1 << CompactRecord::ROW_BITS, None));
        assert!(CompactRecord::fits(3, None));
    }
}
