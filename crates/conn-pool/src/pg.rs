//! [`PgPool`]: bb8 with a tokio-postgres manager of our own, a fair gate in front, a prepared
//! statement cache per connection and no round trip on the checkout path.

use crate::config::PoolConfig;
use crate::core::{Gate, GatePermit, Priority, Shared};
use crate::error::{chain, BackendError, ConnectError, Error, Result};
use crate::redact::{url_scheme, RedactedUrl, Scrubber};
use crate::stats::{Health, HealthState, PoolStats};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

/// Parses and checks a PostgreSQL URL (`postgres://user[:password]@host[:port]/db[?opts]` or
/// `key=value` pairs); the error names what is wrong and never shows the password.
pub(crate) fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    let shown = RedactedUrl::new(url);
    let scrub = Scrubber::for_url(url);
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(Error::Config("the PostgreSQL URL is empty".into()));
    }
    if let Some((scheme, _)) = url_scheme(trimmed) {
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(Error::Config(format!(
                "{shown}: the scheme must be postgres:// or postgresql://, not {scheme}://"
            )));
        }
    }
    let config = tokio_postgres::Config::from_str(trimmed).map_err(|e| {
        Error::Config(format!(
            "{shown}: not a valid PostgreSQL URL: {}",
            scrub.scrub(&chain(&e))
        ))
    })?;
    if config.get_hosts().is_empty() {
        return Err(Error::Config(format!("{shown}: no host given")));
    }
    if config.get_user().is_none() {
        return Err(Error::Config(format!(
            "{shown}: no user given (postgres://USER@host/db)"
        )));
    }
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(Error::Config(format!(
            "{shown}: sslmode=require needs TLS, which conn-pool does not include; \
             use sslmode=disable or sslmode=prefer"
        )));
    }
    Ok(config)
}

/// One pooled PostgreSQL connection: the client, its prepared statements, and what we know
/// about its state without asking the server.
pub(crate) struct PgConnection {
    client: Client,
    statements: HashMap<String, Statement>,
    broken: bool,
    born: Instant,
    last_used: Instant,
}

pub(crate) struct PgManager {
    config: tokio_postgres::Config,
    shared: Arc<Shared>,
}

fn is_auth_error(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    ) || {
        let text = chain(e);
        text.starts_with("authentication error") || text.contains("password missing")
    }
}

/// Whether `e` means the connection (not the query) failed.
fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if matches!(
        e.code(),
        Some(c) if *c == SqlState::ADMIN_SHUTDOWN
            || *c == SqlState::CRASH_SHUTDOWN
            || *c == SqlState::CANNOT_CONNECT_NOW
    ) {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

impl bb8::ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = ConnectError;

    async fn connect(&self) -> Result<PgConnection, ConnectError> {
        let limit = self.shared.config.connect_timeout;
        let _connecting = self.shared.connecting();
        match tokio::time::timeout(limit, self.config.connect(NoTls)).await {
            Err(_) => Err(self
                .shared
                .connect_failed(false, &format!("connecting timed out after {limit:?}"))),
            Ok(Err(e)) => Err(self.shared.connect_failed(is_auth_error(&e), &chain(&e))),
            Ok(Ok((client, connection))) => {
                let name = self.shared.name.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(pool = %name, error = %e, "postgres connection ended");
                    }
                });
                self.shared.connected();
                let now = Instant::now();
                Ok(PgConnection {
                    client,
                    statements: HashMap::new(),
                    broken: false,
                    born: now,
                    last_used: now,
                })
            }
        }
    }

    async fn is_valid(&self, conn: &mut PgConnection) -> Result<(), ConnectError> {
        conn.client
            .simple_query("")
            .await
            .map(drop)
            .map_err(|e| ConnectError {
                auth: false,
                message: self.shared.scrubber.scrub(&chain(&e)),
            })
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        let broken = conn.broken || conn.client.is_closed();
        if broken {
            self.shared.closed.fetch_add(1, Ordering::Relaxed);
        }
        broken
    }
}

struct PgInner {
    pool: bb8::Pool<PgManager>,
    shared: Arc<Shared>,
    gate: Gate,
    statement_cache_capacity: usize,
}

/// A fair PostgreSQL connection pool (cheap to clone: clones share one pool).
///
/// ```no_run
/// # async fn demo() -> conn_pool::Result<()> {
/// use conn_pool::{PgPool, PoolConfig};
/// let pool = PgPool::builder("postgres://app@127.0.0.1:5432/app")
///     .config(PoolConfig::builder().max_size(16).build())
///     .build()
///     .await?;
/// let mut conn = pool.get().await?;
/// let row = conn.query_one("SELECT $1::int8 + 1", &[&41_i64]).await?;
/// assert_eq!(row.get::<_, i64>(0), 42);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgPool {
    inner: Arc<PgInner>,
}

impl fmt::Debug for PgPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgPool")
            .field("name", &self.inner.shared.name)
            .field("server", &self.inner.shared.server)
            .finish_non_exhaustive()
    }
}

/// Builds a [`PgPool`]: URL, [`PoolConfig`], name and statement cache size.
#[derive(Clone)]
pub struct PgPoolBuilder {
    url: String,
    config: PoolConfig,
    name: String,
    statement_cache_capacity: usize,
}

impl fmt::Debug for PgPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgPoolBuilder")
            .field("url", &RedactedUrl::new(&self.url))
            .field("config", &self.config)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PgPoolBuilder {
    /// The pool's sizes and timeouts.
    pub fn config(mut self, config: PoolConfig) -> Self {
        self.config = config;
        self
    }

    /// A name for logs, metrics labels and health reports (default `postgres`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Prepared statements kept per connection by [`PgConn::prepare_cached`] (default 256).
    pub fn statement_cache_capacity(mut self, n: usize) -> Self {
        self.statement_cache_capacity = n.max(1);
        self
    }

    /// Checks the URL and the config without connecting.
    ///
    /// ```
    /// use conn_pool::{Error, PgPool};
    /// assert!(PgPool::builder("postgres://app:pw@db:5432/app").validate().is_ok());
    /// let err = PgPool::builder("mysql://app:pw@db/app").validate().unwrap_err();
    /// assert!(matches!(err, Error::Config(_)));
    /// assert!(!err.to_string().contains("pw@"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        parse_url(&self.url).map(drop)
    }

    /// Builds the pool; with `warm_up` it opens `min_idle` connections (at least one) first
    /// and fails with [`Error::Auth`] or [`Error::Unavailable`] when it cannot.
    pub async fn build(self) -> Result<PgPool> {
        self.config.validate()?;
        let mut pg_config = parse_url(&self.url)?;
        let config = self.config;
        pg_config.connect_timeout(config.connect_timeout);
        let mut passwords = crate::redact::passwords_in(&self.url);
        if let Some(p) = pg_config.get_password() {
            passwords.push(String::from_utf8_lossy(p).into_owned());
        }
        let scrubber = Scrubber::new(passwords.iter().map(String::as_str));
        let shared = Arc::new(Shared::new(
            self.name,
            "postgres",
            RedactedUrl::new(&self.url),
            scrubber,
            config.clone(),
        ));
        let manager = PgManager {
            config: pg_config,
            shared: shared.clone(),
        };
        let reaper = [config.idle_timeout, config.max_lifetime]
            .into_iter()
            .flatten()
            .map(|d| d / 2)
            .fold(Duration::from_secs(30), Duration::min)
            .max(Duration::from_millis(100));
        let builder = bb8::Pool::builder()
            .max_size(config.max_size)
            .min_idle((config.min_idle > 0).then_some(config.min_idle))
            .test_on_check_out(false)
            .max_lifetime(config.max_lifetime)
            .idle_timeout(config.idle_timeout)
            // Our own deadline (the acquire timeout) ends waits first; bb8's is a backstop.
            .connection_timeout(
                config.acquire_timeout + config.connect_timeout + Duration::from_secs(1),
            )
            .retry_connection(false)
            .reaper_rate(reaper)
            .queue_strategy(bb8::QueueStrategy::Lifo);
        let pool = if config.warm_up && config.min_idle > 0 {
            let server = shared.server();
            builder
                .build(manager)
                .await
                .map_err(|e| e.into_error(&server))?
        } else {
            builder.build_unchecked(manager)
        };
        let pool = PgPool {
            inner: Arc::new(PgInner {
                pool,
                gate: Gate::new(config.max_size, config.reserved_for_priority),
                shared,
                statement_cache_capacity: self.statement_cache_capacity,
            }),
        };
        if config.warm_up && config.min_idle == 0 {
            drop(pool.get().await?);
        }
        Ok(pool)
    }
}

impl PgPool {
    /// A builder for a pool to `url` with the default [`PoolConfig`].
    pub fn builder(url: impl Into<String>) -> PgPoolBuilder {
        PgPoolBuilder {
            url: url.into(),
            config: PoolConfig::default(),
            name: "postgres".into(),
            statement_cache_capacity: 256,
        }
    }

    /// Shorthand for `PgPool::builder(url).config(config).build()`.
    pub async fn connect(url: &str, config: PoolConfig) -> Result<PgPool> {
        Self::builder(url).config(config).build().await
    }

    /// A connection, waiting in FIFO order for at most the acquire timeout.
    ///
    /// Fails with [`Error::Timeout`] when none frees up in time, and at once with
    /// [`Error::Unavailable`] / [`Error::Auth`] when a connection attempt fails meanwhile.
    /// Cancel-safe: dropping the future gives everything back.
    pub async fn get(&self) -> Result<PgConn<'_>> {
        self.acquire(Priority::Normal, self.inner.shared.config.acquire_timeout)
            .await
    }

    /// Like [`PgPool::get`] for high-priority work, which may also use the reserved share.
    pub async fn get_priority(&self) -> Result<PgConn<'_>> {
        self.acquire(Priority::High, self.inner.shared.config.acquire_timeout)
            .await
    }

    /// Like [`PgPool::get`] with an explicit [`Priority`].
    pub async fn get_with(&self, priority: Priority) -> Result<PgConn<'_>> {
        self.acquire(priority, self.inner.shared.config.acquire_timeout)
            .await
    }

    async fn acquire(&self, priority: Priority, limit: Duration) -> Result<PgConn<'_>> {
        let inner = &*self.inner;
        let shared = &*inner.shared;
        let start = Instant::now();
        let seen = shared.connect_errors();
        let deadline = tokio::time::Instant::from_std(start + limit);
        let Ok(permit) = inner.gate.enter(shared, priority, deadline).await else {
            return Err(shared.timeout(start));
        };
        loop {
            let mut conn = shared
                .wait(|| inner.pool.get(), seen, start, deadline)
                .await?;
            let now = Instant::now();
            let config = &shared.config;
            let stale = conn.broken
                || conn.client.is_closed()
                || config
                    .max_lifetime
                    .is_some_and(|m| now.duration_since(conn.born) >= m)
                || config
                    .idle_timeout
                    .is_some_and(|t| now.duration_since(conn.last_used) >= t);
            if stale {
                // bb8 closes it on return (has_broken) and opens a new one for the next get.
                conn.broken = true;
                drop(conn);
                continue;
            }
            shared.acquired(Some(now.duration_since(start)));
            shared.checked_out();
            return Ok(PgConn {
                conn,
                _permit: permit,
                shared,
                capacity: inner.statement_cache_capacity,
            });
        }
    }

    /// Counters, sizes and the acquire-latency summary.
    pub fn stats(&self) -> PoolStats {
        let state = self.inner.pool.state();
        self.inner.shared.stats(
            state.connections,
            state.idle_connections,
            None,
            self.inner.shared.config.max_size,
        )
    }

    /// Checks the pool with a real round trip (`SELECT 1` on a high-priority connection,
    /// bounded by the connect and acquire timeouts) and reports its state.
    pub async fn health(&self) -> Health {
        let shared = &*self.inner.shared;
        let start = Instant::now();
        let limit = shared
            .config
            .acquire_timeout
            .min(shared.config.connect_timeout);
        let result = async {
            let mut conn = self.acquire(Priority::High, limit).await?;
            conn.batch_execute("SELECT 1").await
        }
        .await;
        let stats = self.stats();
        health_report(shared, start, result, stats)
    }

    /// The redacted server address.
    pub fn server(&self) -> &RedactedUrl {
        &self.inner.shared.server
    }
}

pub(crate) fn health_report(
    shared: &Shared,
    start: Instant,
    result: Result<()>,
    stats: PoolStats,
) -> Health {
    let (state, check_error) = match result {
        Ok(()) => (HealthState::Up, None),
        Err(
            e @ Error::Timeout {
                last_connect_error: None,
                ..
            },
        ) => (HealthState::Degraded, Some(e.to_string())),
        Err(e @ Error::Backend(_)) => (HealthState::Degraded, Some(e.to_string())),
        Err(e) => (HealthState::Down, Some(e.to_string())),
    };
    let last = shared.last_error();
    Health {
        name: shared.name.clone(),
        backend: shared.backend,
        server: shared.server(),
        state,
        latency: start.elapsed(),
        size: stats.size,
        idle: stats.idle,
        in_use: stats.in_use,
        max_size: stats.max_size,
        waiting: stats.waiting,
        last_error: last.as_ref().map(|l| l.error.message.clone()),
        last_error_age: last.map(|l| l.at.elapsed()),
        check_error: check_error.map(|e| shared.scrubber.scrub(&e)),
    }
}

/// A checked-out PostgreSQL connection; it goes back to the pool when dropped.
///
/// Query through its methods so failures are classified (a broken connection is
/// [`Error::Unavailable`] and is replaced; an SQL error is [`Error::Backend`]) and statements
/// are prepared once per connection. [`PgConn::client`] gives the raw client for anything else.
pub struct PgConn<'a> {
    conn: bb8::PooledConnection<'a, PgManager>,
    _permit: GatePermit<'a>,
    shared: &'a Shared,
    capacity: usize,
}

impl fmt::Debug for PgConn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConn")
            .field("pool", &self.shared.name)
            .field("broken", &self.conn.broken)
            .field("statements", &self.conn.statements.len())
            .finish()
    }
}

impl Drop for PgConn<'_> {
    fn drop(&mut self) {
        self.conn.last_used = Instant::now();
        self.shared.checked_in();
    }
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl PgConn<'_> {
    /// The statement for `sql`, prepared once per connection and cached.
    pub async fn prepare_cached(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.conn.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.conn.client.prepare(sql).await;
        let stmt = prepared.map_err(|e| self.failure(e))?;
        if self.conn.statements.len() >= self.capacity {
            if let Some(k) = self.conn.statements.keys().next().cloned() {
                self.conn.statements.remove(&k);
            }
        }
        self.conn.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Runs `sql` (prepared and cached) and returns its rows.
    pub async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let stmt = self.prepare_cached(sql).await?;
        let r = self.conn.client.query(&stmt, params).await;
        r.map_err(|e| self.failure(e))
    }

    /// Runs `sql` (prepared and cached) and returns its one row (an error otherwise).
    pub async fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row> {
        let stmt = self.prepare_cached(sql).await?;
        let r = self.conn.client.query_one(&stmt, params).await;
        r.map_err(|e| self.failure(e))
    }

    /// Runs `sql` (prepared and cached) and returns its row, if any (an error for several).
    pub async fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        let stmt = self.prepare_cached(sql).await?;
        let r = self.conn.client.query_opt(&stmt, params).await;
        r.map_err(|e| self.failure(e))
    }

    /// Runs `sql` (prepared and cached) and returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let stmt = self.prepare_cached(sql).await?;
        let r = self.conn.client.execute(&stmt, params).await;
        r.map_err(|e| self.failure(e))
    }

    /// Runs one or more statements with the simple protocol (no parameters, no results).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let r = self.conn.client.batch_execute(sql).await;
        r.map_err(|e| self.failure(e))
    }

    /// The raw client (errors from it are not classified; a closed client is still noticed).
    pub fn client(&self) -> &Client {
        &self.conn.client
    }

    /// The raw client, mutably (for transactions).
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.conn.client
    }

    /// Marks the connection broken: the pool closes it instead of reusing it.
    pub fn mark_broken(&mut self) {
        self.conn.broken = true;
    }

    /// Whether the connection is known to be broken (marked, or its socket closed).
    pub fn is_broken(&self) -> bool {
        self.conn.broken || self.conn.client.is_closed()
    }

    /// Prepared statements cached on this connection.
    pub fn cached_statements(&self) -> usize {
        self.conn.statements.len()
    }

    /// Classifies a query error: connection-level ones mark the connection broken.
    pub fn classify(&mut self, e: tokio_postgres::Error) -> Error {
        self.failure(e)
    }

    fn failure(&mut self, e: tokio_postgres::Error) -> Error {
        if is_connection_error(&e) {
            self.conn.broken = true;
            Error::Unavailable {
                server: self.shared.server(),
                cause: self.shared.scrubber.scrub(&chain(&e)),
            }
        } else if is_auth_error(&e) {
            self.conn.broken = true;
            Error::Auth {
                server: self.shared.server(),
                cause: self.shared.scrubber.scrub(&chain(&e)),
            }
        } else {
            Error::Backend(BackendError::Postgres(e))
        }
    }
}
