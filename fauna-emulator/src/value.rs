//! Runtime values of the FQL subset.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::parser::Node;
use crate::time::Nanos;

/// An FQL object (field order preserved).
pub(crate) type Obj = IndexMap<String, Value>;

/// A reference to a document of a collection.
#[derive(Debug, Clone)]
pub(crate) struct DocRef {
    /// Collection name (`User`, `Token`, `Key`, `Credential`, …).
    pub coll: String,
    /// Document id.
    pub id: u64,
    /// The secret, present only on the value a `create`/`login` returned.
    pub secret: Option<String>,
}

impl PartialEq for DocRef {
    fn eq(&self, other: &Self) -> bool {
        self.coll == other.coll && self.id == other.id
    }
}

/// Modules and collections callable from FQL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Module {
    /// A collection (user-defined or native `Token`, `Key`, `Credential`).
    Coll(String),
    /// The `Collection` schema module.
    Collection,
    /// `Query`
    Query,
    /// `Time`
    Time,
}

/// A user function (lambda) with its captured variables.
#[derive(Debug)]
pub(crate) struct Closure {
    /// Parameter names.
    pub params: Vec<String>,
    /// Body.
    pub body: Arc<Node>,
    /// Variables visible where the lambda was written.
    pub env: Vec<(String, Value)>,
}

/// An FQL value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// `null`, with the reason `!` reports (`no token`, `missing field`, …).
    Null(Option<Arc<str>>),
    /// Boolean.
    Bool(bool),
    /// Integer (rendered `@int` when it fits 32 bits, else `@long`).
    Int(i64),
    /// Double.
    Double(f64),
    /// String.
    Str(Arc<str>),
    /// Time.
    Time(Nanos),
    /// Array.
    Array(Vec<Value>),
    /// Object.
    Object(Obj),
    /// A (live) document reference.
    Doc(DocRef),
    /// A missing, deleted or unreadable document.
    NullDoc {
        /// Collection name.
        coll: String,
        /// Requested id (as text).
        id: String,
        /// `not found`, `deleted`, `permission denied`.
        cause: &'static str,
    },
    /// A collection definition (`Collection.byName("User")`).
    CollectionDef(String),
    /// A module or collection object.
    Module(Module),
    /// A materialized set of values.
    Set(Vec<Value>),
    /// A function.
    Func(Arc<Closure>),
}

impl Value {
    /// `null` without a reason.
    pub(crate) const NULL: Value = Value::Null(None);

    /// A string value.
    pub(crate) fn str(s: impl Into<Arc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// The FQL type name, for error messages.
    pub(crate) fn type_name(&self) -> String {
        match self {
            Value::Null(_) => "Null".into(),
            Value::Bool(_) => "Boolean".into(),
            Value::Int(i) if i32::try_from(*i).is_ok() => "Int".into(),
            Value::Int(_) => "Long".into(),
            Value::Double(_) => "Double".into(),
            Value::Str(_) => "String".into(),
            Value::Time(_) => "Time".into(),
            Value::Array(_) => "Array".into(),
            Value::Object(_) => "Object".into(),
            Value::Doc(d) => d.coll.clone(),
            Value::NullDoc { coll, .. } => format!("Null{coll}"),
            Value::CollectionDef(_) => "CollectionDef".into(),
            Value::Module(Module::Coll(c)) => format!("{c}Collection"),
            Value::Module(m) => format!("{m:?}Module"),
            Value::Set(_) => "Set".into(),
            Value::Func(_) => "Function".into(),
        }
    }

    /// Whether the value is null or a null document.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null(_) | Value::NullDoc { .. })
    }

    /// FQL equality (`==`).
    pub(crate) fn fql_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (a, b) if a.is_null() && b.is_null() => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(a), Value::Double(b)) | (Value::Double(b), Value::Int(a)) => {
                (*a as f64) == *b
            }
            (Value::Double(a), Value::Double(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Array(a), Value::Array(b)) | (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.fql_eq(y))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.fql_eq(w)))
            }
            (Value::Doc(a), Value::Doc(b)) => a == b,
            (Value::CollectionDef(a), Value::CollectionDef(b)) => a == b,
            (Value::Module(a), Value::Module(b)) => a == b,
            (Value::Func(a), Value::Func(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Whether the value may be stored in a document field.
    pub(crate) fn storable(&self) -> bool {
        match self {
            Value::Null(_)
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Double(_)
            | Value::Str(_)
            | Value::Time(_)
            | Value::Doc(_)
            | Value::NullDoc { .. } => true,
            Value::Array(a) => a.iter().all(Value::storable),
            Value::Object(o) => o.values().all(Value::storable),
            Value::CollectionDef(_) | Value::Module(_) | Value::Set(_) | Value::Func(_) => false,
        }
    }
}
