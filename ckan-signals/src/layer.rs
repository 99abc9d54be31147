//! A tower layer that sends [`RequestStarted`] and [`RequestFinished`] around each request, as
//! CKAN's Flask app does, for any tower service of `http` requests (axum, tonic, hyper).
//! Available with the `tower` feature.
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! use ckan_signals::layer::SignalsLayer;
//! use ckan_signals::model::WebApp;
//! use ckan_signals::prelude::*;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! let _log = RequestFinished::signal()
//!     .connect(|app: &WebApp, ev: &RequestFinished| {
//!         println!("{} answered {}", app.name, ev.response.status);
//!     })
//!     .scoped();
//!
//! // Any tower service; with axum, `Router::new().route(..).layer(layer)`.
//! let hello = service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, Infallible>(http::Response::new(String::from("hello")))
//! });
//! let layer = SignalsLayer::new(WebApp::new("ckan")).timeout(Duration::from_secs(2));
//! let service = layer.layer(hello);
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let response = runtime.block_on(service.oneshot(http::Request::new(String::new())))?;
//! assert_eq!(response.into_body(), "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What a request goes through
//!
//! 1. A request id: the request's `x-request-id` header when it has one of at most 64 visible
//!    ASCII characters (no space), else one made here, unique within the process. Everything
//!    below runs inside a `tracing` span `request` with the fields `request_id`, `method` and
//!    `path`, the inner service's future included: what the receivers and the application log
//!    carries the request id.
//! 2. [`RequestStarted`] is sent from the layer's [`WebApp`] with
//!    [`send_async`](signals_core::Signal::send_async), and awaited (at most the timeout)
//!    before the inner service is called.
//! 3. The inner service is called and awaited.
//! 4. [`RequestFinished`] is sent with the [`Response`] made by
//!    [`Response::from_http`] (status, content type, length, headers; the body is not
//!    read), and awaited (at most the timeout) before the response is returned: CKAN sends it
//!    "right before the response is sent to the client", and so does this layer.
//! 5. The inner service's response is returned as it came, whatever the receivers did.
//!
//! ## Guaranteed
//!
//! - Each request sends `request_started` once, before the inner service is called; each
//!   request the inner service answers with a response sends `request_finished` once, after
//!   it answered and before the response is returned. Both come from the layer's [`WebApp`],
//!   the sender a receiver may filter on, and are awaited in the request's own task, as CKAN
//!   awaits its receivers before the response goes out.
//! - The response is the inner service's, unchanged: a receiver that returns an error, panics
//!   or takes too long changes nothing in it, nor in the error the inner service returns.
//! - Each send is awaited for at most the timeout ([`SignalsLayer::timeout`], by default
//!   [`SignalsLayer::DEFAULT_TIMEOUT`], 5 seconds), counted at the send's await points. When it
//!   runs out, a WARN event (`tracing`, target `ckan_signals::layer`, message `send timed
//!   out; ...`) names the signal, the timeout and the request id.
//! - A receiver's failure (an error or a panic) is reported as a WARN event too, once per
//!   failure, inside the request's span: signals-core's `tracing` feature, which `tower`
//!   turns on, logs it (target `signals`, message `receiver failed`, with the signal, the
//!   receiver's name, location and plugin, and the error). That feature logs the failures of
//!   every send in the program, not only the layer's.
//!
//! ## Not guaranteed
//!
//! - **Secrets in headers are not hidden.** `request_finished` carries every response header,
//!   `set-cookie` included, as Flask's response object does: a receiver that logs or forwards
//!   its kwargs handles session cookies; drop what it must not keep.
//!
//! - **A timeout drops the rest of that send.** The send's future is dropped at the
//!   deadline, and with it the receiver in flight at its await point: the receivers connected
//!   after the slow one do not run for that request. Nothing stays locked or connected, and
//!   the next request sends to every receiver again.
//! - **The timeout cannot cut a receiver that blocks.** It is checked at await points: a sync
//!   receiver, or an async one that blocks its thread without awaiting, holds the response
//!   for as long as it runs (and the thread with it). Move slow work to an async receiver
//!   that awaits, or spawn it.
//! - **An error from the inner service sends no `request_finished`.** The error passes
//!   through unchanged, after `request_started` was sent. There is no response to report: a
//!   tower error is not a response (hyper closes the connection on it). Flask is different
//!   here: it turns an unhandled exception into a 500 response and sends `request_finished`
//!   for it (unless it propagates exceptions, in debug and testing mode, where it sends none;
//!   CKAN registers an error handler for every exception outside debug and testing, so in
//!   production CKAN sends `request_finished` for its 500 page). To get the same, turn errors
//!   into responses *inside* this layer (axum's handlers always answer with one, and its
//!   `HandleErrorLayer` makes one of a middleware's error; tower's `ServiceExt::map_result`
//!   for other services): they are then responses, and `request_finished` carries them. A
//!   panic in the inner service, or a future dropped by the server (the client went away),
//!   sends no `request_finished` either.
//! - **The sends need a tokio runtime with its timer** (`enable_time` or `enable_all`):
//!   the timeout is tokio's, and the request's future panics without one. axum, tonic and
//!   hyper-util's servers run on one.
//! - `request_finished` sees the response's head, not its body: a streamed body's length is
//!   `0` unless a `Content-Length` header or an exact size hint gives it, and receivers run
//!   before the body is sent, not after.
//! - Receivers run one after another in connection order, as `send_async` runs them; the
//!   request's time includes theirs (up to twice the timeout).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signals_core::{SendReport, Signal};
use tracing::Instrument;

use crate::model::{Response, WebApp};
use crate::signals::{RequestFinished, RequestStarted};

/// The header a request id is read from.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id taken from a request's header, in bytes.
const MAX_REQUEST_ID_LEN: usize = 64;

/// A tower [`Layer`](tower_layer::Layer) that sends [`RequestStarted`] before and
/// [`RequestFinished`] after each request of the service it wraps (see the
/// [module docs](self) for what is guaranteed).
///
/// Cloning it is cheap (the [`WebApp`] is shared).
///
/// ```
/// use std::time::Duration;
/// use ckan_signals::layer::SignalsLayer;
/// use ckan_signals::model::WebApp;
///
/// let layer = SignalsLayer::new(WebApp::new("ckan"));
/// assert_eq!(layer.timeout_duration(), SignalsLayer::DEFAULT_TIMEOUT);
/// let layer = layer.timeout(Duration::from_millis(500));
/// assert_eq!(layer.timeout_duration(), Duration::from_millis(500));
/// assert_eq!(layer.app().name, "ckan");
/// ```
#[derive(Clone)]
pub struct SignalsLayer {
    app: Arc<WebApp>,
    timeout: Duration,
}

impl SignalsLayer {
    /// How long each of the two sends is awaited unless [`timeout`](Self::timeout) says
    /// otherwise: 5 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A layer whose signals have `app` as their sender, with the
    /// [default timeout](Self::DEFAULT_TIMEOUT).
    pub fn new(app: WebApp) -> Self {
        SignalsLayer {
            app: Arc::new(app),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Awaits each send (`request_started`, then `request_finished`) for at most `timeout`:
    /// past it, the rest of that send is dropped, a WARN event is logged, and the request goes
    /// on. A zero timeout still runs the receivers up to their first await point.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout of each send.
    pub fn timeout_duration(&self) -> Duration {
        self.timeout
    }

    /// The sender of the signals.
    pub fn app(&self) -> &WebApp {
        &self.app
    }
}

impl fmt::Debug for SignalsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalsLayer")
            .field("app", &self.app.name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<S> tower_layer::Layer<S> for SignalsLayer {
    type Service = SignalsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SignalsService {
            inner,
            app: Arc::clone(&self.app),
            timeout: self.timeout,
        }
    }
}

/// The service [`SignalsLayer`] wraps around `S`: it answers what `S` answers, and sends
/// [`RequestStarted`] and [`RequestFinished`] around each call.
#[derive(Clone)]
pub struct SignalsService<S> {
    inner: S,
    app: Arc<WebApp>,
    timeout: Duration,
}

impl<S> SignalsService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for SignalsService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalsService")
            .field("inner", &self.inner)
            .field("app", &self.app.name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The future a [`SignalsService`] returns.
pub type SignalsFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'static>>;

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for SignalsService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: http_body::Body + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = SignalsFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone takes the place of the service that was polled ready, which serves this
        // call (tower's usual pattern: the clone may not be ready).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let app = Arc::clone(&self.app);
        let timeout = self.timeout;
        let id = request_id(&request);
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            path = %request.uri().path(),
        );
        Box::pin(
            async move {
                let started = tokio::time::timeout(timeout, RequestStarted.send_async(&app)).await;
                settle::<RequestStarted>(started, timeout, &id);
                let response = inner.call(request).await?;
                let finished = RequestFinished {
                    response: Response::from_http(&response),
                };
                let sent = tokio::time::timeout(timeout, finished.send_async(&app)).await;
                settle::<RequestFinished>(sent, timeout, &id);
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// Logs a WARN event if a send under a timeout ran out of time. A finished send's failures
/// are not logged here: signals-core's `tracing` feature (on with `tower`) logs each one where
/// the send records it, with the receiver's name, location and plugin.
fn settle<T: Signal>(
    outcome: Result<SendReport, tokio::time::error::Elapsed>,
    timeout: Duration,
    request_id: &str,
) {
    if outcome.is_err() {
        let signal = T::named().qualified_name();
        tracing::warn!(
            signal,
            timeout = ?timeout,
            request_id,
            "send timed out; the receivers after the slow one did not run for this request"
        );
    }
}

/// The request's id: its `x-request-id` header if that is 1 to 64 visible ASCII characters
/// (`!` to `~`), else a new one.
fn request_id<B>(request: &http::Request<B>) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .map(|v| v.as_bytes())
        .filter(|v| is_sane_request_id(v))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(new_request_id)
}

fn is_sane_request_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.iter().all(|b| b.is_ascii_graphic())
}

/// A request id unique within the process: a prefix drawn once per process (from the clock
/// and the process id, so that two processes' logs rarely share ids) and a counter.
fn new_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mixed =
            (nanos ^ (u64::from(std::process::id()) << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!("{:08x}", (mixed >> 32) as u32)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids() {
        assert!(is_sane_request_id(b"abc-123_X.~!"));
        assert!(is_sane_request_id(&[b'a'; 64]));
        assert!(!is_sane_request_id(&[b'a'; 65]));
        assert!(!is_sane_request_id(b""));
        assert!(!is_sane_request_id(b"a b"));
        assert!(!is_sane_request_id(b"a\tb"));
        assert!(!is_sane_request_id("caf\u{e9}".as_bytes()));
    }

    #[test]
    fn new_ids_differ() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert_eq!(a.split('-').next(), b.split('-').next());
        assert!(is_sane_request_id(a.as_bytes()));
    }
}
