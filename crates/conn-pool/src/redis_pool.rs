//! [`RedisPool`]: a few multiplexed connections shared by every task (a `get` is a clone, never
//! an exclusive checkout), with bb8 and bb8-redis owning their creation, checks and replacement.

use crate::config::PoolConfig;
use crate::core::Shared;
use crate::error::{BackendError, ConnectError, Error, Result};
use crate::pg::health_report;
use crate::redact::{url_scheme, RedactedUrl, Scrubber};
use crate::stats::{Health, PoolStats};
use parking_lot::RwLock;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Cmd, FromRedisValue, RedisFuture, Value};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Parses and checks a Redis URL (`redis://[user][:password]@host[:port][/db]`); the error
/// names what is wrong and never shows the password.
pub(crate) fn parse_url(url: &str) -> Result<redis::Client> {
    let shown = RedactedUrl::new(url);
    let scrub = Scrubber::for_url(url);
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(Error::Config("the Redis URL is empty".into()));
    }
    let scheme = url_scheme(trimmed).map(|(s, _)| s);
    if !matches!(
        scheme,
        Some("redis" | "rediss" | "unix" | "redis+unix" | "valkey" | "valkeys")
    ) {
        return Err(Error::Config(format!(
            "{shown}: the scheme must be redis://, rediss:// or unix://"
        )));
    }
    redis::Client::open(trimmed).map_err(|e| {
        Error::Config(format!(
            "{shown}: not a valid Redis URL: {}",
            scrub.scrub(&e.to_string())
        ))
    })
}

fn is_auth_error(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"))
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() || e.is_timeout()
}

/// What every clone of one shared connection knows about it.
#[derive(Debug)]
struct ConnHealth {
    broken: AtomicBool,
    born: Instant,
}

/// The connection bb8 owns: the multiplexed connection and its health flag.
pub(crate) struct RedisConnection {
    conn: MultiplexedConnection,
    health: Arc<ConnHealth>,
}

pub(crate) struct RedisManager {
    inner: bb8_redis::RedisConnectionManager,
    shared: Arc<Shared>,
}

impl RedisManager {
    fn error(&self, e: &redis::RedisError) -> ConnectError {
        self.shared.connect_failed(is_auth_error(e), &e.to_string())
    }
}

impl bb8::ManageConnection for RedisManager {
    type Connection = RedisConnection;
    type Error = ConnectError;

    async fn connect(&self) -> Result<RedisConnection, ConnectError> {
        let limit = self.shared.config.connect_timeout;
        let _connecting = self.shared.connecting();
        let attempt = async {
            let mut conn = bb8::ManageConnection::connect(&self.inner).await?;
            // One PING per new connection (never per request): a server that wants a password
            // we did not send answers NOAUTH here, so the pool reports an auth error at once.
            redis::cmd("PING").query_async::<()>(&mut conn).await?;
            Ok::<_, redis::RedisError>(conn)
        };
        match tokio::time::timeout(limit, attempt).await {
            Err(_) => Err(self
                .shared
                .connect_failed(false, &format!("connecting timed out after {limit:?}"))),
            Ok(Err(e)) => Err(self.error(&e)),
            Ok(Ok(conn)) => {
                self.shared.connected();
                Ok(RedisConnection {
                    conn,
                    health: Arc::new(ConnHealth {
                        broken: AtomicBool::new(false),
                        born: Instant::now(),
                    }),
                })
            }
        }
    }

    async fn is_valid(&self, conn: &mut RedisConnection) -> Result<(), ConnectError> {
        if conn.health.broken.load(Ordering::Relaxed) {
            return Err(ConnectError {
                auth: false,
                message: "connection marked broken".into(),
            });
        }
        redis::cmd("PING")
            .query_async::<()>(&mut conn.conn)
            .await
            .map_err(|e| ConnectError {
                auth: is_auth_error(&e),
                message: self.shared.scrubber.scrub(&e.to_string()),
            })
    }

    fn has_broken(&self, conn: &mut RedisConnection) -> bool {
        let broken = conn.health.broken.load(Ordering::Relaxed);
        if broken {
            self.shared.closed.fetch_add(1, Ordering::Relaxed);
        }
        broken
    }
}

/// One shared connection in use: a lease from bb8 held for as long as the slot uses it.
struct Live {
    conn: MultiplexedConnection,
    health: Arc<ConnHealth>,
    _lease: bb8::PooledConnection<'static, RedisManager>,
}

#[derive(Default)]
struct Slot {
    live: RwLock<Option<Live>>,
    refresh: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
}

struct RedisInner {
    pool: bb8::Pool<RedisManager>,
    shared: Arc<Shared>,
    slots: Box<[Slot]>,
    next: AtomicUsize,
}

/// A Redis pool of a few multiplexed connections shared by all callers.
///
/// [`RedisPool::get`] hands out a clone of one of them (round robin): many tasks pipeline over
/// the same socket, which is how Redis is fastest. A connection that fails is marked broken by
/// whoever saw the error, retired to bb8 (which closes it) and replaced by a fresh one.
///
/// ```no_run
/// # async fn demo() -> conn_pool::Result<()> {
/// use conn_pool::RedisPool;
/// let pool = RedisPool::builder("redis://127.0.0.1:6379/").connections(2).build().await?;
/// let _: () = pool.query(redis::cmd("SET").arg("greeting").arg("hello")).await?;
/// let v: Option<String> = pool.query(redis::cmd("GET").arg("greeting")).await?;
/// assert_eq!(v.as_deref(), Some("hello"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisPool {
    inner: Arc<RedisInner>,
}

impl fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPool")
            .field("name", &self.inner.shared.name)
            .field("server", &self.inner.shared.server)
            .field("connections", &self.inner.slots.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisPool`].
#[derive(Clone)]
pub struct RedisPoolBuilder {
    url: String,
    config: PoolConfig,
    name: String,
    connections: u32,
}

impl fmt::Debug for RedisPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPoolBuilder")
            .field("url", &RedactedUrl::new(&self.url))
            .field("config", &self.config)
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

impl RedisPoolBuilder {
    /// Timeouts, lifetime and warm-up (`max_size`, `min_idle` and the reserved share do not
    /// apply: there is no exclusive checkout to size).
    pub fn config(mut self, config: PoolConfig) -> Self {
        self.config = config;
        self
    }

    /// A name for logs, metrics labels and health reports (default `redis`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How many multiplexed connections to share (default 2; 1 to 4 is plenty for most loads).
    pub fn connections(mut self, n: u32) -> Self {
        self.connections = n;
        self
    }

    /// Checks the URL and the config without connecting.
    ///
    /// ```
    /// use conn_pool::RedisPool;
    /// assert!(RedisPool::builder("redis://:pw@127.0.0.1:6379/0").validate().is_ok());
    /// let err = RedisPool::builder("http://:pw@127.0.0.1/").validate().unwrap_err();
    /// assert!(err.to_string().contains("scheme"));
    /// assert!(!err.to_string().contains("pw"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.checked_config()?;
        parse_url(&self.url).map(drop)
    }

    fn checked_config(&self) -> Result<PoolConfig> {
        if self.connections == 0 {
            return Err(Error::Config("connections must be at least 1".into()));
        }
        let mut config = self.config.clone();
        config.max_size = self.connections;
        config.min_idle = 0;
        config.reserved_for_priority = 0;
        config.validate()?;
        Ok(config)
    }

    /// Builds the pool; with `warm_up` it opens every connection first and fails with
    /// [`Error::Auth`] or [`Error::Unavailable`] when it cannot.
    pub async fn build(self) -> Result<RedisPool> {
        let config = self.checked_config()?;
        let client = parse_url(&self.url)?;
        let mut passwords = crate::redact::passwords_in(&self.url);
        if let Some(p) = client.get_connection_info().redis_settings().password() {
            passwords.push(p.to_string());
        }
        let shared = Arc::new(Shared::new(
            self.name,
            "redis",
            RedactedUrl::new(&self.url),
            Scrubber::new(passwords.iter().map(String::as_str)),
            config.clone(),
        ));
        let inner = bb8_redis::RedisConnectionManager::new(client.get_connection_info().clone())
            .map_err(|e| Error::Config(shared.scrubber.scrub(&e.to_string())))?;
        let manager = RedisManager {
            inner,
            shared: shared.clone(),
        };
        let pool = bb8::Pool::builder()
            .max_size(config.max_size)
            .min_idle(None)
            // Checkouts happen only when a slot is (re)filled, never per request, so a PING
            // there is cheap and catches a connection that died while idle in bb8.
            .test_on_check_out(true)
            .max_lifetime(config.max_lifetime)
            .idle_timeout(config.idle_timeout)
            .connection_timeout(
                config.acquire_timeout + config.connect_timeout + Duration::from_secs(1),
            )
            .retry_connection(false)
            .build_unchecked(manager);
        let slots = (0..config.max_size).map(|_| Slot::default()).collect();
        let pool = RedisPool {
            inner: Arc::new(RedisInner {
                pool,
                shared,
                slots,
                next: AtomicUsize::new(0),
            }),
        };
        if config.warm_up {
            let deadline = Instant::now() + config.acquire_timeout;
            for i in 0..pool.inner.slots.len() {
                pool.refill(i, deadline).await?;
            }
        }
        Ok(pool)
    }
}

impl RedisPool {
    /// A builder for a pool to `url` with the default [`PoolConfig`] and 2 connections.
    pub fn builder(url: impl Into<String>) -> RedisPoolBuilder {
        RedisPoolBuilder {
            url: url.into(),
            config: PoolConfig::default(),
            name: "redis".into(),
            connections: 2,
        }
    }

    /// Shorthand for `RedisPool::builder(url).config(config).build()`.
    pub async fn connect(url: &str, config: PoolConfig) -> Result<RedisPool> {
        Self::builder(url).config(config).build().await
    }

    /// A handle on a shared connection: a clone, not an exclusive checkout, so it never waits
    /// for other callers. Only when no connection is healthy does it reconnect, bounded by the
    /// acquire timeout, failing at once with [`Error::Unavailable`] / [`Error::Auth`] when the
    /// attempt fails.
    pub async fn get(&self) -> Result<RedisConn> {
        let inner = &*self.inner;
        let n = inner.slots.len();
        let first = inner.next.fetch_add(1, Ordering::Relaxed) % n;
        for k in 0..n {
            let idx = (first + k) % n;
            match self.try_slot(idx) {
                SlotState::Ready(conn) => {
                    if k > 0 {
                        self.refill_in_background(first);
                    }
                    inner.shared.acquired(None);
                    return Ok(conn);
                }
                SlotState::Expiring(conn) => {
                    self.refill_in_background(idx);
                    inner.shared.acquired(None);
                    return Ok(conn);
                }
                SlotState::Empty => {}
            }
        }
        let start = Instant::now();
        let conn = self
            .refill(first, start + inner.shared.config.acquire_timeout)
            .await?;
        inner.shared.acquired(Some(start.elapsed()));
        Ok(conn)
    }

    /// Runs one command on a shared connection.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T> {
        self.get().await?.query(cmd).await
    }

    fn try_slot(&self, idx: usize) -> SlotState {
        let slot = &self.inner.slots[idx];
        let guard = slot.live.read();
        let Some(live) = guard.as_ref() else {
            return SlotState::Empty;
        };
        if live.health.broken.load(Ordering::Relaxed) {
            return SlotState::Empty;
        }
        let conn = RedisConn {
            conn: live.conn.clone(),
            health: live.health.clone(),
            server: self.inner.shared.clone(),
        };
        let expiring = self
            .inner
            .shared
            .config
            .max_lifetime
            .is_some_and(|m| live.health.born.elapsed() >= m);
        if expiring {
            SlotState::Expiring(conn)
        } else {
            SlotState::Ready(conn)
        }
    }

    fn refill_in_background(&self, idx: usize) {
        let slot = &self.inner.slots[idx];
        if slot.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let pool = self.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + pool.inner.shared.config.acquire_timeout;
            let _ = pool.refill(idx, deadline).await;
            pool.inner.slots[idx]
                .refreshing
                .store(false, Ordering::Release);
        });
    }

    /// Replaces slot `idx` with a fresh connection from bb8 unless another task already did.
    async fn refill(&self, idx: usize, deadline: Instant) -> Result<RedisConn> {
        let inner = &*self.inner;
        let shared = &*inner.shared;
        let start = Instant::now();
        let seen = shared.connect_errors();
        let tdeadline = tokio::time::Instant::from_std(deadline);
        let slot = &inner.slots[idx];
        let Ok(_guard) = tokio::time::timeout_at(tdeadline, slot.refresh.lock()).await else {
            return Err(shared.timeout(start));
        };
        if let SlotState::Ready(conn) = self.try_slot(idx) {
            return Ok(conn);
        }
        let old = slot.live.write().take();
        if let Some(old) = old {
            // Retire it: bb8 closes it when the lease drops (in-flight clones finish first).
            old.health.broken.store(true, Ordering::Relaxed);
        }
        let lease = shared
            .wait(|| inner.pool.get_owned(), seen, start, tdeadline)
            .await?;
        let live = Live {
            conn: lease.conn.clone(),
            health: lease.health.clone(),
            _lease: lease,
        };
        let conn = RedisConn {
            conn: live.conn.clone(),
            health: live.health.clone(),
            server: inner.shared.clone(),
        };
        *slot.live.write() = Some(live);
        Ok(conn)
    }

    /// Counters and sizes (`size`: shared connections open; `in_use`: handles alive).
    pub fn stats(&self) -> PoolStats {
        let ready = self
            .inner
            .slots
            .iter()
            .filter(|s| {
                s.live
                    .read()
                    .as_ref()
                    .is_some_and(|l| !l.health.broken.load(Ordering::Relaxed))
            })
            .count() as u32;
        let state = self.inner.pool.state();
        self.inner.shared.stats(
            state.connections,
            ready,
            Some(0),
            self.inner.slots.len() as u32,
        )
    }

    /// Checks the pool with a real `PING` and reports its state.
    pub async fn health(&self) -> Health {
        let shared = &*self.inner.shared;
        let start = Instant::now();
        let result = async {
            let mut conn = self.get().await?;
            conn.query::<()>(&redis::cmd("PING")).await
        };
        let limit = shared
            .config
            .acquire_timeout
            .min(shared.config.connect_timeout);
        let result = match tokio::time::timeout(limit, result).await {
            Ok(r) => r,
            Err(_) => Err(shared.timeout(start)),
        };
        health_report(shared, start, result, self.stats())
    }

    /// The redacted server address.
    pub fn server(&self) -> &RedactedUrl {
        &self.inner.shared.server
    }
}

enum SlotState {
    Ready(RedisConn),
    Expiring(RedisConn),
    Empty,
}

/// A handle on one shared multiplexed connection (cheap to clone, `'static`, `Send`).
///
/// Use [`RedisConn::query`] for classified errors, or any `redis` API through its
/// [`ConnectionLike`] impl (`redis::AsyncCommands` works on it). Either way a connection-level
/// failure marks the shared connection broken, so the pool replaces it.
#[derive(Clone)]
pub struct RedisConn {
    conn: MultiplexedConnection,
    health: Arc<ConnHealth>,
    server: Arc<Shared>,
}

impl fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConn")
            .field("server", &self.server.server)
            .field("broken", &self.health.broken.load(Ordering::Relaxed))
            .finish()
    }
}

impl RedisConn {
    /// Runs one command; connection failures are [`Error::Unavailable`] (and mark the
    /// connection broken), server replies with an error are [`Error::Backend`].
    pub async fn query<T: FromRedisValue>(&mut self, cmd: &Cmd) -> Result<T> {
        let r = cmd.query_async(&mut self.conn).await;
        r.map_err(|e| self.failure(e))
    }

    /// Runs a pipeline.
    pub async fn query_pipeline<T: FromRedisValue>(&mut self, pipe: &redis::Pipeline) -> Result<T> {
        let r = pipe.query_async(&mut self.conn).await;
        r.map_err(|e| self.failure(e))
    }

    /// Marks the shared connection broken so the pool replaces it.
    pub fn mark_broken(&self) {
        self.health.broken.store(true, Ordering::Relaxed);
    }

    /// Whether the shared connection is known to be broken.
    pub fn is_broken(&self) -> bool {
        self.health.broken.load(Ordering::Relaxed)
    }

    fn note(&self, e: &redis::RedisError) {
        if is_connection_error(e) || is_auth_error(e) {
            self.health.broken.store(true, Ordering::Relaxed);
        }
    }

    fn failure(&self, e: redis::RedisError) -> Error {
        self.note(&e);
        let shared = &*self.server;
        if is_auth_error(&e) {
            Error::Auth {
                server: shared.server(),
                cause: shared.scrubber.scrub(&e.to_string()),
            }
        } else if is_connection_error(&e) {
            Error::Unavailable {
                server: shared.server(),
                cause: shared.scrubber.scrub(&e.to_string()),
            }
        } else {
            Error::Backend(BackendError::Redis(e))
        }
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let r = self.conn.req_packed_command(cmd).await;
            if let Err(e) = &r {
                self.note(e);
            }
            r
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let r = self.conn.req_packed_commands(cmd, offset, count).await;
            if let Err(e) = &r {
                self.note(e);
            }
            r
        })
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}
