//! Reading the answer to a bulk request: Elasticsearch answers `200` even when documents
//! fail, so each item says what became of its document.

use serde_json::Value;

/// What the items of a bulk answer say of the documents sent.
#[doc(hidden)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkItems {
    /// The documents to send again (`5xx` and `retry_on_status` items), in the order
    /// sent: a subset of the documents of the request.
    pub to_retry: Vec<usize>,
    /// How many documents Elasticsearch refused for good (any other `4xx` item).
    pub rejected: usize,
    /// `type: reason` of the first refused document that carries an error.
    pub first_reason: Option<String>,
}

/// Why a bulk answer says nothing of the documents: the whole request is to be sent again.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BulkAnswerError {
    /// The body does not parse as JSON.
    #[error("answered the bulk request with a body that is not JSON")]
    NotJson,
    /// `items` is missing or does not have one item per document.
    #[error("answered {items} items for {documents} documents")]
    ItemCount {
        /// The items in the answer (0 without `items`).
        items: usize,
        /// The documents sent.
        documents: usize,
    },
}

/// Reads the `2xx` answer to a bulk request of documents `pending` (in the order sent):
/// `errors: false` stores all; otherwise item by item, `2xx` and `409` (already there)
/// are stored, `5xx`, `retry_on_status` codes and items without a status are to retry,
/// any other status is a refusal.
// Exposed for the fuzz targets.
#[doc(hidden)]
pub fn read_bulk_answer(
    body: &[u8],
    pending: &[usize],
    retry_on_status: &[u16],
) -> Result<BulkItems, BulkAnswerError> {
    let answer: Value = serde_json::from_slice(body).map_err(|_| BulkAnswerError::NotJson)?;
    if answer.get("errors") == Some(&Value::Bool(false)) {
        return Ok(BulkItems::default());
    }
    let items = answer.get("items").and_then(Value::as_array);
    let Some(items) = items.filter(|items| items.len() == pending.len()) else {
        return Err(BulkAnswerError::ItemCount {
            items: items.map_or(0, Vec::len),
            documents: pending.len(),
        });
    };
    let mut read = BulkItems::default();
    for (item, &doc) in items.iter().zip(pending) {
        // `{"<action>": {"status": .., "error": {..}}}`
        let result = item.as_object().and_then(|o| o.values().next());
        let status = result
            .and_then(|r| r.get("status"))
            .and_then(Value::as_u64)
            .unwrap_or(500);
        // 409: the document is there already (a create of a known ID).
        if status < 300 || status == 409 {
            continue;
        }
        let code = u16::try_from(status).unwrap_or(500);
        if code >= 500 || retry_on_status.contains(&code) {
            read.to_retry.push(doc);
            continue;
        }
        read.rejected += 1;
        if read.first_reason.is_none() {
            read.first_reason = result.and_then(|r| r.get("error")).map(|e| match e {
                // Some servers and proxies answer with the reason as plain text.
                Value::String(text) => text.clone(),
                _ => format!(
                    "{}: {}",
                    e.get("type").and_then(Value::as_str).unwrap_or("error"),
                    e.get("reason").and_then(Value::as_str).unwrap_or("")
                ),
            });
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_false_stores_every_document_without_reading_items() {
        let read = read_bulk_answer(br#"{"took":3,"errors":false}"#, &[4, 7], &[429]).unwrap();
        assert_eq!(read, BulkItems::default());
    }

    #[test]
    fn each_item_decides_its_document() {
        let body = br#"{"errors":true,"items":[
            {"create":{"status":201}},
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}},
            {"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}},
            {"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad field"}}},
            {"index":{"status":404,"error":{"type":"index_not_found_exception","reason":"gone"}}},
            {"create":{"status":503}},
            {"create":{}},
            "not an object"
        ]}"#;
        let pending = [10, 11, 12, 13, 14, 15, 16, 17];
        let read = read_bulk_answer(body, &pending, &[429]).unwrap();
        assert_eq!(read.to_retry, vec![12, 15, 16, 17]);
        assert_eq!(read.rejected, 2);
        assert_eq!(
            read.first_reason.as_deref(),
            Some("mapper_parsing_exception: bad field")
        );
        // Without 429 among retry_on_status, a throttled item is refused.
        let read = read_bulk_answer(body, &pending, &[]).unwrap();
        assert_eq!(read.to_retry, vec![15, 16, 17]);
        assert_eq!(read.rejected, 3);
    }

    #[test]
    fn an_item_error_given_as_text_is_the_reason() {
        let body =
            br#"{"errors":true,"items":[{"index":{"status":400,"error":"document too large"}}]}"#;
        let read = read_bulk_answer(body, &[3], &[429]).unwrap();
        assert_eq!(read.rejected, 1);
        assert_eq!(read.first_reason.as_deref(), Some("document too large"));
    }

    #[test]
    fn an_answer_that_says_nothing_of_the_documents_is_an_error() {
        assert_eq!(
            read_bulk_answer(b"<html>bad gateway</html>", &[0], &[429]),
            Err(BulkAnswerError::NotJson)
        );
        assert_eq!(
            read_bulk_answer(br#"{"errors":true,"items":[{}]}"#, &[0, 1], &[429]),
            Err(BulkAnswerError::ItemCount {
                items: 1,
                documents: 2
            })
        );
        let error = read_bulk_answer(br#"{"errors":true}"#, &[0], &[429]).unwrap_err();
        assert_eq!(error.to_string(), "answered 0 items for 1 documents");
    }
}
