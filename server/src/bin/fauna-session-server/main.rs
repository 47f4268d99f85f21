//! `fauna-session-server`: the session authority binary. See `--help`.

mod cli;
mod limits;

use clap::Parser as _;
use cli::{Args, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if args.log_format == "json" {
        // With the target, so a log shipper can route security events (`fauna_session::security`).
        logs.json().init();
    } else {
        // Colours only for a terminal: log files and collectors get plain text.
        logs.with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init();
    }
    let config = args.session_config();
    match serve(&args, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            std::process::ExitCode::FAILURE
        }
    }
}
