//! Emulator configuration: listen address, root key, pre-declared databases and collections,
//! the role user tokens get, and who may reach it (loopback binds, allowed browser origins).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// What a token's role allows on one collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Privileges {
    /// `byId`, `all`, `where`, field reads.
    pub read: bool,
    /// `create`.
    pub create: bool,
    /// `update` / `replace`.
    pub write: bool,
    /// `delete`.
    pub delete: bool,
}

/// The privileges of user tokens (and `@doc/…` scoped secrets): collection name → actions.
///
/// Parsed from `Coll:action,action;Coll2:action`, with actions `read`, `create`, `write`,
/// `delete`. A token may always read and delete itself, whatever this says.
///
/// ```
/// use fauna_emulator::TokenRole;
/// let role: TokenRole = "Comment:read,create,write;User:read".parse().unwrap();
/// assert!(role.get("Comment").write);
/// assert!(!role.get("User").write);
/// assert!(!role.get("Secret").read);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRole {
    privileges: BTreeMap<String, Privileges>,
}

impl TokenRole {
    /// The privileges on `collection` (none when it is not listed).
    pub fn get(&self, collection: &str) -> Privileges {
        self.privileges.get(collection).copied().unwrap_or_default()
    }

    /// Grants `privileges` on `collection`.
    pub fn allow(mut self, collection: impl Into<String>, privileges: Privileges) -> Self {
        self.privileges.insert(collection.into(), privileges);
        self
    }
}

/// An invalid `--token-role` value.
#[derive(Debug, thiserror::Error)]
#[error("invalid token role `{0}`: expected `Coll:read,create,write,delete;Coll2:read`")]
pub struct TokenRoleError(String);

impl FromStr for TokenRole {
    type Err = TokenRoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut role = TokenRole::default();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (coll, actions) = part
                .split_once(':')
                .ok_or_else(|| TokenRoleError(part.into()))?;
            let coll = coll.trim();
            if coll.is_empty() || !coll.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(TokenRoleError(part.into()));
            }
            let mut p = role.get(coll);
            for action in actions.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                match action {
                    "read" => p.read = true,
                    "create" => p.create = true,
                    "write" => p.write = true,
                    "delete" => p.delete = true,
                    _ => return Err(TokenRoleError(part.into())),
                }
            }
            role.privileges.insert(coll.to_string(), p);
        }
        Ok(role)
    }
}

impl fmt::Display for TokenRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (coll, p) in &self.privileges {
            if !first {
                f.write_str(";")?;
            }
            first = false;
            let actions: Vec<&str> = [
                (p.read, "read"),
                (p.create, "create"),
                (p.write, "write"),
                (p.delete, "delete"),
            ]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
            write!(f, "{coll}:{}", actions.join(","))?;
        }
        Ok(())
    }
}

/// Emulator settings. Defaults match the self-hosted engine: `127.0.0.1:8443`, root key `secret`.
///
/// The emulator's root key is admin and its default is public, so by default it is only reachable
/// from the machine it runs on: [`Emulator::bind`](crate::Emulator::bind) refuses a non-loopback
/// address unless `insecure_listen` is set, browsers may only call it from loopback origins (or
/// the listed `allowed_origins`), and a loopback emulator only answers requests whose `Host` is a
/// loopback name (a DNS-rebinding page cannot reach it).
#[derive(Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The root key (admin on the root database). Scopes `:role` and `:db:role` apply.
    pub root_key: String,
    /// Child databases of the root database to create at start.
    pub databases: Vec<String>,
    /// Collections to create at start: `Name` (root database) or `db/Name`.
    pub collections: Vec<String>,
    /// Privileges of user tokens.
    pub token_role: TokenRole,
    /// The value of the `x-faunadb-build` response header.
    pub build: String,
    /// Browser origins (`scheme://host[:port]`) allowed to call the emulator (CORS with
    /// credentials). Empty: loopback origins only (`http(s)://localhost`, `*.localhost`,
    /// `127.x.x.x`, `[::1]`, any port). A request carrying another `Origin` is answered 403.
    pub allowed_origins: Vec<String>,
    /// Allow listening on a non-loopback address (and skip the loopback `Host` check). Anyone who
    /// can reach the port and knows the root key is admin.
    pub insecure_listen: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("root_key", &"<redacted>")
            .field("databases", &self.databases)
            .field("collections", &self.collections)
            .field("token_role", &self.token_role.to_string())
            .field("build", &self.build)
            .field("allowed_origins", &self.allowed_origins)
            .field("insecure_listen", &self.insecure_listen)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            root_key: "secret".into(),
            databases: Vec::new(),
            collections: Vec::new(),
            token_role: TokenRole::default(),
            build: format!("fauna-emulator-{}", env!("CARGO_PKG_VERSION")),
            allowed_origins: Vec::new(),
            insecure_listen: false,
        }
    }
}

/// Whether `host` (a URL host: name, IPv4, or `[IPv6]`) names this machine.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let ip = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host);
    ip.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The host of an authority `host[:port]` (IPv6 keeps its brackets); `None` when malformed.
fn authority_host(authority: &str) -> Option<&str> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let rest = &authority[end + 1..];
        (rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port))
            .then_some(&authority[..=end])
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if is_port(port) => Some(host),
            Some(_) => None,
            None => Some(authority),
        }
        .filter(|h| !h.is_empty())
    }
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Config {
    /// Whether a browser page at `origin` may call the emulator.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if !self.allowed_origins.is_empty() {
            let origin = origin.trim_end_matches('/');
            return self
                .allowed_origins
                .iter()
                .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin));
        }
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        authority
            .and_then(authority_host)
            .is_some_and(is_loopback_host)
    }

    /// Whether a request with this `Host` header may be answered: any host when
    /// `insecure_listen`, else loopback names only.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        self.insecure_listen || host.and_then(authority_host).is_some_and(is_loopback_host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_role_parses() {
        let r: TokenRole = "Comment:read,create,write;User:read".parse().unwrap();
        assert_eq!(
            r.get("Comment"),
            Privileges {
                read: true,
                create: true,
                write: true,
                delete: false
            }
        );
        assert_eq!(r.to_string(), "Comment:read,create,write;User:read");
        assert!("Comment".parse::<TokenRole>().is_err());
        assert!("Comment:fly".parse::<TokenRole>().is_err());
        assert_eq!("".parse::<TokenRole>().unwrap(), TokenRole::default());
    }

    #[test]
    fn default_origins_are_loopback_only() {
        let c = Config::default();
        for ok in [
            "http://localhost:5173",
            "http://127.0.0.1:8000",
            "https://127.0.0.2",
            "http://[::1]:3000",
            "http://app.localhost:3001",
            "http://LOCALHOST",
        ] {
            assert!(c.origin_allowed(ok), "{ok}");
        }
        for bad in [
            "http://localhost.evil.com",
            "http://127.0.0.1.nip.io:8000",
            "https://example.com",
            "null",
            "file://",
            "http://localhost:80:80",
            "http://[::2]:3000",
            "ws://localhost:3000",
        ] {
            assert!(!c.origin_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn listed_origins_replace_the_default() {
        let c = Config {
            allowed_origins: vec!["https://app.example.com/".into()],
            ..Config::default()
        };
        assert!(c.origin_allowed("https://app.example.com"));
        assert!(!c.origin_allowed("http://app.example.com"));
        assert!(!c.origin_allowed("http://localhost:3000"));
    }

    #[test]
    fn hosts() {
        let c = Config::default();
        assert!(c.host_allowed(Some("127.0.0.1:8443")));
        assert!(c.host_allowed(Some("localhost")));
        assert!(c.host_allowed(Some("[::1]:8443")));
        assert!(!c.host_allowed(Some("rebind.evil.com:8443")));
        assert!(!c.host_allowed(None));
        let open = Config {
            insecure_listen: true,
            ..Config::default()
        };
        assert!(open.host_allowed(Some("fauna.internal:8443")));
    }
}
