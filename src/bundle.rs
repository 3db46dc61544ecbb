//! What the std-less npm build needs in place of std: an allocator and a panic handler.
//!
//! A panic cannot happen on purpose (exported paths return `Result`), but when one does the
//! handler stops the call with a trap, which the JS caller sees as an exception. It does not
//! format the panic message: formatting machinery would cost every page several kilobytes.

use lol_alloc::{FreeListAllocator, LockedAllocator};

/// A small first-fit allocator that coalesces freed neighbours (std's dlmalloc is ~7 KB of
/// wasm; this is a fraction of that). The lock is uncontended: wasm32 here is single-threaded.
#[global_allocator]
static ALLOCATOR: LockedAllocator<FreeListAllocator> =
    LockedAllocator::new(FreeListAllocator::new());

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
