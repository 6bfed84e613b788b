//! The `dupsift` binary: a thin shell over the library (see `cli.rs`).

mod cli;
#[cfg(feature = "spark")]
mod worker;

// Reading allocates a few small buffers per document on one thread and frees them on
// another; glibc's allocator spent about a tenth of a scan's CPU time on that. It is built
// without transparent huge pages (Cargo.toml): with them, pages it returned and faulted in
// again were zeroed 2 MiB at a time, 12% of pass 1's CPU time.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
