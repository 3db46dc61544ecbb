//! Bounds on what the module accepts, so that a hostile or broken message costs little.

/// Deepest nesting of parameters accepted (`params` itself is depth 1).
pub const MAX_DEPTH: usize = 8;
/// Most values (objects, arrays and scalars together) in one message.
pub const MAX_VALUES: usize = 2_000;
/// Longest string accepted in a message, in UTF-8 bytes (escapes decoded, a lone surrogate
/// as U+FFFD's three).
pub const MAX_STRING: usize = 8_192;
/// Longest event name accepted before any other check (GA4 allows 40).
pub const MAX_NAME: usize = 256;
/// Largest message or parameter object accepted, as JSON text in bytes.
pub const MAX_JSON: usize = 65_536;

/// The problem's message past `MAX_VALUES`.
pub const TOO_MANY_VALUES: &str = "the value holds more than 2000 values";
/// The problem's message past `MAX_DEPTH`.
pub const TOO_DEEP: &str = "nested more than 8 levels deep";
/// The problem's message for a string past `MAX_STRING`.
pub const TOO_LONG: &str = "a string longer than 8192 bytes";
