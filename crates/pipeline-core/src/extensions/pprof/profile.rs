//! CPU profiles: sampled with the `pprof` crate, written as gzip-compressed
//! `perftools.profiles.Profile` protobuf, the format `go tool pprof` reads.
//!
//! The message types are declared here with our own prost rather than taken from the
//! crate's codec features, which bring a second, older prost and its build tooling.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

/// `perftools.profiles.Profile` (the fields written).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    pub period: i64,
}

/// `perftools.profiles.ValueType`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct ValueType {
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// `perftools.profiles.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// `perftools.profiles.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(int64, tag = "1")]
    pub key: i64,
    #[prost(int64, tag = "2")]
    pub str: i64,
}

/// `perftools.profiles.Location`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// `perftools.profiles.Line`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Line {
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// `perftools.profiles.Function`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(int64, tag = "2")]
    pub name: i64,
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    #[prost(int64, tag = "4")]
    pub filename: i64,
}

/// Sampling rate, as Go's CPU profiler (100 Hz).
const FREQUENCY: i32 = 100;

/// The process has one profiler (SIGPROF); like Go's, it runs one CPU profile at a time.
static PROFILING: AtomicBool = AtomicBool::new(false);

/// Why no profile could be made.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Another profile is being taken.
    #[error("cpu profiling already in use")]
    Busy,
    /// The profiler failed.
    #[error("cpu profiling failed: {0}")]
    Profiler(String),
}

/// A running CPU profile: sampling until [`finish`](Self::finish).
pub struct CpuProfile {
    guard: ::pprof::ProfilerGuard<'static>,
}

impl CpuProfile {
    /// Starts sampling, unless a profile is already being taken.
    pub fn start() -> Result<CpuProfile, ProfileError> {
        if PROFILING.swap(true, Ordering::AcqRel) {
            return Err(ProfileError::Busy);
        }
        let guard = ::pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            // Frames inside these libraries cannot be unwound safely from a signal handler.
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .map_err(|e| {
                PROFILING.store(false, Ordering::Release);
                ProfileError::Profiler(e.to_string())
            })?;
        Ok(CpuProfile { guard })
    }

    /// Stops sampling; returns the gzip-compressed profile.
    pub fn finish(self) -> Result<Vec<u8>, ProfileError> {
        let report = self.guard.report().build();
        drop(self.guard);
        PROFILING.store(false, Ordering::Release);
        let report = report.map_err(|e| ProfileError::Profiler(e.to_string()))?;
        let profile = encode(&report);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&prost::Message::encode_to_vec(&profile))
            .and_then(|()| gz.finish())
            .map_err(|e| ProfileError::Profiler(e.to_string()))
    }
}

/// Samples for `duration` and returns the gzip-compressed profile. Blocks the calling
/// thread: run it where blocking is allowed.
pub fn cpu_profile(duration: Duration) -> Result<Vec<u8>, ProfileError> {
    let profile = CpuProfile::start()?;
    std::thread::sleep(duration);
    profile.finish()
}

/// Interns strings into the profile's string table (index 0 is the empty string).
#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: std::collections::HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        let mut strings = Strings::default();
        strings.get("");
        strings
    }

    fn get(&mut self, s: &str) -> i64 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// The report as a profile: one location per frame (its inlined symbols as lines),
/// values `samples/count` and `cpu/nanoseconds`, a `thread` label on each sample.
fn encode(report: &::pprof::Report) -> Profile {
    let mut strings = Strings::new();
    let mut functions: Vec<Function> = Vec::new();
    let mut function_ids: std::collections::HashMap<(String, String), u64> =
        std::collections::HashMap::new();
    let mut locations: Vec<Location> = Vec::new();
    let mut samples = Vec::new();
    let period = 1_000_000_000 / i64::from(report.timing.frequency.max(1));
    let thread = strings.get("thread");
    for (frames, count) in &report.data {
        let mut location_id = Vec::with_capacity(frames.frames.len());
        for frame in &frames.frames {
            let line = frame
                .iter()
                .map(|symbol| {
                    let name = symbol.name();
                    let file = symbol
                        .filename
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default();
                    let key = (name, file);
                    let id = match function_ids.get(&key) {
                        Some(id) => *id,
                        None => {
                            let id = functions.len() as u64 + 1;
                            let name = strings.get(&key.0);
                            functions.push(Function {
                                id,
                                name,
                                system_name: name,
                                filename: strings.get(&key.1),
                            });
                            function_ids.insert(key, id);
                            id
                        }
                    };
                    Line {
                        function_id: id,
                        line: i64::from(symbol.lineno.unwrap_or(0)),
                    }
                })
                .collect();
            let id = locations.len() as u64 + 1;
            locations.push(Location { id, line });
            location_id.push(id);
        }
        let count = *count as i64;
        samples.push(Sample {
            location_id,
            value: vec![count, count * period],
            label: vec![Label {
                key: thread,
                str: strings.get(&frames.thread_name),
            }],
        });
    }
    let value = |strings: &mut Strings, t: &str, u: &str| ValueType {
        r#type: strings.get(t),
        unit: strings.get(u),
    };
    let sample_type = vec![
        value(&mut strings, "samples", "count"),
        value(&mut strings, "cpu", "nanoseconds"),
    ];
    let period_type = Some(value(&mut strings, "cpu", "nanoseconds"));
    let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    Profile {
        sample_type,
        sample: samples,
        location: locations,
        function: functions,
        string_table: strings.table,
        time_nanos: nanos(
            report
                .timing
                .start_time
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        ),
        duration_nanos: nanos(report.timing.duration),
        period_type,
        period,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    /// Keeps a CPU busy so the profile has samples.
    fn spin(until: std::time::Instant) -> u64 {
        let mut x = 0u64;
        while std::time::Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        x
    }

    #[test]
    fn a_cpu_profile_decodes_as_a_pprof_profile_and_only_one_runs_at_a_time() {
        let profile = CpuProfile::start().unwrap();
        assert!(matches!(CpuProfile::start(), Err(ProfileError::Busy)));
        std::hint::black_box(spin(std::time::Instant::now() + Duration::from_millis(300)));
        let gz = profile.finish().unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut bytes)
            .unwrap();
        let decoded: Profile = prost::Message::decode(&bytes[..]).unwrap();
        assert_eq!(decoded.string_table[0], "");
        let types: Vec<&str> = decoded
            .sample_type
            .iter()
            .map(|t| decoded.string_table[t.r#type as usize].as_str())
            .collect();
        assert_eq!(types, ["samples", "cpu"]);
        assert_eq!(decoded.period, 10_000_000);
        assert!(!decoded.sample.is_empty(), "a busy CPU was sampled");
        // The profiler is free again.
        CpuProfile::start().unwrap().finish().unwrap();
    }
}
