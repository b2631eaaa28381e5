//! The list envelope the SDK reads.

use serde::Serialize;

/// One page of a list.
#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// Items in the whole list.
    pub total_items: usize,
    /// Pages in the whole list (at least 1).
    pub total_pages: usize,
    /// This page's number, from 1.
    pub current_page: usize,
}
