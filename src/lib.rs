//! altegio-analytics: the Altegio booking widget's events, checked and forwarded to the
//! site's own GA4 property and Meta Pixel.
//!
//! The core (every module but `web`) is plain Rust with no browser dependency and is tested
//! natively; `web` is the only place that touches JavaScript.
#![deny(missing_docs)]

pub mod catalog;
pub mod check;
pub mod config;
pub mod event;
pub mod flatten;
pub mod ga4;
pub mod identity;
pub mod limits;
pub mod meta;
pub mod origin;
pub mod pii;
pub mod pipeline;
pub mod stats;
pub mod text;
pub mod value;
pub mod web;
