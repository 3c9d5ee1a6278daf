//! What a connection is doing: requests in flight and how long it has been idle, so a
//! connection that holds a socket without using it can be closed.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::Service;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::ConnectionLimits;

/// One connection's requests: how many are in flight, how many began, and since when it
/// has had none in flight.
pub(super) struct Activity {
    opened: Instant,
    inflight: AtomicUsize,
    started: AtomicU64,
    /// Milliseconds after `opened` at which the last request ended (0 before any).
    idle_since_ms: AtomicU64,
    changed: Notify,
}

impl Activity {
    pub(super) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            inflight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    fn begin(self: &Arc<Self>) -> RequestGuard {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.inflight.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        RequestGuard(Arc::clone(self))
    }

    /// Resolves once the connection has been idle for as long as `limits` allow: no
    /// request in flight for `first_request_timeout` before the first request, or for
    /// `idle_timeout` after one. Never resolves when the applicable timeout is unset.
    pub(super) async fn idle_expired(&self, limits: &ConnectionLimits) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the state is read, so a change in between is not missed.
            changed.as_mut().enable();
            let timeout = if self.started.load(Ordering::SeqCst) == 0 {
                limits.first_request_timeout
            } else {
                limits.idle_timeout
            };
            let deadline = match timeout {
                Some(timeout) if self.inflight.load(Ordering::SeqCst) == 0 => {
                    Some(self.idle_deadline(timeout))
                }
                _ => None,
            };
            match deadline {
                None => changed.await,
                Some(deadline) if Instant::now() >= deadline => return,
                Some(deadline) => tokio::select! {
                    () = changed => {}
                    () = tokio::time::sleep_until(deadline) => {}
                },
            }
        }
    }

    /// When the current idle period passes `timeout`.
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        let since = Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst));
        let offset = since.saturating_add(timeout);
        // A timeout of years is as good as none; `Instant + Duration` must not overflow.
        self.opened
            .checked_add(offset)
            .unwrap_or_else(|| self.opened + Duration::from_secs(100 * 365 * 86_400))
    }
}

/// Counts a request out when it ends, however it ends.
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        let ms = u64::try_from(activity.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        activity.idle_since_ms.store(ms, Ordering::SeqCst);
        activity.inflight.fetch_sub(1, Ordering::SeqCst);
        activity.changed.notify_waiters();
    }
}

/// A service whose calls are counted in the connection's [`Activity`].
pub(super) struct Tracked<S> {
    pub(super) inner: S,
    pub(super) activity: Arc<Activity>,
}

impl<S, B> Service<Request<Incoming>> for Tracked<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let guard = self.activity.begin();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(guard);
            response
        })
    }
}
