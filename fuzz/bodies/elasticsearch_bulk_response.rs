//! The elasticsearch exporter's reading of a bulk API answer: the first byte gives how many
//! documents the request held (modulo 32: `@` none, `A` one, `B` two...), the rest is the
//! answer. Never a panic; only documents of
//! the request are retried, each at most once and in order; no more are retried and
//! refused than were sent; and `retry_on_status` only moves items between retried and
//! refused.

use tributary_exporters::elasticsearch::read_bulk_answer;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&count, body)) = data.split_first() else {
        return;
    };
    // Sparse indices, as a retry sends a subset of a batch's documents.
    let pending: Vec<usize> = (0..usize::from(count % 32)).map(|i| 3 * i + 1).collect();
    let with_429 = read_bulk_answer(body, &pending, &[429]);
    let without = read_bulk_answer(body, &pending, &[]);
    assert_eq!(with_429.is_ok(), without.is_ok());
    let (Ok(with_429), Ok(without)) = (with_429, without) else {
        return;
    };
    for read in [&with_429, &without] {
        let mut rest = pending.iter();
        for doc in &read.to_retry {
            assert!(
                rest.any(|p| p == doc),
                "{doc} is not a pending document, or repeated"
            );
        }
        assert!(read.rejected + read.to_retry.len() <= pending.len());
        assert!(read.first_reason.is_none() || read.rejected > 0);
    }
    assert!(
        without
            .to_retry
            .iter()
            .all(|doc| with_429.to_retry.contains(doc))
    );
    assert_eq!(
        with_429.rejected + with_429.to_retry.len(),
        without.rejected + without.to_retry.len()
    );
}
