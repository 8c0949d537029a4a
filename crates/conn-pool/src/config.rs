//! [`PoolConfig`]: sizes, timeouts, warm-up and the reserved share, with defaults and a builder.

use crate::error::{Error, Result};
use std::time::Duration;

/// How a pool is sized and how long it waits.
///
/// A plain struct with public fields and [`Default`]; [`PoolConfig::builder`] sets fields one at
/// a time. Pools check it with [`PoolConfig::validate`] when they are built, so a bad value is an
/// [`Error::Config`] at start-up, never a panic later.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `max_size` | 16 | most connections the pool opens (PostgreSQL); for Redis see `RedisPoolBuilder::connections` |
/// | `min_idle` | 0 | connections kept open while idle (opened at build when `warm_up`) |
/// | `connect_timeout` | 3 s | bound on one connection attempt (TCP, TLS-less handshake, auth) |
/// | `acquire_timeout` | 5 s | bound on one `get` (waiting for a slot and any connecting) |
/// | `idle_timeout` | 10 min | a connection idle longer is closed (also checked at checkout) |
/// | `max_lifetime` | 30 min | a connection older is closed (checked at checkout and return too) |
/// | `warm_up` | true | open `min_idle` connections (at least one) while building, failing fast on a bad URL, password or server |
/// | `reserved_for_priority` | 0 | connections only high-priority callers may use |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// The most connections open at once.
    pub max_size: u32,
    /// Connections kept open while idle.
    pub min_idle: u32,
    /// Bound on one connection attempt.
    pub connect_timeout: Duration,
    /// Bound on one `get`.
    pub acquire_timeout: Duration,
    /// Close connections idle longer than this (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Close connections older than this (`None`: never).
    pub max_lifetime: Option<Duration>,
    /// Open connections while building the pool and fail there if they cannot be opened.
    pub warm_up: bool,
    /// Connections that only `get_priority` callers may take (must be below `max_size`).
    pub reserved_for_priority: u32,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 16,
            min_idle: 0,
            connect_timeout: Duration::from_secs(3),
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            warm_up: true,
            reserved_for_priority: 0,
        }
    }
}

impl PoolConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> PoolConfigBuilder {
        PoolConfigBuilder {
            config: PoolConfig::default(),
        }
    }

    /// Checks the values; the error says which one is wrong and why.
    ///
    /// ```
    /// use conn_pool::PoolConfig;
    /// let bad = PoolConfig::builder().max_size(4).min_idle(8).build();
    /// let err = bad.validate().unwrap_err();
    /// assert!(err.to_string().contains("min_idle"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let fail = |msg: String| Err(Error::Config(msg));
        if self.max_size == 0 {
            return fail("max_size must be at least 1".into());
        }
        if self.min_idle > self.max_size {
            return fail(format!(
                "min_idle ({}) must not exceed max_size ({})",
                self.min_idle, self.max_size
            ));
        }
        if self.reserved_for_priority >= self.max_size {
            return fail(format!(
                "reserved_for_priority ({}) must be below max_size ({}) so normal callers keep a share",
                self.reserved_for_priority, self.max_size
            ));
        }
        if self.connect_timeout.is_zero() {
            return fail("connect_timeout must be greater than zero".into());
        }
        if self.acquire_timeout.is_zero() {
            return fail("acquire_timeout must be greater than zero".into());
        }
        if self.idle_timeout.is_some_and(|d| d.is_zero()) {
            return fail("idle_timeout must be greater than zero (use None to disable)".into());
        }
        if self.max_lifetime.is_some_and(|d| d.is_zero()) {
            return fail("max_lifetime must be greater than zero (use None to disable)".into());
        }
        Ok(())
    }
}

/// Builds a [`PoolConfig`] one field at a time, starting from the defaults.
#[derive(Debug, Clone)]
pub struct PoolConfigBuilder {
    config: PoolConfig,
}

impl PoolConfigBuilder {
    /// The most connections open at once.
    pub fn max_size(mut self, n: u32) -> Self {
        self.config.max_size = n;
        self
    }
    /// Connections kept open while idle.
    pub fn min_idle(mut self, n: u32) -> Self {
        self.config.min_idle = n;
        self
    }
    /// Bound on one connection attempt.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }
    /// Bound on one `get`.
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.config.acquire_timeout = d;
        self
    }
    /// Close connections idle longer than this (`None`: never).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.config.idle_timeout = d;
        self
    }
    /// Close connections older than this (`None`: never).
    pub fn max_lifetime(mut self, d: Option<Duration>) -> Self {
        self.config.max_lifetime = d;
        self
    }
    /// Open connections while building the pool.
    pub fn warm_up(mut self, yes: bool) -> Self {
        self.config.warm_up = yes;
        self
    }
    /// Connections only high-priority callers may take.
    pub fn reserved_for_priority(mut self, n: u32) -> Self {
        self.config.reserved_for_priority = n;
        self
    }
    /// The finished config (checked when a pool is built, or by [`PoolConfig::validate`]).
    pub fn build(self) -> PoolConfig {
        self.config
    }
}
