//! Connections to Redis and PostgreSQL (interim: a minimal pool until `conn-pool` lands).

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{Client, NoTls, Statement};

/// Pool settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// PostgreSQL connections (each pipelines the queries of many tasks).
    pub pg_connections: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig { pg_connections: 2 }
    }
}

/// The Redis connection handle type.
pub type RedisConn = redis::aio::ConnectionManager;

/// Shared multiplexed Redis connection that reconnects after failures.
pub struct RedisPool {
    manager: redis::aio::ConnectionManager,
}

impl RedisPool {
    /// Connects.
    pub async fn connect(url: &str, config: PoolConfig) -> Result<Self, String> {
        Self::connect_with(url, config, false).await
    }

    /// Connects; with `lazy`, the first connection is made on first use (the server may be
    /// down at start).
    pub async fn connect_with(url: &str, _config: PoolConfig, lazy: bool) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let manager = if lazy {
            redis::aio::ConnectionManager::new_lazy_with_config(client, cfg)
                .map_err(|e| e.to_string())?
        } else {
            redis::aio::ConnectionManager::new_with_config(client, cfg)
                .await
                .map_err(|e| e.to_string())?
        };
        Ok(RedisPool { manager })
    }

    /// A connection handle.
    pub async fn get(&self) -> Result<redis::aio::ConnectionManager, String> {
        Ok(self.manager.clone())
    }
}

/// A PostgreSQL client that reconnects when its connection closed.
pub struct PgPool {
    url: String,
    slots: Vec<tokio::sync::Mutex<Option<Arc<PgInner>>>>,
    next: std::sync::atomic::AtomicUsize,
}

/// One PostgreSQL connection with its statement cache.
pub struct PgInner {
    client: Client,
    statements: parking_lot::Mutex<HashMap<String, Statement>>,
}

/// A checked-out connection.
pub struct PgConnection(Arc<PgInner>);

impl Deref for PgConnection {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.0.client
    }
}

impl PgConnection {
    /// A prepared statement, cached per connection.
    pub async fn prepare_cached(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.0.statements.lock().get(sql) {
            return Ok(s.clone());
        }
        let s = self.0.client.prepare(sql).await?;
        self.0.statements.lock().insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl PgPool {
    /// Connects.
    pub async fn connect(url: &str, config: PoolConfig) -> Result<Self, String> {
        Self::connect_with(url, config, false).await
    }

    /// Connects; with `lazy`, connections are made on first use.
    pub async fn connect_with(url: &str, config: PoolConfig, lazy: bool) -> Result<Self, String> {
        let pool = PgPool {
            url: url.to_owned(),
            slots: (0..config.pg_connections.max(1))
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        };
        if !lazy {
            for _ in 0..pool.slots.len() {
                pool.get().await?;
            }
        }
        Ok(pool)
    }

    /// A connection.
    pub async fn get(&self) -> Result<PgConnection, String> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.slots.len();
        let mut cur = self.slots[i].lock().await;
        if let Some(c) = cur.as_ref() {
            if !c.client.is_closed() {
                return Ok(PgConnection(c.clone()));
            }
        }
        let (client, conn) = tokio::time::timeout(
            Duration::from_secs(1),
            tokio_postgres::connect(&self.url, NoTls),
        )
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let inner = Arc::new(PgInner {
            client,
            statements: parking_lot::Mutex::new(HashMap::new()),
        });
        *cur = Some(inner.clone());
        Ok(PgConnection(inner))
    }
}
