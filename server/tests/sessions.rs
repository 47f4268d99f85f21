//! The session protocol through real HTTP, on SQLite and on PostgreSQL.

mod common;

use std::time::Duration;

use common::{
    Backend, TestServer, Tokens, assert_cookies_cleared, front_token, header, json_body,
    jwt_payload, set_cookie, set_cookies,
};
use fauna_session_server::{AntiCsrf, SameSite, TokenTransfer};
use serde_json::{Value, json};

both_backends!(
    cookie_mode_lifecycle,
    header_mode_lifecycle,
    front_token_contents,
    cookie_attributes_default_and_cross_site,
    concurrent_refreshes_with_one_token,
    token_theft_detected,
    refresh_twice_then_old_token_is_theft,
    anti_csrf_matrix,
    expired_access_token_asks_for_refresh,
    verify_time_promotion,
    payload_merge_and_session_data,
    invalid_claims_answer_403,
    revoke_all_sessions_of_a_user,
    key_rotation_keeps_old_tokens_valid,
    jwks_verifies_our_tokens,
    signup_signin_bodies,
    bad_input_never_500,
    missing_session_answers,
    optional_session_extractor,
    background_cleanup_of_sessions_and_keys,
);

async fn cookie_mode_lifecycle(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let mut t = s.new_session("cookie").await;
    assert!(t.cookie_mode);
    let r = s.session_info(&t).await;
    assert_eq!(r.status(), 200);
    let info: Value = r.json().await.expect("json");
    let user_id = info["userId"].as_str().expect("userId").to_owned();
    assert_eq!(info["accessTokenPayload"]["sub"], user_id.as_str());

    let r = s.refresh(&t).await;
    assert_eq!(r.status(), 200);
    assert!(
        front_token(r.headers()).is_some(),
        "refresh must send front-token"
    );
    t.update(r.headers());
    assert_eq!(json_body(r).await, json!({}));
    let r = s.session_info(&t).await;
    assert_eq!(r.status(), 200);
    t.update(r.headers());

    let r = t
        .apply(s.http.post(s.at("/auth/signout")).header("rid", "session"))
        .send()
        .await
        .expect("signout");
    assert_eq!(r.status(), 200);
    assert_cookies_cleared(r.headers());
    assert_eq!(json_body(r).await, json!({"status": "OK"}));
    // The refresh token no longer works.
    let r = s.refresh(&t).await;
    assert_eq!(r.status(), 401);
    assert_eq!(json_body(r).await, json!({"message": "unauthorised"}));
    assert!(s.handles(&user_id).await.is_empty());
}

async fn header_mode_lifecycle(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    // Missing st-auth-mode defaults to header mode.
    let r = s.signup("").await;
    assert_eq!(r.status(), 200);
    assert!(
        set_cookies(r.headers()).is_empty(),
        "header mode sets no cookies"
    );
    let mut t = Tokens::from_response(r.headers()).expect("header tokens");
    assert!(!t.cookie_mode);
    let expose = header(r.headers(), "access-control-expose-headers").expect("expose headers");
    for h in [
        "front-token",
        "st-access-token",
        "st-refresh-token",
        "anti-csrf",
    ] {
        assert!(expose.contains(h), "{h} exposed in {expose}");
    }
    assert_eq!(s.session_info(&t).await.status(), 200);
    let r = s.refresh(&t).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookies(r.headers()).is_empty());
    t.update(r.headers());
    let r = s.session_info(&t).await;
    assert_eq!(r.status(), 200);
    t.update(r.headers());
    let r = t
        .apply(s.http.post(s.at("/auth/signout")))
        .send()
        .await
        .expect("signout");
    assert_eq!(r.status(), 200);
    assert_eq!(header(r.headers(), "front-token"), Some("remove"));
    assert_eq!(header(r.headers(), "st-access-token"), Some(""));
    assert_eq!(header(r.headers(), "st-refresh-token"), Some(""));
    assert_eq!(s.refresh(&t).await.status(), 401);
}

async fn front_token_contents(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let r = s.signup("cookie").await;
    let ft = front_token(r.headers()).expect("front-token");
    let t = Tokens::from_response(r.headers()).expect("tokens");
    let claims = jwt_payload(&t.access);
    assert_eq!(ft["uid"], claims["sub"]);
    assert_eq!(ft["ate"].as_i64(), claims["exp"].as_i64().map(|e| e * 1000));
    assert_eq!(ft["up"], claims);
    let keys: Vec<&String> = claims.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "sub",
            "exp",
            "iat",
            "tId",
            "rsub",
            "sessionHandle",
            "refreshTokenHash1",
            "parentRefreshTokenHash1",
            "antiCsrfToken",
            "iss"
        ]
    );
    assert_eq!(claims["iss"], format!("{}/auth", s.url));
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        3600
    );
    let header_json = {
        use base64::Engine as _;
        let h = t.access.split('.').next().expect("header");
        serde_json::from_slice::<Value>(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .expect("b64"),
        )
        .expect("json")
    };
    assert_eq!(header_json["alg"], "RS256");
    assert_eq!(header_json["typ"], "JWT");
    assert_eq!(header_json["version"], "5");
    assert!(header_json["kid"].as_str().expect("kid").starts_with("d-"));
}

async fn cookie_attributes_default_and_cross_site(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let r = s.signup("cookie").await;
    let a = set_cookie(r.headers(), "sAccessToken").expect("access cookie");
    assert_eq!(a.attr("HttpOnly"), Some(None));
    assert_eq!(a.attr("Path"), Some(Some("/")));
    assert_eq!(a.attr("SameSite"), Some(Some("Lax")));
    assert_eq!(a.attr("Secure"), None);
    assert_eq!(a.attr("Domain"), None);
    let rt = set_cookie(r.headers(), "sRefreshToken").expect("refresh cookie");
    assert_eq!(rt.attr("HttpOnly"), Some(None));
    assert_eq!(rt.attr("Path"), Some(Some("/auth/session/refresh")));

    // Cross-site website over https: SameSite=None; Secure; custom base path and domain.
    let s = TestServer::start(b, |c| {
        c.website_origins = vec!["https://app.example.com".into()];
        c.api_domain = "https://api.other.com".into();
        c.api_base_path = "/api/auth".into();
        c.cookie_domain = Some(".other.com".into());
    })
    .await;
    assert_eq!(s.engine.config().cookie_same_site(), SameSite::None);
    assert_eq!(s.engine.config().anti_csrf(), AntiCsrf::ViaCustomHeader);
    let email = format!(
        "x{}@example.com",
        fauna_session_server::users::new_user_id()
    );
    let r = s
        .http
        .post(s.at("/api/auth/signup"))
        .header("st-auth-mode", "cookie")
        .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": "secret123"}]}))
        .send()
        .await
        .expect("signup");
    assert_eq!(r.status(), 200);
    let a = set_cookie(r.headers(), "sAccessToken").expect("access cookie");
    assert_eq!(a.attr("SameSite"), Some(Some("None")));
    assert_eq!(a.attr("Secure"), Some(None));
    assert_eq!(a.attr("Domain"), Some(Some(".other.com")));
    let rt = set_cookie(r.headers(), "sRefreshToken").expect("refresh cookie");
    assert_eq!(rt.attr("Path"), Some(Some("/api/auth/session/refresh")));

    // CORS preflight for the website origin.
    let r = s
        .http
        .request(reqwest::Method::OPTIONS, s.at("/api/auth/session/refresh"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "rid,fdi-version,st-auth-mode,anti-csrf,authorization,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success());
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(r.headers(), "access-control-allow-credentials"),
        Some("true")
    );
    let allowed = header(r.headers(), "access-control-allow-headers")
        .expect("allow headers")
        .to_ascii_lowercase();
    for h in [
        "rid",
        "fdi-version",
        "st-auth-mode",
        "anti-csrf",
        "authorization",
        "content-type",
    ] {
        assert!(allowed.contains(h), "{h} allowed");
    }
    let r = s
        .http
        .get(s.at("/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("health");
    assert_eq!(header(r.headers(), "access-control-allow-origin"), None);
}

async fn concurrent_refreshes_with_one_token(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    for (mode, pick) in [("cookie", 0usize), ("cookie", 19), ("header", 7)] {
        let t = s.new_session(mode).await;
        let before = s.metric("fauna_session_token_theft_total").await;
        let futs = (0..20).map(|_| s.refresh(&t));
        let responses = futures_util::future::join_all(futs).await;
        let mut children = Vec::new();
        for r in responses {
            assert_eq!(r.status(), 200, "every concurrent refresh succeeds");
            let mut c = t.clone();
            c.update(r.headers());
            children.push(c);
        }
        // Responses may reach different requests in any order: a sibling's access token works too.
        let other = (pick + 5) % 20;
        for i in [other, pick] {
            let r = s.session_info(&children[i]).await;
            assert_eq!(r.status(), 200, "{mode}: access token of child {i}");
            children[i].update(r.headers());
        }
        // The client keeps one of them and continues.
        let mut c = children[pick].clone();
        for round in 0..3 {
            let r = s.refresh(&c).await;
            assert_eq!(
                r.status(),
                200,
                "{mode}: refresh {round} continuing with child {pick}"
            );
            c.update(r.headers());
            let r = s.session_info(&c).await;
            assert_eq!(r.status(), 200);
            c.update(r.headers());
        }
        assert_eq!(s.metric("fauna_session_token_theft_total").await, before);
    }
}

async fn token_theft_detected(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let t0 = s.new_session("cookie").await;
    let info: Value = s.session_info(&t0).await.json().await.expect("json");
    let user_id = info["userId"].as_str().expect("uid").to_owned();
    let r = s.refresh(&t0).await;
    assert_eq!(r.status(), 200);
    let mut t1 = t0.clone();
    t1.update(r.headers());
    // Use the new access token: the new refresh token becomes current.
    let r = s.session_info(&t1).await;
    assert_eq!(r.status(), 200);
    // Reuse the old refresh token: theft.
    let r = s.refresh(&t0).await;
    assert_eq!(r.status(), 401);
    assert_cookies_cleared(r.headers());
    assert_eq!(
        json_body(r).await,
        json!({"message": "token theft detected"})
    );
    assert!(s.handles(&user_id).await.is_empty(), "session revoked");
    assert_eq!(
        s.refresh(&t1).await.status(),
        401,
        "the thief's lineage is dead too"
    );
    assert_eq!(s.metric("fauna_session_token_theft_total").await, 1);
}

async fn refresh_twice_then_old_token_is_theft(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let t0 = s.new_session("header").await;
    let r = s.refresh(&t0).await;
    let mut t1 = t0.clone();
    t1.update(r.headers());
    let r = s.refresh(&t1).await;
    assert_eq!(r.status(), 200, "refresh with the child promotes it");
    let r = s.refresh(&t0).await;
    assert_eq!(r.status(), 401);
    assert_eq!(json_body(r).await["message"], "token theft detected");
}

async fn anti_csrf_matrix(b: Backend) {
    // VIA_TOKEN
    let s = TestServer::start(b, |c| c.anti_csrf = Some(AntiCsrf::ViaToken)).await;
    let t = s.new_session("cookie").await;
    let token = t
        .anti_csrf
        .clone()
        .expect("anti-csrf header in VIA_TOKEN mode");
    assert_eq!(jwt_payload(&t.access)["antiCsrfToken"], token.as_str());
    let no_csrf = Tokens {
        anti_csrf: None,
        ..t.clone()
    };
    let wrong = Tokens {
        anti_csrf: Some("wrong".into()),
        ..t.clone()
    };
    let post = |t: &Tokens| t.apply(s.http.post(s.at("/test/optional"))).send();
    assert_eq!(post(&t).await.expect("post").status(), 200);
    let r = post(&no_csrf).await.expect("post");
    assert_eq!(r.status(), 401);
    assert_eq!(json_body(r).await["message"], "try refresh token");
    assert_eq!(post(&wrong).await.expect("post").status(), 401);
    // GET is not checked.
    assert_eq!(s.session_info(&no_csrf).await.status(), 200);
    // Refresh needs the token too; a successful refresh issues a new one.
    assert_eq!(s.refresh(&no_csrf).await.status(), 401);
    let r = s.refresh(&t).await;
    assert_eq!(r.status(), 200);
    let new = header(r.headers(), "anti-csrf")
        .expect("new anti-csrf")
        .to_owned();
    assert_ne!(new, token);
    // Header mode never uses anti-CSRF.
    let h = s.new_session("header").await;
    assert!(h.anti_csrf.is_none());
    assert_eq!(jwt_payload(&h.access)["antiCsrfToken"], Value::Null);
    assert_eq!(post(&h).await.expect("post").status(), 200);
    assert_eq!(s.refresh(&h).await.status(), 200);

    // VIA_CUSTOM_HEADER: non-GET needs any `rid`.
    let s = TestServer::start(b, |c| c.anti_csrf = Some(AntiCsrf::ViaCustomHeader)).await;
    let t = s.new_session("cookie").await;
    assert!(t.anti_csrf.is_none());
    let r = t
        .apply(s.http.post(s.at("/test/optional")))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401);
    let r = t
        .apply(
            s.http
                .post(s.at("/test/optional"))
                .header("rid", "anti-csrf"),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    assert_eq!(s.session_info(&t).await.status(), 200);
    let r = t
        .apply_refresh(s.http.post(s.at("/auth/session/refresh")))
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 401, "refresh without rid");
    assert_eq!(json_body(r).await["message"], "unauthorised");
    assert_eq!(s.refresh(&t).await.status(), 200);
    let h = s.new_session("header").await;
    assert_eq!(
        h.apply(s.http.post(s.at("/test/optional")))
            .send()
            .await
            .expect("post")
            .status(),
        200
    );

    // NONE
    let s = TestServer::start(b, |c| c.anti_csrf = Some(AntiCsrf::None)).await;
    let t = s.new_session("cookie").await;
    assert_eq!(
        t.apply(s.http.post(s.at("/test/optional")))
            .send()
            .await
            .expect("post")
            .status(),
        200
    );
    let r = t
        .apply_refresh(s.http.post(s.at("/auth/session/refresh")))
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
}

async fn expired_access_token_asks_for_refresh(b: Backend) {
    let s = TestServer::start(b, |c| c.access_token_lifetime = Duration::from_secs(1)).await;
    let mut t = s.new_session("cookie").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = s.session_info(&t).await;
    assert_eq!(r.status(), 401);
    assert!(
        set_cookies(r.headers()).is_empty(),
        "try refresh token leaves tokens alone"
    );
    assert_eq!(json_body(r).await, json!({"message": "try refresh token"}));
    let r = s.refresh(&t).await;
    assert_eq!(r.status(), 200);
    t.update(r.headers());
    assert_eq!(s.session_info(&t).await.status(), 200);
}

async fn verify_time_promotion(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let t0 = s.new_session("header").await;
    let r = s.refresh(&t0).await;
    let mut t1 = t0.clone();
    t1.update(r.headers());
    assert!(jwt_payload(&t1.access)["parentRefreshTokenHash1"].is_string());
    let promotions = s.metric("fauna_session_verify_promotions_total").await;
    let r = s.session_info(&t1).await;
    assert_eq!(r.status(), 200);
    let replacement = header(r.headers(), "st-access-token")
        .expect("replacement token")
        .to_owned();
    let p = jwt_payload(&replacement);
    assert_eq!(p["parentRefreshTokenHash1"], Value::Null);
    assert_eq!(
        p["exp"],
        jwt_payload(&t1.access)["exp"],
        "replacement keeps exp"
    );
    assert!(front_token(r.headers()).is_some());
    assert_eq!(
        s.metric("fauna_session_verify_promotions_total").await,
        promotions + 1
    );
    t1.update(r.headers());
    // Later verifications are stateless: no new token.
    let r = s.session_info(&t1).await;
    assert_eq!(r.status(), 200);
    assert!(header(r.headers(), "st-access-token").is_none());
    assert_eq!(
        s.metric("fauna_session_verify_promotions_total").await,
        promotions + 1
    );
}

async fn payload_merge_and_session_data(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let mut t = s.new_session("cookie").await;
    let exp = jwt_payload(&t.access)["exp"].clone();
    let r = t
        .apply(s.http.post(s.at("/test/merge")))
        .json(&json!({"role": "admin", "team": 7, "sub": "hijack", "exp": 1}))
        .send()
        .await
        .expect("merge");
    assert_eq!(r.status(), 200);
    t.update(r.headers());
    let p = jwt_payload(&t.access);
    assert_eq!(p["role"], "admin");
    assert_eq!(p["team"], 7);
    assert_ne!(p["sub"], "hijack", "protected claims cannot be overwritten");
    assert_eq!(p["exp"], exp, "merge keeps exp");
    assert_eq!(
        front_token(r.headers()).expect("front-token")["up"]["role"],
        "admin"
    );
    // null deletes.
    let r = t
        .apply(s.http.post(s.at("/test/merge")))
        .json(&json!({"team": null}))
        .send()
        .await
        .expect("merge");
    t.update(r.headers());
    let p = jwt_payload(&t.access);
    assert!(p.get("team").is_none());
    assert_eq!(p["role"], "admin");
    // The payload survives a refresh.
    let r = s.refresh(&t).await;
    t.update(r.headers());
    assert_eq!(jwt_payload(&t.access)["role"], "admin");
    // Session data is private and updatable.
    let r = t
        .apply(s.http.post(s.at("/test/data")))
        .json(&json!({"secret": 1}))
        .send()
        .await
        .expect("data");
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await, json!({}));
    let handle = p["sessionHandle"].as_str().expect("handle");
    let info = s
        .engine
        .session_information(handle)
        .await
        .expect("info")
        .expect("exists");
    assert_eq!(info.session_data_in_database.get("secret"), Some(&json!(1)));
    assert_eq!(
        info.custom_claims_in_access_token_payload.get("role"),
        Some(&json!("admin"))
    );
    assert!(jwt_payload(&t.access).get("secret").is_none());
}

async fn invalid_claims_answer_403(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let mut t = s.new_session("cookie").await;
    let call = |t: &Tokens| t.apply(s.http.post(s.at("/test/admin"))).send();
    let r = call(&t).await.expect("admin");
    assert_eq!(r.status(), 403);
    assert!(
        set_cookies(r.headers()).is_empty() && front_token(r.headers()).is_none(),
        "a claim failure leaves the session alone"
    );
    assert_eq!(
        json_body(r).await,
        json!({"message": "invalid claim", "claimValidationErrors": [
            {"id": "role", "reason": {"message": "value does not exist", "expectedValue": "admin", "actualValue": null}},
            {"id": "teams", "reason": {"message": "value does not exist", "expectedToInclude": "ops", "actualValue": null}},
        ]})
    );

    let r = t
        .apply(s.http.post(s.at("/test/merge")))
        .json(&json!({"role": "admin", "teams": ["dev"]}))
        .send()
        .await
        .expect("merge");
    t.update(r.headers());
    let r = call(&t).await.expect("admin");
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["claimValidationErrors"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(body["claimValidationErrors"][0]["id"], "teams");

    let r = t
        .apply(s.http.post(s.at("/test/merge")))
        .json(&json!({"teams": ["dev", "ops"]}))
        .send()
        .await
        .expect("merge");
    t.update(r.headers());
    let r = call(&t).await.expect("admin");
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await, json!({"ok": true}));
}

async fn revoke_all_sessions_of_a_user(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let t = s.new_session("header").await;
    let user = jwt_payload(&t.access)["sub"]
        .as_str()
        .expect("sub")
        .to_owned();
    let mut sessions = vec![t];
    for _ in 0..2 {
        let n = s
            .engine
            .create_session(
                &user,
                Default::default(),
                Default::default(),
                TokenTransfer::Header,
            )
            .await
            .expect("create");
        sessions.push(Tokens {
            cookie_mode: false,
            access: n.access_token.token,
            refresh: n.refresh_token.token,
            anti_csrf: None,
        });
    }
    assert_eq!(s.handles(&user).await.len(), 3);
    let revoked = s
        .engine
        .revoke_all_sessions_for_user(&user)
        .await
        .expect("revoke");
    assert_eq!(revoked.len(), 3);
    assert!(s.handles(&user).await.is_empty());
    for t in &sessions {
        assert_eq!(s.refresh(t).await.status(), 401);
        // The instance that ended the sessions refuses their access tokens at once (another instance would
        // accept them until exp, except on routes that check the database: tests/ended_sessions.rs).
        assert_eq!(s.session_info(t).await.status(), 401);
    }
}

async fn key_rotation_keeps_old_tokens_valid(b: Backend) {
    let s = TestServer::start(b, |c| c.key_publish_ahead = Duration::ZERO).await;
    let old = s.new_session("header").await;
    let old_kid = s.engine.keys().keys()[0].kid.clone();
    let new_kid = s.engine.rotate_signing_key().await.expect("rotate");
    assert_ne!(old_kid, new_kid);
    let jwks = s.get_json("/auth/jwt/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
    let fresh = s.new_session("header").await;
    let kid_of = |t: &str| {
        use base64::Engine as _;
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t.split('.').next().expect("h"))
            .expect("b64");
        serde_json::from_slice::<Value>(&h).expect("json")["kid"]
            .as_str()
            .expect("kid")
            .to_owned()
    };
    assert_eq!(kid_of(&fresh.access), new_kid);
    assert_eq!(kid_of(&old.access), old_kid);
    assert_eq!(
        s.session_info(&old).await.status(),
        200,
        "old token still verifies"
    );
    assert_eq!(s.session_info(&fresh).await.status(), 200);

    // A key published ahead is in the JWKS but does not sign yet.
    let s2 = TestServer::start(b, |_| {}).await;
    let signing = s2.engine.keys().keys()[0].kid.clone();
    let ahead = s2.engine.rotate_signing_key().await.expect("rotate");
    let t = s2.new_session("header").await;
    assert_eq!(kid_of(&t.access), signing);
    let jwks = s2.get_json("/auth/jwt/jwks.json").await;
    assert!(
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == ahead.as_str())
    );

    // Another instance on the same database learns new keys on demand (unknown kid ⇒ reload).
    let other = fauna_session_server::SessionEngine::new(
        s.engine.config().clone(),
        std::sync::Arc::new(s.store.clone()),
    )
    .await
    .expect("engine");
    let newest = s.engine.rotate_signing_key().await.expect("rotate");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let t = s.new_session("header").await;
    assert_eq!(kid_of(&t.access), newest);
    let v = other
        .verify_access_token(&t.access)
        .await
        .expect("other instance verifies");
    assert!(v.replacement.is_none());
}

async fn jwks_verifies_our_tokens(b: Backend) {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
    use base64::Engine as _;
    let s = TestServer::start(b, |_| {}).await;
    let t = s.new_session("header").await;
    let r = s
        .http
        .get(s.at("/auth/jwt/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some("*")
    );
    let cc = header(r.headers(), "cache-control")
        .expect("cache-control")
        .to_owned();
    assert!(
        cc.starts_with("max-age=") && cc.ends_with("must-revalidate"),
        "{cc}"
    );
    let jwks: Value = r.json().await.expect("json");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = t.access.split('.').collect();
    let kid = {
        let h: Value = serde_json::from_slice(&b64.decode(parts[0]).expect("b64")).expect("json");
        h["kid"].as_str().expect("kid").to_owned()
    };
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("jwk for kid");
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    let n = b64.decode(jwk["n"].as_str().expect("n")).expect("n");
    let e = b64.decode(jwk["e"].as_str().expect("e")).expect("e");
    assert_eq!(n.len(), 256, "RSA-2048");
    let sig = b64.decode(parts[2]).expect("sig");
    let msg = format!("{}.{}", parts[0], parts[1]);
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, msg.as_bytes(), &sig)
        .expect("JWKS verifies the token");
    for path in [
        "/auth/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
    ] {
        let oidc = s.get_json(path).await;
        assert_eq!(oidc["issuer"], format!("{}/auth", s.url));
        assert_eq!(oidc["jwks_uri"], format!("{}/auth/jwt/jwks.json", s.url));
    }
}

async fn signup_signin_bodies(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let post = |path: &'static str, body: Value| {
        s.http
            .post(s.at(path))
            .header("st-auth-mode", "cookie")
            .json(&body)
            .send()
    };
    let creds = |e: &str, p: &str| json!({"formFields": [{"id": "email", "value": e}, {"id": "password", "value": p}]});
    let r = post("/auth/signup", creds("  Alice@Example.com ", "secret123"))
        .await
        .expect("signup");
    assert_eq!(r.status(), 200);
    assert!(set_cookie(r.headers(), "sAccessToken").is_some());
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "OK");
    let id = body["user"]["id"].as_str().expect("id").to_owned();
    assert!(id.parse::<i64>().expect("63-bit decimal id") > 0);
    assert_eq!(body["user"]["emails"], json!(["alice@example.com"]));
    assert_eq!(body["user"]["loginMethods"][0]["recipeId"], "emailpassword");

    let r = post("/auth/signup", creds("alice@example.com", "secret123"))
        .await
        .expect("signup");
    assert_eq!(
        json_body(r).await,
        json!({"status": "FIELD_ERROR", "formFields": [{"id": "email", "error": "This email already exists. Please sign in instead."}]})
    );
    let r = post("/auth/signup", creds("not-an-email", "short"))
        .await
        .expect("signup");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "FIELD_ERROR");
    assert_eq!(
        body["formFields"][0],
        json!({"id": "email", "error": "Email is invalid"})
    );
    assert_eq!(body["formFields"][1]["id"], "password");
    let r = post(
        "/auth/signup",
        json!({"formFields": [{"id": "email", "value": "b@example.com"}]}),
    )
    .await
    .expect("signup");
    assert_eq!(
        json_body(r).await["formFields"][0],
        json!({"id": "password", "error": "Field is not optional"})
    );

    let r = post("/auth/signin", creds("ALICE@example.com", "secret123"))
        .await
        .expect("signin");
    assert_eq!(r.status(), 200);
    assert!(set_cookie(r.headers(), "sRefreshToken").is_some());
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "OK");
    assert_eq!(body["user"]["id"], id.as_str());
    for (e, p) in [
        ("alice@example.com", "wrong1234"),
        ("nobody@example.com", "secret123"),
    ] {
        let r = post("/auth/signin", creds(e, p)).await.expect("signin");
        assert_eq!(r.status(), 200);
        assert!(set_cookies(r.headers()).is_empty());
        assert_eq!(
            json_body(r).await,
            json!({"status": "WRONG_CREDENTIALS_ERROR"})
        );
    }
    let exists = |e: &str| {
        s.http
            .get(s.at("/auth/emailpassword/email/exists"))
            .query(&[("email", e)])
            .send()
    };
    assert_eq!(
        exists("alice@example.com")
            .await
            .expect("exists")
            .json::<Value>()
            .await
            .expect("json"),
        json!({"status": "OK", "exists": true})
    );
    assert_eq!(
        exists("zed@example.com")
            .await
            .expect("exists")
            .json::<Value>()
            .await
            .expect("json"),
        json!({"status": "OK", "exists": false})
    );
    let r = s
        .http
        .get(s.at("/auth/emailpassword/email/exists"))
        .send()
        .await
        .expect("exists");
    assert_eq!(r.status(), 400);
    assert_eq!(s.metric("fauna_session_signups_total").await, 1);
    assert_eq!(s.metric("fauna_session_signins_total").await, 1);
}

async fn bad_input_never_500(b: Backend) {
    use base64::Engine as _;
    let s = TestServer::start(b, |_| {}).await;
    let t = s.new_session("header").await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = t.access.split('.').collect();
    let kid = {
        let h: Value = serde_json::from_slice(&b64.decode(parts[0]).expect("b64")).expect("json");
        h["kid"].as_str().expect("kid").to_owned()
    };
    let mut payload = jwt_payload(&t.access);
    payload["sub"] = json!("someone-else");
    let forged_payload = b64.encode(payload.to_string());
    let hdr = |alg: &str, kid: &str| {
        b64.encode(json!({"alg": alg, "typ": "JWT", "kid": kid, "version": "5"}).to_string())
    };
    // HS256 "signed" with the public key bytes (algorithm confusion).
    let jwks = s.get_json("/auth/jwt/jwks.json").await;
    let n = jwks["keys"][0]["n"].as_str().expect("n").to_owned();
    let hs_input = format!("{}.{}", hdr("HS256", &kid), parts[1]);
    let hs_sig = {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, n.as_bytes());
        b64.encode(aws_lc_rs::hmac::sign(&key, hs_input.as_bytes()).as_ref())
    };
    let bad_access_tokens = [
        (
            "tampered payload",
            format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
        ),
        ("alg none", format!("{}.{}.", hdr("none", &kid), parts[1])),
        ("HS256 with public key", format!("{hs_input}.{hs_sig}")),
        (
            "unknown kid",
            format!("{}.{}.{}", hdr("RS256", "d-1"), parts[1], parts[2]),
        ),
        (
            "truncated signature",
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
        ),
        ("garbage segments", "e30.e30.e30".to_owned()),
        ("non-base64", "a$b.c%d.e^f".to_owned()),
    ];
    for (what, token) in &bad_access_tokens {
        for cookie in [false, true] {
            let rb = s.http.get(s.at("/sessioninfo"));
            let rb = if cookie {
                rb.header("cookie", format!("sAccessToken={token}"))
            } else {
                rb.header("authorization", format!("Bearer {token}"))
            };
            let r = rb.send().await.expect("request");
            let status = r.status().as_u16();
            assert!(status == 401, "{what} (cookie={cookie}) → {status}");
        }
    }
    let garbage_requests: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "garbage cookie header",
            s.http
                .get(s.at("/sessioninfo"))
                .header("cookie", ";;;=;sAccessToken;=x;\""),
        ),
        (
            "duplicate access cookies",
            s.http.get(s.at("/sessioninfo")).header(
                "cookie",
                format!("sAccessToken={}; sAccessToken=x", t.access),
            ),
        ),
        (
            "bearer without token",
            s.http
                .get(s.at("/sessioninfo"))
                .header("authorization", "Bearer "),
        ),
        (
            "non-utf8 cookie",
            s.http.get(s.at("/sessioninfo")).header(
                "cookie",
                reqwest::header::HeaderValue::from_bytes(b"sAccessToken=\xff\xfe").expect("hv"),
            ),
        ),
        (
            "refresh: garbage bearer",
            s.http
                .post(s.at("/auth/session/refresh"))
                .header("authorization", "Bearer x.y"),
        ),
        (
            "refresh: garbage cookie",
            s.http
                .post(s.at("/auth/session/refresh"))
                .header("rid", "session")
                .header("cookie", "sRefreshToken=%%%"),
        ),
        (
            "refresh: access token as refresh token",
            s.http
                .post(s.at("/auth/session/refresh"))
                .header("authorization", format!("Bearer {}", t.access)),
        ),
        (
            "refresh: nothing",
            s.http.post(s.at("/auth/session/refresh")),
        ),
        (
            "refresh: forged MAC",
            s.http.post(s.at("/auth/session/refresh")).header(
                "authorization",
                format!("Bearer {}.AAAA", t.refresh.split('.').next().expect("body")),
            ),
        ),
        (
            "signout without session",
            s.http.post(s.at("/auth/signout")),
        ),
        (
            "signup: malformed json",
            s.http
                .post(s.at("/auth/signup"))
                .header("content-type", "application/json")
                .body("{\"formFields\": ["),
        ),
        (
            "signup: not an object",
            s.http.post(s.at("/auth/signup")).json(&json!([1, 2])),
        ),
        (
            "signup: no formFields",
            s.http.post(s.at("/auth/signup")).json(&json!({})),
        ),
        (
            "signup: formFields not array",
            s.http
                .post(s.at("/auth/signup"))
                .json(&json!({"formFields": "x"})),
        ),
        (
            "signup: bad element",
            s.http
                .post(s.at("/auth/signup"))
                .json(&json!({"formFields": [1]})),
        ),
        (
            "signup: non-string value",
            s.http
                .post(s.at("/auth/signup"))
                .json(&json!({"formFields": [{"id": "email", "value": 5}]})),
        ),
        (
            "signup: extra field",
            s.http
                .post(s.at("/auth/signup"))
                .json(&json!({"formFields": [{"id": "x", "value": "y"}]})),
        ),
        ("signin: empty body", s.http.post(s.at("/auth/signin"))),
        (
            "merge: malformed json",
            t.apply(s.http.post(s.at("/test/merge")))
                .header("content-type", "application/json")
                .body("nope"),
        ),
    ];
    for (what, rb) in garbage_requests {
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "{what} → {status}");
    }
    // The session still works afterwards.
    assert_eq!(s.session_info(&t).await.status(), 200);
    // Bearer that is not an access token falls back to the cookie.
    let c = s.new_session("cookie").await;
    let r = s
        .http
        .get(s.at("/sessioninfo"))
        .header("authorization", "Bearer some-other-api-key")
        .header("cookie", format!("sAccessToken={}", c.access))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
}

async fn missing_session_answers(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let r = s
        .http
        .get(s.at("/sessioninfo"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    assert!(
        set_cookies(r.headers()).is_empty(),
        "no Set-Cookie without a session"
    );
    assert_eq!(json_body(r).await, json!({"message": "unauthorised"}));
    let r = s
        .http
        .post(s.at("/auth/session/refresh"))
        .header("rid", "session")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    assert_cookies_cleared(r.headers());
}

async fn optional_session_extractor(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let r: Value = s
        .http
        .get(s.at("/test/optional"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(r, json!({"userId": null}));
    let t = s.new_session("header").await;
    let r: Value = t
        .apply(s.http.get(s.at("/test/optional")))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(r["userId"], jwt_payload(&t.access)["sub"]);
}

async fn background_cleanup_of_sessions_and_keys(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.refresh_token_lifetime = Duration::from_secs(1);
        c.access_token_lifetime = Duration::from_secs(1);
        c.key_rotation_interval = Duration::from_secs(2);
        c.key_publish_ahead = Duration::ZERO;
        c.maintenance_interval = Duration::from_millis(200);
    })
    .await;
    let _task = s.engine.spawn_maintenance();
    let first_kid = s.engine.keys().keys()[0].kid.clone();
    let t = s.new_session("header").await;
    let handle = jwt_payload(&t.access)["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    use fauna_session_server::store::SessionStore as _;
    assert!(s.store.session(&handle).await.expect("read").is_some());
    // Retention of a key: interval (2 s) + publish-ahead (0) + 2 × access lifetime (1 s) = 4 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let gone = s.store.session(&handle).await.expect("read").is_none();
        let kids: Vec<String> = s
            .engine
            .keys()
            .keys()
            .iter()
            .map(|k| k.kid.clone())
            .collect();
        if gone && !kids.contains(&first_kid) && !kids.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expired session and old key not cleaned up: {kids:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(s.refresh(&t).await.status(), 401);
    // Tokens signed with the current key verify.
    let t = s.new_session("header").await;
    assert_eq!(s.session_info(&t).await.status(), 200);
}

/// The CORS layer allows every request header the browser library sends and exposes every response header it
/// reads: both lists come from the shared protocol crate, and a preflight answers each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_and_exposes_the_protocol_headers() {
    use fauna_session_protocol::header::{CORS_ALLOWED_HEADERS, EXPOSED_HEADERS, SENT_BY_BROWSER};
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    let origin = "http://127.0.0.1:8000";
    let preflight = s
        .http
        .request(reqwest::Method::OPTIONS, s.at("/sessioninfo"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", SENT_BY_BROWSER.join(","))
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let list = |r: &reqwest::Response, name: &str| -> Vec<String> {
        r.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().to_ascii_lowercase())
            .collect()
    };
    assert_eq!(
        header(preflight.headers(), "access-control-allow-origin"),
        Some(origin)
    );
    let allowed = list(&preflight, "access-control-allow-headers");
    for h in CORS_ALLOWED_HEADERS {
        assert!(
            allowed.iter().any(|a| a == h),
            "{h} not allowed: {allowed:?}"
        );
    }
    let t = s.new_session("header").await;
    let r = t
        .apply(s.http.get(s.at("/sessioninfo")).header("origin", origin))
        .send()
        .await
        .expect("sessioninfo");
    assert_eq!(r.status(), 200);
    let exposed = list(&r, "access-control-expose-headers");
    for h in EXPOSED_HEADERS {
        assert!(
            exposed.iter().any(|e| e == h),
            "{h} not exposed: {exposed:?}"
        );
    }
}
