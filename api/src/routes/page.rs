//! Offset pagination shared by the list routes: `limit` checked against a
//! range, `cursor` an opaque offset, and the page envelope the SDK reads
//! (`items`, `next_cursor`, `total_items`, `total_pages`, `current_page`).

use crate::error::ApiError;
use crate::wire::page::Page;

/// A validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Items to skip.
    pub offset: usize,
    /// Items per page.
    pub limit: usize,
}

impl PageRequest {
    /// Checks `limit` (default `default`, at most `max`) and `cursor`.
    pub fn new(
        limit: Option<usize>,
        cursor: Option<&str>,
        default: usize,
        max: usize,
    ) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "limit: must be from 1 to {max}"
            )));
        }
        let offset = match cursor.filter(|c| !c.is_empty()) {
            None => 0,
            // Digits past the end of any list mean an empty page.
            Some(c) if c.bytes().all(|b| b.is_ascii_digit()) => c.parse().unwrap_or(usize::MAX),
            Some(_) => return Err(ApiError::BadRequest("cursor: invalid cursor".into())),
        };
        Ok(PageRequest { offset, limit })
    }

    /// The page of `all` this request asks for, in the list envelope.
    pub fn envelope<T>(self, all: Vec<T>) -> Page<T> {
        let total = all.len();
        let items: Vec<T> = all.into_iter().skip(self.offset).take(self.limit).collect();
        self.page(items, total)
    }

    /// The envelope of `items`, this request's page of `total` items (for
    /// lists the store pages itself).
    pub fn page<T>(self, items: Vec<T>, total: usize) -> Page<T> {
        let end = self.offset.saturating_add(items.len());
        Page {
            items,
            next_cursor: (end < total).then(|| end.to_string()),
            total_items: total,
            total_pages: total.div_ceil(self.limit).max(1),
            current_page: (self.offset / self.limit).saturating_add(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_a_list() {
        let all: Vec<u32> = (0..5).collect();
        let first = PageRequest::new(Some(2), None, 10, 50)
            .unwrap()
            .envelope(all.clone());
        assert_eq!(first.items, [0, 1]);
        assert_eq!(first.next_cursor.as_deref(), Some("2"));
        assert_eq!(first.total_pages, 3);
        let last = PageRequest::new(Some(2), Some("4"), 10, 50)
            .unwrap()
            .envelope(all);
        assert_eq!(last.items, [4]);
        assert_eq!(last.next_cursor, None);
        assert!(PageRequest::new(Some(0), None, 10, 50).is_err());
        assert!(PageRequest::new(None, Some("x"), 10, 50).is_err());
        for huge in [usize::MAX.to_string(), "9".repeat(40)] {
            let page = PageRequest::new(Some(1), Some(&huge), 10, 50).unwrap();
            assert!(page.envelope(vec![1]).items.is_empty());
        }
        assert!(PageRequest::new(None, Some("-1"), 10, 50).is_err());
    }
}
