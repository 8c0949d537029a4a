//! The `pipeline` command-line tool (being built: see the facade issue). Until it lands this
//! binary says so and exits with the usage-error code; the components work on their own.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "pipeline: the command-line tool is not built yet; use the component crates directly"
    );
    ExitCode::from(2)
}
