//! Emulator configuration: listen address, root key, pre-declared databases and collections,
//! and the role user tokens get.

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
        }
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
}
