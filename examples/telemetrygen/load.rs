//! The load: workers that send pool bodies over their own connection, paced to a rate or as
//! fast as the pipeline answers, and what they achieved.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::histogram::LatencyHistogram;
use crate::requests::RequestPool;
use crate::transport::{Connection, Target};

/// How hard to push.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub workers: usize,
    /// Items per second over all workers; 0 sends as fast as the pipeline answers.
    pub rate: f64,
    /// How long to send; `None` sends until cancelled.
    pub duration: Option<Duration>,
}

/// A pacing debt larger than this is forgiven rather than sent as a burst.
const MAX_BACKLOG: Duration = Duration::from_secs(1);
/// Pause before opening a connection again after it broke.
const RECONNECT_DELAY: Duration = Duration::from_millis(100);
/// Distinct error messages kept for the report.
const KEPT_ERRORS: usize = 5;

/// What a run achieved.
#[derive(Default)]
pub struct LoadReport {
    /// Items in requests the pipeline accepted, less those it said it rejected.
    pub sent_items: u64,
    /// Items the pipeline accepted the request of but reported rejected (partial success).
    pub rejected_items: u64,
    /// Items in requests that failed.
    pub failed_items: u64,
    pub ok_requests: u64,
    pub failed_requests: u64,
    pub elapsed: Duration,
    pub latency: LatencyHistogram,
    /// The first distinct errors, with how often each was seen.
    pub errors: Vec<(String, u64)>,
}

impl LoadReport {
    fn merge(&mut self, other: LoadReport) {
        self.sent_items += other.sent_items;
        self.rejected_items += other.rejected_items;
        self.failed_items += other.failed_items;
        self.ok_requests += other.ok_requests;
        self.failed_requests += other.failed_requests;
        self.latency.merge(&other.latency);
        for (message, count) in other.errors {
            self.note_error(message, count);
        }
    }

    fn note_error(&mut self, message: String, count: u64) {
        if let Some(entry) = self.errors.iter_mut().find(|(m, _)| *m == message) {
            entry.1 += count;
        } else if self.errors.len() < KEPT_ERRORS {
            self.errors.push((message, count));
        }
    }

    pub fn items_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.sent_items as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Running totals every worker adds to, for progress lines.
#[derive(Default)]
pub struct Progress {
    pub sent_items: AtomicU64,
    pub failed_requests: AtomicU64,
}

/// Runs the plan until its duration is over or `cancel` fires.
pub async fn run(
    target: Arc<Target>,
    pool: Arc<RequestPool>,
    plan: &LoadPlan,
    progress: Arc<Progress>,
    cancel: CancellationToken,
) -> LoadReport {
    let started = Instant::now();
    let deadline = plan.duration.map(|d| started + d);
    let workers = plan.workers.max(1);
    // Each worker sends one request every `interval`, offset so the workers interleave.
    let interval = (plan.rate > 0.0).then(|| {
        Duration::from_secs_f64(pool.items_per_request() as f64 * workers as f64 / plan.rate)
    });
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let pacing = interval.map(|every| Pacing {
                next: started + every.mul_f64(worker as f64 / workers as f64),
                every,
            });
            let worker = Worker {
                target: Arc::clone(&target),
                pool: Arc::clone(&pool),
                progress: Arc::clone(&progress),
                cancel: cancel.clone(),
                deadline,
                pacing,
                // Spread the workers over the pool so they do not send the same bodies.
                cursor: worker * pool.size() / workers,
            };
            tokio::spawn(worker.run())
        })
        .collect();
    let mut report = LoadReport::default();
    for handle in handles {
        match handle.await {
            Ok(worker_report) => report.merge(worker_report),
            Err(e) => report.note_error(format!("worker stopped: {e}"), 1),
        }
    }
    report.elapsed = started.elapsed();
    report
}

struct Pacing {
    next: Instant,
    every: Duration,
}

struct Worker {
    target: Arc<Target>,
    pool: Arc<RequestPool>,
    progress: Arc<Progress>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
    pacing: Option<Pacing>,
    cursor: usize,
}

impl Worker {
    async fn run(mut self) -> LoadReport {
        let mut report = LoadReport::default();
        let mut connection: Option<Connection> = None;
        let items = self.pool.items_per_request() as u64;
        loop {
            if self.cancel.is_cancelled() || self.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if let Some(pacing) = &mut self.pacing {
                let now = Instant::now();
                if pacing.next + MAX_BACKLOG < now {
                    pacing.next = now;
                }
                let wake = match self.deadline {
                    Some(deadline) if deadline < pacing.next => break,
                    _ => pacing.next,
                };
                tokio::select! {
                    () = tokio::time::sleep_until(wake) => {}
                    () = self.cancel.cancelled() => break,
                }
                pacing.next += pacing.every;
            }
            let conn = match &mut connection {
                Some(conn) => conn,
                None => match Connection::open(&self.target).await {
                    Ok(conn) => connection.insert(conn),
                    Err(error) => {
                        self.fail(&mut report, items, error.to_string());
                        tokio::select! {
                            () = tokio::time::sleep(RECONNECT_DELAY) => {}
                            () = self.cancel.cancelled() => break,
                        }
                        continue;
                    }
                },
            };
            let body = self.pool.body(self.cursor);
            self.cursor = self.cursor.wrapping_add(1);
            let sent_at = Instant::now();
            match conn.send(&self.target, body).await {
                Ok(rejected) => {
                    report.latency.record(sent_at.elapsed());
                    let rejected = rejected.min(items);
                    report.ok_requests += 1;
                    report.sent_items += items - rejected;
                    report.rejected_items += rejected;
                    self.progress
                        .sent_items
                        .fetch_add(items - rejected, Ordering::Relaxed);
                }
                Err(error) => {
                    if error.breaks_connection() {
                        connection = None;
                    }
                    self.fail(&mut report, items, error.to_string());
                }
            }
        }
        report
    }

    fn fail(&self, report: &mut LoadReport, items: u64, message: String) {
        report.failed_requests += 1;
        report.failed_items += items;
        report.note_error(message, 1);
        self.progress
            .failed_requests
            .fetch_add(1, Ordering::Relaxed);
    }
}
