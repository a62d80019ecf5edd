//! The extension's allocator: the system's, plus transparent huge pages for large blocks.
//!
//! A kernel call allocates its outputs and scratch fresh (an explosive score over 10M rows
//! touches about 1 GB). With 4 KiB pages that is ~250,000 page faults per GB, each charged
//! and zeroed separately; Linux's default THP mode (`madvise`) gives 2 MiB pages only to
//! memory that asks for them, as numpy's allocator does for its arrays. Only the Python
//! extension uses this: a Rust program keeps its own global allocator.

use std::alloc::{GlobalAlloc, Layout, System};

pub struct HugePages;

/// Blocks from this size on are advised (glibc serves them with their own `mmap`).
const LARGE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

// SAFETY: every call is forwarded to `System` unchanged; `advise` only gives the kernel a
// hint about memory that was just allocated.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        advise(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        advise(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        advise(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}

/// Ask for huge pages on the whole 2 MiB pages inside a large block; returns `ptr`.
fn advise(ptr: *mut u8, size: usize) -> *mut u8 {
    #[cfg(target_os = "linux")]
    if !ptr.is_null() && size >= LARGE {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + size) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: [start, end) lies inside the block just allocated; MADV_HUGEPAGE
            // changes no contents, and a failure (THP off) leaves things as they were.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    ptr
}
