//! Throwaway Redis and PostgreSQL servers for tests and for `cargo xtask`.
//!
//! Every test that touches Redis or PostgreSQL talks to a real server. This crate finds one:
//! `REDIS_URL` / `DATABASE_URL` when they are set, and otherwise a `redis-server` and a `postgres`
//! (initdb in a temporary directory) started on free loopback ports. Servers started here are
//! stopped by their own PIDs: when their guard drops, and through the kernel's parent-death signal
//! when the process that started them ends in any way (a failed test, Ctrl-C, `kill -9`).
//!
//! Missing binaries are installed with `apt-get` when running as root; otherwise the error says in
//! one line what to install. Nothing here ever skips a tier.
//!
//! ```no_run
//! // In a test: the shared servers of this test binary (started once, on first use).
//! let redis_url = test_services::redis_url();
//! let database_url = test_services::database_url();
//! assert!(redis_url.starts_with("redis://"));
//! assert!(database_url.starts_with("postgres://"));
//!
//! // A private server that a fault test may stop and start again on the same port.
//! let mut redis = test_services::RedisServer::start().unwrap();
//! redis.stop().unwrap();
//! redis.restart().unwrap();
//! ```

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Why a server could not be found or started.
#[derive(Debug)]
pub struct ServiceError(String);

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServiceError {}

fn err(msg: impl Into<String>) -> ServiceError {
    ServiceError(msg.into())
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, ServiceError>;

/// How a server is started.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions {
    /// Keep the server running after this process ends (for `cargo xtask services up`).
    pub detached: bool,
}

const DIR_PREFIX: &str = "pipeline-svc-";
const DETACHED_PREFIX: &str = "pipeline-svc-detached-";
static SEQ: AtomicU32 = AtomicU32::new(0);

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes directories left by earlier runs whose owning process is gone.
fn sweep_stale_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(DIR_PREFIX) || name.starts_with(DETACHED_PREFIX) {
            continue;
        }
        let owner = name[DIR_PREFIX.len()..]
            .split('-')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(owner) = owner {
            if !pid_alive(owner) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

fn make_dir(kind: &str, opts: StartOptions) -> Result<PathBuf> {
    sweep_stale_dirs();
    let prefix = if opts.detached {
        DETACHED_PREFIX
    } else {
        DIR_PREFIX
    };
    let dir = std::env::temp_dir().join(format!(
        "{prefix}{}-{kind}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// A free TCP port on 127.0.0.1 (the OS picks it; the listener is closed before returning).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| err(format!("cannot bind a loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("cannot read the bound port: {e}")))
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

static APT_UPDATED: OnceLock<bool> = OnceLock::new();

/// Installs a Debian package when running as root, or says what to install.
fn install_or_explain(binary: &str, package: &str, env_var: &str) -> Result<()> {
    let explain = || {
        err(format!(
            "`{binary}` was not found: install it (Debian/Ubuntu: `apt-get install {package}`) \
             or set {env_var} to a running server"
        ))
    };
    if !is_root() || which("apt-get").is_none() {
        return Err(explain());
    }
    eprintln!("test-services: `{binary}` not found; installing `{package}` with apt-get");
    APT_UPDATED.get_or_init(|| {
        Command::new("apt-get")
            .args(["update", "-qq"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    });
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| err(format!("apt-get install {package} could not run: {e}")))?;
    if !status.success() {
        return Err(err(format!(
            "apt-get install {package} failed ({status}); install it by hand or set {env_var}"
        )));
    }
    Ok(())
}

fn redis_binary() -> Result<PathBuf> {
    if let Some(p) = which("redis-server") {
        return Ok(p);
    }
    install_or_explain("redis-server", "redis-server", "REDIS_URL")?;
    which("redis-server").ok_or_else(|| err("redis-server is still missing after installing it"))
}

fn postgres_bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if dir.join("postgres").is_file() && dir.join("initdb").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("postgres").is_file() && bin.join("initdb").is_file()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    match (which("postgres"), which("initdb")) {
        (Some(p), Some(_)) => p.parent().map(Path::to_path_buf),
        _ => None,
    }
}

fn postgres_binaries() -> Result<PathBuf> {
    if let Some(dir) = postgres_bindir() {
        return Ok(dir);
    }
    install_or_explain("postgres", "postgresql", "DATABASE_URL")?;
    postgres_bindir().ok_or_else(|| err("postgres is still missing after installing postgresql"))
}

/// The uid/gid to run PostgreSQL as: itself refuses to run as root.
fn postgres_user() -> Result<Option<(u32, u32)>> {
    if !is_root() {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == "postgres" {
            let uid = f[2].parse().map_err(|_| err("bad uid for postgres"))?;
            let gid = f[3].parse().map_err(|_| err("bad gid for postgres"))?;
            return Ok(Some((uid, gid)));
        }
    }
    Err(err(
        "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` \
         user to run it as: create one (`useradd -r postgres`) or run as a normal user",
    ))
}

/// Prepares a command so its process gets `signal` when this process ends.
fn die_with_parent(cmd: &mut Command, signal: i32) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as i32;
    // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "parent exited before the server started",
                ));
            }
            Ok(())
        });
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill with a valid signal number has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Waits for a child (or, for a detached server, a PID) to exit.
fn wait_exit(child: &mut Option<Child>, pid: u32, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        match child {
            Some(c) => {
                if matches!(c.try_wait(), Ok(Some(_)) | Err(_)) {
                    return true;
                }
            }
            None => {
                if !pid_alive(pid) {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn stop_pid(child: &mut Option<Child>, pid: u32, signals: &[(i32, Duration)]) {
    for &(sig, timeout) in signals {
        signal(pid, sig);
        if wait_exit(child, pid, timeout) {
            break;
        }
    }
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

fn child_exited(child: &mut Option<Child>) -> bool {
    child
        .as_mut()
        .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
}

/// A `redis-server` owned by this process.
pub struct RedisServer {
    child: Option<Child>,
    pid: u32,
    port: u16,
    dir: PathBuf,
    opts: StartOptions,
    running: bool,
    owns_dir: bool,
}

impl RedisServer {
    /// Starts a throwaway server on a free loopback port.
    pub fn start() -> Result<Self> {
        Self::start_with(StartOptions::default())
    }

    /// Starts a server with the given options.
    pub fn start_with(opts: StartOptions) -> Result<Self> {
        let dir = make_dir("redis", opts)?;
        let mut last = err("no attempt made");
        for _ in 0..5 {
            let port = free_port()?;
            let mut server = RedisServer {
                child: None,
                pid: 0,
                port,
                dir: dir.clone(),
                opts,
                running: false,
                owns_dir: true,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) => {
                    server.owns_dir = false;
                    last = e;
                }
            }
        }
        let _ = fs::remove_dir_all(&dir);
        Err(last)
    }

    fn spawn(&mut self) -> Result<()> {
        let bin = redis_binary()?;
        let log = self.dir.join("redis.log");
        let mut cmd = Command::new(bin);
        cmd.args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--protected-mode", "no", "--dir"])
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if !self.opts.detached {
            die_with_parent(&mut cmd, libc::SIGTERM);
        } else {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .map_err(|e| err(format!("cannot start redis-server: {e}")))?;
        self.pid = child.id();
        self.child = Some(child);
        self.running = true;
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if child_exited(&mut self.child) {
                self.running = false;
                return Err(err(format!(
                    "redis-server exited at start on port {}:\n{}",
                    self.port,
                    tail(&log)
                )));
            }
            if redis_ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop()?;
        Err(err(format!(
            "redis-server did not answer PING within 15 s:\n{}",
            tail(&log)
        )))
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the server is running (it was started and not stopped).
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Stops the server (SIGTERM, then SIGKILL); [`RedisServer::restart`] starts it again.
    pub fn stop(&mut self) -> Result<()> {
        if self.running {
            stop_pid(
                &mut self.child,
                self.pid,
                &[(libc::SIGTERM, Duration::from_secs(5))],
            );
            self.running = false;
        }
        Ok(())
    }

    /// Starts the server again on the same port (after [`RedisServer::stop`]).
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Leaves the server running past this value; returns (pid, port, directory).
    pub fn detach(mut self) -> (u32, u16, PathBuf) {
        self.running = false;
        self.child = None;
        self.owns_dir = false;
        (self.pid, self.port, self.dir.clone())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.stop();
        if self.owns_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn redis_ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// A PostgreSQL server (initdb in a temporary directory) owned by this process.
pub struct PostgresServer {
    child: Option<Child>,
    pid: u32,
    port: u16,
    dir: PathBuf,
    opts: StartOptions,
    running: bool,
    owns_dir: bool,
}

impl PostgresServer {
    /// Initialises a cluster in a temporary directory and starts it on a free loopback port.
    pub fn start() -> Result<Self> {
        Self::start_with(StartOptions::default())
    }

    /// Starts a server with the given options.
    pub fn start_with(opts: StartOptions) -> Result<Self> {
        let bindir = postgres_binaries()?;
        let user = postgres_user()?;
        let dir = make_dir("postgres", opts)?;
        let data = dir.join("data");
        fs::create_dir_all(&data)
            .map_err(|e| err(format!("cannot create {}: {e}", data.display())))?;
        if let Some((uid, gid)) = user {
            for p in [&dir, &data] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))
                    .map_err(|e| err(format!("cannot chown {}: {e}", p.display())))?;
            }
        }
        let mut cmd = Command::new(bindir.join("initdb"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync", "--no-instructions"])
            .env("LC_ALL", "C")
            .env("HOME", &dir)
            .current_dir(&dir)
            .stdin(Stdio::null());
        as_user(&mut cmd, user);
        let out = cmd
            .output()
            .map_err(|e| err(format!("cannot run initdb: {e}")))?;
        if !out.status.success() {
            let _ = fs::remove_dir_all(&dir);
            return Err(err(format!(
                "initdb failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut last = err("no attempt made");
        for _ in 0..5 {
            let port = free_port()?;
            let mut server = PostgresServer {
                child: None,
                pid: 0,
                port,
                dir: dir.clone(),
                opts,
                running: false,
                owns_dir: true,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) => {
                    server.owns_dir = false;
                    last = e;
                }
            }
        }
        let _ = fs::remove_dir_all(&dir);
        Err(last)
    }

    fn spawn(&mut self) -> Result<()> {
        let bindir = postgres_binaries()?;
        let user = postgres_user()?;
        let data = self.dir.join("data");
        let log = self.dir.join("postgres.log");
        let logfile = fs::File::create(&log)
            .map_err(|e| err(format!("cannot create {}: {e}", log.display())))?;
        let logfile2 = logfile
            .try_clone()
            .map_err(|e| err(format!("cannot clone log handle: {e}")))?;
        let mut cmd = Command::new(bindir.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
            .args(["-c", "shared_buffers=64MB"])
            .env("LC_ALL", "C")
            .env("HOME", &self.dir)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(logfile)
            .stderr(logfile2);
        as_user(&mut cmd, user);
        if !self.opts.detached {
            die_with_parent(&mut cmd, libc::SIGINT);
        } else {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .map_err(|e| err(format!("cannot start postgres: {e}")))?;
        self.pid = child.id();
        self.child = Some(child);
        self.running = true;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if child_exited(&mut self.child) {
                self.running = false;
                return Err(err(format!(
                    "postgres exited at start on port {}:\n{}",
                    self.port,
                    tail(&log)
                )));
            }
            if postgres_ready(&data, self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        self.stop()?;
        Err(err(format!(
            "postgres was not ready within 30 s:\n{}",
            tail(&log)
        )))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the server is running (it was started and not stopped).
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Stops the server (fast shutdown, then immediate, then SIGKILL); the data directory is
    /// kept, so [`PostgresServer::restart`] brings the same database back.
    pub fn stop(&mut self) -> Result<()> {
        if self.running {
            stop_pid(
                &mut self.child,
                self.pid,
                &[
                    (libc::SIGINT, Duration::from_secs(10)),
                    (libc::SIGQUIT, Duration::from_secs(5)),
                ],
            );
            self.running = false;
        }
        Ok(())
    }

    /// Starts the server again on the same port with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Leaves the server running past this value; returns (pid, port, directory).
    pub fn detach(mut self) -> (u32, u16, PathBuf) {
        self.running = false;
        self.child = None;
        self.owns_dir = false;
        (self.pid, self.port, self.dir.clone())
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self.stop();
        if self.owns_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn as_user(cmd: &mut Command, user: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
}

fn postgres_ready(data: &Path, port: u16) -> bool {
    let Ok(pidfile) = fs::read_to_string(data.join("postmaster.pid")) else {
        return false;
    };
    let ready = pidfile
        .lines()
        .nth(7)
        .is_some_and(|status| status.trim() == "ready");
    ready
        && TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(200),
        )
        .is_ok()
}

/// Stops a detached server by PID and removes its directory (for `cargo xtask services down`).
pub fn stop_detached(pid: u32, dir: &Path, postgres: bool) {
    let mut none = None;
    if pid_alive(pid) {
        let signals: &[(i32, Duration)] = if postgres {
            &[
                (libc::SIGINT, Duration::from_secs(10)),
                (libc::SIGQUIT, Duration::from_secs(5)),
                (libc::SIGKILL, Duration::from_secs(5)),
            ]
        } else {
            &[
                (libc::SIGTERM, Duration::from_secs(5)),
                (libc::SIGKILL, Duration::from_secs(5)),
            ]
        };
        stop_pid(&mut none, pid, signals);
    }
    let _ = fs::remove_dir_all(dir);
}

/// The URLs of the servers a test run uses, and whether each was started here.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `REDIS_URL` as set, or the URL of a server started here.
    pub redis_url: String,
    /// `DATABASE_URL` as set, or the URL of a server started here.
    pub database_url: String,
}

/// Servers found or started for a run; dropping it stops the ones it started.
pub struct Services {
    /// The URLs to hand to tests.
    pub urls: Urls,
    /// The Redis server started here (None when `REDIS_URL` was set).
    pub redis: Option<RedisServer>,
    /// The PostgreSQL server started here (None when `DATABASE_URL` was set).
    pub postgres: Option<PostgresServer>,
}

fn env_url(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Services {
    /// Uses `REDIS_URL`/`DATABASE_URL` when set; starts throwaway servers for the others.
    pub fn from_env_or_start(opts: StartOptions) -> Result<Self> {
        let (redis, redis_url) = match env_url("REDIS_URL") {
            Some(url) => (None, url),
            None => {
                let s = RedisServer::start_with(opts)?;
                let url = s.url();
                (Some(s), url)
            }
        };
        let (postgres, database_url) = match env_url("DATABASE_URL") {
            Some(url) => (None, url),
            None => {
                let s = PostgresServer::start_with(opts)?;
                let url = s.url();
                (Some(s), url)
            }
        };
        Ok(Services {
            urls: Urls {
                redis_url,
                database_url,
            },
            redis,
            postgres,
        })
    }
}

static SHARED: OnceLock<std::result::Result<Urls, String>> = OnceLock::new();
static KEEP: Mutex<Vec<Services>> = Mutex::new(Vec::new());

/// The servers shared by every test of this process: found or started once, on first use.
///
/// Servers started here live on a thread that never ends, so the kernel's parent-death signal
/// stops them only when the whole process ends.
///
/// # Panics
/// When no server can be found or started: a test must never pass by skipping a tier.
pub fn shared() -> Urls {
    let res = SHARED.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("test-services".into())
            .spawn(move || {
                let res = Services::from_env_or_start(StartOptions::default());
                match res {
                    Ok(s) => {
                        let urls = s.urls.clone();
                        if let Ok(mut keep) = KEEP.lock() {
                            keep.push(s);
                        }
                        let _ = tx.send(Ok(urls));
                        loop {
                            std::thread::park();
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        match spawned {
            Ok(_) => rx
                .recv()
                .unwrap_or_else(|_| Err("test-services thread died".into())),
            Err(e) => Err(format!("cannot spawn the test-services thread: {e}")),
        }
    });
    match res {
        Ok(urls) => urls.clone(),
        Err(e) => panic!("test services unavailable: {e}"),
    }
}

/// The Redis URL for tests: `REDIS_URL`, or a server started for this process.
pub fn redis_url() -> String {
    shared().redis_url
}

/// The PostgreSQL URL for tests: `DATABASE_URL`, or a server started for this process.
pub fn database_url() -> String {
    shared().database_url
}
