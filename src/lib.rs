//! altegio-analytics: the Altegio booking widget's events, checked and forwarded to the
//! site's own GA4 property and Meta Pixel.
//!
//! The core (every module but `web`) is plain Rust with no browser dependency and is tested
//! natively; `web` is the only place that touches JavaScript. (One exception, by design: in
//! the wasm build `text::push_number` has JavaScript write numbers, through `web`; natively
//! Rust writes the same text, and a wasm test compares the two.)
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod bundle;

/// The `alloc` types that std's prelude would bring, for the std-less build.
mod prelude {
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
}

pub mod catalog;
pub mod check;
pub mod config;
pub mod connect;
pub mod consent;
pub mod event;
pub mod flatten;
pub mod ga4;
pub mod hash;
pub mod identity;
pub mod json;
pub mod limits;
pub mod meta;
pub mod options;
pub mod origin;
pub mod outbox;
pub mod pii;
pub mod pipeline;
pub mod report;
pub mod stats;
pub mod tape;
pub mod text;
pub mod value;
pub mod web;
