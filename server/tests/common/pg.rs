//! A throwaway PostgreSQL cluster for one test binary: `initdb` in a temp dir (as the `postgres` user when
//! running as root), a random loopback port, the socket dir inside the temp dir. A watchdog stops the cluster
//! and deletes the directory when the test process exits.
//!
//! PostgreSQL cannot listen on port 0, so the port is a free one chosen just before the first start; if another
//! listener takes it meanwhile, the start is tried again on another port (bounded).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running cluster.
pub struct PgCluster {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// Outlives this process on purpose (it cleans up after it); never waited for.
    watchdog: Option<std::process::Child>,
}

fn pg_bin() -> PathBuf {
    if let Ok(p) = std::env::var("PG_BIN") {
        return PathBuf::from(p);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().expect(
        "PostgreSQL server binaries not found: install Debian's `postgresql` package or set PG_BIN",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// How many ports a first start tries.
const START_ATTEMPTS: u32 = 5;
/// PostgreSQL's log line when its port is taken.
const PORT_TAKEN: &str = "Address already in use";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl PgCluster {
    fn command(&self, program: &Path) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// initdb + start.
    pub fn start_new() -> Self {
        let bin = pg_bin();
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "fauna-session-pg-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("create pg dir");
        if as_postgres {
            let ok = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown {dir:?} to postgres failed");
        }
        let mut cluster = PgCluster {
            port: 0,
            dir,
            bin,
            as_postgres,
            watchdog: None,
        };
        let out = cluster
            .command(&cluster.bin.join("initdb"))
            .args(["-D"])
            .arg(cluster.data_dir())
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .stdout(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The watchdog first: it also cleans up after a start that fails.
        cluster.watchdog = Some(cluster.spawn_watchdog());
        for attempt in 1.. {
            cluster.port = free_port();
            match cluster.try_start() {
                Ok(()) => break,
                Err(e) if attempt < START_ATTEMPTS && e.contains(PORT_TAKEN) => continue,
                Err(e) => panic!("{e}"),
            }
        }
        cluster
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Restart the server on its port and wait until it accepts connections.
    #[allow(
        dead_code,
        reason = "tests/faults.rs restarts it; server/benches include this file too"
    )]
    pub fn start(&self) {
        self.try_start().unwrap_or_else(|e| panic!("{e}"));
    }

    /// [`PgCluster::start`], or why it failed (with the server log's new lines).
    fn try_start(&self) -> Result<(), String> {
        let log = self.dir.join("log");
        let log_before = std::fs::metadata(&log).map_or(0, |m| m.len());
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400",
            self.port,
            self.dir.display()
        );
        let out = self
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .args(["-l"])
            .arg(&log)
            .args(["-o", &opts, "-w", "-t", "60", "start"])
            .stdout(Stdio::null())
            .output()
            .expect("run pg_ctl start");
        if !out.status.success() {
            let log = std::fs::read(&log).unwrap_or_default();
            let new = log.get(log_before as usize..).unwrap_or_default();
            return Err(format!(
                "pg_ctl start on port {} failed: {}{}",
                self.port,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(new)
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() >= deadline {
                return Err("PostgreSQL did not start".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Stop the server at once, as a crash would (`-m immediate`: no shutdown checkpoint, clients cut).
    #[allow(
        dead_code,
        reason = "tests/outages.rs crashes it; server/benches include this file too"
    )]
    pub fn stop_now(&self) {
        self.pg_ctl_stop("immediate");
    }

    /// Stop the server (fast shutdown).
    pub fn stop(&self) {
        self.pg_ctl_stop("fast");
    }

    /// `pg_ctl stop` in shutdown `mode`, waiting for it.
    fn pg_ctl_stop(&self, mode: &str) {
        let _ = self
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", mode, "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Stop the cluster and remove its directory once this process is gone.
    fn spawn_watchdog(&self) -> std::process::Child {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; {pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data_dir().display(),
            dir = self.dir.display(),
        );
        let mut c = self.command(Path::new("/bin/sh"));
        c.args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c.spawn().expect("spawn pg watchdog")
    }

    /// URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}
