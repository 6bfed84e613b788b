//! The `dupsift` binary: a thin shell over the library (see `cli.rs`).

mod cli;

// Reading allocates a few small buffers per document on one thread and frees them on
// another; glibc's allocator spent about a tenth of a scan's CPU time on that.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
