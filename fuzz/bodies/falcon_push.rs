//! Falcon push bodies (`/v1/push`, `/api/push`, `Transfer.Update`): decoding never panics,
//! the counts add up, and the items convert to metrics and back one for one.

use tributary_translator_falcon::{decode_push, items_to_metrics, metrics_to_items};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    if let Ok(push) = decode_push(data, 1_700_000_000) {
        assert_eq!(push.items.len() + push.invalid, push.total);
        let metrics = items_to_metrics(&push.items, "");
        assert_eq!(metrics.item_count(), push.items.len());
        let (items, dropped) = metrics_to_items(&metrics, 60);
        assert_eq!(items.len() + dropped, push.items.len());
    }
}
