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
    /// Address to listen on [default: 127.0.0.1:8443, the self-hosted engine's port].
    #[arg(long, env = "FAUNA_EMULATOR_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The root key, admin on the root database; scope it as `<key>:server` or
    /// `<key>:<db>:server` [default: secret].
    #[arg(
        long,
        env = "FAUNA_EMULATOR_ROOT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    root_key: Option<String>,
    /// Create a child database at start (repeatable).
    #[arg(long = "database", value_name = "NAME")]
    databases: Vec<String>,
    /// Create a collection at start: `Name` (root database) or `db/Name` (repeatable).
    #[arg(long = "collection", value_name = "[DB/]NAME")]
    collections: Vec<String>,
    /// What user tokens may do: `Coll:read,create,write,delete;Other:read`. A token may always
    /// read and delete itself.
    #[arg(long, env = "FAUNA_EMULATOR_TOKEN_ROLE")]
    token_role: Option<TokenRole>,
    /// Browser origin allowed to call the emulator, e.g. `http://localhost:5173` (repeatable;
    /// env: comma-separated) [default: loopback origins: localhost, *.localhost, 127.x, [::1]].
    /// Requests with another `Origin` are answered 403.
    #[arg(
        long = "allow-origin",
        env = "FAUNA_EMULATOR_ALLOW_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    allow_origins: Vec<String>,
    /// Listen on a non-loopback address (refused without this: the root key is admin) and
    /// answer any `Host` name. Use only on a private network, with a --root-key of your own.
    #[arg(long, env = "FAUNA_EMULATOR_INSECURE_LISTEN", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    insecure_listen: bool,
    /// A JSON file with any of `listen`, `root_key`, `databases`, `collections`, `token_role`
    /// (a string as for --token-role, or `{"Coll": ["read", "create"]}`), `allow_origins`,
    /// `insecure_listen`; flags override it.
    #[arg(long, env = "FAUNA_EMULATOR_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

/// Reads a JSON config file into `config`.
fn load_file(path: &std::path::Path, config: &mut Config) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let obj = json
        .as_object()
        .ok_or("the config file must hold a JSON object")?;
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match obj.get(key) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_owned)).collect())
                .ok_or(format!("`{key}` must be an array of strings")),
        }
    };
    for key in obj.keys() {
        if ![
            "listen",
            "root_key",
            "databases",
            "collections",
            "token_role",
            "allow_origins",
            "insecure_listen",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unknown config key `{key}`"));
        }
    }
    if let Some(l) = obj.get("listen") {
        config.listen = l
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or("`listen` must be an address such as 127.0.0.1:8443")?;
    }
    if let Some(k) = obj.get("root_key") {
        config.root_key = k.as_str().ok_or("`root_key` must be a string")?.to_owned();
    }
    config.databases = strings("databases")?;
    config.allowed_origins = strings("allow_origins")?;
    if let Some(v) = obj.get("insecure_listen") {
        config.insecure_listen = v
            .as_bool()
            .ok_or("`insecure_listen` must be true or false")?;
    }
    config.collections = strings("collections")?;
    config.token_role = match obj.get("token_role") {
        None => TokenRole::default(),
        Some(serde_json::Value::String(s)) => s.parse().map_err(|e| format!("{e}"))?,
        Some(serde_json::Value::Object(m)) => {
            let mut spec = Vec::new();
            for (coll, actions) in m {
                let actions: Option<Vec<&str>> = actions
                    .as_array()
                    .and_then(|a| a.iter().map(serde_json::Value::as_str).collect());
                let actions = actions.ok_or("`token_role` values must be arrays of actions")?;
                spec.push(format!("{coll}:{}", actions.join(",")));
            }
            spec.join(";").parse().map_err(|e| format!("{e}"))?
        }
        Some(_) => return Err("`token_role` must be a string or an object".into()),
    };
    Ok(())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let mut config = Config::default();
    if let Some(path) = &cli.config
        && let Err(e) = load_file(path, &mut config)
    {
        eprintln!("fauna-emulator: {e}");
        std::process::exit(2);
    }
    if let Some(listen) = cli.listen {
        config.listen = listen;
    }
    if let Some(key) = cli.root_key {
        config.root_key = key;
    }
    config.databases.extend(cli.databases);
    config.collections.extend(cli.collections);
    if let Some(role) = cli.token_role {
        config.token_role = role;
    }
    if !cli.allow_origins.is_empty() {
        config.allowed_origins = cli.allow_origins;
    }
    config.insecure_listen |= cli.insecure_listen;
    if config.insecure_listen && config.root_key == Config::default().root_key {
        eprintln!(
            "fauna-emulator: WARNING: --insecure-listen with the default root key `secret`: \
             anyone who reaches the port is admin; set --root-key"
        );
    }
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
