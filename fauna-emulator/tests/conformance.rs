//! The conformance vectors of `fauna-core-http.md` §6 that fall inside the emulated subset,
//! run over real HTTP against the emulator on a loopback port.

use fauna_emulator::{Config, Emulator};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Env {
    base: String,
    http: Client,
    admin: String,
    server: String,
    client: String,
    user_id: String,
    key_id: String,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Env {
    async fn start() -> Env {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            collections: vec!["User".into()],
            token_role: "User:read".parse().unwrap(),
            ..Config::default()
        };
        let addr = Emulator::bind(config).await.unwrap().spawn();
        let mut env = Env {
            base: format!("http://{addr}"),
            http: Client::new(),
            admin: "secret".into(),
            server: String::new(),
            client: String::new(),
            user_id: String::new(),
            key_id: String::new(),
        };
        let r = env
            .q("secret", r#"Key.create({ role: "server" })"#, &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        env.server = r.body["data"]["secret"].as_str().unwrap().to_string();
        env.key_id = r.body["data"]["id"].as_str().unwrap().to_string();
        let r = env
            .q("secret", r#"Key.create({ role: "client" })"#, &[])
            .await;
        env.client = r.body["data"]["secret"].as_str().unwrap().to_string();
        let r = env
            .q(
                &env.server.clone(),
                r#"User.create({ name: "alice" })"#,
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        env.user_id = r.body["data"]["id"].as_str().unwrap().to_string();
        env
    }

    async fn raw(
        &self,
        secret: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.post(format!("{}/query/1", self.base));
        if let Some(s) = secret {
            req = req.bearer_auth(s);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    async fn q(&self, secret: &str, query: &str, headers: &[(&str, &str)]) -> Reply {
        self.raw(
            Some(secret),
            Some(json!({ "query": query }).to_string()),
            headers,
        )
        .await
    }

    async fn qa(&self, secret: &str, query: &str, args: Value, headers: &[(&str, &str)]) -> Reply {
        self.raw(
            Some(secret),
            Some(json!({ "query": query, "arguments": args }).to_string()),
            headers,
        )
        .await
    }

    async fn token(&self) -> (String, String) {
        let r = self
            .qa(
                &self.server,
                r#"Token.create({ document: User.byId(uid), ttl: Time.now().add(1, "hour") })"#,
                json!({ "uid": self.user_id }),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        (
            r.body["data"]["id"].as_str().unwrap().into(),
            r.body["data"]["secret"].as_str().unwrap().into(),
        )
    }
}

fn assert_error(r: &Reply, status: u16, code: &str, message: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    if let Some(m) = message {
        assert_eq!(r.body["error"]["message"], m, "{}", r.text);
    }
}

fn assert_protocol_shape(r: &Reply) {
    for k in ["summary", "txn_ts", "stats", "schema_version"] {
        assert!(
            r.body.get(k).is_none(),
            "protocol error has `{k}`: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn v1_v2_unauthorized() {
    let env = Env::start().await;
    let r = env
        .raw(None, Some(json!({"query": "1"}).to_string()), &[])
        .await;
    assert_error(&r, 401, "unauthorized", Some("Access token required"));
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_protocol_shape(&r);
    for bad in [
        "notanauth",
        "nah",
        "fnAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = env.q(bad, "{ len: 'foo'.length }", &[]).await;
        assert_error(&r, 401, "unauthorized", Some("Access token required"));
    }
    // Scheme words are case-sensitive.
    let r = env
        .raw(
            None,
            Some(json!({"query": "1"}).to_string()),
            &[("authorization", "bearer secret")],
        )
        .await;
    assert_eq!(r.status, 401);
    // Basic auth with the secret as user name works.
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("secret:");
    let r = env
        .raw(
            None,
            Some(json!({"query": "1"}).to_string()),
            &[("authorization", &format!("Basic {basic}"))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn v3_to_v6_bad_bodies() {
    let env = Env::start().await;
    let r = env
        .raw(Some(&env.admin), Some(r#"{"foo":"bar"}"#.into()), &[])
        .await;
    assert_error(&r, 400, "invalid_request", Some("Invalid request body"));
    assert_protocol_shape(&r);
    let r = env.raw(Some(&env.admin), None, &[]).await;
    assert_error(&r, 400, "invalid_request", Some("No request body provided"));
    let r = env.raw(Some(&env.admin), Some("{}".into()), &[]).await;
    assert_error(&r, 400, "invalid_request", None);
    let deep = format!(
        "{}{}",
        r#"{"query":"#.to_string() + &r#"{"fql":["#.repeat(10_000),
        "]}".repeat(10_000) + "}"
    );
    let r = env.raw(Some(&env.admin), Some(deep), &[]).await;
    assert_error(
        &r,
        400,
        "invalid_request",
        Some("Invalid request body: JSON exceeds nesting limit"),
    );
    let r = env.raw(Some(&env.admin), Some("[1".into()), &[]).await;
    assert_error(&r, 400, "invalid_request", None);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid request body: ")
    );
    // A bad body wins over a missing secret (§1.6).
    let r = env.raw(None, Some("{}".into()), &[]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn v7_v8_formats_and_success_shape() {
    let env = Env::start().await;
    let r = env.q(&env.admin, "1", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"], 1);
    assert!(r.body["summary"].is_string());
    assert!(r.body["txn_ts"].is_i64());
    assert!(r.body["schema_version"].is_i64());
    for k in [
        "compute_ops",
        "read_ops",
        "write_ops",
        "storage_bytes_read",
        "storage_bytes_write",
    ] {
        assert!(r.body["stats"][k].is_i64(), "stats.{k}: {}", r.text);
    }
    assert_eq!(r.headers["content-type"], "application/json;charset=utf-8");
    assert!(r.headers.contains_key("x-faunadb-build"));
    let r = env.q(&env.admin, "1", &[("x-format", "tagged")]).await;
    assert_eq!(r.body["data"], json!({"@int": "1"}));
    let r = env.q(&env.admin, "1", &[("x-format", "decorated")]).await;
    assert_eq!(r.body["data"], "1");
    let r = env
        .q(&env.admin, "10000000000", &[("x-format", "tagged")])
        .await;
    assert_eq!(r.body["data"], json!({"@long": "10000000000"}));
}

#[tokio::test]
async fn v9_to_v16_headers() {
    let env = Env::start().await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "x-format",
            "foo",
            "Invalid header 'x-format': Invalid format foo",
        ),
        (
            "x-typecheck",
            "foo",
            "Invalid header 'x-typecheck': Must be a boolean value.",
        ),
        (
            "x-linearized",
            "foo",
            "Invalid header 'x-linearized': Must be a boolean value.",
        ),
        (
            "x-performance-hints",
            "invalid_entry",
            "Invalid header 'x-performance-hints': Must be a boolean value.",
        ),
        (
            "x-last-txn-ts",
            "foo",
            "Invalid header 'x-last-txn-ts': Invalid timestamp 'foo'.",
        ),
        (
            "x-max-contention-retries",
            "-3",
            "Invalid header 'x-max-contention-retries': Must be between 0 and 7.",
        ),
        (
            "x-query-timeout-ms",
            "0",
            "Invalid header 'x-query-timeout-ms': Must be greater than 0.",
        ),
        (
            "x-query-timeout-ms",
            "600001",
            "Invalid header 'x-query-timeout-ms': Must be less than or equal to 600000.",
        ),
        (
            "x-query-timeout-ms",
            "abc",
            "Invalid header 'x-query-timeout-ms': Invalid number 'abc'.",
        ),
    ];
    for (h, v, msg) in cases {
        let r = env.q(&env.admin, "1", &[(h, v)]).await;
        assert_error(&r, 400, "invalid_request", Some(msg));
        assert_protocol_shape(&r);
    }
    for (h, v) in [
        ("x-typecheck", "true"),
        ("x-typecheck", "false"),
        ("x-linearized", "true"),
        ("x-last-txn-ts", "123"),
        ("x-max-contention-retries", "2"),
        ("x-query-timeout-ms", "1000"),
    ] {
        let r = env.q(&env.admin, "1", &[(h, v)]).await;
        assert_eq!(r.status, 200, "{h}: {v}: {}", r.text);
    }
    let r = env.q(&env.admin, "1", &[("x-query-timeout-ms", "1")]).await;
    assert_error(&r, 440, "time_out", None);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("aggressive deadline")
    );
    let r = env.q(&env.admin, "1", &[("x-query-tags", "foo=bar")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["query_tags"], "foo=bar");
    let r = env.q(&env.admin, "1", &[("x-query-tags", "foo,,")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text,
        r#"{"error":{"code":"invalid_request","message":"Invalid header 'x-query-tags': invalid tags"}}"#
    );
    // Order (§1.6): the timeout header is checked before the tags, tags before x-format.
    let r = env
        .q(
            &env.admin,
            "1",
            &[
                ("x-query-tags", "foo,,"),
                ("x-query-timeout-ms", "0"),
                ("x-format", "foo"),
            ],
        )
        .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-query-timeout-ms")
    );
    let r = env
        .q(
            &env.admin,
            "1",
            &[("x-query-tags", "foo,,"), ("x-format", "foo")],
        )
        .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-query-tags")
    );
    // A bad x-format wins over a missing secret; a bad secret with good headers is 401.
    let r = env
        .raw(
            None,
            Some(json!({"query": "1"}).to_string()),
            &[("x-format", "foo")],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn v17_v18_query_errors() {
    let env = Env::start().await;
    let r = env.q(&env.admin, "{ x ", &[]).await;
    assert_error(
        &r,
        400,
        "invalid_query",
        Some("The query failed 1 validation check"),
    );
    assert!(r.body["summary"].as_str().unwrap().contains("error:"));
    assert!(r.body["txn_ts"].is_i64());
    let r = env.q(&env.admin, r#"abort("oops")"#, &[]).await;
    assert_error(&r, 400, "abort", Some("Query aborted."));
    assert_eq!(r.body["error"]["abort"], "oops");
    assert!(r.body["summary"].is_string());
    let r = env
        .q(&env.admin, "abort({ n: 1 })", &[("x-format", "tagged")])
        .await;
    assert_eq!(r.body["error"]["abort"], json!({"n": {"@int": "1"}}));
    let r = env.q(&env.admin, "Math.abs(1)", &[]).await;
    assert_error(&r, 400, "invalid_query", None);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Not emulated")
    );
    let r = env.q(&env.admin, "nope", &[]).await;
    assert_error(&r, 400, "invalid_query", None);
    assert!(
        r.body["summary"]
            .as_str()
            .unwrap()
            .contains("Unbound variable `nope`")
    );
}

#[tokio::test]
async fn v19_tagged_arguments() {
    let env = Env::start().await;
    let r = env
        .qa(&env.admin, "n", json!({"n": 39}), &[("x-format", "tagged")])
        .await;
    assert_error(
        &r,
        400,
        "invalid_request",
        Some("Invalid argument 'n': numbers must be tagged"),
    );
    let r = env
        .qa(
            &env.admin,
            "n + 1",
            json!({"n": {"@int": "39"}}),
            &[("x-format", "tagged")],
        )
        .await;
    assert_eq!(r.body["data"], json!({"@int": "40"}));
    let r = env.qa(&env.admin, "n + 1", json!({"n": 39}), &[]).await;
    assert_eq!(r.body["data"], 40);
    let r = env
        .qa(
            &env.admin,
            "x",
            json!({"x": {"@int": "1", "@long": "2"}}),
            &[("x-format", "tagged")],
        )
        .await;
    assert_error(
        &r,
        400,
        "invalid_request",
        Some("Invalid argument 'x': too many keys in tagged value"),
    );
    // Arguments are decoded after authentication.
    let r = env
        .qa("nope", "n", json!({"n": 39}), &[("x-format", "tagged")])
        .await;
    assert_eq!(r.status, 401);
    // Collections and documents as tagged arguments.
    let r = env
        .qa(
            &env.server,
            "c.byId(d.id)!.name",
            json!({"c": {"@mod": "User"}, "d": {"@ref": {"id": env.user_id, "coll": {"@mod": "User"}}}}),
            &[("x-format", "tagged")],
        )
        .await;
    assert_eq!(r.body["data"], "alice", "{}", r.text);
}

#[tokio::test]
async fn v20_to_v22_token_create() {
    let env = Env::start().await;
    let q = "Token.create({ document: User.byId(uid) })";
    let r = env
        .qa(&env.client, q, json!({"uid": env.user_id}), &[])
        .await;
    assert_error(
        &r,
        400,
        "permission_denied",
        Some("Insufficient privileges to perform the action."),
    );
    assert!(r.body["summary"].is_string());
    let r = env
        .qa(
            &env.server,
            r#"Token.create({ document: User.byId(uid), ttl: Time.now().add(1, "day"), data: { foo: 'bar' } })"#,
            json!({"uid": env.user_id}),
            &[("x-format", "tagged")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let doc = &r.body["data"]["@doc"];
    assert!(doc["id"].is_string());
    assert_eq!(doc["coll"], json!({"@mod": "Token"}));
    let secret = doc["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 51);
    assert!(secret.starts_with("fnE"));
    assert!(doc.get("hashed_secret").is_none());
    assert!(doc["ttl"]["@time"].is_string());
    assert_eq!(doc["data"]["foo"], "bar");
    assert_eq!(
        doc["document"],
        json!({"@ref": {"id": env.user_id, "coll": {"@mod": "User"}}})
    );
    let ok = env.q(&secret, "1", &[]).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["data"], 1);
    let id = doc["id"].as_str().unwrap();
    let r = env
        .qa(
            &env.server,
            "Token.byId(id)!.secret",
            json!({"id": id}),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"], Value::Null);
    // Simple format: the document nested as a plain reference.
    let r = env
        .qa(&env.server, "Token.byId(id)", json!({"id": id}), &[])
        .await;
    assert_eq!(
        r.body["data"]["document"],
        json!({"id": env.user_id, "coll": "User"})
    );
    assert_eq!(r.body["data"]["coll"], "Token");
}

#[tokio::test]
async fn v23_v24_token_constraints() {
    let env = Env::start().await;
    let r = env
        .qa(
            &env.admin,
            "Token.create({ document: Key.byId(k) })",
            json!({"k": env.key_id}),
            &[],
        )
        .await;
    assert_error(&r, 400, "constraint_failure", None);
    assert_eq!(
        r.body["error"]["constraint_failures"][0]["paths"],
        json!([["document"]])
    );
    assert_eq!(
        r.body["error"]["constraint_failures"][0]["message"],
        "Expected document from a user-defined collection."
    );
    let q = "Token.create({ document: User.byId(uid), secret: 'x' })";
    let r = env
        .qa(
            &env.server,
            q,
            json!({"uid": env.user_id}),
            &[("x-typecheck", "false")],
        )
        .await;
    assert_error(&r, 400, "constraint_failure", None);
    assert!(
        r.body["error"]["constraint_failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("readonly")
    );
    let r = env
        .qa(
            &env.server,
            q,
            json!({"uid": env.user_id}),
            &[("x-typecheck", "true")],
        )
        .await;
    assert_error(&r, 400, "invalid_query", None);
}

#[tokio::test]
async fn v25_to_v27_token_delete() {
    let env = Env::start().await;
    let (id, secret) = env.token().await;
    assert_eq!(env.q(&secret, "1", &[]).await.status, 200);
    let r = env
        .qa(
            &env.server,
            "Token.byId(id)!.delete()",
            json!({"id": id}),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"], Value::Null);
    let r = env.q(&secret, "1", &[]).await;
    assert_error(&r, 401, "unauthorized", Some("Access token required"));
    let r = env
        .q(&env.server, r#"Token.byId("999")!.delete()"#, &[])
        .await;
    assert_error(
        &r,
        400,
        "document_not_found",
        Some("Collection `Token` does not contain document with id 999."),
    );
    // Tagged: a deleted token renders as a ref with cause "deleted".
    let (id, _) = env.token().await;
    let r = env
        .qa(
            &env.server,
            "Token.byId(id)!.delete()",
            json!({"id": id}),
            &[("x-format", "tagged")],
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"@ref": {"id": id, "coll": {"@mod": "Token"}, "exists": false, "cause": "deleted"}})
    );
    // A token deletes itself.
    let (_, secret) = env.token().await;
    let r = env.q(&secret, "Query.token()!.delete()", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(env.q(&secret, "1", &[]).await.status, 401);
    // ...but may not update itself.
    let (_, secret) = env.token().await;
    let r = env
        .q(&secret, "Query.token()!.update({ data: { x: 1 } })", &[])
        .await;
    assert_error(&r, 400, "permission_denied", None);
}

#[tokio::test]
async fn v28_query_token_and_identity() {
    let env = Env::start().await;
    for q in ["Query.token()", "Query.identity()"] {
        let r = env.q(&env.admin, q, &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["data"], Value::Null);
    }
    let r = env.q(&env.admin, "Query.token()!", &[]).await;
    assert_error(&r, 400, "null_value", Some("Null value, due to no token"));
    let (id, secret) = env.token().await;
    let r = env.q(&secret, "Query.identity()", &[]).await;
    assert_eq!(r.body["data"]["id"], env.user_id);
    assert_eq!(r.body["data"]["name"], "alice");
    let r = env.q(&secret, "Query.token()", &[]).await;
    assert_eq!(r.body["data"]["id"], id);
    // Scope suffixes are ignored for tokens.
    let r = env
        .q(&format!("{secret}:admin"), "Query.identity()!.id", &[])
        .await;
    assert_eq!(r.body["data"], env.user_id);
}

#[tokio::test]
async fn v29_ttl_expiry() {
    let env = Env::start().await;
    let r = env
        .qa(
            &env.server,
            r#"Token.create({ document: User.byId(uid), ttl: Time.now().add(2, "seconds") })"#,
            json!({"uid": env.user_id}),
            &[],
        )
        .await;
    let secret = r.body["data"]["secret"].as_str().unwrap().to_string();
    assert_eq!(env.q(&secret, "1", &[]).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = env.q(&secret, "1", &[]).await;
    assert_error(&r, 401, "unauthorized", Some("Access token required"));
    let r = env
        .q(&env.server, r#"Time.now().add(1, "fortnight")"#, &[])
        .await;
    assert_error(
        &r,
        400,
        "invalid_unit",
        Some("`fortnight` is not a valid time unit."),
    );
}

#[tokio::test]
async fn v30_credentials() {
    let env = Env::start().await;
    let r = env
        .qa(
            &env.server,
            "Credential.create({ document: User.byId(uid), password: 'sekret' })",
            json!({"uid": env.user_id}),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["data"].get("password").is_none());
    assert!(r.body["data"].get("hashed_password").is_none());
    let q = "Credential.byDocument(User.byId(uid))!.login(pw)";
    let r = env
        .qa(
            &env.server,
            q,
            json!({"uid": env.user_id, "pw": "wrong"}),
            &[],
        )
        .await;
    assert_error(
        &r,
        400,
        "invalid_secret",
        Some("Provided secret did not match."),
    );
    let r = env
        .qa(
            &env.server,
            q,
            json!({"uid": env.user_id, "pw": "sekret"}),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["coll"], "Token");
    let secret = r.body["data"]["secret"].as_str().unwrap();
    let r = env.q(secret, "Query.identity()!.id", &[]).await;
    assert_eq!(r.body["data"], env.user_id);
    let r = env
        .qa(
            &env.server,
            "Credential.byDocument(User.byId(uid))!.verify('sekret')",
            json!({"uid": env.user_id}),
            &[],
        )
        .await;
    assert_eq!(r.body["data"], true);
    // No credential for the document.
    let r = env
        .q(&env.server, "Credential.byDocument(User.create({}))!", &[])
        .await;
    assert_error(&r, 400, "document_not_found", None);
}

#[tokio::test]
async fn v31_missing_documents() {
    let env = Env::start().await;
    let r = env
        .q(
            &env.admin,
            r#"User.byId("1234")"#,
            &[("x-format", "tagged")],
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"@ref": {"id": "1234", "coll": {"@mod": "User"}, "exists": false, "cause": "not found"}})
    );
    let r = env.q(&env.admin, r#"User.byId("1234")"#, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"], Value::Null);
    let r = env.q(&env.admin, r#"User.byId("1234")!"#, &[]).await;
    assert_error(
        &r,
        400,
        "document_not_found",
        Some("Collection `User` does not contain document with id 1234."),
    );
    let r = env.q(&env.admin, r#"User.byId("abc")"#, &[]).await;
    assert_error(&r, 400, "invalid_id", Some("`abc` is not a valid ID."));
}

#[tokio::test]
async fn v32_ping_and_cors() {
    let env = Env::start().await;
    let res = env
        .http
        .get(format!("{}/ping", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"resource": "Scope write is OK"})
    );
    let res = env
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/query/1", env.base))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, x-format, x-query-timeout-ms",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "86400");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "authorization",
        "content-type",
        "x-format",
        "x-typecheck",
        "x-query-timeout-ms",
        "x-last-txn-ts",
        "x-driver-env",
        "x-query-tags",
        "traceparent",
        "x-linearized",
        "x-max-contention-retries",
    ] {
        assert!(
            allowed.split(", ").any(|a| a == name),
            "{name} not allowed: {allowed}"
        );
    }
    let r = env
        .raw(
            Some(&env.admin),
            Some(json!({"query": "1"}).to_string()),
            &[("origin", "http://localhost:5173")],
        )
        .await;
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let r = env
        .raw(
            Some(&env.admin),
            Some(json!({"query": "1"}).to_string()),
            &[],
        )
        .await;
    assert!(!r.headers.contains_key("access-control-allow-origin"));
    let res = env
        .http
        .get(format!("{}/nonexistent", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
