//! Feature kernels: rolling time-window statistics per entity, the ASIN product features,
//! click-stream sessions (batch and online through one implementation), point-in-time
//! user and item features, and time-decayed interaction scores.
//!
//! Times are `i64` nanoseconds since the Unix epoch (UTC); local times are read in an
//! explicit IANA zone ([`time`]).

pub mod asin;
pub mod asof;
pub mod interactions;
mod layout;
pub mod rolling;
pub mod session;
pub mod time;

pub use asin::{asin_daily_features, listing_quality, AsinColumns};
pub use asof::{
    item_features, item_features_frame, price_percentiles, user_features, user_features_frame,
    AsOfColumns, Events, Queries, ITEM_FEATURES, USER_FEATURES,
};
pub use interactions::{interaction_scores, InteractionOptions};
pub use rolling::{rolling, rolling_frame, RollingColumn, RollingOutput, Stat, Window};
pub use session::{
    event_kinds, session_features, session_features_frame, sessionize, ClickColumns, EventFeatures,
    EventKind, SessionBatch, SessionConfig, SessionFrame, SessionState, SessionSummary,
    SessionTable,
};
