//! Helpers shared by the unit tests.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Runs `f` with a subscriber on this thread that records the message of every `WARN`
/// event, and returns those messages. Scoped to the calling thread, so parallel tests do
/// not see each other's warnings.
pub(crate) fn capture_warnings(f: impl FnOnce()) -> Vec<String> {
    let messages = Arc::new(Mutex::new(Vec::new()));
    let subscriber = WarningCapture {
        messages: Arc::clone(&messages),
    };
    tracing::subscriber::with_default(subscriber, f);
    let mut messages = messages.lock().unwrap_or_else(PoisonError::into_inner);
    std::mem::take(&mut *messages)
}

/// A subscriber that keeps the messages of `WARN` events.
struct WarningCapture {
    messages: Arc<Mutex<Vec<String>>>,
}

impl Subscriber for WarningCapture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == Level::WARN {
            let mut message = MessageField(String::new());
            event.record(&mut message);
            self.messages
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(message.0);
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Extracts an event's `message` field.
struct MessageField(String);

impl Visit for MessageField {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
