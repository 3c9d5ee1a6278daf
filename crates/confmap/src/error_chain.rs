//! One line of text for an error and its causes.

use std::error::Error;

/// An error and its causes as one line, `outer: cause: root cause`.
///
/// The rule: start with the error's own message, then walk [`Error::source`] to the end,
/// appending each cause after `": "` — unless its text is already contained in the
/// message so far, because many errors (tonic's, hyper's, `thiserror`'s `{0}` variants)
/// repeat their source's text in their own, and a line saying the same thing twice hides
/// what is new. An empty cause is skipped by the same rule.
///
/// The text is only what the errors print: scrub what they must not reveal before
/// chaining (for example `reqwest::Error::without_url` drops a URL that may carry
/// credentials).
///
/// ```
/// use std::error::Error;
/// use std::fmt;
///
/// #[derive(Debug)]
/// struct Outer(std::io::Error);
/// impl fmt::Display for Outer {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str("reading the config")
///     }
/// }
/// impl Error for Outer {
///     fn source(&self) -> Option<&(dyn Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let error = Outer(std::io::Error::other("disk on fire"));
/// assert_eq!(tributary_confmap::error_chain(&error), "reading the config: disk on fire");
/// ```
pub fn error_chain(error: &dyn Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// An error with a fixed message and an optional cause.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1
                .as_deref()
                .map(|cause| cause as &(dyn Error + 'static))
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |cause, text| Some(Layer(text, cause.map(Box::new))))
            .expect("at least one layer")
    }

    #[test]
    fn an_error_without_causes_is_its_message() {
        assert_eq!(error_chain(&chain(&["refused"])), "refused");
    }

    #[test]
    fn causes_follow_the_message_in_order() {
        let error = chain(&["error sending request", "client error (Connect)", "refused"]);
        assert_eq!(
            error_chain(&error),
            "error sending request: client error (Connect): refused"
        );
    }

    #[test]
    fn a_cause_already_in_the_text_is_skipped_wherever_it_appears() {
        let error = chain(&[
            "transport error: refused (os error 111)",
            "refused",
            "os error 111",
            "deep",
        ]);
        assert_eq!(
            error_chain(&error),
            "transport error: refused (os error 111): deep"
        );
    }

    #[test]
    fn an_empty_cause_adds_nothing() {
        assert_eq!(error_chain(&chain(&["outer", "", "inner"])), "outer: inner");
    }
}
