//! Configuration and URL checks (no server needed) and the redaction of passwords, checked
//! against a reference built from the URL's parts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_pool::{Error, PgPool, PoolConfig, RedactedUrl, RedisPool};
use proptest::prelude::*;
use std::time::Duration;

#[test]
fn defaults_are_valid_and_the_builder_sets_every_field() {
    assert!(PoolConfig::default().validate().is_ok());
    let c = PoolConfig::builder()
        .max_size(8)
        .min_idle(2)
        .connect_timeout(Duration::from_secs(1))
        .acquire_timeout(Duration::from_secs(2))
        .idle_timeout(None)
        .max_lifetime(Some(Duration::from_secs(60)))
        .warm_up(false)
        .reserved_for_priority(1)
        .build();
    assert_eq!(
        c,
        PoolConfig {
            max_size: 8,
            min_idle: 2,
            connect_timeout: Duration::from_secs(1),
            acquire_timeout: Duration::from_secs(2),
            idle_timeout: None,
            max_lifetime: Some(Duration::from_secs(60)),
            warm_up: false,
            reserved_for_priority: 1,
        }
    );
    assert!(c.validate().is_ok());
}

#[test]
fn bad_values_are_config_errors_naming_the_field() {
    let cases = [
        (PoolConfig::builder().max_size(0).build(), "max_size"),
        (
            PoolConfig::builder().max_size(2).min_idle(3).build(),
            "min_idle",
        ),
        (
            PoolConfig::builder()
                .max_size(2)
                .reserved_for_priority(2)
                .build(),
            "reserved_for_priority",
        ),
        (
            PoolConfig::builder()
                .connect_timeout(Duration::ZERO)
                .build(),
            "connect_timeout",
        ),
        (
            PoolConfig::builder()
                .acquire_timeout(Duration::ZERO)
                .build(),
            "acquire_timeout",
        ),
        (
            PoolConfig::builder()
                .idle_timeout(Some(Duration::ZERO))
                .build(),
            "idle_timeout",
        ),
        (
            PoolConfig::builder()
                .max_lifetime(Some(Duration::ZERO))
                .build(),
            "max_lifetime",
        ),
    ];
    for (config, field) in cases {
        let err = config.validate().unwrap_err();
        assert!(matches!(err, Error::Config(_)));
        assert!(err.to_string().contains(field), "{err} should name {field}");
    }
}

#[tokio::test]
async fn bad_urls_fail_before_connecting_and_hide_the_password() {
    for url in [
        "",
        "mysql://u:hunter2pw@h/db",
        "postgres://u:hunter2pw@h:notaport/db",
        "postgres://:hunter2pw@h/db?sslmode=require",
        "postgres://u:hunter2pw@h/db?sslmode=require",
    ] {
        let err = PgPool::builder(url).build().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2pw"), "{text}");
    }
    for url in ["", "http://:hunter2pw@h/", "redis://:hunter2pw@h:notaport/"] {
        let err = RedisPool::builder(url).build().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2pw"), "{text}");
    }
    let err = RedisPool::builder("redis://127.0.0.1/")
        .connections(0)
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("connections"));
}

#[test]
fn builders_debug_without_the_password() {
    let b = PgPool::builder("postgres://u:hunter2pw@h/db");
    assert!(!format!("{b:?}").contains("hunter2pw"));
    let r = RedisPool::builder("redis://:hunter2pw@h/");
    assert!(!format!("{r:?}").contains("hunter2pw"));
}

fn password() -> impl Strategy<Value = String> {
    // Printable ASCII except whitespace, including the URL delimiters @ : / ? # %.
    proptest::collection::vec(proptest::char::range('!', '~'), 1..24)
        .prop_map(|v| v.into_iter().collect())
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,11}"
}

proptest! {
    /// Reference: the URL built with `***` in place of the password.
    #[test]
    fn url_passwords_are_always_masked(
        scheme in prop_oneof![Just("postgres"), Just("postgresql"), Just("redis"), Just("rediss")],
        user in proptest::option::of(word()),
        pw in password(),
        host in word(),
        port in proptest::option::of(1u16..),
        db in proptest::option::of(word()),
    ) {
        let user = user.unwrap_or_default();
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let db = db.map(|d| format!("/{d}")).unwrap_or_default();
        let raw = format!("{scheme}://{user}:{pw}@{host}{port}{db}");
        let expected = format!("{scheme}://{user}:***@{host}{port}{db}");
        prop_assert_eq!(RedactedUrl::new(&raw).to_string(), expected);
    }

    #[test]
    fn key_value_passwords_are_always_masked(
        host in word(),
        user in word(),
        pw in "[!-~]{1,20}",
        quoted in any::<bool>(),
    ) {
        // libpq rules: in quotes, \ and ' are escaped with a backslash; bare values are
        // never empty and do not start with a quote.
        let value = if quoted {
            format!("'{}'", pw.replace('\\', "\\\\").replace('\'', "\\'"))
        } else {
            format!("x{pw}")
        };
        let raw = format!("host={host} user={user} password={value} dbname=x");
        let expected = format!("host={host} user={user} password=*** dbname=x");
        prop_assert_eq!(RedactedUrl::new(&raw).to_string(), expected);
    }

    #[test]
    fn urls_without_a_password_are_unchanged(
        scheme in prop_oneof![Just("postgres"), Just("redis")],
        user in proptest::option::of(word()),
        host in word(),
        db in word(),
    ) {
        let user = user.map(|u| format!("{u}@")).unwrap_or_default();
        let raw = format!("{scheme}://{user}{host}/{db}");
        prop_assert_eq!(RedactedUrl::new(&raw).to_string(), raw);
    }
}

/// A `key=value` string whose password holds `://` is not a URL: the password is masked, and
/// a URL after leading blanks is still one.
#[test]
fn a_password_holding_a_scheme_separator_is_masked() {
    for (raw, want) in [
        (
            "host=a user=a password=x://hunter2pw dbname=x",
            "host=a user=a password=*** dbname=x",
        ),
        (
            "host=a password='p://hunter2pw' dbname=x",
            "host=a password=*** dbname=x",
        ),
        ("  postgres://u:hunter2pw@h/db", "  postgres://u:***@h/db"),
    ] {
        assert_eq!(RedactedUrl::new(raw).to_string(), want);
    }
    // Parsing it is not mistaken for a URL of another scheme either (that error would have
    // shown the text before the `://`, password included).
    let b = PgPool::builder("host=a user=a password=x://hunter2pw dbname=x");
    assert!(!format!("{b:?}").contains("hunter2pw"));
}
