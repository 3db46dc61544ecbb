//! Browser glue (placeholder).
