//! `ecomkit.features` kernels: rolling statistics, ASIN features, sessions.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::PyTable;

use super::errors::run;
use super::{columns_table, float_columns, to_frame, to_table};
use crate::features::time::{parse_duration, parse_time_zone};
use crate::features::{self, AsinColumns, ClickColumns, EventKind, SessionConfig, Stat};
use crate::frame::Frame;

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(rolling, module)?)?;
    module.add_function(wrap_pyfunction!(asin_daily_features, module)?)?;
    module.add_function(wrap_pyfunction!(sessionize, module)?)?;
    module.add_function(wrap_pyfunction!(session_features, module)?)?;
    module.add_function(wrap_pyfunction!(user_features, module)?)?;
    module.add_function(wrap_pyfunction!(item_features, module)?)?;
    module.add_function(wrap_pyfunction!(interaction_scores, module)?)?;
    module.add_class::<SessionState>()?;
    let stats: Vec<&str> = Stat::ALL.iter().map(|s| s.name()).collect();
    module.add("ROLLING_STATS", stats)?;
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (frame, by, time, columns, windows, stats, min_periods))]
#[allow(clippy::too_many_arguments)]
fn rolling<'py>(
    py: Python<'py>,
    frame: AnyRecordBatch,
    by: Vec<String>,
    time: String,
    columns: Vec<String>,
    windows: Vec<String>,
    stats: Vec<String>,
    min_periods: usize,
) -> PyResult<PyTable> {
    let stats = stats
        .iter()
        .map(|s| s.parse::<Stat>())
        .collect::<Result<Vec<_>, _>>()?;
    let frame = to_frame(frame)?;
    let output = run(py, || {
        features::rolling_frame(&frame, &by, &time, &columns, &windows, &stats, min_periods)
    })?;
    columns_table(float_columns(output.names, output.values))
}

#[pyfunction]
#[pyo3(signature = (frame, by, time, bsr, price, review_count, rating, windows, min_periods))]
#[allow(clippy::too_many_arguments)]
fn asin_daily_features<'py>(
    py: Python<'py>,
    frame: AnyRecordBatch,
    by: Vec<String>,
    time: String,
    bsr: String,
    price: String,
    review_count: String,
    rating: String,
    windows: Vec<String>,
    min_periods: usize,
) -> PyResult<PyTable> {
    let columns = AsinColumns {
        by,
        time,
        bsr,
        price,
        review_count,
        rating,
    };
    let frame = to_frame(frame)?;
    let output = run(py, || {
        features::asin_daily_features(&frame, &columns, &windows, min_periods)
    })?;
    columns_table(float_columns(output.names, output.values))
}

fn durations(timeout: &str, max_duration: Option<&str>) -> PyResult<(i64, Option<i64>)> {
    let timeout = parse_duration(timeout, "timeout")?;
    let max_duration = max_duration
        .map(|m| parse_duration(m, "max_duration"))
        .transpose()?;
    Ok((timeout, max_duration))
}

#[pyfunction]
#[pyo3(signature = (frame, user, time, timeout, max_duration))]
fn sessionize<'py>(
    py: Python<'py>,
    frame: AnyRecordBatch,
    user: String,
    time: String,
    timeout: &str,
    max_duration: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let (timeout, max_duration) = durations(timeout, max_duration)?;
    let frame = to_frame(frame)?;
    let ids = run(py, || {
        let users = frame.groups(std::slice::from_ref(&user), "user")?;
        let times = features::time::epoch_nanos(&frame.column(&time, "time")?, "time")?;
        features::sessionize(&users, &times, timeout, max_duration)
    })?;
    Ok(ids.into_pyarray(py).into_any())
}

#[pyfunction]
#[pyo3(signature = (frame, user, time, event, item, timeout, max_duration, time_zone, event_names, transitions))]
#[allow(clippy::too_many_arguments)]
fn session_features<'py>(
    py: Python<'py>,
    frame: AnyRecordBatch,
    user: String,
    time: String,
    event: String,
    item: Option<String>,
    timeout: &str,
    max_duration: Option<&str>,
    time_zone: &str,
    event_names: [String; 3],
    transitions: bool,
) -> PyResult<(PyTable, PyTable)> {
    let (timeout, max_duration) = durations(timeout, max_duration)?;
    let time_zone = parse_time_zone(time_zone, "time_zone")?;
    let config = SessionConfig {
        timeout,
        max_duration,
        time_zone,
    };
    let columns = ClickColumns {
        user,
        time,
        event,
        item,
        event_names,
    };
    let frame = to_frame(frame)?;
    let batch = run(py, || {
        features::session_features_frame(&frame, &columns, &config, transitions)
    })?;
    // The events' new columns, then the table of sessions.
    let events = columns_table(vec![
        (
            "session_id".into(),
            Arc::new(Int64Array::from(batch.session_ids)) as ArrayRef,
        ),
        (
            "item_views_in_session".into(),
            Arc::new(Int64Array::from(batch.item_views)) as ArrayRef,
        ),
        (
            "seconds_since_item_view".into(),
            Arc::new(Float64Array::from(batch.seconds_since_item_view)) as ArrayRef,
        ),
    ])?;
    Ok((events, to_table(batch.sessions)?))
}

/// Column names of the as-of kernels: (entity, time, event, value, category, event names).
type AsOfSpec = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    [String; 3],
);

/// The events and as-of frames, and their columns.
fn as_of_inputs(
    events: AnyRecordBatch,
    as_of: AnyRecordBatch,
    spec: AsOfSpec,
) -> PyResult<(Frame, Frame, features::AsOfColumns)> {
    let (entity, time, event, value, category, event_names) = spec;
    let columns = features::AsOfColumns {
        entity,
        time,
        event,
        value,
        category,
        event_names,
    };
    Ok((to_frame(events)?, to_frame(as_of)?, columns))
}

#[pyfunction]
fn user_features(
    py: Python<'_>,
    events: AnyRecordBatch,
    as_of: AnyRecordBatch,
    spec: AsOfSpec,
) -> PyResult<PyTable> {
    let (events, as_of, columns) = as_of_inputs(events, as_of, spec)?;
    let (values, preferred) = run(py, || {
        features::user_features_frame(&events, &as_of, &columns)
    })?;
    let mut columns = float_columns(features::USER_FEATURES, values);
    columns.extend(preferred.map(|array| ("preferred_category".to_string(), array)));
    columns_table(columns)
}

#[pyfunction]
fn item_features(
    py: Python<'_>,
    events: AnyRecordBatch,
    as_of: AnyRecordBatch,
    spec: AsOfSpec,
) -> PyResult<PyTable> {
    let (events, as_of, columns) = as_of_inputs(events, as_of, spec)?;
    let values = run(py, || {
        features::item_features_frame(&events, &as_of, &columns)
    })?;
    columns_table(float_columns(features::ITEM_FEATURES, values))
}

#[pyfunction]
#[pyo3(signature = (frame, user, item, time, event, weights, half_life, as_of))]
#[allow(clippy::too_many_arguments)]
fn interaction_scores(
    py: Python<'_>,
    frame: AnyRecordBatch,
    user: String,
    item: String,
    time: String,
    event: String,
    weights: Vec<(String, f64)>,
    half_life: &str,
    as_of: Option<i64>,
) -> PyResult<PyTable> {
    let half_life = parse_duration(half_life, "half_life")?;
    let options = features::InteractionOptions {
        user,
        item,
        time,
        event,
        weights,
        half_life,
        as_of,
    };
    let frame = to_frame(frame)?;
    let batch = run(py, || features::interaction_scores(&frame, &options))?;
    to_table(batch)
}

/// One user's event stream, online: the same code as the batch session kernels.
#[pyclass(module = "ecomkit._ecomkit")]
pub(crate) struct SessionState {
    inner: features::SessionState<String>,
    event_names: [String; 3],
}

#[pymethods]
impl SessionState {
    #[new]
    #[pyo3(signature = (timeout, max_duration, time_zone, event_names))]
    fn new(
        timeout: &str,
        max_duration: Option<&str>,
        time_zone: &str,
        event_names: [String; 3],
    ) -> PyResult<Self> {
        let (timeout, max_duration) = durations(timeout, max_duration)?;
        let time_zone = parse_time_zone(time_zone, "time_zone")?;
        features::session::check_event_names(&event_names)?;
        Ok(Self {
            inner: features::SessionState::new(SessionConfig {
                timeout,
                max_duration,
                time_zone,
            }),
            event_names,
        })
    }

    /// Add one event (time in ns since the epoch, UTC); returns
    /// (session index, item views in session, seconds since the item's previous view).
    #[pyo3(signature = (time, event, item))]
    fn update(
        &mut self,
        time: i64,
        event: Option<&str>,
        item: Option<String>,
    ) -> PyResult<(u64, u32, f64)> {
        let kind = match event {
            Some(e) if e == self.event_names[0] => EventKind::View,
            Some(e) if e == self.event_names[1] => EventKind::Cart,
            Some(e) if e == self.event_names[2] => EventKind::Purchase,
            _ => EventKind::Other,
        };
        let features = self.inner.update(time, kind, item)?;
        Ok((
            features.session,
            features.item_views,
            features.seconds_since_item_view,
        ))
    }

    /// The open session's features as a dict, or None before the first event.
    fn current<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(s) = self.inner.current() else {
            return Ok(None);
        };
        let out = PyDict::new(py);
        out.set_item("session", self.inner.n_sessions() - 1)?;
        out.set_item("start", s.start)?;
        out.set_item("end", s.end)?;
        out.set_item("duration_seconds", s.duration_seconds())?;
        out.set_item("n_events", s.n_events)?;
        out.set_item(format!("n_{}", self.event_names[0]), s.n_views)?;
        out.set_item(format!("n_{}", self.event_names[1]), s.n_carts)?;
        out.set_item(format!("n_{}", self.event_names[2]), s.n_purchases)?;
        out.set_item("n_items", s.n_items)?;
        out.set_item("purchased", s.purchased())?;
        out.set_item("start_hour", s.start_hour)?;
        out.set_item("is_weekend", s.is_weekend())?;
        for from in EventKind::NAMED {
            for to in EventKind::NAMED {
                out.set_item(
                    format!(
                        "p_{}_to_{}",
                        self.event_names[from.index()],
                        self.event_names[to.index()]
                    ),
                    s.transition_probability(from, to),
                )?;
            }
        }
        Ok(Some(out))
    }
}
