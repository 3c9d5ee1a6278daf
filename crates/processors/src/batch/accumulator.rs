//! The batch being filled for one partition, and where it is cut.
//!
//! Requests are kept as they arrive (no merging under the partition's lock); a batch is
//! cut from the front once `send_batch_size` items are pending, at most
//! `send_batch_max_size` items long, dividing the one request that crosses the cut.
//! The cut-off requests are merged into one payload later, by the task that sends it.

use tributary_pipeline_core::pdata::{OtlpRequest, Payload};

use super::outcome::{Completion, Waiter};

/// Data cut from a partition, ready to go downstream as one request.
pub(crate) struct Batch<R> {
    /// The requests (or parts of requests) in it, in arrival order.
    pub pieces: Vec<Payload<R>>,
    /// Items in all pieces.
    pub items: usize,
    /// Where the outcome of sending it is published.
    pub completion: Completion,
}

/// The data pending in one partition.
pub(crate) struct Accumulator<R> {
    /// Pending requests with their item counts, in arrival order.
    pieces: Vec<(Payload<R>, usize)>,
    items: usize,
    /// The outcome of the batch the pending data will go out in.
    completion: Completion,
    send_batch_size: usize,
    /// 0: no limit.
    send_batch_max_size: usize,
}

impl<R> Accumulator<R> {
    /// An empty accumulator cutting batches by these sizes (a `send_batch_max_size` of 0
    /// means no limit).
    pub fn new(send_batch_size: usize, send_batch_max_size: usize) -> Self {
        Accumulator {
            pieces: Vec::new(),
            items: 0,
            completion: Completion::new(),
            send_batch_size,
            send_batch_max_size,
        }
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Items pending.
    pub fn items(&self) -> usize {
        self.items
    }

    /// Adds a request (with its item count) after the pending ones.
    pub fn push(&mut self, piece: Payload<R>, items: usize) {
        self.items += items;
        self.pieces.push((piece, items));
    }

    /// A waiter for the batch that the data pending now (at least its last item) goes out in.
    pub fn waiter(&self) -> Waiter {
        self.completion.waiter()
    }
}

impl<R: OtlpRequest> Accumulator<R> {
    /// The next batch, if `send_batch_size` items are pending.
    pub fn take_full(&mut self) -> Option<Batch<R>> {
        if self.is_empty() || self.items < self.send_batch_size {
            return None;
        }
        Some(self.cut(self.next_batch_items()))
    }

    /// Everything pending, in batches of at most `send_batch_max_size` items.
    pub fn take_all(&mut self) -> Vec<Batch<R>> {
        let mut batches = Vec::new();
        while !self.is_empty() {
            batches.push(self.cut(self.next_batch_items()));
        }
        batches
    }

    fn next_batch_items(&self) -> usize {
        match self.send_batch_max_size {
            0 => self.items,
            max => self.items.min(max),
        }
    }

    /// Cuts the first `count` items off as a batch.
    fn cut(&mut self, count: usize) -> Batch<R> {
        let completion = std::mem::replace(&mut self.completion, Completion::new());
        if count >= self.items {
            let items = std::mem::take(&mut self.items);
            let pieces = self.pieces.drain(..).map(|(piece, _)| piece).collect();
            return Batch {
                pieces,
                items,
                completion,
            };
        }
        let mut whole = 0;
        let mut taken = 0;
        for (_, items) in &self.pieces {
            if taken + items > count {
                break;
            }
            taken += items;
            whole += 1;
        }
        let mut pieces: Vec<Payload<R>> =
            self.pieces.drain(..whole).map(|(piece, _)| piece).collect();
        if taken < count
            && let Some((crossing, items)) = self.pieces.first_mut()
        {
            let front = count - taken;
            pieces.push(Payload::split_front(crossing, front));
            *items -= front;
        }
        self.items -= count;
        Batch {
            pieces,
            items: count,
            completion,
        }
    }
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

    use super::*;
    use crate::batch::tests::spans;

    fn names(batch: &Batch<ExportTraceServiceRequest>) -> Vec<String> {
        batch
            .pieces
            .iter()
            .flat_map(|p| p.request().resource_spans.clone())
            .flat_map(|rs| rs.scope_spans)
            .flat_map(|ss| ss.spans)
            .map(|s| s.name)
            .collect()
    }

    #[test]
    fn nothing_is_cut_below_send_batch_size() {
        let mut acc = Accumulator::new(10, 0);
        acc.push(spans(0..9), 9);
        assert!(acc.take_full().is_none());
        acc.push(spans(9..12), 3);
        let batch = acc.take_full().expect("10 items reached");
        assert_eq!(
            batch.items, 12,
            "without a maximum the whole pending data goes"
        );
        assert!(acc.is_empty());
    }

    #[test]
    fn batches_are_cut_at_the_maximum_dividing_the_crossing_request() {
        let mut acc = Accumulator::new(4, 5);
        acc.push(spans(0..3), 3);
        acc.push(spans(3..11), 8);
        let first = acc.take_full().unwrap();
        assert_eq!(names(&first), ["0", "1", "2", "3", "4"]);
        let second = acc.take_full().unwrap();
        assert_eq!(names(&second), ["5", "6", "7", "8", "9"]);
        assert!(
            acc.take_full().is_none(),
            "1 item left, below send_batch_size"
        );
        assert_eq!(acc.items(), 1);
        let rest = acc.take_all();
        assert_eq!(rest.len(), 1);
        assert_eq!(names(&rest[0]), ["10"]);
    }

    #[test]
    fn take_all_respects_the_maximum() {
        let mut acc = Accumulator::new(100, 100);
        for start in (0..250).step_by(50) {
            acc.push(spans(start..start + 50), 50);
        }
        // 250 items pending although send_batch_size is 100: pushed without take_full.
        let sizes: Vec<usize> = acc.take_all().iter().map(|b| b.items).collect();
        assert_eq!(sizes, [100, 100, 50]);
    }
}
