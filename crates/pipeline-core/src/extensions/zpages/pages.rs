//! The zpages, rendered as HTML like the Go Collector's: a header with links to the
//! others, then tables.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::spans::{BUCKETS, SpanStore};
use crate::component::{BuildInfo, ComponentId, Kind, StatusSource};
use crate::confighttp::percent::{Plus, decode_lossy};
use crate::service::ServiceHealth;
use crate::telemetry::{FinishedSpan, SpanValue};

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a URL query value.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}</style></head><body>\
         <p><a href=\"/debug/servicez\">servicez</a> | <a href=\"/debug/pipelinez\">pipelinez</a> | \
         <a href=\"/debug/extensionz\">extensionz</a> | <a href=\"/debug/featurez\">featurez</a> | \
         <a href=\"/debug/tracez\">tracez</a></p>\n<h1>{title}</h1>\n{body}</body></html>\n",
        title = esc(title)
    )
}

fn time_text(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

fn status_of(health: &ServiceHealth, source: &StatusSource) -> String {
    health
        .components()
        .into_iter()
        .find(|(s, _)| s == source)
        .map_or_else(|| "-".to_string(), |(_, entry)| entry.status.to_string())
}

/// `/debug/servicez`: build and runtime information.
pub(crate) fn servicez(build: &BuildInfo, health: &ServiceHealth) -> String {
    let mut body = String::from("<h2>Build and runtime</h2><table>");
    let mut row = |key: &str, value: String| {
        let _ = write!(
            body,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(key),
            esc(&value)
        );
    };
    row("Command", build.command.clone());
    row("Description", build.description.clone());
    row("Version", build.version.clone());
    row("Process ID", std::process::id().to_string());
    row(
        "Start time",
        health.started_at().map_or("-".into(), time_text),
    );
    row(
        "Uptime",
        health.uptime().map_or("-".into(), |u| {
            humantime::format_duration(Duration::from_secs(u.as_secs())).to_string()
        }),
    );
    row(
        "Last reload",
        health
            .last_reload()
            .map_or("none".into(), |r| match r.error {
                None => format!("applied at {}", time_text(r.at)),
                Some(error) => format!("refused at {}: {error}", time_text(r.at)),
            }),
    );
    body.push_str("</table>");
    page("Service", &body)
}

fn component_list(kind: Kind, ids: &[ComponentId], health: &ServiceHealth) -> String {
    ids.iter()
        .map(|id| {
            let status = status_of(health, &StatusSource::Component(kind, id.clone()));
            format!("{} ({})", esc(&id.to_string()), esc(&status))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// `/debug/pipelinez`: every pipeline with its components and their status.
pub(crate) fn pipelinez(health: &ServiceHealth) -> String {
    let mut body = String::from(
        "<table><tr><th>Pipeline</th><th>Status</th><th>Receivers</th><th>Processors</th>\
         <th>Exporters</th></tr>",
    );
    for (id, pipeline) in health.pipelines() {
        let status = pipeline
            .status
            .map_or_else(|| "OK".to_string(), |s| s.status.to_string());
        let c = &pipeline.components;
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&id.to_string()),
            esc(&status),
            component_list(Kind::Receiver, &c.receivers, health),
            component_list(Kind::Processor, &c.processors, health),
            component_list(Kind::Exporter, &c.exporters, health),
        );
    }
    body.push_str("</table>");
    page("Pipelines", &body)
}

/// `/debug/extensionz`: every extension and its status.
pub(crate) fn extensionz(health: &ServiceHealth) -> String {
    let mut body = String::from("<table><tr><th>Extension</th><th>Status</th><th>Since</th></tr>");
    for (source, entry) in health.components() {
        if let StatusSource::Component(Kind::Extension, id) = source {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&id.to_string()),
                esc(&entry.status.to_string()),
                time_text(entry.since)
            );
        }
    }
    body.push_str("</table>");
    page("Extensions", &body)
}

/// `/debug/featurez`: every feature gate.
pub(crate) fn featurez(gates: &tributary_featuregate::Registry) -> String {
    let mut body = String::from(
        "<table><tr><th>ID</th><th>Enabled</th><th>Stage</th><th>Description</th>\
         <th>From version</th><th>To version</th><th>Reference</th></tr>",
    );
    let mut gates = gates.gates();
    gates.sort_by(|a, b| a.id().cmp(b.id()));
    for gate in gates {
        let version = |v: Option<tributary_featuregate::Version>| {
            v.map_or_else(String::new, |v| v.to_string())
        };
        let reference = gate.reference_url().map_or_else(String::new, |url| {
            format!("<a href=\"{0}\">{0}</a>", esc(url))
        });
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(gate.id()),
            gate.is_enabled(),
            esc(&gate.stage().to_string()),
            esc(gate.description()),
            esc(&version(gate.from_version())),
            esc(&version(gate.to_version())),
            reference
        );
    }
    body.push_str("</table>");
    page("Feature gates", &body)
}

fn bucket_label(i: usize) -> String {
    let low = BUCKETS[i];
    if low.is_zero() {
        ">0s".into()
    } else {
        format!(">{}", humantime::format_duration(low))
    }
}

/// What `/debug/tracez` was asked for: the summary, or the samples of one cell.
pub(crate) struct TracezQuery {
    /// `zspanname`.
    pub name: Option<String>,
    /// `ztype`: 1 latency samples (with `zlatencybucket`), 2 error samples.
    pub kind: u8,
    /// `zlatencybucket`.
    pub bucket: usize,
}

impl TracezQuery {
    pub(crate) fn parse(query: Option<&str>) -> TracezQuery {
        let mut parsed = TracezQuery {
            name: None,
            kind: 0,
            bucket: 0,
        };
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match key {
                "zspanname" => parsed.name = Some(value),
                "ztype" => parsed.kind = value.parse().unwrap_or(0),
                "zlatencybucket" => parsed.bucket = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        parsed
    }
}

/// A query component, `+` a space; malformed escapes kept.
fn percent_decode(text: &str) -> String {
    decode_lossy(text.as_bytes(), Plus::Space).into_owned()
}

fn sample_rows(spans: &[FinishedSpan]) -> String {
    let mut rows = String::from(
        "<table><tr><th>Start</th><th>Duration</th><th>Trace ID</th><th>Span ID</th>\
         <th>Attributes</th><th>Error</th></tr>",
    );
    for span in spans.iter().rev() {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let attributes = span
            .attributes
            .iter()
            .map(|(k, v)| match v {
                SpanValue::Str(s) => format!("{k}={s}"),
                SpanValue::Int(i) => format!("{k}={i}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            time_text(span.start),
            span.duration(),
            hex(&span.trace_id),
            hex(&span.span_id),
            esc(&attributes),
            esc(span.error.as_deref().unwrap_or(""))
        );
    }
    rows.push_str("</table>");
    rows
}

/// `/debug/tracez`: per span name, counts by latency bucket and errors, each linking to
/// its recent samples.
pub(crate) fn tracez(store: &SpanStore, query: &TracezQuery) -> String {
    store.read(|names| {
        let mut body = String::from("<table><tr><th>Span name</th>");
        for i in 0..BUCKETS.len() {
            let _ = write!(body, "<th>{}</th>", esc(&bucket_label(i)));
        }
        body.push_str("<th>Errors</th></tr>");
        for (name, summary) in names {
            let link = |kind: u8, bucket: usize, count: u64| {
                format!(
                    "<td><a href=\"/debug/tracez?zspanname={}&amp;ztype={kind}&amp;zlatencybucket={bucket}\">{count}</a></td>",
                    esc(&query_escape(name))
                )
            };
            let _ = write!(body, "<tr><td>{}</td>", esc(name));
            for (i, count) in summary.latency.iter().enumerate() {
                body.push_str(&link(1, i, *count));
            }
            body.push_str(&link(2, 0, summary.errors));
            body.push_str("</tr>");
        }
        body.push_str("</table>");
        let overflow = store.overflow();
        if overflow > 0 {
            let _ = write!(
                body,
                "<p>{overflow} spans of further names were not tracked.</p>"
            );
        }
        if let Some(name) = &query.name
            && let Some(summary) = names.get(name)
        {
            let (title, samples): (String, Vec<FinishedSpan>) = if query.kind == 2 {
                ("errors".into(), summary.error_samples.iter().cloned().collect())
            } else {
                let bucket = query.bucket.min(BUCKETS.len() - 1);
                (
                    format!("latency {}", bucket_label(bucket)),
                    summary.latency_samples[bucket].iter().cloned().collect(),
                )
            };
            let _ = write!(
                body,
                "<h2>{}: {}</h2>{}",
                esc(name),
                esc(&title),
                sample_rows(&samples)
            );
        }
        page("Trace spans", &body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_queries_round_trip() {
        assert_eq!(
            esc("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        let name = "receiver/otlp/TraceDataReceived";
        let parsed = TracezQuery::parse(Some(&format!(
            "zspanname={}&ztype=2&zlatencybucket=3",
            query_escape(name)
        )));
        assert_eq!(parsed.name.as_deref(), Some(name));
        assert_eq!((parsed.kind, parsed.bucket), (2, 3));
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
