//! Change notification: providers report through a [`Watcher`]; a [`Changes`] receiver gets
//! the reports, coalesced so that many reports nobody has read yet arrive as one event.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// The most watch failures one pending event keeps.
const MAX_PENDING_ERRORS: usize = 32;

/// "The configuration changed; resolve it again." Coalesced: when several sources report
/// before anybody reads, one event carries all of their URIs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeEvent {
    uris: Vec<String>,
    errors: Vec<String>,
}

impl ChangeEvent {
    /// The URIs whose sources changed, in the order they first reported, without repeats.
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// Failures reported by watches (`uri: message`), such as a watch that could not be kept
    /// up. The configuration may be stale; resolving again shows whether it still resolves.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Whether any watch reported a failure.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn absorb(&mut self, other: ChangeEvent) {
        for uri in other.uris {
            if !self.uris.contains(&uri) {
                self.uris.push(uri);
            }
        }
        // A watch failing over and over while nobody reads must not grow memory without
        // bound; the first failures say what is wrong.
        let room = MAX_PENDING_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }
}

/// The single pending-event slot shared by the watchers and the receivers of one resolver.
#[derive(Debug, Default)]
pub(crate) struct ChangeHub {
    state: Mutex<HubState>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct HubState {
    pending: Option<ChangeEvent>,
    closed: bool,
    /// Every report received, for tests that count them.
    #[cfg(test)]
    reports: usize,
}

impl ChangeHub {
    pub(crate) fn new() -> Arc<ChangeHub> {
        Arc::new(ChangeHub::default())
    }

    /// A watcher that reports changes of `uri` to this hub.
    pub(crate) fn watcher(self: &Arc<ChangeHub>, uri: &str) -> Watcher {
        Watcher {
            uri: Arc::from(uri),
            hub: Arc::clone(self),
        }
    }

    /// A receiver of this hub's events.
    pub(crate) fn changes(self: &Arc<ChangeHub>) -> Changes {
        Changes {
            hub: Arc::clone(self),
        }
    }

    /// Drops any pending event and refuses all later ones; receivers then see the end.
    /// Once this returns, no receiver gets another event.
    pub(crate) fn close(&self) {
        {
            let mut state = self.lock();
            state.closed = true;
            state.pending = None;
        }
        self.notify.notify_waiters();
    }

    fn report(&self, event: ChangeEvent) {
        {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            #[cfg(test)]
            {
                state.reports += 1;
            }
            match &mut state.pending {
                Some(pending) => pending.absorb(event),
                None => state.pending = Some(event),
            }
        }
        self.notify.notify_waiters();
    }

    /// How many reports the hub received.
    #[cfg(test)]
    pub(crate) fn reports(&self) -> usize {
        self.lock().reports
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // The state is a plain option and a flag, valid even if a holder panicked.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A provider's handle for reporting that the source of one URI changed. Cheap to clone and
/// callable from any thread, async or not; it never blocks for long.
#[derive(Clone, Debug)]
pub struct Watcher {
    uri: Arc<str>,
    hub: Arc<ChangeHub>,
}

impl Watcher {
    /// A watcher for `uri` with its own receiver, for using or testing a provider without a
    /// [`Resolver`](crate::Resolver).
    pub fn channel(uri: &str) -> (Watcher, Changes) {
        let hub = ChangeHub::new();
        (hub.watcher(uri), hub.changes())
    }

    /// The URI this watcher reports for.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Whether `other` reports the same URI to the same receivers: one report through
    /// either says all that both would.
    pub(crate) fn reports_like(&self, other: &Watcher) -> bool {
        Arc::ptr_eq(&self.hub, &other.hub) && self.uri == other.uri
    }

    /// Reports that the source changed and the configuration should be resolved again.
    pub fn changed(&self) {
        self.hub.report(ChangeEvent {
            uris: vec![self.uri.to_string()],
            errors: Vec::new(),
        });
    }

    /// Reports that watching failed, for example because the watched directory vanished.
    pub fn failed(&self, message: impl std::fmt::Display) {
        self.hub.report(ChangeEvent {
            uris: vec![self.uri.to_string()],
            errors: vec![format!("{}: {message}", self.uri)],
        });
    }
}

/// Receives [`ChangeEvent`]s. Events are coalesced: while nobody reads, any number of reports
/// wait as one event. Every receiver of a resolver shares that one pending event, so one
/// task normally owns the receiver.
#[derive(Debug)]
pub struct Changes {
    hub: Arc<ChangeHub>,
}

impl Changes {
    /// Waits for the next event; `None` once the resolver (or provider) has shut down.
    pub async fn recv(&mut self) -> Option<ChangeEvent> {
        loop {
            let notified = self.hub.notify.notified();
            tokio::pin!(notified);
            // Register before looking, so a report between the look and the wait wakes us.
            notified.as_mut().enable();
            {
                let mut state = self.hub.lock();
                if let Some(event) = state.pending.take() {
                    return Some(event);
                }
                if state.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Takes the pending event, if there is one, without waiting.
    pub fn try_recv(&mut self) -> Option<ChangeEvent> {
        self.hub.lock().pending.take()
    }

    /// Whether the source of events has shut down.
    pub fn is_closed(&self) -> bool {
        self.hub.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn reports_nobody_read_arrive_as_one_event() {
        let hub = ChangeHub::new();
        let mut changes = hub.changes();
        let a = hub.watcher("file:a.yaml");
        let b = hub.watcher("http://x/b.yaml");
        a.changed();
        b.changed();
        a.changed();
        b.failed("gone");
        let event = changes.recv().await.unwrap();
        assert_eq!(event.uris(), ["file:a.yaml", "http://x/b.yaml"]);
        assert_eq!(event.errors(), ["http://x/b.yaml: gone"]);
        assert!(event.has_errors());
        assert_eq!(changes.try_recv(), None);
    }

    #[tokio::test]
    async fn pending_failures_are_bounded() {
        let (watcher, mut changes) = Watcher::channel("custom:x");
        for i in 0..1000 {
            watcher.failed(i);
        }
        let event = changes.recv().await.unwrap();
        assert_eq!(event.errors().len(), MAX_PENDING_ERRORS);
        assert_eq!(event.errors()[0], "custom:x: 0");
        assert_eq!(event.uris(), ["custom:x"]);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken() {
        let (watcher, mut changes) = Watcher::channel("env:X");
        let waiter = tokio::spawn(async move { changes.recv().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        watcher.changed();
        let event = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(event.uris(), ["env:X"]);
    }

    #[tokio::test]
    async fn closing_ends_the_stream_and_drops_later_reports() {
        let hub = ChangeHub::new();
        let mut changes = hub.changes();
        let watcher = hub.watcher("file:a");
        watcher.changed();
        hub.close();
        watcher.changed();
        assert!(changes.is_closed());
        assert_eq!(changes.recv().await, None);
        assert_eq!(changes.try_recv(), None);
    }
}
