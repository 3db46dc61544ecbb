//! Bounds on what the module accepts, so that a hostile or broken message costs little.

/// Deepest nesting of parameters accepted (`params` itself is depth 1).
pub const MAX_DEPTH: usize = 8;
/// Most values (objects, arrays and scalars together) in one message.
pub const MAX_VALUES: usize = 2_000;
/// Longest string accepted in a message, in UTF-16 code units as JavaScript counts.
pub const MAX_STRING: usize = 8_192;
/// Longest event name accepted before any other check (GA4 allows 40).
pub const MAX_NAME: usize = 256;
/// Largest message or parameter object accepted, as JSON text in bytes.
pub const MAX_JSON: usize = 65_536;
