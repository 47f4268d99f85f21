//! Secrets and authentication: the root key with its scopes, keys (`fnA…`) and tokens (`fnE…`).
//!
//! Secrets are laid out as the engine does (URL-safe base64 without padding of
//! `[126, 112, key id(8), random(20)]` for keys and `[126, 113, token id(8), database global
//! id(8), random(20)]` for tokens); only their SHA-256 is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::db::State;
use crate::value::DocRef;

/// The built-in roles and token identities.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Role {
    /// Everything, schema and keys included.
    Admin,
    /// All documents (native collections but `Key` included), no schema or keys.
    Server,
    /// Read-only `Server`.
    ServerReadOnly,
    /// Nothing.
    Client,
    /// A user token (or a `@doc/Coll/id` scoped key): the configured token role.
    Identity {
        /// The token's id (none for `@doc` scoped keys).
        token: Option<u64>,
        /// The identity document.
        identity: DocRef,
    },
}

/// Who is asking, and in which database.
#[derive(Debug, Clone)]
pub(crate) struct Auth {
    /// Database path (`""` = root).
    pub db: String,
    /// Role.
    pub role: Role,
}

/// Random bytes from the OS.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the OS random source is available");
    buf
}

/// SHA-256 of a secret.
pub(crate) fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A new key secret (40 characters, `fnA…`).
pub(crate) fn key_secret(key_id: u64) -> String {
    let mut bytes = Vec::with_capacity(30);
    bytes.extend_from_slice(&[126, 112]);
    bytes.extend_from_slice(&key_id.to_be_bytes());
    bytes.extend_from_slice(&random::<20>());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new token secret (51 characters, `fnE…`).
pub(crate) fn token_secret(token_id: u64, db_global_id: u64) -> String {
    let mut bytes = Vec::with_capacity(38);
    bytes.extend_from_slice(&[126, 113]);
    bytes.extend_from_slice(&token_id.to_be_bytes());
    bytes.extend_from_slice(&db_global_id.to_be_bytes());
    bytes.extend_from_slice(&random::<20>());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Salted hash of a password.
pub(crate) fn hash_password(password: &str, salt: &[u8; 16]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

/// Constant-time equality of two hashes.
pub(crate) fn hashes_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// Extracts the secret from an `Authorization` header value (`Bearer <s>` or `Basic base64(<s>:)`).
pub(crate) fn secret_from_header(value: &str) -> Option<String> {
    let mut parts = value.split_whitespace();
    let scheme = parts.next()?;
    let rest = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    match scheme {
        "Bearer" => Some(rest.to_string()),
        "Basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            // `user:password` with the secret as user; a trailing `:` is customary.
            let secret = text.strip_suffix(':').unwrap_or(&text);
            Some(secret.to_string())
        }
        _ => None,
    }
}

fn parse_role(s: &str) -> Option<Role> {
    Some(match s {
        "admin" => Role::Admin,
        "server" => Role::Server,
        "server-readonly" => Role::ServerReadOnly,
        "client" => Role::Client,
        _ => return None,
    })
}

/// Applies a scope suffix (`role`, `db:role`, `@doc/Coll/id`, `db:@doc/Coll/id`) for a secret
/// whose own role is `base` in database `db`. `None` means the scope is not allowed or names
/// something that does not exist (the engine answers 401).
fn apply_scope(st: &State, db: &str, base: &Role, scope: Option<&str>) -> Option<Auth> {
    let Some(scope) = scope else {
        return Some(Auth {
            db: db.to_string(),
            role: base.clone(),
        });
    };
    let parts: Vec<&str> = scope.split(':').collect();
    let (child, role_part) = match parts.as_slice() {
        [role] => (None, *role),
        [child, role] => (Some(*child), *role),
        _ => {
            return Some(Auth {
                db: db.to_string(),
                role: base.clone(),
            });
        }
    };
    let target_db = match child {
        None => db.to_string(),
        Some(c) if db.is_empty() && st.dbs.contains_key(c) && !c.is_empty() => c.to_string(),
        Some(_) => return None,
    };
    if let Some(doc) = role_part.strip_prefix("@doc/") {
        let doc = doc
            .strip_prefix("collections/")
            .or_else(|| doc.strip_prefix("classes/"))
            .unwrap_or(doc);
        let (coll, id) = doc.split_once('/')?;
        let id: u64 = id.parse().ok()?;
        let allowed = match base {
            Role::Admin => true,
            Role::Server => child.is_none(),
            _ => false,
        };
        if !allowed {
            return None;
        }
        return Some(Auth {
            db: target_db,
            role: Role::Identity {
                token: None,
                identity: DocRef {
                    coll: coll.to_string(),
                    id,
                    secret: None,
                },
            },
        });
    }
    match parse_role(role_part) {
        Some(role) if *base == Role::Admin => Some(Auth {
            db: target_db,
            role,
        }),
        Some(_) => None,
        // Anything else after `:` is ignored, as the engine does.
        None if child.is_none() => Some(Auth {
            db: db.to_string(),
            role: base.clone(),
        }),
        None => None,
    }
}

/// Authenticates a secret (with optional scope suffix) at transaction time `ts_micros`.
pub(crate) fn authenticate(
    st: &State,
    config: &Config,
    full: &str,
    ts_micros: i64,
) -> Option<Auth> {
    let (secret, scope) = match full.split_once(':') {
        Some((s, scope)) => (s, Some(scope)),
        None => (full, None),
    };
    if secret.is_empty() {
        return None;
    }
    let hash = hash_secret(secret);
    if let Ok(bytes) = URL_SAFE_NO_PAD.decode(secret) {
        if bytes.len() == 38 && bytes[..2] == [126, 113] {
            let token_id = u64::from_be_bytes(bytes[2..10].try_into().ok()?);
            let gid = u64::from_be_bytes(bytes[10..18].try_into().ok()?);
            let (db_name, db) = st.dbs.iter().find(|(_, d)| d.global_id == gid)?;
            let tok = db.colls.get("Token")?.docs.get(&token_id)?;
            if tok.expired(ts_micros) || !hashes_equal(tok.secret_hash.as_ref()?, &hash) {
                return None;
            }
            let crate::value::Value::Doc(identity) = tok.fields.get("document")? else {
                return None;
            };
            // The identity document must still exist.
            let ident = db.colls.get(&identity.coll)?.docs.get(&identity.id)?;
            if ident.expired(ts_micros) {
                return None;
            }
            // Token secrets ignore any scope suffix.
            return Some(Auth {
                db: db_name.clone(),
                role: Role::Identity {
                    token: Some(token_id),
                    identity: DocRef {
                        coll: identity.coll.clone(),
                        id: identity.id,
                        secret: None,
                    },
                },
            });
        }
        if bytes.len() == 30 && bytes[..2] == [126, 112] {
            let key_id = u64::from_be_bytes(bytes[2..10].try_into().ok()?);
            for (db_name, db) in &st.dbs {
                let Some(key) = db.colls.get("Key").and_then(|c| c.docs.get(&key_id)) else {
                    continue;
                };
                if key.expired(ts_micros) || !hashes_equal(key.secret_hash.as_ref()?, &hash) {
                    return None;
                }
                let role = match key.fields.get("role") {
                    Some(crate::value::Value::Str(r)) => parse_role(r)?,
                    _ => return None,
                };
                let key_db = match key.fields.get("database") {
                    Some(crate::value::Value::Str(child)) if db_name.is_empty() => {
                        if !st.dbs.contains_key(child.as_ref()) {
                            return None;
                        }
                        child.to_string()
                    }
                    Some(crate::value::Value::Str(_)) => return None,
                    _ => db_name.clone(),
                };
                return apply_scope(st, &key_db, &role, scope);
            }
            return None;
        }
    }
    let root = hash_secret(&config.root_key);
    if hashes_equal(&root, &hash) {
        return apply_scope(st, "", &Role::Admin, scope);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_shapes() {
        let k = key_secret(412654807560487424);
        assert_eq!(k.len(), 40);
        assert!(k.starts_with("fnA"), "{k}");
        let t = token_secret(412654829001883136, 412654807560487000);
        assert_eq!(t.len(), 51);
        assert!(t.starts_with("fnE"), "{t}");
    }

    #[test]
    fn header_parsing() {
        assert_eq!(secret_from_header("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(secret_from_header("bearer abc"), None);
        assert_eq!(secret_from_header("Bearer"), None);
        let basic = base64::engine::general_purpose::STANDARD.encode("abc:");
        assert_eq!(
            secret_from_header(&format!("Basic {basic}")).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn root_scopes() {
        let cfg = Config {
            databases: vec!["app".into()],
            ..Config::default()
        };
        let st = State::new(&cfg).unwrap();
        let a = authenticate(&st, &cfg, "secret", 0).unwrap();
        assert_eq!((a.db.as_str(), a.role), ("", Role::Admin));
        let a = authenticate(&st, &cfg, "secret:app:server", 0).unwrap();
        assert_eq!((a.db.as_str(), a.role), ("app", Role::Server));
        let a = authenticate(&st, &cfg, "secret:client", 0).unwrap();
        assert_eq!(a.role, Role::Client);
        assert!(authenticate(&st, &cfg, "secret:nope:server", 0).is_none());
        assert!(authenticate(&st, &cfg, "wrong", 0).is_none());
        assert!(authenticate(&st, &cfg, "", 0).is_none());
    }
}
