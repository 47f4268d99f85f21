//! The evaluator: runs a parsed query inside a [`Txn`] with the caller's privileges.

use std::sync::Arc;

use crate::auth::{self, Auth, Role};
use crate::config::{Config, Privileges};
use crate::db::{self, Doc, NATIVE_COLLECTIONS, Txn};
use crate::parser::{Expr, Node, Projection, Stmt};
use crate::time;
use crate::value::{Closure, DocRef, Module, Obj, Value};

/// Why a query failed.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// A validation (compile-time) failure: 400 `invalid_query`.
    Check {
        /// The diagnostic.
        detail: String,
        /// Where.
        span: (usize, usize),
    },
    /// Outside the emulated subset: 400 `invalid_query` saying so.
    NotEmulated {
        /// What is missing.
        what: String,
        /// Where.
        span: (usize, usize),
    },
    /// A runtime failure with an engine error code.
    Runtime {
        /// `error.code`.
        code: &'static str,
        /// `error.message`.
        message: String,
        /// `constraint_failures` (paths, message).
        constraints: Vec<(Vec<Vec<String>>, String)>,
        /// Where.
        span: (usize, usize),
    },
    /// `abort(value)`.
    Abort {
        /// The value passed to `abort`.
        value: Value,
        /// Where.
        span: (usize, usize),
    },
}

type R<T> = Result<T, Failure>;

fn rt(code: &'static str, message: impl Into<String>, span: (usize, usize)) -> Failure {
    Failure::Runtime {
        code,
        message: message.into(),
        constraints: Vec::new(),
        span,
    }
}

fn constraint(path: &str, message: &str, span: (usize, usize)) -> Failure {
    Failure::Runtime {
        code: "constraint_failure",
        message: "Failed to create document in collection.".into(),
        constraints: vec![(vec![vec![path.to_string()]], message.to_string())],
        span,
    }
}

fn not_emulated(what: impl Into<String>, span: (usize, usize)) -> Failure {
    Failure::NotEmulated {
        what: what.into(),
        span,
    }
}

fn denied(span: (usize, usize)) -> Failure {
    rt(
        "permission_denied",
        "Insufficient privileges to perform the action.",
        span,
    )
}

/// Globals of real FQL that the emulator does not implement.
const KNOWN_GLOBALS: [&str; 16] = [
    "Math",
    "Database",
    "Function",
    "Role",
    "AccessProvider",
    "Date",
    "String",
    "Object",
    "Array",
    "Set",
    "Bytes",
    "TransactionTime",
    "dbg",
    "log",
    "ID",
    "FQL",
];

enum Action {
    Read,
    Create,
    Write,
    Delete,
}

/// Runs queries for one request.
pub(crate) struct Interp<'t, 's> {
    txn: &'t mut Txn<'s>,
    auth: &'t Auth,
    config: &'t Config,
    typecheck: bool,
    scope: Vec<(String, Value)>,
    /// Compute operations used (one per call).
    pub compute_ops: u64,
    depth: usize,
}

impl<'t, 's> Interp<'t, 's> {
    /// An interpreter with `bindings` (query arguments) in scope.
    pub(crate) fn new(
        txn: &'t mut Txn<'s>,
        auth: &'t Auth,
        config: &'t Config,
        typecheck: bool,
        bindings: Vec<(String, Value)>,
    ) -> Self {
        Interp {
            txn,
            auth,
            config,
            typecheck,
            scope: bindings,
            compute_ops: 1,
            depth: 0,
        }
    }

    fn privileges(&self, coll: &str) -> Privileges {
        let all = Privileges {
            read: true,
            create: true,
            write: true,
            delete: true,
        };
        match &self.auth.role {
            Role::Admin => all,
            Role::Server if coll != "Key" => all,
            Role::ServerReadOnly if coll != "Key" => Privileges {
                read: true,
                ..Privileges::default()
            },
            Role::Identity { .. } if coll != "Key" => self.config.token_role.get(coll),
            _ => Privileges::default(),
        }
    }

    fn can(&self, coll: &str, action: Action) -> bool {
        let p = self.privileges(coll);
        match action {
            Action::Read => p.read,
            Action::Create => p.create,
            Action::Write => p.write,
            Action::Delete => p.delete,
        }
    }

    fn is_own_token(&self, d: &DocRef) -> bool {
        matches!(&self.auth.role, Role::Identity { token: Some(t), .. } if d.coll == "Token" && d.id == *t)
    }

    fn can_read_doc(&self, d: &DocRef) -> bool {
        self.is_own_token(d) || self.can(&d.coll, Action::Read)
    }

    /// Evaluates a node.
    pub(crate) fn eval(&mut self, node: &Node) -> R<Value> {
        self.depth += 1;
        if self.depth > 512 {
            return Err(rt("stack_overflow", "Stack overflow.", node.span));
        }
        let r = self.eval_inner(node);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, node: &Node) -> R<Value> {
        let span = node.span;
        Ok(match &node.expr {
            Expr::Null => Value::NULL,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Double(*f),
            Expr::Str(s) => Value::str(s.as_str()),
            Expr::Ident(name) => self.ident(name, span)?,
            Expr::Object(fields) => {
                let mut o = Obj::new();
                for (k, v) in fields {
                    let v = self.eval(v)?;
                    o.insert(k.clone(), v);
                }
                Value::Object(o)
            }
            Expr::Array(items) => {
                Value::Array(items.iter().map(|n| self.eval(n)).collect::<R<Vec<_>>>()?)
            }
            Expr::Field {
                obj,
                name,
                optional,
            } => {
                let recv = self.eval(obj)?;
                if *optional && recv.is_null() {
                    return Ok(Value::NULL);
                }
                self.field(&recv, name, span)?
            }
            Expr::Index {
                obj,
                index,
                optional,
            } => {
                let recv = self.eval(obj)?;
                if *optional && recv.is_null() {
                    return Ok(Value::NULL);
                }
                let idx = self.eval(index)?;
                self.index(&recv, &idx, span)?
            }
            Expr::Call {
                callee,
                args,
                optional,
            } => self.call(callee, args, *optional, span)?,
            Expr::NonNull(inner) => {
                let v = self.eval(inner)?;
                Self::non_null(v, span)?
            }
            Expr::Unary { op, expr } => {
                let v = self.eval(expr)?;
                match (*op, v) {
                    ("!", Value::Bool(b)) => Value::Bool(!b),
                    ("-", Value::Int(i)) => Value::Int(
                        i.checked_neg()
                            .ok_or_else(|| rt("invalid_argument", "Integer overflow.", span))?,
                    ),
                    ("-", Value::Double(f)) => Value::Double(-f),
                    (op, v) => {
                        return Err(rt(
                            "type_mismatch",
                            format!("Operator `{op}` is not defined for `{}`.", v.type_name()),
                            span,
                        ));
                    }
                }
            }
            Expr::Binary { op, lhs, rhs } => self.binary(op, lhs, rhs, span)?,
            Expr::Project { obj, fields } => {
                let v = self.eval(obj)?;
                self.project(v, fields, span)?
            }
            Expr::Lambda { params, body } => Value::Func(Arc::new(Closure {
                params: params.clone(),
                body: body.clone(),
                env: self.scope.clone(),
            })),
            Expr::Block(stmts) => {
                let saved = self.scope.len();
                let mut last = Value::NULL;
                for s in stmts {
                    match s {
                        Stmt::Let(name, value) => {
                            let v = self.eval(value)?;
                            self.scope.push((name.clone(), v));
                            last = Value::NULL;
                        }
                        Stmt::Expr(e) => last = self.eval(e)?,
                    }
                }
                self.scope.truncate(saved);
                last
            }
            Expr::If {
                cond,
                then,
                otherwise,
            } => match self.eval(cond)? {
                Value::Bool(true) => self.eval(then)?,
                Value::Bool(false) => match otherwise {
                    Some(o) => self.eval(o)?,
                    None => Value::NULL,
                },
                v => {
                    return Err(rt(
                        "type_mismatch",
                        format!("expected type: Boolean, received {}", v.type_name()),
                        cond.span,
                    ));
                }
            },
        })
    }

    fn ident(&mut self, name: &str, span: (usize, usize)) -> R<Value> {
        if let Some((_, v)) = self.scope.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        Ok(match name {
            "Credentials" => Value::Module(Module::Coll("Credential".into())),
            n if NATIVE_COLLECTIONS.contains(&n) => Value::Module(Module::Coll(n.into())),
            "Collection" => Value::Module(Module::Collection),
            "Query" => Value::Module(Module::Query),
            "Time" => Value::Module(Module::Time),
            n if self.txn.has_collection(n) => Value::Module(Module::Coll(n.into())),
            n if KNOWN_GLOBALS.contains(&n) => return Err(not_emulated(format!("`{n}`"), span)),
            n => {
                return Err(Failure::Check {
                    detail: format!("Unbound variable `{n}`"),
                    span,
                });
            }
        })
    }

    fn project(&mut self, v: Value, fields: &Projection, span: (usize, usize)) -> R<Value> {
        match v {
            Value::Null(_) | Value::NullDoc { .. } => Ok(Value::NULL),
            Value::Set(items) => Ok(Value::Set(
                items
                    .into_iter()
                    .map(|i| self.project(i, fields, span))
                    .collect::<R<_>>()?,
            )),
            Value::Array(items) => Ok(Value::Array(
                items
                    .into_iter()
                    .map(|i| self.project(i, fields, span))
                    .collect::<R<_>>()?,
            )),
            v @ (Value::Doc(_) | Value::Object(_)) => {
                let mut out = Obj::new();
                for (name, nested) in &fields.0 {
                    let f = self.field(&v, name, span)?;
                    let f = match nested {
                        Some(n) => self.project(f, n, span)?,
                        None => f,
                    };
                    out.insert(name.clone(), f);
                }
                Ok(Value::Object(out))
            }
            other => Err(type_mismatch("Document or Object", &other, span)),
        }
    }

    fn non_null(v: Value, span: (usize, usize)) -> R<Value> {
        match v {
            Value::Null(reason) => Err(rt(
                "null_value",
                format!(
                    "Null value, due to {}",
                    reason.as_deref().unwrap_or("null literal")
                ),
                span,
            )),
            Value::NullDoc { coll, id, cause } => Err(null_doc_error(&coll, &id, cause, span)),
            v => Ok(v),
        }
    }

    fn binary(&mut self, op: &str, lhs: &Node, rhs: &Node, span: (usize, usize)) -> R<Value> {
        match op {
            "&&" | "||" => {
                let l = self.eval(lhs)?;
                let Value::Bool(l) = l else {
                    return Err(type_mismatch("Boolean", &l, lhs.span));
                };
                if (op == "&&" && !l) || (op == "||" && l) {
                    return Ok(Value::Bool(l));
                }
                let r = self.eval(rhs)?;
                match r {
                    Value::Bool(_) => Ok(r),
                    _ => Err(type_mismatch("Boolean", &r, rhs.span)),
                }
            }
            "??" => {
                let l = self.eval(lhs)?;
                if l.is_null() { self.eval(rhs) } else { Ok(l) }
            }
            _ => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                binary_values(op, &l, &r, span)
            }
        }
    }

    fn call(
        &mut self,
        callee: &Node,
        args: &[Node],
        optional: bool,
        span: (usize, usize),
    ) -> R<Value> {
        if let Expr::Field {
            obj,
            name,
            optional: opt_field,
        } = &callee.expr
        {
            let recv = self.eval(obj)?;
            if *opt_field && recv.is_null() {
                return Ok(Value::NULL);
            }
            let args = self.eval_args(args)?;
            self.compute_ops += 1;
            return self.method(recv, name, args, span);
        }
        if let Expr::Ident(name) = &callee.expr
            && !self.scope.iter().any(|(n, _)| n == name)
        {
            match name.as_str() {
                "abort" => {
                    let args = self.eval_args(args)?;
                    let [value] = take_args::<1>(args, "abort", span)?;
                    return Err(Failure::Abort { value, span });
                }
                "newId" => {
                    take_args::<0>(self.eval_args(args)?, "newId", span)?;
                    return Ok(Value::str(self.txn.new_id().to_string()));
                }
                _ => {}
            }
        }
        let f = self.eval(callee)?;
        if optional && f.is_null() {
            return Ok(Value::NULL);
        }
        let args = self.eval_args(args)?;
        self.compute_ops += 1;
        match f {
            Value::Func(c) => self.apply(&c, args, span),
            Value::Module(Module::Coll(c)) => {
                let [id] = take_args::<1>(args, &c, span)?;
                self.by_id(&c, &id, span)
            }
            Value::Module(Module::Time) => {
                let [s] = take_args::<1>(args, "Time", span)?;
                parse_time(&s, span)
            }
            v => Err(rt(
                "invalid_function_invocation",
                format!("`{}` is not a function.", v.type_name()),
                span,
            )),
        }
    }

    fn eval_args(&mut self, args: &[Node]) -> R<Vec<Value>> {
        args.iter().map(|a| self.eval(a)).collect()
    }

    /// Calls a function value.
    pub(crate) fn apply(
        &mut self,
        f: &Closure,
        args: Vec<Value>,
        span: (usize, usize),
    ) -> R<Value> {
        if args.len() != f.params.len() {
            return Err(rt(
                "invalid_function_invocation",
                format!(
                    "expected {} argument(s), received {}",
                    f.params.len(),
                    args.len()
                ),
                span,
            ));
        }
        let saved = std::mem::replace(&mut self.scope, f.env.clone());
        for (p, a) in f.params.iter().zip(args) {
            self.scope.push((p.clone(), a));
        }
        let r = self.eval(&f.body);
        self.scope = saved;
        r
    }

    fn predicate(&mut self, f: &Closure, v: Value, span: (usize, usize)) -> R<bool> {
        match self.apply(f, vec![v], span)? {
            Value::Bool(b) => Ok(b),
            Value::Null(_) => Ok(false),
            other => Err(type_mismatch("Boolean", &other, span)),
        }
    }

    // ---- documents ----------------------------------------------------------------------

    fn parse_id(v: &Value, span: (usize, usize)) -> R<u64> {
        let text = match v {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            other => return Err(type_mismatch("ID", other, span)),
        };
        text.parse::<u64>()
            .ok()
            .filter(|id| *id < (1u64 << 63))
            .ok_or_else(|| rt("invalid_id", format!("`{text}` is not a valid ID."), span))
    }

    fn by_id(&mut self, coll: &str, id: &Value, span: (usize, usize)) -> R<Value> {
        let id = Self::parse_id(id, span)?;
        let d = DocRef {
            coll: coll.to_string(),
            id,
            secret: None,
        };
        if !self.can_read_doc(&d) {
            return Ok(Value::NullDoc {
                coll: coll.to_string(),
                id: id.to_string(),
                cause: "permission denied",
            });
        }
        Ok(match self.txn.get(coll, id) {
            Some(_) => Value::Doc(d),
            None => Value::NullDoc {
                coll: coll.to_string(),
                id: id.to_string(),
                cause: "not found",
            },
        })
    }

    /// Loads a document's stored state, or the error its null form gives.
    fn load(&mut self, d: &DocRef, span: (usize, usize)) -> R<Doc> {
        if !self.can_read_doc(d) {
            return Err(denied(span));
        }
        self.txn
            .get(&d.coll, d.id)
            .ok_or_else(|| null_doc_error(&d.coll, &d.id.to_string(), "not found", span))
    }

    fn all(&mut self, coll: &str, span: (usize, usize)) -> R<Vec<Value>> {
        let own_token = match &self.auth.role {
            Role::Identity { token: Some(t), .. } if coll == "Token" => Some(*t),
            _ => None,
        };
        if !self.can(coll, Action::Read) {
            if let Some(t) = own_token {
                return Ok(self
                    .txn
                    .ids(coll)
                    .into_iter()
                    .filter(|id| *id == t)
                    .map(|id| doc_value(coll, id))
                    .collect());
            }
            return Err(denied(span));
        }
        let ids = self.txn.ids(coll);
        self.txn.reads += ids.len() as u64;
        Ok(ids.into_iter().map(|id| doc_value(coll, id)).collect())
    }

    fn field(&mut self, recv: &Value, name: &str, span: (usize, usize)) -> R<Value> {
        match recv {
            Value::Object(o) => Ok(o
                .get(name)
                .cloned()
                .unwrap_or(Value::Null(Some("missing field".into())))),
            Value::Doc(d) => {
                if name == "id" {
                    return Ok(Value::str(d.id.to_string()));
                }
                if name == "coll" {
                    return Ok(Value::Module(Module::Coll(d.coll.clone())));
                }
                let doc = self.load(d, span)?;
                Ok(match name {
                    "ts" => Value::Time(doc.ts * 1000),
                    "ttl" => doc.ttl.map_or(Value::NULL, Value::Time),
                    "secret" => d.secret.clone().map_or(Value::NULL, Value::str),
                    _ => self.stored_field(&doc, name),
                })
            }
            Value::NullDoc { coll, id, cause } => match name {
                "id" => Ok(Value::str(id.as_str())),
                "coll" => Ok(Value::Module(Module::Coll(coll.clone()))),
                _ => Err(null_doc_error(coll, id, cause, span)),
            },
            Value::Null(_) => Err(rt(
                "invalid_null_access",
                format!("Cannot access `{name}` on null."),
                span,
            )),
            Value::Array(a) | Value::Set(a) if name == "length" => Ok(Value::Int(a.len() as i64)),
            Value::Str(s) if name == "length" => Ok(Value::Int(s.chars().count() as i64)),
            Value::CollectionDef(n) => match name {
                "name" => Ok(Value::str(n.as_str())),
                "coll" => Ok(Value::Module(Module::Collection)),
                "ts" => Ok(self
                    .txn
                    .collection_ts(n)
                    .map_or(Value::NULL, |t| Value::Time(t * 1000))),
                _ => Ok(Value::Null(Some("missing field".into()))),
            },
            Value::Module(m) => Err(not_emulated(format!("`{}.{name}`", module_name(m)), span)),
            other => Err(Failure::Check {
                detail: format!("Type `{}` does not have field `{name}`", other.type_name()),
                span,
            }),
        }
    }

    fn stored_field(&mut self, doc: &Doc, name: &str) -> Value {
        match doc.fields.get(name) {
            Some(Value::Doc(r)) => {
                // References inside documents resolve when read.
                if self.txn.peek(&r.coll, r.id).is_some() {
                    if self.can_read_doc(r) {
                        Value::Doc(r.clone())
                    } else {
                        null_doc(&r.coll, r.id, "permission denied")
                    }
                } else {
                    null_doc(&r.coll, r.id, "not found")
                }
            }
            Some(v) => v.clone(),
            None => Value::Null(Some("missing field".into())),
        }
    }

    fn index(&mut self, recv: &Value, idx: &Value, span: (usize, usize)) -> R<Value> {
        match (recv, idx) {
            (Value::Array(a), Value::Int(i)) => {
                let len = a.len() as i64;
                let i = if *i < 0 { len + i } else { *i };
                a.get(usize::try_from(i).unwrap_or(usize::MAX))
                    .cloned()
                    .ok_or_else(|| {
                        rt(
                            "index_out_of_bounds",
                            format!("index {i} out of bounds for length {len}"),
                            span,
                        )
                    })
            }
            (Value::Object(_) | Value::Doc(_) | Value::NullDoc { .. }, Value::Str(k)) => {
                self.field(recv, k, span)
            }
            (Value::Null(_), _) => Err(rt(
                "invalid_null_access",
                "Cannot access index on null.",
                span,
            )),
            (r, i) => Err(rt(
                "invalid_argument",
                format!("Cannot index `{}` with `{}`.", r.type_name(), i.type_name()),
                span,
            )),
        }
    }

    // ---- methods ------------------------------------------------------------------------

    fn method(
        &mut self,
        recv: Value,
        name: &str,
        args: Vec<Value>,
        span: (usize, usize),
    ) -> R<Value> {
        match recv {
            Value::Module(Module::Coll(c)) => self.coll_method(&c, name, args, span),
            Value::Module(Module::Collection) => self.collection_method(name, args, span),
            Value::Module(Module::Query) => self.query_method(name, args, span),
            Value::Module(Module::Time) => match name {
                "now" => {
                    take_args::<0>(args, "Time.now", span)?;
                    Ok(Value::Time(self.txn.ts * 1000))
                }
                "fromString" => {
                    let [s] = take_args::<1>(args, "Time.fromString", span)?;
                    parse_time(&s, span)
                }
                _ => Err(not_emulated(format!("`Time.{name}`"), span)),
            },
            Value::Doc(d) => self.doc_method(d, name, args, span),
            Value::NullDoc { coll, id, cause } => match name {
                "exists" => Ok(Value::Bool(false)),
                _ => Err(null_doc_error(&coll, &id, cause, span)),
            },
            Value::Set(items) => self.seq_method(items, true, name, args, span),
            Value::Array(items) => self.seq_method(items, false, name, args, span),
            Value::Time(t) => match name {
                "add" | "subtract" => {
                    let [n, unit] = take_args::<2>(args, name, span)?;
                    let Value::Int(n) = n else {
                        return Err(type_mismatch("Number", &n, span));
                    };
                    let Value::Str(unit) = unit else {
                        return Err(type_mismatch("String", &unit, span));
                    };
                    let per = time::unit_nanos(&unit).ok_or_else(|| {
                        rt(
                            "invalid_unit",
                            format!("`{unit}` is not a valid time unit."),
                            span,
                        )
                    })?;
                    let delta = n
                        .checked_mul(per)
                        .ok_or_else(|| rt("invalid_time", "Time out of range.", span))?;
                    let out = if name == "add" {
                        t.checked_add(delta)
                    } else {
                        t.checked_sub(delta)
                    };
                    out.map(Value::Time)
                        .ok_or_else(|| rt("invalid_time", "Time out of range.", span))
                }
                "toString" => Ok(Value::str(time::format(t))),
                "toMicros" => Ok(Value::Int(t / 1000)),
                "toMillis" => Ok(Value::Int(t / 1_000_000)),
                "toSeconds" => Ok(Value::Int(t / 1_000_000_000)),
                _ => Err(not_emulated(format!("`Time.{name}`"), span)),
            },
            Value::Str(s) => {
                let text = |v: &Value| match v {
                    Value::Str(x) => Ok(x.to_string()),
                    other => Err(type_mismatch("String", other, span)),
                };
                match name {
                    "toUpperCase" => Ok(Value::str(s.to_uppercase())),
                    "toLowerCase" => Ok(Value::str(s.to_lowercase())),
                    "toString" => Ok(Value::Str(s)),
                    "includes" | "startsWith" | "endsWith" | "concat" => {
                        let [a] = take_args::<1>(args, name, span)?;
                        let a = text(&a)?;
                        Ok(match name {
                            "includes" => Value::Bool(s.contains(&a)),
                            "startsWith" => Value::Bool(s.starts_with(&a)),
                            "endsWith" => Value::Bool(s.ends_with(&a)),
                            _ => Value::str(format!("{s}{a}")),
                        })
                    }
                    _ => Err(not_emulated(format!("`String.{name}`"), span)),
                }
            }
            Value::Null(_) => Err(rt(
                "invalid_null_access",
                format!("Cannot access `{name}` on null."),
                span,
            )),
            Value::Object(ref o) => match o.get(name) {
                Some(Value::Func(f)) => {
                    let f = f.clone();
                    self.apply(&f, args, span)
                }
                _ => Err(not_emulated(format!("`Object.{name}`"), span)),
            },
            other => Err(not_emulated(
                format!("`{}.{name}`", other.type_name()),
                span,
            )),
        }
    }

    fn coll_method(
        &mut self,
        c: &str,
        name: &str,
        args: Vec<Value>,
        span: (usize, usize),
    ) -> R<Value> {
        let whole = format!("{c}.{name}");
        match name {
            "byId" => {
                let [id] = take_args::<1>(args, &whole, span)?;
                self.by_id(c, &id, span)
            }
            "create" => {
                let [fields] = take_args::<1>(args, &whole, span)?;
                let Value::Object(fields) = fields else {
                    return Err(type_mismatch("Object", &fields, span));
                };
                self.create(c, fields, span)
            }
            "all" => {
                take_args::<0>(args, &whole, span)?;
                Ok(Value::Set(self.all(c, span)?))
            }
            "where" | "firstWhere" => {
                let [f] = take_args::<1>(args, &whole, span)?;
                let items = self.all(c, span)?;
                let set = self.seq_method(items, true, "where", vec![f], span)?;
                if name == "firstWhere" {
                    self.method(set, "first", vec![], span)
                } else {
                    Ok(set)
                }
            }
            "byDocument" if c == "Token" || c == "Credential" => {
                let [doc] = take_args::<1>(args, &whole, span)?;
                let target = match &doc {
                    Value::Doc(d) => (d.coll.clone(), d.id),
                    Value::NullDoc { coll, id, .. } => {
                        (coll.clone(), id.parse::<u64>().unwrap_or(u64::MAX))
                    }
                    other => return Err(type_mismatch("Document", other, span)),
                };
                let items = self.all(c, span)?;
                let mut matching = Vec::new();
                for item in items {
                    let Value::Doc(d) = &item else { continue };
                    if let Some(stored) = self.txn.peek(c, d.id)
                        && let Some(Value::Doc(r)) = stored.fields.get("document")
                        && r.coll == target.0
                        && r.id == target.1
                    {
                        matching.push(item.clone());
                    }
                }
                if c == "Token" {
                    Ok(Value::Set(matching))
                } else {
                    Ok(matching.into_iter().next().unwrap_or(Value::NullDoc {
                        coll: "Credential".into(),
                        id: "-1".into(),
                        cause: "not found",
                    }))
                }
            }
            _ => Err(not_emulated(format!("`{whole}`"), span)),
        }
    }

    fn collection_method(
        &mut self,
        name: &str,
        args: Vec<Value>,
        span: (usize, usize),
    ) -> R<Value> {
        match name {
            "create" => {
                let [fields] = take_args::<1>(args, "Collection.create", span)?;
                let Value::Object(fields) = fields else {
                    return Err(type_mismatch("Object", &fields, span));
                };
                if self.auth.role != Role::Admin {
                    return Err(denied(span));
                }
                for k in fields.keys() {
                    if k != "name" {
                        return Err(not_emulated(
                            format!("collection field `{k}` in `Collection.create`"),
                            span,
                        ));
                    }
                }
                let Some(Value::Str(n)) = fields.get("name") else {
                    return Err(constraint(
                        "name",
                        "Field `name` is required and must be a string.",
                        span,
                    ));
                };
                if !db::valid_name(n)
                    || NATIVE_COLLECTIONS.contains(&n.as_ref())
                    || ["Credentials", "Collection", "Query", "Time"].contains(&n.as_ref())
                    || KNOWN_GLOBALS.contains(&n.as_ref())
                {
                    return Err(constraint("name", "Invalid identifier.", span));
                }
                if self.txn.has_collection(n) {
                    return Err(constraint(
                        "name",
                        "A Collection already exists with the name.",
                        span,
                    ));
                }
                self.txn.create_collection(n);
                Ok(Value::CollectionDef(n.to_string()))
            }
            "byName" => {
                let [n] = take_args::<1>(args, "Collection.byName", span)?;
                let Value::Str(n) = n else {
                    return Err(type_mismatch("String", &n, span));
                };
                if matches!(self.auth.role, Role::Client | Role::Identity { .. }) {
                    return Err(denied(span));
                }
                Ok(
                    if self.txn.has_collection(&n) && !NATIVE_COLLECTIONS.contains(&n.as_ref()) {
                        Value::CollectionDef(n.to_string())
                    } else {
                        Value::Null(Some("not found".into()))
                    },
                )
            }
            "all" => {
                take_args::<0>(args, "Collection.all", span)?;
                if matches!(self.auth.role, Role::Client | Role::Identity { .. }) {
                    return Err(denied(span));
                }
                Ok(Value::Set(
                    self.txn
                        .user_collections()
                        .into_iter()
                        .map(|(n, _)| Value::CollectionDef(n))
                        .collect(),
                ))
            }
            _ => Err(not_emulated(format!("`Collection.{name}`"), span)),
        }
    }

    fn query_method(&mut self, name: &str, args: Vec<Value>, span: (usize, usize)) -> R<Value> {
        take_args::<0>(args, name, span)?;
        match (name, &self.auth.role) {
            ("token", Role::Identity { token: Some(t), .. }) => Ok(doc_value("Token", *t)),
            ("token", _) => Ok(Value::Null(Some("no token".into()))),
            ("identity", Role::Identity { identity, .. }) => {
                let identity = identity.clone();
                if !self.can_read_doc(&identity) {
                    return Ok(Value::Null(Some("permission denied".into())));
                }
                Ok(match self.txn.get(&identity.coll, identity.id) {
                    Some(_) => Value::Doc(identity),
                    None => Value::Null(Some("missing identity".into())),
                })
            }
            ("identity", _) => Ok(Value::Null(Some("missing identity".into()))),
            _ => Err(not_emulated(format!("`Query.{name}`"), span)),
        }
    }

    fn doc_method(
        &mut self,
        d: DocRef,
        name: &str,
        args: Vec<Value>,
        span: (usize, usize),
    ) -> R<Value> {
        match name {
            "exists" => {
                take_args::<0>(args, "exists", span)?;
                Ok(Value::Bool(self.txn.get(&d.coll, d.id).is_some()))
            }
            "delete" => {
                take_args::<0>(args, "delete", span)?;
                if !(self.is_own_token(&d) || self.can(&d.coll, Action::Delete)) {
                    return Err(denied(span));
                }
                if !self.txn.remove(&d.coll, d.id) {
                    return Err(null_doc_error(
                        &d.coll,
                        &d.id.to_string(),
                        "not found",
                        span,
                    ));
                }
                Ok(null_doc(&d.coll, d.id, "deleted"))
            }
            "update" | "replace" => {
                let [fields] = take_args::<1>(args, name, span)?;
                let Value::Object(fields) = fields else {
                    return Err(type_mismatch("Object", &fields, span));
                };
                if !self.can(&d.coll, Action::Write) {
                    return Err(denied(span));
                }
                let mut doc = self.load(&d, span)?;
                Self::apply_write(&d.coll, &mut doc, fields, name == "replace", span)?;
                self.txn.put(&d.coll, d.id, doc);
                Ok(Value::Doc(DocRef { secret: None, ..d }))
            }
            "login" if d.coll == "Credential" => {
                if !self.can("Credential", Action::Read) || !self.can("Token", Action::Create) {
                    return Err(denied(span));
                }
                let (password, ttl) = match args.len() {
                    1 => (args[0].clone(), None),
                    2 => (args[0].clone(), Some(args[1].clone())),
                    n => return Err(arity("login", 1, n, span)),
                };
                let cred = self.load(&d, span)?;
                if !Self::password_matches(&cred, &password, span)? {
                    return Err(rt("invalid_secret", "Provided secret did not match.", span));
                }
                let Some(document) = cred.fields.get("document").cloned() else {
                    return Err(rt("invalid_secret", "Provided secret did not match.", span));
                };
                let mut fields = Obj::new();
                fields.insert("document".into(), document);
                if let Some(ttl) = ttl {
                    fields.insert("ttl".into(), ttl);
                }
                self.create_token(fields, span)
            }
            "verify" if d.coll == "Credential" => {
                let [password] = take_args::<1>(args, "verify", span)?;
                if !self.can("Credential", Action::Read) {
                    return Err(denied(span));
                }
                let cred = self.load(&d, span)?;
                Ok(Value::Bool(Self::password_matches(&cred, &password, span)?))
            }
            _ => Err(not_emulated(format!("`{}.{name}`", d.coll), span)),
        }
    }

    fn password_matches(cred: &Doc, password: &Value, span: (usize, usize)) -> R<bool> {
        let Value::Str(pw) = password else {
            return Err(type_mismatch("String", password, span));
        };
        Ok(cred
            .password
            .as_ref()
            .is_some_and(|(salt, hash)| auth::hashes_equal(&auth::hash_password(pw, salt), hash)))
    }

    fn create(&mut self, coll: &str, fields: Obj, span: (usize, usize)) -> R<Value> {
        if !self.can(coll, Action::Create) {
            return Err(denied(span));
        }
        match coll {
            "Token" => self.create_token(fields, span),
            "Key" => self.create_key(fields, span),
            "Credential" => self.create_credential(fields, span),
            _ => {
                let id = match fields.get("id") {
                    Some(v) => {
                        let id = Self::parse_id(v, span)?;
                        if self.txn.get(coll, id).is_some() {
                            return Err(rt(
                                "document_id_exists",
                                format!(
                                    "Document with id {id} already exists in collection `{coll}`."
                                ),
                                span,
                            ));
                        }
                        id
                    }
                    None => self.txn.new_id(),
                };
                let mut doc = Doc::new(self.txn.ts, Obj::new());
                let mut rest = fields;
                rest.shift_remove("id");
                Self::apply_write(coll, &mut doc, rest, true, span)?;
                self.txn.put(coll, id, doc);
                Ok(doc_value(coll, id))
            }
        }
    }

    /// Applies `create`/`update`/`replace` fields to a document.
    fn apply_write(
        coll: &str,
        doc: &mut Doc,
        fields: Obj,
        replace: bool,
        span: (usize, usize),
    ) -> R<()> {
        if replace {
            let keep: Vec<&str> = match coll {
                "Token" | "Credential" => vec!["document"],
                "Key" => vec!["role", "database"],
                _ => vec![],
            };
            doc.fields.retain(|k, _| keep.contains(&k.as_str()));
            doc.ttl = None;
        }
        for (k, v) in fields {
            if !v.storable() {
                return Err(rt(
                    "invalid_argument",
                    format!(
                        "A value of type `{}` cannot be stored in field `{k}`.",
                        v.type_name()
                    ),
                    span,
                ));
            }
            match k.as_str() {
                "id" | "coll" | "ts" => {
                    return Err(constraint(
                        &k,
                        "Failed to update field because it is readonly",
                        span,
                    ));
                }
                "ttl" => match v {
                    Value::Time(t) => doc.ttl = Some(t),
                    Value::Null(_) => doc.ttl = None,
                    other => return Err(type_mismatch("Time", &other, span)),
                },
                "secret" if coll == "Token" || coll == "Key" => {
                    return Err(constraint(
                        "secret",
                        "Failed to update field because it is readonly",
                        span,
                    ));
                }
                "password" if coll == "Credential" => match v {
                    Value::Str(pw) => {
                        let salt = auth::random::<16>();
                        doc.password = Some((salt, auth::hash_password(&pw, &salt)));
                    }
                    Value::Null(_) => doc.password = None,
                    other => return Err(type_mismatch("String", &other, span)),
                },
                _ => {
                    let v = match v {
                        Value::NullDoc { coll, id, .. } => match id.parse::<u64>() {
                            Ok(id) => doc_value(&coll, id),
                            Err(_) => Value::NULL,
                        },
                        Value::Doc(d) => doc_value(&d.coll, d.id),
                        v => v,
                    };
                    if v.is_null() {
                        doc.fields.shift_remove(&k);
                    } else if let (Some(Value::Object(existing)), Value::Object(new), false) =
                        (doc.fields.get_mut(&k), &v, replace)
                    {
                        merge(existing, new.clone());
                    } else {
                        doc.fields.insert(k, v);
                    }
                }
            }
        }
        Ok(())
    }

    fn check_fields(
        &self,
        what: &str,
        fields: &Obj,
        allowed: &[&str],
        span: (usize, usize),
    ) -> R<()> {
        for k in fields.keys() {
            if !allowed.contains(&k.as_str()) {
                if self.typecheck {
                    return Err(Failure::Check {
                        detail: format!("Type `{what}` contains extra field `{k}`"),
                        span,
                    });
                }
                let msg = if k == "secret" {
                    "Failed to update field because it is readonly".to_string()
                } else {
                    format!("Unexpected field `{k}`.")
                };
                return Err(constraint(k, &msg, span));
            }
        }
        Ok(())
    }

    fn document_field(fields: &Obj, span: (usize, usize)) -> R<Value> {
        match fields.get("document") {
            Some(Value::Doc(d)) if !NATIVE_COLLECTIONS.contains(&d.coll.as_str()) => {
                Ok(doc_value(&d.coll, d.id))
            }
            Some(Value::NullDoc { coll, id, .. })
                if !NATIVE_COLLECTIONS.contains(&coll.as_str()) =>
            {
                let id: u64 = id.parse().map_err(|_| {
                    constraint(
                        "document",
                        "Expected document from a user-defined collection.",
                        span,
                    )
                })?;
                Ok(doc_value(coll, id))
            }
            _ => Err(constraint(
                "document",
                "Expected document from a user-defined collection.",
                span,
            )),
        }
    }

    fn create_token(&mut self, fields: Obj, span: (usize, usize)) -> R<Value> {
        self.check_fields(
            "TokenCreate",
            &fields,
            &["id", "document", "ttl", "data"],
            span,
        )?;
        let document = Self::document_field(&fields, span)?;
        let id = match fields.get("id") {
            Some(v) => Self::parse_id(v, span)?,
            None => self.txn.new_id(),
        };
        let mut doc = Doc::new(self.txn.ts, Obj::new());
        doc.fields.insert("document".into(), document);
        if let Some(ttl) = fields.get("ttl") {
            match ttl {
                Value::Time(t) => doc.ttl = Some(*t),
                Value::Null(_) => {}
                other => return Err(type_mismatch("Time", other, span)),
            }
        }
        if let Some(data) = fields.get("data") {
            match data {
                Value::Object(_) if data.storable() => {
                    doc.fields.insert("data".into(), data.clone());
                }
                Value::Null(_) => {}
                other => return Err(type_mismatch("Object", other, span)),
            }
        }
        let secret = auth::token_secret(id, self.txn.global_id());
        doc.secret_hash = Some(auth::hash_secret(&secret));
        self.txn.put("Token", id, doc);
        Ok(Value::Doc(DocRef {
            coll: "Token".into(),
            id,
            secret: Some(secret),
        }))
    }

    fn create_key(&mut self, fields: Obj, span: (usize, usize)) -> R<Value> {
        self.check_fields(
            "KeyCreate",
            &fields,
            &["role", "database", "ttl", "data"],
            span,
        )?;
        let role = match fields.get("role") {
            Some(Value::Str(r))
                if ["admin", "server", "server-readonly", "client"].contains(&r.as_ref()) =>
            {
                r.clone()
            }
            Some(Value::Str(r)) => {
                return Err(not_emulated(format!("custom role `{r}` for keys"), span));
            }
            _ => return Err(constraint("role", "Field `role` is required.", span)),
        };
        let mut doc = Doc::new(self.txn.ts, Obj::new());
        doc.fields.insert("role".into(), Value::Str(role));
        match fields.get("database") {
            Some(Value::Str(child)) => {
                if !self.txn.has_child_database(child) {
                    return Err(constraint("database", "Database does not exist.", span));
                }
                doc.fields
                    .insert("database".into(), Value::Str(child.clone()));
            }
            Some(Value::Null(_)) | None => {}
            Some(other) => return Err(type_mismatch("String", other, span)),
        }
        if let Some(Value::Time(t)) = fields.get("ttl") {
            doc.ttl = Some(*t);
        }
        if let Some(data @ Value::Object(_)) = fields.get("data") {
            doc.fields.insert("data".into(), data.clone());
        }
        let id = self.txn.new_id();
        let secret = auth::key_secret(id);
        doc.secret_hash = Some(auth::hash_secret(&secret));
        self.txn.put("Key", id, doc);
        Ok(Value::Doc(DocRef {
            coll: "Key".into(),
            id,
            secret: Some(secret),
        }))
    }

    fn create_credential(&mut self, fields: Obj, span: (usize, usize)) -> R<Value> {
        self.check_fields(
            "CredentialCreate",
            &fields,
            &["document", "password", "data"],
            span,
        )?;
        let document = Self::document_field(&fields, span)?;
        let Value::Doc(target) = &document else {
            unreachable!("document_field returns a document")
        };
        for id in self.txn.ids("Credential") {
            if let Some(Value::Doc(r)) = self
                .txn
                .peek("Credential", id)
                .and_then(|c| c.fields.get("document"))
                && r == target
            {
                return Err(constraint("document", "Failed unique constraint.", span));
            }
        }
        let mut doc = Doc::new(self.txn.ts, Obj::new());
        let mut rest = fields;
        rest.shift_remove("document");
        doc.fields.insert("document".into(), document);
        Self::apply_write("Credential", &mut doc, rest, false, span)?;
        let id = self.txn.new_id();
        self.txn.put("Credential", id, doc);
        Ok(doc_value("Credential", id))
    }

    // ---- sets and arrays ------------------------------------------------------------------

    fn seq_method(
        &mut self,
        items: Vec<Value>,
        is_set: bool,
        name: &str,
        args: Vec<Value>,
        span: (usize, usize),
    ) -> R<Value> {
        let wrap = |v: Vec<Value>| {
            if is_set {
                Value::Set(v)
            } else {
                Value::Array(v)
            }
        };
        let func = |args: Vec<Value>, what: &str| -> R<Arc<Closure>> {
            let [f] = take_args::<1>(args, what, span)?;
            match f {
                Value::Func(f) => Ok(f),
                other => Err(type_mismatch("Function", &other, span)),
            }
        };
        match name {
            "where" => {
                let f = func(args, "where")?;
                let mut out = Vec::new();
                for item in items {
                    if self.predicate(&f, item.clone(), span)? {
                        out.push(item);
                    }
                }
                Ok(wrap(out))
            }
            "map" => {
                let f = func(args, "map")?;
                let out = items
                    .into_iter()
                    .map(|i| self.apply(&f, vec![i], span))
                    .collect::<R<Vec<_>>>()?;
                Ok(wrap(out))
            }
            "forEach" => {
                let f = func(args, "forEach")?;
                for item in items {
                    self.apply(&f, vec![item], span)?;
                }
                Ok(Value::NULL)
            }
            "first" | "last" => {
                take_args::<0>(args, name, span)?;
                let v = if name == "first" {
                    items.first()
                } else {
                    items.last()
                };
                Ok(v.cloned().unwrap_or(Value::Null(Some("empty set".into()))))
            }
            "toArray" => Ok(Value::Array(items)),
            "toSet" => Ok(Value::Set(items)),
            "count" => Ok(Value::Int(items.len() as i64)),
            "isEmpty" => Ok(Value::Bool(items.is_empty())),
            "nonEmpty" => Ok(Value::Bool(!items.is_empty())),
            "reverse" => Ok(wrap(items.into_iter().rev().collect())),
            "take" | "drop" => {
                let [n] = take_args::<1>(args, name, span)?;
                let Value::Int(n) = n else {
                    return Err(type_mismatch("Int", &n, span));
                };
                let n = usize::try_from(n.max(0)).unwrap_or(0);
                Ok(wrap(if name == "take" {
                    items.into_iter().take(n).collect()
                } else {
                    items.into_iter().skip(n).collect()
                }))
            }
            "includes" => {
                let [v] = take_args::<1>(args, name, span)?;
                Ok(Value::Bool(items.iter().any(|i| i.fql_eq(&v))))
            }
            "concat" => {
                let [other] = take_args::<1>(args, name, span)?;
                match other {
                    Value::Array(o) | Value::Set(o) => {
                        let mut all = items;
                        all.extend(o);
                        Ok(wrap(all))
                    }
                    other => Err(type_mismatch("Array", &other, span)),
                }
            }
            "paginate" => {
                // One page holds everything: the emulator does not keep cursors.
                Ok(Value::Object(Obj::from([(
                    "data".to_string(),
                    Value::Array(items),
                )])))
            }
            "length" if !is_set => Ok(Value::Int(items.len() as i64)),
            _ => Err(not_emulated(
                format!("`{}.{name}`", if is_set { "Set" } else { "Array" }),
                span,
            )),
        }
    }
}

fn merge(existing: &mut Obj, new: Obj) {
    for (k, v) in new {
        if v.is_null() {
            existing.shift_remove(&k);
        } else if let (Some(Value::Object(e)), Value::Object(n)) = (existing.get_mut(&k), &v) {
            merge(e, n.clone());
        } else {
            existing.insert(k, v);
        }
    }
}

fn module_name(m: &Module) -> String {
    match m {
        Module::Coll(c) => c.clone(),
        Module::Collection => "Collection".into(),
        Module::Query => "Query".into(),
        Module::Time => "Time".into(),
    }
}

fn doc_value(coll: &str, id: u64) -> Value {
    Value::Doc(DocRef {
        coll: coll.to_string(),
        id,
        secret: None,
    })
}

fn null_doc(coll: &str, id: u64, cause: &'static str) -> Value {
    Value::NullDoc {
        coll: coll.to_string(),
        id: id.to_string(),
        cause,
    }
}

/// The error `!` (or use) of a null document gives.
pub(crate) fn null_doc_error(coll: &str, id: &str, cause: &str, span: (usize, usize)) -> Failure {
    match cause {
        "permission denied" => denied(span),
        "deleted" => rt(
            "document_deleted",
            format!("The document `{coll}` with id {id} has been deleted."),
            span,
        ),
        _ => rt(
            "document_not_found",
            format!("Collection `{coll}` does not contain document with id {id}."),
            span,
        ),
    }
}

fn type_mismatch(expected: &str, got: &Value, span: (usize, usize)) -> Failure {
    rt(
        "type_mismatch",
        format!("expected type: {expected}, received {}", got.type_name()),
        span,
    )
}

fn arity(what: &str, expected: usize, got: usize, span: (usize, usize)) -> Failure {
    rt(
        "invalid_function_invocation",
        format!("`{what}` expected {expected} argument(s), received {got}."),
        span,
    )
}

fn take_args<const N: usize>(args: Vec<Value>, what: &str, span: (usize, usize)) -> R<[Value; N]> {
    let n = args.len();
    args.try_into().map_err(|_| arity(what, N, n, span))
}

fn parse_time(v: &Value, span: (usize, usize)) -> R<Value> {
    let Value::Str(s) = v else {
        return Err(type_mismatch("String", v, span));
    };
    time::parse(s)
        .map(Value::Time)
        .ok_or_else(|| rt("invalid_time", format!("`{s}` is not a valid time."), span))
}

fn binary_values(op: &str, l: &Value, r: &Value, span: (usize, usize)) -> R<Value> {
    use std::cmp::Ordering;
    Ok(match op {
        "==" => Value::Bool(l.fql_eq(r)),
        "!=" => Value::Bool(!l.fql_eq(r)),
        "<" | ">" | "<=" | ">=" => {
            let ord = match (l, r) {
                (Value::Int(a), Value::Int(b)) => a.partial_cmp(b),
                (Value::Int(a), Value::Double(b)) => (*a as f64).partial_cmp(b),
                (Value::Double(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
                (Value::Double(a), Value::Double(b)) => a.partial_cmp(b),
                (Value::Str(a), Value::Str(b)) => a.partial_cmp(b),
                (Value::Time(a), Value::Time(b)) => a.partial_cmp(b),
                _ => None,
            };
            let Some(ord) = ord else {
                return Ok(Value::Bool(false));
            };
            Value::Bool(match op {
                "<" => ord == Ordering::Less,
                ">" => ord == Ordering::Greater,
                "<=" => ord != Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
        "+" if matches!((l, r), (Value::Str(_), Value::Str(_))) => {
            let (Value::Str(a), Value::Str(b)) = (l, r) else {
                unreachable!()
            };
            Value::str(format!("{a}{b}"))
        }
        "+" | "-" | "*" | "/" | "%" => match (l, r) {
            (Value::Int(a), Value::Int(b)) => {
                let out = match op {
                    "+" => a.checked_add(*b),
                    "-" => a.checked_sub(*b),
                    "*" => a.checked_mul(*b),
                    _ if *b == 0 => {
                        return Err(rt(
                            "divide_by_zero",
                            "Attempted integer division by zero.",
                            span,
                        ));
                    }
                    "/" => a.checked_div(*b),
                    _ => a.checked_rem(*b),
                };
                Value::Int(out.ok_or_else(|| rt("invalid_argument", "Integer overflow.", span))?)
            }
            (Value::Int(_) | Value::Double(_), Value::Int(_) | Value::Double(_)) => {
                let f = |v: &Value| match v {
                    Value::Int(i) => *i as f64,
                    Value::Double(d) => *d,
                    _ => 0.0,
                };
                let (a, b) = (f(l), f(r));
                Value::Double(match op {
                    "+" => a + b,
                    "-" => a - b,
                    "*" => a * b,
                    "/" => a / b,
                    _ => a % b,
                })
            }
            _ => {
                return Err(rt(
                    "type_mismatch",
                    format!(
                        "Operator `{op}` is not defined for `{}` and `{}`.",
                        l.type_name(),
                        r.type_name()
                    ),
                    span,
                ));
            }
        },
        other => return Err(not_emulated(format!("operator `{other}`"), span)),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::db::State;

    /// Parses and runs `src` as the root key would; returns the error code, if any.
    fn run(st: &mut State, config: &Config, src: &str) -> Option<String> {
        let auth = Auth {
            db: String::new(),
            role: Role::Admin,
        };
        let Ok(ast) = crate::parser::parse(src) else {
            return Some("invalid_query".into());
        };
        let mut txn = st.begin("");
        let result = Interp::new(&mut txn, &auth, config, true, Vec::new()).eval(&ast);
        match result {
            Ok(_) => {
                txn.commit();
                None
            }
            Err(Failure::Runtime { code, .. }) => Some(code.into()),
            Err(Failure::Abort { .. }) => Some("abort".into()),
            Err(_) => Some("invalid_query".into()),
        }
    }

    fn setup() -> (State, Config) {
        let config = Config {
            collections: vec!["User".into()],
            ..Config::default()
        };
        let mut st = State::new(&config).unwrap();
        assert_eq!(
            run(&mut st, &config, "User.create({ id: 1, a: 'x' })"),
            None
        );
        (st, config)
    }

    #[test]
    fn error_codes() {
        let (mut st, config) = setup();
        for (q, code) in [
            ("User.byId('x')", Some("invalid_id")),
            ("User.byId(2)!", Some("document_not_found")),
            ("null!", Some("null_value")),
            ("null.a", Some("invalid_null_access")),
            ("Time.now().add(1, 'eon')", Some("invalid_unit")),
            ("1 / 0", Some("divide_by_zero")),
            ("1 + 'a'", Some("type_mismatch")),
            ("abort(1)", Some("abort")),
            ("User.byId(1)!.a == 'x'", None),
            ("User.byId(1)?.nope?.deeper", None),
        ] {
            assert_eq!(run(&mut st, &config, q).as_deref(), code, "{q}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Random FQL-looking text never panics the parser or the evaluator.
        #[test]
        fn random_queries_never_panic(src in "[a-zA-Z0-9 .(){}\\[\\]!?:;,'\"=<>+*/&|\n-]{0,80}") {
            let (mut st, config) = setup();
            let _ = run(&mut st, &config, &src);
        }

        /// Random compositions of the subset's building blocks never panic either.
        #[test]
        fn random_programs_never_panic(parts in proptest::collection::vec(prop_oneof![
            Just("User"), Just(".all()"), Just(".byId(1)"), Just("!"), Just("?.a"), Just(".a"),
            Just(".where(.a == 'x')"), Just(".map(x => x)"), Just(".first()"), Just(".toArray()"),
            Just(".update({ a: 2 })"), Just(".delete()"), Just("Token"), Just(".create({ document: User.byId(1) })"),
            Just("[1, 'a', null]"), Just("{ a: 1 }"), Just("[0]"), Just(" == "), Just(" && "), Just("Query.token()"),
            Just("Time.now()"), Just(".add(1, 'day')"), Just("Credential"), Just(".byDocument(User.byId(1))"),
            Just(".login('x')"), Just("("), Just(")"), Just(" { a }"), Just("let v = 1\n"), Just("v"),
        ], 0..12)) {
            let (mut st, config) = setup();
            let _ = run(&mut st, &config, &parts.concat());
        }
    }
}
