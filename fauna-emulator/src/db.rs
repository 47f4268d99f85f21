//! In-memory storage: databases, collections, documents, and transactions that roll back.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::time::now_micros;
use crate::value::{Obj, Value};

/// Names of the native collections every database has.
pub(crate) const NATIVE_COLLECTIONS: [&str; 3] = ["Token", "Key", "Credential"];

/// A stored document.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    /// Last write, microseconds since the epoch.
    pub ts: i64,
    /// Expiry, nanoseconds since the epoch.
    pub ttl: Option<i64>,
    /// User-visible fields (without `id`, `coll`, `ts`, `ttl`).
    pub fields: Obj,
    /// SHA-256 of a token's or key's secret.
    pub secret_hash: Option<[u8; 32]>,
    /// Salt and SHA-256 of a credential's password.
    pub password: Option<([u8; 16], [u8; 32])>,
}

impl Doc {
    /// A new document with `fields`, written at `ts`.
    pub(crate) fn new(ts: i64, fields: Obj) -> Doc {
        Doc {
            ts,
            ttl: None,
            fields,
            secret_hash: None,
            password: None,
        }
    }

    /// Whether the document's ttl has passed at `ts` (microseconds).
    pub(crate) fn expired(&self, ts: i64) -> bool {
        self.ttl.is_some_and(|ttl| ts.saturating_mul(1000) >= ttl)
    }
}

/// A collection and its documents.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    /// Creation time (microseconds).
    pub ts: i64,
    /// Documents by id.
    pub docs: BTreeMap<u64, Doc>,
}

/// A database.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    /// The global id embedded in token secrets.
    pub global_id: u64,
    /// Collections by name (natives included).
    pub colls: BTreeMap<String, Collection>,
    /// Time of the last schema write (microseconds).
    pub schema_version: i64,
}

impl Database {
    fn new(global_id: u64, ts: i64) -> Database {
        let colls = NATIVE_COLLECTIONS
            .iter()
            .map(|n| {
                (
                    (*n).to_string(),
                    Collection {
                        ts,
                        docs: BTreeMap::new(),
                    },
                )
            })
            .collect();
        Database {
            global_id,
            colls,
            schema_version: ts,
        }
    }
}

/// Counters served by `GET /_emulator/stats`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    /// Requests to `/query/1`, whatever the outcome.
    pub queries: u64,
    /// Requests to `/query/1` by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
}

/// An injected fault: the next `remaining` queries are answered with `status`.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    /// HTTP status to answer (429, 503, 500, …).
    pub status: u16,
    /// How many more queries get it.
    pub remaining: u64,
}

/// The whole emulated cluster.
#[derive(Debug)]
pub(crate) struct State {
    /// Databases by path (`""` is the root database).
    pub dbs: BTreeMap<String, Database>,
    /// Counters.
    pub stats: Stats,
    /// Pending injected fault.
    pub fault: Option<Fault>,
    /// Pending injected delay: (milliseconds, how many more queries).
    pub delay: Option<(u64, u64)>,
    last_txn: i64,
    last_id: u64,
    txns_since_sweep: u32,
}

/// Errors from setting up the initial state.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A name is not a valid database or collection name.
    #[error("invalid name `{0}`")]
    InvalidName(String),
    /// A `db/Coll` names a database that was not declared.
    #[error("unknown database `{0}` (declare it with --database)")]
    UnknownDatabase(String),
    /// The evaluator thread could not be started.
    #[error("cannot start the evaluator thread: {0}")]
    Thread(std::io::Error),
}

/// Whether `name` is a valid collection or database name.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 255
}

impl State {
    /// The initial state for `config`.
    pub(crate) fn new(config: &Config) -> Result<State, SetupError> {
        let ts = now_micros();
        let mut st = State {
            dbs: BTreeMap::new(),
            stats: Stats::default(),
            fault: None,
            delay: None,
            last_txn: ts,
            last_id: 0,
            txns_since_sweep: 0,
        };
        let gid = st.new_id();
        st.dbs.insert(String::new(), Database::new(gid, ts));
        for name in &config.databases {
            if !valid_name(name) {
                return Err(SetupError::InvalidName(name.clone()));
            }
            let gid = st.new_id();
            st.dbs.insert(name.clone(), Database::new(gid, ts));
        }
        for spec in &config.collections {
            let (db, name) = spec.split_once('/').unwrap_or(("", spec));
            if !valid_name(name) || NATIVE_COLLECTIONS.contains(&name) {
                return Err(SetupError::InvalidName(spec.clone()));
            }
            let db = st
                .dbs
                .get_mut(db)
                .ok_or_else(|| SetupError::UnknownDatabase(db.to_string()))?;
            db.colls.insert(
                name.to_string(),
                Collection {
                    ts,
                    docs: BTreeMap::new(),
                },
            );
        }
        Ok(st)
    }

    /// A new document id: a positive 63-bit number, increasing, shaped like the engine's.
    pub(crate) fn new_id(&mut self) -> u64 {
        let candidate = (u64::try_from(now_micros() / 1000).unwrap_or(0)) << 17;
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id
    }

    /// The next transaction time (microseconds, strictly increasing).
    pub(crate) fn next_txn_ts(&mut self) -> i64 {
        self.last_txn = now_micros().max(self.last_txn + 1);
        self.last_txn
    }

    /// Starts a transaction on database `db`.
    pub(crate) fn begin(&mut self, db: &str) -> Txn<'_> {
        let ts = self.next_txn_ts();
        Txn {
            st: self,
            db: db.to_string(),
            ts,
            undo: Vec::new(),
            reads: 0,
            writes: 0,
            bytes_read: 0,
            bytes_written: 0,
        }
    }

    /// Live (unexpired) tokens in every database.
    pub(crate) fn live_tokens(&self) -> usize {
        let now = now_micros();
        self.dbs
            .values()
            .filter_map(|d| d.colls.get("Token"))
            .map(|c| c.docs.values().filter(|d| !d.expired(now)).count())
            .sum()
    }

    fn sweep_expired(&mut self) {
        let now = now_micros();
        for db in self.dbs.values_mut() {
            for coll in db.colls.values_mut() {
                coll.docs.retain(|_, d| !d.expired(now));
            }
        }
    }
}

enum Undo {
    Put {
        coll: String,
        id: u64,
        prev: Option<Doc>,
    },
    CreateColl(String),
}

/// A transaction on one database. Dropping it without [`Txn::commit`] rolls its writes back.
pub(crate) struct Txn<'a> {
    st: &'a mut State,
    /// The database path.
    pub db: String,
    /// Transaction time (microseconds).
    pub ts: i64,
    undo: Vec<Undo>,
    /// Documents read.
    pub reads: u64,
    /// Documents written.
    pub writes: u64,
    /// Approximate bytes read.
    pub bytes_read: u64,
    /// Approximate bytes written.
    pub bytes_written: u64,
}

fn approx_size(doc: &Doc) -> u64 {
    64 + doc
        .fields
        .iter()
        .map(|(k, v)| k.len() as u64 + value_size(v))
        .sum::<u64>()
}

fn value_size(v: &Value) -> u64 {
    match v {
        Value::Str(s) => s.len() as u64,
        Value::Array(a) => a.iter().map(value_size).sum::<u64>() + 2,
        Value::Object(o) => o.iter().map(|(k, v)| k.len() as u64 + value_size(v)).sum(),
        _ => 8,
    }
}

impl Txn<'_> {
    fn database(&self) -> &Database {
        &self.st.dbs[&self.db]
    }

    fn database_mut(&mut self) -> &mut Database {
        self.st
            .dbs
            .get_mut(&self.db)
            .expect("transaction database exists")
    }

    /// Whether collection `name` exists in this database.
    pub(crate) fn has_collection(&self, name: &str) -> bool {
        self.database().colls.contains_key(name)
    }

    /// Names and creation times of the user collections.
    pub(crate) fn user_collections(&self) -> Vec<(String, i64)> {
        self.database()
            .colls
            .iter()
            .filter(|(n, _)| !NATIVE_COLLECTIONS.contains(&n.as_str()))
            .map(|(n, c)| (n.clone(), c.ts))
            .collect()
    }

    /// Creation time of a collection.
    pub(crate) fn collection_ts(&self, name: &str) -> Option<i64> {
        self.database().colls.get(name).map(|c| c.ts)
    }

    /// Child databases of this database (only the root has children).
    pub(crate) fn has_child_database(&self, name: &str) -> bool {
        self.db.is_empty() && !name.is_empty() && self.st.dbs.contains_key(name)
    }

    /// Time of the last schema write in this database.
    pub(crate) fn schema_version(&self) -> i64 {
        self.database().schema_version
    }

    /// The global id of this database.
    pub(crate) fn global_id(&self) -> u64 {
        self.database().global_id
    }

    /// A new document id.
    pub(crate) fn new_id(&mut self) -> u64 {
        self.st.new_id()
    }

    /// Creates a user collection.
    pub(crate) fn create_collection(&mut self, name: &str) {
        let ts = self.ts;
        let db = self.database_mut();
        db.colls.insert(
            name.to_string(),
            Collection {
                ts,
                docs: BTreeMap::new(),
            },
        );
        db.schema_version = ts;
        self.undo.push(Undo::CreateColl(name.to_string()));
        self.writes += 1;
    }

    /// Reads a live (unexpired) document.
    pub(crate) fn get(&mut self, coll: &str, id: u64) -> Option<Doc> {
        let ts = self.ts;
        let doc = self
            .database()
            .colls
            .get(coll)?
            .docs
            .get(&id)
            .filter(|d| !d.expired(ts))
            .cloned()?;
        self.reads += 1;
        self.bytes_read += approx_size(&doc);
        Some(doc)
    }

    /// Reads a document without counting it (for rendering results).
    pub(crate) fn peek(&self, coll: &str, id: u64) -> Option<&Doc> {
        self.database()
            .colls
            .get(coll)?
            .docs
            .get(&id)
            .filter(|d| !d.expired(self.ts))
    }

    /// Ids of the live documents of a collection, ascending.
    pub(crate) fn ids(&mut self, coll: &str) -> Vec<u64> {
        let ts = self.ts;
        self.database()
            .colls
            .get(coll)
            .map(|c| {
                c.docs
                    .iter()
                    .filter(|(_, d)| !d.expired(ts))
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes a document (create or replace).
    pub(crate) fn put(&mut self, coll: &str, id: u64, mut doc: Doc) {
        doc.ts = self.ts;
        self.writes += 1;
        self.bytes_written += approx_size(&doc);
        let c = self
            .database_mut()
            .colls
            .get_mut(coll)
            .expect("collection exists");
        let prev = c.docs.insert(id, doc);
        self.undo.push(Undo::Put {
            coll: coll.to_string(),
            id,
            prev,
        });
    }

    /// Deletes a document; returns whether it existed.
    pub(crate) fn remove(&mut self, coll: &str, id: u64) -> bool {
        let Some(c) = self.database_mut().colls.get_mut(coll) else {
            return false;
        };
        let prev = c.docs.remove(&id);
        let existed = prev.is_some();
        if existed {
            self.writes += 1;
            self.undo.push(Undo::Put {
                coll: coll.to_string(),
                id,
                prev,
            });
        }
        existed
    }

    /// Keeps the writes.
    pub(crate) fn commit(mut self) {
        self.undo.clear();
        self.st.txns_since_sweep += 1;
        if self.st.txns_since_sweep >= 1000 {
            self.st.txns_since_sweep = 0;
            self.st.sweep_expired();
        }
    }

    fn rollback(&mut self) {
        while let Some(u) = self.undo.pop() {
            let db = self
                .st
                .dbs
                .get_mut(&self.db)
                .expect("transaction database exists");
            match u {
                Undo::Put { coll, id, prev } => {
                    if let Some(c) = db.colls.get_mut(&coll) {
                        match prev {
                            Some(d) => {
                                c.docs.insert(id, d);
                            }
                            None => {
                                c.docs.remove(&id);
                            }
                        }
                    }
                }
                Undo::CreateColl(name) => {
                    db.colls.remove(&name);
                }
            }
        }
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        self.rollback();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_on_drop() {
        let cfg = Config {
            collections: vec!["User".into()],
            ..Config::default()
        };
        let mut st = State::new(&cfg).unwrap();
        {
            let mut t = st.begin("");
            let id = t.new_id();
            t.put("User", id, Doc::new(0, Obj::new()));
            t.create_collection("Other");
        }
        let mut t = st.begin("");
        assert!(t.ids("User").is_empty());
        assert!(!t.has_collection("Other"));
        let id = t.new_id();
        t.put("User", id, Doc::new(0, Obj::new()));
        t.commit();
        let mut t = st.begin("");
        assert_eq!(t.ids("User"), vec![id]);
    }
}
