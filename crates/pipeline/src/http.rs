//! The HTTP service (`pipeline serve`): the pipeline behind axum, with the policy a shared
//! service needs in layers around it: bearer-token authentication, a body size limit, allowed
//! roots, a body read timeout (`408` for a client that stalls mid-body), a per-request timeout,
//! load shedding as `503` with `Retry-After`, and graceful shutdown.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /v1/pack` | [`Request`] JSON | [`Response`](crate::Response) JSON |
//! | `POST /v1/scan` | `{"text": "...", "path": "optional"}` | `{"findings": [...], "level": "..."}` |
//! | `POST /v1/redact` | `{"text": "...", "mode": "mask"}` | `{"text": "...", "findings": [...]}` |
//! | `GET /v1/stats` | | counters and latency percentiles |
//! | `GET /metrics` | | Prometheus text |
//! | `GET /healthz` | | each tier's state; `503` when the pipeline cannot serve |

use crate::config::ServerConfig;
use crate::types::{Clearance, Request};
use crate::{Error, Pipeline};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Shared state of the service.
#[derive(Clone)]
pub struct AppState {
    pipeline: Pipeline,
    /// Each accepted bearer token with the highest clearance it admits; empty: no
    /// authentication, and `open_clearance` applies.
    tokens: Arc<[(Box<str>, Clearance)]>,
    open_clearance: Clearance,
    timeout: Duration,
    body_timeout: Duration,
}

impl AppState {
    /// State for a pipeline with the server's policy.
    pub fn new(pipeline: Pipeline, config: &ServerConfig) -> Self {
        AppState {
            pipeline,
            tokens: config
                .bearer_tokens()
                .map(|(t, c)| (Box::from(t), c))
                .collect(),
            open_clearance: config.max_clearance,
            timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(config.body_read_timeout_ms.max(1)),
        }
    }
}

/// An error as the service answers it: a status and a JSON body `{"error": "..."}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> HttpResponse {
        let mut res = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.0 == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Invalid(_) | Error::Config(_) => StatusCode::BAD_REQUEST,
            Error::DeadlineExceeded(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the bearer token; the highest clearance the caller may ask for.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<Clearance, ApiError> {
    if state.tokens.is_empty() {
        return Ok(state.open_clearance);
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer <token>` header".into(),
        ));
    };
    // Every token is compared (in constant time each), so the time taken does not say which
    // one nearly matched.
    let mut admitted = None;
    for (token, clearance) in state.tokens.iter() {
        if constant_time_eq(given.as_bytes(), token.as_bytes()) {
            admitted = admitted.max(Some(*clearance));
        }
    }
    admitted.ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "invalid bearer token".into()))
}

async fn with_timeout<T>(
    state: &AppState,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(state.timeout, fut).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(_) => Err(ApiError(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "request exceeded the {} ms timeout",
                state.timeout.as_millis()
            ),
        )),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("bad JSON body: {e}")))
}

async fn pack(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<HttpResponse, ApiError> {
    let allowed = authorize(&state, &headers)?;
    let request: Request = json_body(&body)?;
    if request.security_level > allowed {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "security_level `{}` is above what this caller may ask for (`{}`)",
                request.security_level, allowed
            ),
        ));
    }
    let pipeline = state.pipeline.clone();
    let body = with_timeout(&state, async move { pipeline.process_json(request).await }).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanBody {
    text: String,
    #[serde(default)]
    path: Option<String>,
}

async fn scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&state, &headers)?;
    let b: ScanBody = json_body(&body)?;
    let pipeline = state.pipeline.clone();
    let out = with_timeout(&state, async move {
        pipeline
            .scan_text(&b.text, b.path.as_deref().unwrap_or("-"))
            .await
    })
    .await?;
    Ok(Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactBody {
    text: String,
    #[serde(default)]
    mode: Option<String>,
}

async fn redact(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&state, &headers)?;
    let b: RedactBody = json_body(&body)?;
    let pipeline = state.pipeline.clone();
    let out = with_timeout(&state, async move {
        pipeline
            .redact_text(&b.text, b.mode.as_deref().unwrap_or("mask"))
            .await
    })
    .await?;
    Ok(Json(out))
}

async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<HttpResponse, ApiError> {
    authorize(&state, &headers)?;
    Ok(Json(state.pipeline.stats()).into_response())
}

async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<HttpResponse, ApiError> {
    authorize(&state, &headers)?;
    let body = state.pipeline.prometheus_text();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

async fn healthz(State(state): State<AppState>) -> HttpResponse {
    let health = state.pipeline.health().await;
    let status = if health.serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health)).into_response()
}

/// Reads the whole body within the body read timeout (`408` otherwise) and the body limit
/// (`413` otherwise) before the handler runs, so a client that sends half a body and stalls
/// is cut off instead of holding its request open forever.
async fn read_body(
    State((timeout, limit)): State<(Duration, usize)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            next.run(request).await
        }
        Ok(Err(e)) if format!("{e:?}").contains("LengthLimit") => ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .into_response(),
        Ok(Err(e)) => ApiError(
            StatusCode::BAD_REQUEST,
            format!("cannot read the request body: {e}"),
        )
        .into_response(),
        Err(_) => {
            let mut res = ApiError(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} ms",
                    timeout.as_millis()
                ),
            )
            .into_response();
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            res
        }
    }
}

/// The service's routes, with the body limit and the body read timeout applied.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let body_timeout = state.body_timeout;
    Router::new()
        .route("/v1/pack", post(pack))
        .route("/v1/scan", post(scan))
        .route("/v1/redact", post(redact))
        .route("/v1/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            (body_timeout, body_limit),
            read_body,
        ))
        .with_state(state)
}

/// Refuses to listen on a non-loopback address without a token.
pub fn check_exposure(addr: &SocketAddr, config: &ServerConfig) -> crate::Result<()> {
    if !addr.ip().is_loopback() && config.bearer_tokens().next().is_none() {
        return Err(Error::Config(format!(
            "refusing to listen on {addr} without a bearer token: set [server] token in \
             pipeline.toml or PIPELINE_TOKEN (loopback addresses need none)"
        )));
    }
    Ok(())
}

/// Serves until SIGINT or SIGTERM, then stops accepting and drains in-flight requests.
pub async fn serve(pipeline: Pipeline, config: ServerConfig) -> crate::Result<()> {
    let addr: SocketAddr = config
        .listen
        .parse()
        .map_err(|e| Error::Config(format!("bad listen address `{}`: {e}", config.listen)))?;
    check_exposure(&addr, &config)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
    serve_listener(listener, pipeline, config, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` completes, then drains in-flight requests and shuts
/// the pipeline down (tests and embedders pass their own listener and signal).
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    pipeline: Pipeline,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    let local = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("cannot read the bound address: {e}")))?;
    check_exposure(&local, &config)?;
    let state = AppState::new(pipeline.clone(), &config);
    let app = router(state, config.body_limit);
    tracing::info!(%local, "pipeline service listening");
    // hyper's own connection loop rather than `axum::serve`, which sets no timer and so no
    // header read timeout: a client that stalls mid-headers would hold its connection forever.
    // HTTP/1.1 only: the automatic HTTP/2 detection reads the first bytes with no timeout.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.header_read_timeout_ms.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = config.shutdown_grace_secs,
            "connections still open after the shutdown grace period"
        );
    }
    pipeline.shutdown(grace).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("pipeline: shutting down, finishing in-flight requests");
}
