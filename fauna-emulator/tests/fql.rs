//! The emulated FQL subset over real HTTP: documents, sets, templates, token privileges,
//! rollback, databases and scoped secrets, the development endpoints.

use fauna_emulator::{Config, Emulator};
use reqwest::Client;
use serde_json::{Value, json};

struct Emu {
    base: String,
    http: Client,
}

impl Emu {
    async fn start(config: Config) -> Emu {
        let addr = Emulator::bind(Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        })
        .await
        .unwrap()
        .spawn();
        Emu {
            base: format!("http://{addr}"),
            http: Client::new(),
        }
    }

    async fn send(&self, secret: &str, body: Value, format: &str) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/query/1", self.base))
            .bearer_auth(secret)
            .header("x-format", format)
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// Runs a query (simple format) and returns `data`, panicking on errors.
    async fn ok(&self, secret: &str, query: &str, args: Value) -> Value {
        let (status, body) = self
            .send(secret, json!({"query": query, "arguments": args}), "simple")
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        body["data"].clone()
    }

    /// Runs a query expected to fail; returns (status, error.code).
    async fn err(&self, secret: &str, query: &str, args: Value) -> (u16, String) {
        let (status, body) = self
            .send(secret, json!({"query": query, "arguments": args}), "simple")
            .await;
        assert_ne!(status, 200, "{query} succeeded: {body}");
        (
            status,
            body["error"]["code"].as_str().unwrap_or("").to_string(),
        )
    }

    async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_emulator/stats", self.base))
            .bearer_auth("secret")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn config() -> Config {
    Config {
        collections: vec!["User".into(), "Comment".into(), "Secret".into()],
        token_role: "Comment:read,create,write;User:read".parse().unwrap(),
        ..Config::default()
    }
}

#[tokio::test]
async fn documents_and_sets() {
    let emu = Emu::start(config()).await;
    let root = "secret";
    let a = emu
        .ok(
            root,
            "User.create({ name: 'a', age: 30, tags: ['x'] })",
            json!({}),
        )
        .await;
    let b = emu
        .ok(
            root,
            "User.create({ id: '42', name: 'b', age: 40 })",
            json!({}),
        )
        .await;
    assert_eq!(b["id"], "42");
    assert_eq!(a["coll"], "User");
    assert!(a["ts"].as_str().unwrap().ends_with('Z'));
    let (_, code) = emu.err(root, "User.create({ id: '42' })", json!({})).await;
    assert_eq!(code, "document_id_exists");
    assert_eq!(emu.ok(root, "User(42).name", json!({})).await, "b");
    assert_eq!(emu.ok(root, "User.byId(42)!.age + 1", json!({})).await, 41);
    let names = emu
        .ok(root, "User.all().map(.name).toArray()", json!({}))
        .await;
    // Sets are ordered by id, as the engine's are.
    assert_eq!(names, json!(["b", "a"]));
    let page = emu.ok(root, "User.where(.age > 35)", json!({})).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["name"], "b");
    assert_eq!(
        emu.ok(
            root,
            "User.all().where(u => u.name == n).first()!.age",
            json!({"n": "a"})
        )
        .await,
        30
    );
    assert_eq!(
        emu.ok(root, "User.firstWhere(.name == 'zzz')", json!({}))
            .await,
        Value::Null
    );
    assert_eq!(
        emu.ok(root, "User.firstWhere(.name == 'zzz')?.age", json!({}))
            .await,
        Value::Null
    );
    let (_, code) = emu
        .err(root, "User.firstWhere(.name == 'zzz')!", json!({}))
        .await;
    assert_eq!(code, "null_value");
    let updated = emu
        .ok(
            root,
            "User.byId('42')!.update({ age: 41, nick: 'bee' })",
            json!({}),
        )
        .await;
    assert_eq!(updated["age"], 41);
    assert_eq!(updated["name"], "b");
    assert_eq!(updated["nick"], "bee");
    let replaced = emu
        .ok(root, "User.byId('42')!.replace({ name: 'c' })", json!({}))
        .await;
    assert!(replaced.get("age").is_none());
    emu.ok(root, "User.all().forEach(.delete())", json!({}))
        .await;
    assert_eq!(emu.ok(root, "User.all().count()", json!({})).await, 0);
    assert_eq!(
        emu.ok(
            root,
            "let x = { a: [1, 2.5, 'three', true, null] }\nx.a[1]",
            json!({})
        )
        .await,
        2.5
    );
    assert_eq!(
        emu.ok(root, "if (1 != 2 && !false) 'yes' else 'no'", json!({}))
            .await,
        "yes"
    );
    let t = emu
        .ok(
            root,
            "Time('2024-01-01T00:00:00Z').add(90, 'minutes')",
            json!({}),
        )
        .await;
    assert_eq!(t, "2024-01-01T01:30:00Z");
}

#[tokio::test]
async fn tagged_documents() {
    let emu = Emu::start(config()).await;
    let (status, body) = emu
        .send("secret", json!({"query": "User.create({ id: '7', '@weird': 1, at: Time('2024-01-01T00:00:00Z') })"}), "tagged")
        .await;
    assert_eq!(status, 200, "{body}");
    let doc = &body["data"]["@doc"];
    assert_eq!(doc["id"], "7");
    assert_eq!(doc["coll"], json!({"@mod": "User"}));
    assert!(doc["ts"]["@time"].is_string());
    assert_eq!(doc["at"], json!({"@time": "2024-01-01T00:00:00Z"}));
    assert_eq!(doc["@weird"], json!({"@int": "1"}));
    let (_, body) = emu
        .send("secret", json!({"query": "User.all()"}), "tagged")
        .await;
    assert_eq!(body["data"]["@set"]["data"][0]["@doc"]["id"], "7");
    let (_, body) = emu
        .send("secret", json!({"query": "{ '@x': 1 }"}), "tagged")
        .await;
    assert_eq!(body["data"], json!({"@object": {"@x": {"@int": "1"}}}));
}

#[tokio::test]
async fn fql_templates_as_sent_by_fauna_js() {
    let emu = Emu::start(config()).await;
    // fql`User.create(${{ name: "t", n: 5 }})` then fql`User.byId(${id})!.n + ${1}`
    let (status, body) = emu
        .send(
            "secret",
            json!({"query": {"fql": ["User.create(", {"value": {"name": "t", "n": {"@int": "5"}}}, ")"]}}),
            "tagged",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["@doc"]["id"].as_str().unwrap().to_string();
    let inner = json!({"fql": ["User.byId(", {"value": id}, ")!"]});
    let (status, body) = emu
        .send(
            "secret",
            json!({"query": {"fql": [inner.clone(), ".n + ", {"value": {"@int": "1"}}]}}),
            "tagged",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"@int": "6"}));
    let arr = json!({"array": [{"value": {"@int": "1"}}, {"fql": ["2"]}]});
    let obj = json!({"object": {"k": {"value": "v"}}});
    let (status, body) = emu
        .send(
            "secret",
            json!({"query": {"fql": [inner, ".n + ", arr, "[1] + ", obj, ".k.length"]}}),
            "tagged",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"@int": "8"}));
    // Malformed templates are invalid bodies.
    let (status, body) = emu
        .send("secret", json!({"query": {"fql": [1]}}), "tagged")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "Invalid request body");
}

#[tokio::test]
async fn token_role_limits_a_browser_token() {
    let emu = Emu::start(config()).await;
    let server = emu
        .ok(
            "secret",
            "Key.create({ role: 'server' })!.secret",
            json!({}),
        )
        .await;
    let server = server.as_str().unwrap();
    let uid = emu
        .ok(server, "User.create({ name: 'u' }).id", json!({}))
        .await;
    emu.ok(server, "Secret.create({ v: 1 })", json!({})).await;
    let tok = emu
        .ok(
            server,
            "Token.create({ document: User.byId(uid)!, ttl: Time.now().add(1, 'hour') }).secret",
            json!({"uid": uid}),
        )
        .await;
    let tok = tok.as_str().unwrap();
    // Allowed: read users, read/create/write comments.
    assert_eq!(emu.ok(tok, "Query.identity()!.name", json!({})).await, "u");
    let c = emu
        .ok(tok, "Comment.create({ text: 'hi' }).id", json!({}))
        .await;
    emu.ok(
        tok,
        "Comment.byId(c)!.update({ text: 'ho' })",
        json!({"c": c}),
    )
    .await;
    assert_eq!(
        emu.ok(tok, "Comment.all().map(.text).toArray()", json!({}))
            .await,
        json!(["ho"])
    );
    // Denied: everything else.
    for q in [
        "Comment.byId(c)!.delete()",
        "User.create({ name: 'x' })",
        "User.byId(uid)!.update({ name: 'x' })",
        "Secret.all()",
        "Secret.all().first()",
        "Token.create({ document: User.byId(uid) })",
        "Credential.all()",
        "Key.create({ role: 'admin' })",
        "Collection.create({ name: 'X' })",
    ] {
        let (status, code) = emu.err(tok, q, json!({"uid": uid, "c": c})).await;
        assert_eq!((status, code.as_str()), (400, "permission_denied"), "{q}");
    }
    // An unreadable document reads as null with cause "permission denied".
    let sid = emu.ok(server, "Secret.all().first()!.id", json!({})).await;
    assert_eq!(
        emu.ok(tok, "Secret.byId(s)", json!({"s": sid})).await,
        Value::Null
    );
    let (_, code) = emu.err(tok, "Secret.byId(s)!", json!({"s": sid})).await;
    assert_eq!(code, "permission_denied");
    // Revocation takes effect at once.
    emu.ok(
        server,
        "Token.byDocument(User.byId(uid)).forEach(.delete())",
        json!({"uid": uid}),
    )
    .await;
    let (status, code) = emu.err(tok, "1", json!({})).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    // A token whose user document is gone stops authenticating.
    let tok2 = emu
        .ok(
            server,
            "Token.create({ document: User.byId(uid) }).secret",
            json!({"uid": uid}),
        )
        .await;
    emu.ok(server, "User.byId(uid)!.delete()", json!({"uid": uid}))
        .await;
    let (status, _) = emu.err(tok2.as_str().unwrap(), "1", json!({})).await;
    assert_eq!(status, 401);
    // Client keys may do nothing.
    let client = emu
        .ok("secret", "Key.create({ role: 'client' }).secret", json!({}))
        .await;
    let (_, code) = emu
        .err(client.as_str().unwrap(), "Comment.all()", json!({}))
        .await;
    assert_eq!(code, "permission_denied");
}

#[tokio::test]
async fn failed_queries_roll_back() {
    let emu = Emu::start(config()).await;
    let (_, code) = emu
        .err(
            "secret",
            "User.create({ name: 'ghost' })\nabort('no')",
            json!({}),
        )
        .await;
    assert_eq!(code, "abort");
    let (_, code) = emu
        .err(
            "secret",
            "let u = User.create({ name: 'ghost' })\nUser.byId('999')!",
            json!({}),
        )
        .await;
    assert_eq!(code, "document_not_found");
    let (_, code) = emu
        .err(
            "secret",
            "Collection.create({ name: 'Tmp' })\nnope",
            json!({}),
        )
        .await;
    assert_eq!(code, "invalid_query");
    assert_eq!(emu.ok("secret", "User.all().count()", json!({})).await, 0);
    assert_eq!(
        emu.ok("secret", "Collection.byName('Tmp')", json!({}))
            .await,
        Value::Null
    );
    // The one-round-trip mint used by the server: fails cleanly for a missing user.
    // Aliased projections are outside the subset.
    let (status, body) = emu
        .send(
            "secret",
            json!({"query": "User.all() { n: .name }"}),
            "simple",
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Not emulated"),
        "{body}"
    );
    let q = "let u = User.byId(uid)!\nlet t = Token.create({ document: u, ttl: Time.now().add(5000, 'milliseconds'), data: { session: h } })\n{ id: t.id, secret: t.secret }";
    let (_, code) = emu.err("secret", q, json!({"uid": "1", "h": "x"})).await;
    assert_eq!(code, "document_not_found");
    assert_eq!(emu.stats().await["live_tokens"], 0);
    let uid = emu.ok("secret", "User.create({}).id", json!({})).await;
    let out = emu.ok("secret", q, json!({"uid": uid, "h": "x"})).await;
    assert!(out["secret"].as_str().unwrap().starts_with("fnE"));
    assert_eq!(emu.stats().await["live_tokens"], 1);
}

#[tokio::test]
async fn databases_scopes_and_collections() {
    let emu = Emu::start(Config {
        databases: vec!["app".into()],
        collections: vec!["app/User".into()],
        ..Config::default()
    })
    .await;
    // The root database has no User collection; `app` does.
    let (_, code) = emu.err("secret", "User.all()", json!({})).await;
    assert_eq!(code, "invalid_query");
    let uid = emu
        .ok("secret:app:server", "User.create({}).id", json!({}))
        .await;
    let (_, code) = emu
        .err(
            "secret:app:server",
            "Collection.create({ name: 'X' })",
            json!({}),
        )
        .await;
    assert_eq!(code, "permission_denied");
    emu.ok(
        "secret:app:admin",
        "Collection.create({ name: 'Post' })",
        json!({}),
    )
    .await;
    emu.ok("secret:app:server", "Post.create({ t: 1 })", json!({}))
        .await;
    // A key made in the root database for `app`.
    let key = emu
        .ok(
            "secret",
            "Key.create({ role: 'server', database: 'app' }).secret",
            json!({}),
        )
        .await;
    let key = key.as_str().unwrap();
    assert_eq!(key.len(), 40);
    assert!(key.starts_with("fnA"));
    let tok = emu
        .ok(
            key,
            "Token.create({ document: User.byId(uid) }).secret",
            json!({"uid": uid}),
        )
        .await;
    // Tokens carry their database: the identity resolves in `app`.
    let (status, body) = emu
        .send(
            tok.as_str().unwrap(),
            json!({"query": "Query.token()!.document.id"}),
            "simple",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], uid);
    // Server keys may not scope; unknown databases do not authenticate.
    let (status, _) = emu.err(&format!("{key}:admin"), "1", json!({})).await;
    assert_eq!(status, 401);
    let (status, _) = emu.err("secret:nope:admin", "1", json!({})).await;
    assert_eq!(status, 401);
    let (_, code) = emu
        .err(
            "secret",
            "Key.create({ role: 'server', database: 'nope' })",
            json!({}),
        )
        .await;
    assert_eq!(code, "constraint_failure");
}

#[tokio::test]
async fn stats_and_injected_faults() {
    let emu = Emu::start(config()).await;
    let before = emu.stats().await["queries"].as_u64().unwrap();
    emu.ok("secret", "1", json!({})).await;
    emu.ok("secret", "2", json!({})).await;
    assert_eq!(emu.stats().await["queries"].as_u64().unwrap(), before + 2);
    let res = emu
        .http
        .post(format!("{}/_emulator/fault", emu.base))
        .bearer_auth("secret")
        .json(&json!({"status": 503, "count": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for _ in 0..2 {
        let (status, body) = emu.send("secret", json!({"query": "1"}), "simple").await;
        assert_eq!(status, 503);
        assert_eq!(body["error"]["code"], "time_out");
    }
    emu.ok("secret", "1", json!({})).await;
    let stats = emu.stats().await;
    assert_eq!(stats["by_status"]["503"], 2);
}

#[tokio::test]
async fn hostile_queries_get_errors_not_crashes() {
    let emu = Emu::start(config()).await;
    let long_chain = format!("let x = {{ a: 1 }}\nx{}", ".a".repeat(20_000));
    let sums = format!("1{}", " + 1".repeat(50_000));
    let nested = format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000));
    let calls = format!("abort{}", "()".repeat(20_000));
    for q in [
        long_chain.as_str(),
        sums.as_str(),
        nested.as_str(),
        calls.as_str(),
        "'\u{1F600}",
        "\u{1F600}",
        "\"\\u{110000}\"",
    ] {
        let (status, body) = emu.send("secret", json!({ "query": q }), "simple").await;
        assert_eq!(status, 400, "{body}");
        assert!(body["error"]["code"].is_string());
    }
    let ok = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    assert_eq!(
        emu.send("secret", json!({ "query": ok }), "simple").await.0,
        200
    );
    let (status, body) = emu
        .send(
            "secret",
            json!({ "query": "'caf\u{e9}' + \"\\u00e9\"" }),
            "simple",
        )
        .await;
    assert_eq!((status, body["data"].as_str()), (200, Some("café\u{e9}")));
}
