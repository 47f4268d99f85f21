//! Slow clients against the binary over real TCP from several loopback addresses (127.0.0.2, .3, …: distinct
//! client IPs on Linux's 127/8): bodies trickled a byte a second hold only their own client's share of the
//! server, never the global slots; a client IP's connections are capped; `/health` stays outside the global
//! limit.

mod common;

use std::time::Duration;

use common::Backend;
use common::process::{ServerProcess, email, response_head};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

/// A TCP connection to `addr` from the loopback address `from`.
async fn connect_from(from: &str, addr: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(addr.parse().unwrap()).await.unwrap()
}

/// A sign-in that promises a 60,000-byte body, on its own task: sends the headers, then a byte a second, and
/// returns the status line of whatever answer it gets (or `""` if the connection closed without one).
fn trickling_sign_in(from: &'static str, addr: String) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let stream = connect_from(from, &addr).await;
        let (mut read, mut write) = stream.into_split();
        let head = format!(
            "POST /auth/signin HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\n\
             rid: emailpassword\r\ncontent-length: 60000\r\n\r\n{{"
        );
        if write.write_all(head.as_bytes()).await.is_err() {
            return String::new();
        }
        let trickle = tokio::spawn(async move {
            for _ in 0..60 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if write.write_all(b" ").await.is_err() {
                    return;
                }
            }
        });
        let head = tokio::time::timeout(Duration::from_secs(40), response_head(&mut read))
            .await
            .unwrap_or_default();
        trickle.abort();
        head.lines().next().unwrap_or("").to_owned()
    })
}

/// Three client IPs each open 12 trickling sign-ins against 16 global slots and 4 per client: each client
/// gets 429 for all but its 4, those 4 get 408 at the body deadline, and meanwhile another client signs in
/// and `/health` answers at once. (Before the body was read ahead of the global limit, 36 trickling bodies
/// held all 16 slots and a sign-in waited out the request timeout.)
async fn trickled_bodies_hold_only_their_clients_share(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let s = ServerProcess::start(
        &url,
        &[
            "--max-concurrent-requests",
            "16",
            "--max-requests-per-ip",
            "4",
            "--body-timeout",
            "4",
            "--rate-limit-signin",
            "0",
        ],
    );
    let addr = s.url.trim_start_matches("http://").to_owned();
    let e = email();
    assert_eq!(s.sign_up(&e).await.status(), 200);

    let mut attack = Vec::new();
    for from in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        for _ in 0..12 {
            attack.push((from, trickling_sign_in(from, addr.clone())));
        }
    }
    // Let the attack take hold.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The server keeps answering everyone else while it lasts.
    for _ in 0..3 {
        let health = tokio::time::timeout(
            Duration::from_secs(2),
            s.http.get(format!("{}/health", s.url)).send(),
        )
        .await
        .expect("/health answered within 2 s during the attack")
        .unwrap();
        assert_eq!(health.status(), 200);
        let signin = tokio::time::timeout(Duration::from_secs(5), s.sign_in(&e, "secret123"))
            .await
            .expect("a sign-in answered within 5 s during the attack");
        assert_eq!(signin.status(), 200);
    }

    let mut by_client = std::collections::BTreeMap::<&str, Vec<String>>::new();
    for (from, task) in attack {
        by_client.entry(from).or_default().push(task.await.unwrap());
    }
    for (from, mut statuses) in by_client {
        statuses.sort();
        let timed_out = statuses.iter().filter(|s| s.contains(" 408 ")).count();
        let refused = statuses.iter().filter(|s| s.contains(" 429 ")).count();
        assert_eq!(
            (timed_out, refused),
            (4, 8),
            "{from}: 4 bodies read until the deadline, 8 refused: {statuses:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_hold_only_their_clients_share_sqlite() {
    trickled_bodies_hold_only_their_clients_share(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_hold_only_their_clients_share_postgres() {
    trickled_bodies_hold_only_their_clients_share(Backend::Postgres).await;
}

/// Whether `stream` is closed by the server (EOF or reset) within 5 s without answering.
async fn closed_unanswered(stream: &mut TcpStream) -> bool {
    use tokio::io::AsyncReadExt as _;
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// `--max-connections-per-ip 3`: a fourth connection from one address is closed at once, another address is
/// served, and a closed connection frees its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ips_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let s = ServerProcess::start(&db, &["--max-connections-per-ip", "3"]);
    let addr = s.url.trim_start_matches("http://").to_owned();
    let health = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n");

    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = connect_from("127.0.0.5", &addr).await;
        c.write_all(health.as_bytes()).await.unwrap();
        let head = response_head(&mut c).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head:?}");
        held.push(c);
    }
    let mut fourth = connect_from("127.0.0.5", &addr).await;
    let _ = fourth.write_all(health.as_bytes()).await;
    assert!(
        closed_unanswered(&mut fourth).await,
        "a fourth connection from one IP is closed"
    );

    let mut other = connect_from("127.0.0.6", &addr).await;
    other.write_all(health.as_bytes()).await.unwrap();
    assert!(response_head(&mut other).await.starts_with("HTTP/1.1 200"));

    drop(held.pop());
    // The server notices the close when it reads the connection's end; give it a moment.
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut c = connect_from("127.0.0.5", &addr).await;
        if c.write_all(health.as_bytes()).await.is_ok() {
            let head = response_head(&mut c).await;
            if head.starts_with("HTTP/1.1 200") {
                again = Some(c);
                break;
            }
        }
    }
    assert!(again.is_some(), "a closed connection frees its place");
}

/// `/health` answers while every global slot is held (here: the only one, by a request parked in a handler),
/// and a second client's request waits for the slot instead of being refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_outside_the_global_limit() {
    use std::sync::Arc;

    use axum::routing::{get, post};
    use fauna_session_server::RequestLimits;

    let release = Arc::new(tokio::sync::Notify::new());
    let parked = Arc::new(tokio::sync::Notify::new());
    let app = axum::Router::new()
        .route(
            "/park",
            post({
                let (release, parked) = (release.clone(), parked.clone());
                move || async move {
                    parked.notify_one();
                    release.notified().await;
                    "released"
                }
            }),
        )
        .route("/work", get(|| async { "done" }))
        .route("/health", get(|| async { "ok" }));
    let app = RequestLimits {
        max_concurrent_requests: 1,
        ..RequestLimits::default()
    }
    .apply(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let http = reqwest::Client::new();

    let park = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move { http.post(format!("{url}/park")).body("x").send().await }
    });
    parked.notified().await;
    let health = tokio::time::timeout(
        Duration::from_secs(5),
        http.get(format!("{url}/health")).send(),
    )
    .await
    .expect("/health answered while the only slot is held")
    .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");

    let work = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move { http.get(format!("{url}/work")).send().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!work.is_finished(), "/work waits for the held slot");
    release.notify_one();
    assert_eq!(
        park.await.unwrap().unwrap().text().await.unwrap(),
        "released"
    );
    assert_eq!(work.await.unwrap().unwrap().text().await.unwrap(), "done");
}
