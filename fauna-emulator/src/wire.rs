//! The wire formats: decoding request arguments and query templates, encoding results in the
//! simple or tagged format.

use serde_json::{Map, Value as Json, json};

use crate::db::Txn;
use crate::time;
use crate::value::{DocRef, Module, Obj, Value};

/// The `x-format` of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Plain JSON (the default).
    Simple,
    /// `@int`, `@time`, `@doc`, … tags.
    Tagged,
    /// The engine's FQL-source rendering; emulated for scalars only.
    Decorated,
}

impl Format {
    /// Parses the header value (exact, case-sensitive).
    pub(crate) fn parse(s: &str) -> Option<Format> {
        match s {
            "simple" => Some(Format::Simple),
            "tagged" => Some(Format::Tagged),
            "decorated" => Some(Format::Decorated),
            _ => None,
        }
    }
}

/// A JSON value to decode once the database is known: either a plain argument or a
/// template `value` fragment.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// Variable name it binds.
    pub name: String,
    /// The JSON.
    pub json: Json,
    /// Whether it is always tagged (template values) or follows `x-format`.
    pub always_tagged: bool,
    /// Whether it came from `arguments` (errors name the argument).
    pub is_argument: bool,
}

/// A query's text plus the values its template fragments bind.
#[derive(Debug, Clone)]
pub(crate) struct QueryText {
    /// FQL source.
    pub text: String,
    /// Values to bind.
    pub values: Vec<Pending>,
}

const MAX_TEMPLATE_DEPTH: usize = 64;

/// Reads the `query` field: a string or an `{"fql": [...]}` template. `None` = invalid body.
pub(crate) fn query_text(q: &Json) -> Option<QueryText> {
    match q {
        Json::String(s) => Some(QueryText {
            text: s.clone(),
            values: Vec::new(),
        }),
        Json::Object(_) => {
            let mut out = QueryText {
                text: String::new(),
                values: Vec::new(),
            };
            fragment(q, &mut out, 0)?;
            Some(out)
        }
        _ => None,
    }
}

fn fragment(f: &Json, out: &mut QueryText, depth: usize) -> Option<()> {
    if depth > MAX_TEMPLATE_DEPTH {
        return None;
    }
    match f {
        Json::String(s) => out.text.push_str(s),
        Json::Object(o) if o.len() == 1 => {
            let (k, v) = o.iter().next()?;
            match (k.as_str(), v) {
                ("fql", Json::Array(parts)) => {
                    for p in parts {
                        fragment(p, out, depth + 1)?;
                    }
                }
                ("value", v) => {
                    let name = format!("$v{}", out.values.len());
                    out.text.push_str(&name);
                    out.values.push(Pending {
                        name,
                        json: v.clone(),
                        always_tagged: true,
                        is_argument: false,
                    });
                }
                ("array", Json::Array(items)) => {
                    out.text.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.text.push_str(", ");
                        }
                        fragment(item, out, depth + 1)?;
                    }
                    out.text.push(']');
                }
                ("object", Json::Object(fields)) => {
                    out.text.push('{');
                    for (i, (k, v)) in fields.iter().enumerate() {
                        if i > 0 {
                            out.text.push_str(", ");
                        }
                        out.text.push_str(&Json::String(k.clone()).to_string());
                        out.text.push_str(": ");
                        fragment(v, out, depth + 1)?;
                    }
                    out.text.push('}');
                }
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(())
}

/// Decodes an argument value. Errors are the detail after `Invalid argument '<k>': `.
pub(crate) fn decode(j: &Json, tagged: bool, txn: &mut Txn<'_>) -> Result<Value, String> {
    Ok(match j {
        Json::Null => Value::NULL,
        Json::Bool(b) => Value::Bool(*b),
        Json::String(s) => Value::str(s.as_str()),
        Json::Number(n) => {
            if tagged {
                return Err("numbers must be tagged".into());
            }
            match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64().ok_or("number out of range")?),
            }
        }
        Json::Array(a) => Value::Array(
            a.iter()
                .map(|v| decode(v, tagged, txn))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(o) => {
            if tagged && o.keys().any(|k| k.starts_with('@')) {
                if o.len() > 1 {
                    return Err("too many keys in tagged value".into());
                }
                let (tag, v) = o.iter().next().expect("one key");
                return decode_tag(tag, v, txn);
            }
            let mut out = Obj::new();
            for (k, v) in o {
                out.insert(k.clone(), decode(v, tagged, txn)?);
            }
            Value::Object(out)
        }
    })
}

fn decode_tag(tag: &str, v: &Json, txn: &mut Txn<'_>) -> Result<Value, String> {
    let text = || {
        v.as_str()
            .ok_or_else(|| format!("{tag} value must be a string"))
    };
    Ok(match tag {
        "@int" | "@long" => Value::Int(
            text()?
                .parse()
                .map_err(|_| format!("invalid {tag} value"))?,
        ),
        "@double" => Value::Double(match text()? {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s.parse().map_err(|_| "invalid @double value".to_string())?,
        }),
        "@time" => Value::Time(time::parse(text()?).ok_or("invalid @time value")?),
        "@mod" => {
            let name = text()?;
            match name {
                "Token" | "Key" | "Credential" => Value::Module(Module::Coll(name.into())),
                "Credentials" => Value::Module(Module::Coll("Credential".into())),
                "Collection" => Value::Module(Module::Collection),
                "Time" => Value::Module(Module::Time),
                "Query" => Value::Module(Module::Query),
                n if txn.has_collection(n) => Value::Module(Module::Coll(n.into())),
                n => return Err(format!("unknown module `{n}`")),
            }
        }
        "@object" => {
            let Json::Object(o) = v else {
                return Err("@object value must be an object".into());
            };
            let mut out = Obj::new();
            for (k, v) in o {
                out.insert(k.clone(), decode(v, true, txn)?);
            }
            Value::Object(out)
        }
        "@ref" | "@doc" => {
            let id = v
                .get("id")
                .and_then(Json::as_str)
                .ok_or("ref must have an id")?;
            let coll = v
                .get("coll")
                .and_then(|c| c.get("@mod"))
                .and_then(Json::as_str)
                .ok_or("ref must have a coll")?;
            let coll = if coll == "Credentials" {
                "Credential"
            } else {
                coll
            };
            if !txn.has_collection(coll) {
                return Err(format!("unknown collection `{coll}`"));
            }
            let parsed: Option<u64> = id.parse().ok().filter(|i| *i < (1u64 << 63));
            match parsed {
                Some(n) if txn.get(coll, n).is_some() => Value::Doc(DocRef {
                    coll: coll.to_string(),
                    id: n,
                    secret: None,
                }),
                _ => Value::NullDoc {
                    coll: coll.to_string(),
                    id: id.to_string(),
                    cause: "not found",
                },
            }
        }
        "@date" | "@bytes" | "@uuid" | "@set" | "@stream" => {
            return Err(format!("{tag} values are not emulated by fauna-emulator"));
        }
        other => return Err(format!("unknown tag {other}")),
    })
}

fn int_json(i: i64, format: Format) -> Json {
    match format {
        Format::Tagged if i32::try_from(i).is_ok() => json!({ "@int": i.to_string() }),
        Format::Tagged => json!({ "@long": i.to_string() }),
        Format::Decorated => Json::String(i.to_string()),
        Format::Simple => json!(i),
    }
}

fn double_json(f: f64, format: Format) -> Json {
    let special = if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("Infinity")
    } else if f == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    };
    match (format, special) {
        (Format::Tagged, Some(s)) => json!({ "@double": s }),
        (Format::Tagged, None) => json!({ "@double": f.to_string() }),
        (_, Some(s)) => Json::String(s.into()),
        (Format::Decorated, None) => Json::String(format!("{f:?}")),
        (Format::Simple, None) => json!(f),
    }
}

fn module_json(name: &str, format: Format) -> Json {
    match format {
        Format::Tagged => json!({ "@mod": name }),
        _ => Json::String(name.into()),
    }
}

/// Encodes a result value. `nested` is true inside a document's fields, where documents
/// render as references.
pub(crate) fn encode(v: &Value, format: Format, txn: &Txn<'_>, nested: bool) -> Json {
    let tagged = format == Format::Tagged;
    match v {
        Value::Null(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => int_json(*i, format),
        Value::Double(f) => double_json(*f, format),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Time(t) => {
            let s = time::format(*t);
            if tagged {
                json!({ "@time": s })
            } else {
                Json::String(s)
            }
        }
        Value::Array(items) => Json::Array(
            items
                .iter()
                .map(|i| encode(i, format, txn, nested))
                .collect(),
        ),
        Value::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                m.insert(k.clone(), encode(v, format, txn, nested));
            }
            if tagged && o.keys().any(|k| k.starts_with('@')) {
                json!({ "@object": m })
            } else {
                Json::Object(m)
            }
        }
        Value::Module(m) => module_json(
            &match m {
                Module::Coll(c) => c.clone(),
                Module::Collection => "Collection".into(),
                Module::Query => "Query".into(),
                Module::Time => "Time".into(),
            },
            format,
        ),
        Value::Func(_) => Json::String("[function <lambda>]".into()),
        Value::NullDoc { coll, id, cause } => {
            if tagged {
                json!({ "@ref": { "id": id, "coll": { "@mod": coll }, "exists": false, "cause": cause } })
            } else {
                Json::Null
            }
        }
        Value::Doc(d) => {
            let Some(doc) = txn.peek(&d.coll, d.id) else {
                return encode(
                    &Value::NullDoc {
                        coll: d.coll.clone(),
                        id: d.id.to_string(),
                        cause: "deleted",
                    },
                    format,
                    txn,
                    nested,
                );
            };
            let mut m = Map::new();
            m.insert("id".into(), Json::String(d.id.to_string()));
            m.insert("coll".into(), module_json(&d.coll, format));
            if nested {
                return if tagged {
                    json!({ "@ref": m })
                } else {
                    Json::Object(m)
                };
            }
            m.insert(
                "ts".into(),
                encode(&Value::Time(doc.ts * 1000), format, txn, true),
            );
            if let Some(ttl) = doc.ttl {
                m.insert("ttl".into(), encode(&Value::Time(ttl), format, txn, true));
            }
            for (k, v) in &doc.fields {
                m.insert(k.clone(), encode(v, format, txn, true));
            }
            if let Some(s) = &d.secret {
                m.insert("secret".into(), Json::String(s.clone()));
            }
            if tagged {
                json!({ "@doc": m })
            } else {
                Json::Object(m)
            }
        }
        Value::CollectionDef(name) => {
            let mut m = Map::new();
            m.insert("name".into(), Json::String(name.clone()));
            m.insert("coll".into(), module_json("Collection", format));
            if let Some(ts) = txn.collection_ts(name) {
                m.insert(
                    "ts".into(),
                    encode(&Value::Time(ts * 1000), format, txn, true),
                );
            }
            if tagged {
                json!({ "@doc": m })
            } else {
                Json::Object(m)
            }
        }
        Value::Set(items) => {
            let data: Vec<Json> = items
                .iter()
                .map(|i| encode(i, format, txn, false))
                .collect();
            if tagged {
                json!({ "@set": { "data": data } })
            } else {
                json!({ "data": data })
            }
        }
    }
}
