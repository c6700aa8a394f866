//! The `boxoffice` binary: parses the command line (api/src/cli) and runs it, with jemalloc
//! as the allocator, and exits with the status the command answers.

use clap::Parser;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let cli = boxoffice_api::cli::Cli::parse();
    if !matches!(cli.command, boxoffice_api::cli::Command::Token { .. }) {
        boxoffice_api::cli::init_tracing(cli.log_format);
    }
    match boxoffice_api::cli::run(cli).await {
        Ok(0) => {}
        Ok(status) => std::process::exit(i32::from(status)),
        Err(failure) => {
            eprintln!("boxoffice: {}", failure.message);
            std::process::exit(i32::from(failure.status));
        }
    }
}
