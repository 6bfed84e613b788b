//! The `dupsift` binary: a thin shell over the library. `args` turns flags into library
//! options, `cmd/` has one module per subcommand, `progress` draws the bar and `exit` maps
//! outcomes to exit codes and messages.
//!
//! Nothing here processes text or decides findings; the allocator is chosen here because it is
//! the binary's, not the library's, choice.

mod args;
mod cmd;
mod exit;
mod progress;
#[cfg(feature = "spark")]
mod worker;

use clap::Parser;

use crate::exit::Exit;

// Reading allocates a few small buffers per document on one thread and frees them on
// another; glibc's allocator spent about a tenth of a scan's CPU time on that. It is built
// without transparent huge pages (Cargo.toml): with them, pages it returned and faulted in
// again were zeroed 2 MiB at a time, 12% of pass 1's CPU time.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to standard output and succeed; usage errors do not.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    match cmd::run(cli) {
        Ok(code) => code.into(),
        Err(e) => exit::report(&e).into(),
    }
}
