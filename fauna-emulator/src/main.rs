//! `fauna-emulator`: runs the development-only Fauna Core HTTP API emulator.

use std::net::SocketAddr;

use clap::Parser;
use fauna_emulator::{Config, Emulator, TokenRole};

/// A DEVELOPMENT TOOL, NOT FAUNA: an in-memory emulator of the Fauna Core HTTP API subset
/// (POST /query/1, FQL v10 keys, tokens, credentials, collections and documents) that
/// fauna-session's tests and demo use where the real engine cannot run. State is lost on
/// exit; queries outside the subset answer 400 invalid_query "Not emulated: …".
#[derive(Parser, Debug)]
#[command(name = "fauna-emulator", version, verbatim_doc_comment)]
struct Cli {
    /// Address to listen on (the self-hosted engine's port is 8443).
    #[arg(long, env = "FAUNA_EMULATOR_LISTEN", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// The root key (admin on the root database; scope it as `<key>:server`, `<key>:<db>:server`).
    #[arg(
        long,
        env = "FAUNA_EMULATOR_ROOT_KEY",
        default_value = "secret",
        hide_env_values = true
    )]
    root_key: String,
    /// Create a child database at start (repeatable).
    #[arg(long = "database", value_name = "NAME")]
    databases: Vec<String>,
    /// Create a collection at start: `Name` (root database) or `db/Name` (repeatable).
    #[arg(long = "collection", value_name = "[DB/]NAME")]
    collections: Vec<String>,
    /// What user tokens may do: `Coll:read,create,write,delete;Other:read`. A token may always
    /// read and delete itself.
    #[arg(long, env = "FAUNA_EMULATOR_TOKEN_ROLE", default_value = "")]
    token_role: TokenRole,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = Config {
        listen: cli.listen,
        root_key: cli.root_key,
        databases: cli.databases,
        collections: cli.collections,
        token_role: cli.token_role,
        ..Config::default()
    };
    let emulator = match Emulator::bind(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fauna-emulator: {e}");
            std::process::exit(2);
        }
    };
    eprintln!(
        "fauna-emulator (development tool, not Fauna) listening on http://{}",
        emulator.local_addr()
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = emulator.serve_with_shutdown(shutdown).await {
        eprintln!("fauna-emulator: {e}");
        std::process::exit(1);
    }
}
