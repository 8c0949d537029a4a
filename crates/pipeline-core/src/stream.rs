//! The stream API: a `Stream` of requests in, a `Stream` of results out, in order, with a bound
//! on the bytes of requests in flight.

use crate::engine::Engine;
use crate::error::Result;
use crate::stage::SubmitOptions;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, Stream, StreamExt};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bounds of [`Engine::process_stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Sum of the sizes of requests taken from the input and not yet yielded as results. One
    /// request larger than the bound still runs, alone.
    pub max_bytes_in_flight: usize,
    /// Requests in flight at once.
    pub max_concurrency: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_bytes_in_flight: 64 << 20,
            max_concurrency: 256,
        }
    }
}

type SizeFn<Req> = Box<dyn Fn(&Req) -> usize + Send + Sync>;

/// The results of [`Engine::process_stream`], in input order, one per request.
pub struct ResultStream<Req, Resp> {
    engine: Engine<Req, Resp>,
    input: Option<Pin<Box<dyn Stream<Item = Req> + Send>>>,
    pending: Option<(usize, Req)>,
    in_flight: FuturesOrdered<BoxFuture<'static, (usize, Result<Resp>)>>,
    bytes: usize,
    peak_bytes: usize,
    opts: SubmitOptions,
    limits: StreamLimits,
    size_of: SizeFn<Req>,
}

// No field is ever pinned in place (the input is boxed), so moving the stream is fine.
impl<Req, Resp> Unpin for ResultStream<Req, Resp> {}

impl<Req, Resp> ResultStream<Req, Resp> {
    /// Bytes of requests in flight now.
    pub fn bytes_in_flight(&self) -> usize {
        self.bytes
    }
    /// The most bytes that were ever in flight at once.
    pub fn peak_bytes_in_flight(&self) -> usize {
        self.peak_bytes
    }
}

impl<Req, Resp> Engine<Req, Resp>
where
    Req: Send + Sync + 'static,
    Resp: Default + Send + 'static,
{
    /// Runs every request of `input` and yields the results in input order. At most
    /// `limits.max_concurrency` requests and `limits.max_bytes_in_flight` bytes (as measured by
    /// `size_of`) are in flight, so memory stays bounded whatever the input's length.
    pub fn process_stream<S, F>(
        &self,
        input: S,
        opts: SubmitOptions,
        limits: StreamLimits,
        size_of: F,
    ) -> ResultStream<Req, Resp>
    where
        S: Stream<Item = Req> + Send + 'static,
        F: Fn(&Req) -> usize + Send + Sync + 'static,
    {
        ResultStream {
            engine: self.clone(),
            input: Some(Box::pin(input)),
            pending: None,
            in_flight: FuturesOrdered::new(),
            bytes: 0,
            peak_bytes: 0,
            opts,
            limits,
            size_of: Box::new(size_of),
        }
    }
}

impl<Req, Resp> Stream for ResultStream<Req, Resp>
where
    Req: Send + Sync + 'static,
    Resp: Default + Send + 'static,
{
    type Item = Result<Resp>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // Take requests while they fit.
        loop {
            let (size, req) = match this.pending.take() {
                Some(p) => p,
                None => match this.input.as_mut().map(|s| s.poll_next_unpin(cx)) {
                    Some(Poll::Ready(Some(req))) => ((this.size_of)(&req), req),
                    Some(Poll::Ready(None)) => {
                        this.input = None;
                        break;
                    }
                    Some(Poll::Pending) | None => break,
                },
            };
            let busy = !this.in_flight.is_empty();
            if busy
                && (this.bytes.saturating_add(size) > this.limits.max_bytes_in_flight
                    || this.in_flight.len() >= this.limits.max_concurrency.max(1))
            {
                this.pending = Some((size, req));
                break;
            }
            this.bytes += size;
            this.peak_bytes = this.peak_bytes.max(this.bytes);
            let engine = this.engine.clone();
            let opts = this.opts;
            this.in_flight.push_back(Box::pin(
                async move { (size, engine.submit(req, opts).await) },
            ));
        }
        match this.in_flight.poll_next_unpin(cx) {
            Poll::Ready(Some((size, result))) => {
                this.bytes -= size;
                if this.pending.is_some() {
                    // Room was made: make sure we are polled again to take the waiting request.
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(Some(result))
            }
            Poll::Ready(None) if this.input.is_none() && this.pending.is_none() => {
                Poll::Ready(None)
            }
            _ => Poll::Pending,
        }
    }
}
