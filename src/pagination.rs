//! Flask-SQLAlchemy's `db.paginate()` and its `Pagination` (chapter 9), for every list the site
//! shows a page at a time: the page number a request asks for, the rows to read for it, and the
//! links to the pages around it.
//!
//! A page is read with one row more than it shows: when that row comes back, there is a next
//! page, and no `COUNT(*)` was needed to know it. Pages are read up to [`MAX_PAGE`]: past it a
//! page is empty without reading it. A page past the end (typed, or from an old link) links
//! back to the last page that has items, not to the empty page before it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::Serialize;

use crate::form::parse_urlencoded;

/// Flask's `request.args.get('page', 1, type=int)`: the `?page=N` of a request. Missing, zero,
/// negative or not a number is page 1; absurdly large numbers are capped (an empty page, never
/// an overflow). As an extractor it never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber(pub i64);

impl PageNumber {
    pub const MAX: i64 = 1_000_000_000;

    /// Reads `page` from a query string.
    pub fn parse(query: &str) -> Self {
        let number = parse_urlencoded(query.as_bytes())
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "page"))
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
            .map_or(1, |n| n.clamp(1, Self::MAX));
        Self(number)
    }
}

impl FromRequest for PageNumber {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::parse(req.query_string())))
    }
}

/// The deepest page a list is read to. A page is read with `OFFSET`, which makes the database
/// step over every row before it: page 1,000,000 of `/explore` would read the whole table, and
/// a few such requests at once would hold every connection of the pool. Past this page, a page is
/// empty at once (as past the last one); 1,000 pages of 25 are the newest 25,000 posts of a
/// list, and search finds older ones.
pub const MAX_PAGE: i64 = 1_000;

/// The totals of the lists the API pages through (Flask-SQLAlchemy's `Pagination.total`), kept
/// [`Totals::KEEP`] in this instance's memory: counting a list reads all of it, and a client
/// walking a list's pages would have it counted again for each. Cheap to clone.
#[derive(Clone, Default)]
pub struct Totals {
    kept: Arc<Mutex<HashMap<String, (i64, Instant)>>>,
}

impl Totals {
    /// How long a total is used before it is counted again: a total a few seconds old may miss
    /// the newest rows, as any page read a moment ago does.
    pub const KEEP: Duration = Duration::from_secs(10);
    /// Lists whose totals are kept at once; past it, the old ones are forgotten.
    const MOST: usize = 10_000;

    /// The total of list `key` as counted less than [`KEEP`](Self::KEEP) ago, if it was.
    pub fn get(&self, key: &str) -> Option<i64> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(key)
            .filter(|(_, at)| at.elapsed() < Self::KEEP)
            .map(|(total, _)| *total)
    }

    /// Keeps the total just counted for list `key`.
    pub fn put(&self, key: String, total: i64) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= Self::MOST {
            kept.retain(|_, (_, at)| at.elapsed() < Self::KEEP);
        }
        kept.insert(key, (total, Instant::now()));
    }

    /// The total of a list whose page `items` (of `per_page`, from `offset`) was just read: known
    /// without counting when the page is its last (short, and not past the end), else kept or
    /// counted by `count`.
    pub fn of<E>(
        &self,
        key: String,
        items: usize,
        per_page: i64,
        offset: i64,
        count: impl FnOnce() -> Result<i64, E>,
    ) -> Result<i64, E> {
        let items = items as i64;
        if items < per_page && (items > 0 || offset == 0) {
            return Ok(offset + items);
        }
        if let Some(total) = self.get(&key) {
            return Ok(total);
        }
        let total = count()?;
        self.put(key, total);
        Ok(total)
    }
}

/// One page of a list, as read from the database.
#[derive(Debug)]
pub struct Paginated<T> {
    /// At most a page of items.
    pub items: Vec<T>,
    pub page: i64,
    pub has_next: bool,
    /// The page "Newer posts" goes to: the one before, or from a page past the end the last
    /// page that has items (none when the list is empty).
    pub newer: Option<i64>,
}

impl<T> Paginated<T> {
    /// Reads page `page` of `per_page` items: `read(limit, offset)` returns up to `limit` rows
    /// starting at `offset`, and is asked for one row more than a page holds. Past [`MAX_PAGE`],
    /// that page is not read. A page past the end looks for the last page with items
    /// ([`last_page`](Self::last_page)).
    pub fn read<E>(
        page: PageNumber,
        per_page: i64,
        mut read: impl FnMut(i64, i64) -> Result<Vec<T>, E>,
    ) -> Result<Self, E> {
        let PageNumber(page) = page;
        let mut items = if page > MAX_PAGE {
            Vec::new()
        } else {
            read(per_page + 1, (page - 1) * per_page)?
        };
        let has_next = items.len() as i64 > per_page && page < MAX_PAGE;
        items.truncate(per_page as usize);
        let newer = if page == 1 {
            None
        } else if items.is_empty() {
            Self::last_page(page - 1, per_page, &mut read)?
        } else {
            Some(page - 1)
        };
        Ok(Self {
            items,
            page,
            has_next,
            newer,
        })
    }

    /// The last page up to `below` (and [`MAX_PAGE`]) that has items, or none if the list is
    /// empty: a binary search reading one row a probe, at most 11 probes, each stepping over
    /// no more rows than page 1,000 would.
    fn last_page<E>(
        below: i64,
        per_page: i64,
        read: &mut impl FnMut(i64, i64) -> Result<Vec<T>, E>,
    ) -> Result<Option<i64>, E> {
        let mut has_items = |page: i64| read(1, (page - 1) * per_page).map(|r| !r.is_empty());
        if !has_items(1)? {
            return Ok(None);
        }
        let (mut low, mut high) = (1, below.min(MAX_PAGE));
        while low < high {
            let middle = (low + high + 1) / 2;
            if has_items(middle)? {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        Ok(Some(low))
    }

    /// No items: page 1 and nothing after it.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            page: 1,
            has_next: false,
            newer: None,
        }
    }

    /// The links to the pages around this one, at `url` (which may carry a query of its own,
    /// such as a search's `?q=`).
    pub fn links(&self, url: &str) -> Pagination {
        let at = |page: i64| {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}page={page}")
        };
        Pagination {
            page: self.page,
            next_url: self.has_next.then(|| at(self.page + 1)),
            prev_url: self.newer.map(at),
        }
    }
}

/// Flask-SQLAlchemy's `Pagination`, as far as templates need it (`templates/_pagination.html`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pagination {
    pub page: i64,
    pub next_url: Option<String>,
    pub prev_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_page_values_become_page_one_or_are_capped() {
        let page = |q: &str| PageNumber::parse(q).0;
        assert_eq!(page(""), 1);
        assert_eq!(page("page=3"), 3);
        assert_eq!(page("page=0"), 1);
        assert_eq!(page("page=-5"), 1);
        assert_eq!(page("page=abc"), 1);
        assert_eq!(page("page=99999999999999999999999"), 1);
        assert_eq!(page("page=9223372036854775807"), 1_000_000_000);
    }

    #[test]
    fn a_lists_total_is_known_from_its_last_page_or_counted_once_and_kept() {
        let totals = Totals::default();
        let counted = std::cell::Cell::new(0);
        let count = || {
            counted.set(counted.get() + 1);
            Ok::<_, Infallible>(60)
        };
        // A short page that is not past the end is the last: no count.
        assert_eq!(totals.of("a".into(), 10, 25, 50, count), Ok(60));
        assert_eq!(
            totals.of("a".into(), 0, 25, 0, count),
            Ok(0),
            "an empty list"
        );
        assert_eq!(counted.get(), 0);
        // A full page, or one past the end: counted once, then kept.
        assert_eq!(totals.of("a".into(), 25, 25, 0, count), Ok(60));
        assert_eq!(totals.of("a".into(), 0, 25, 500, count), Ok(60));
        assert_eq!(counted.get(), 1);
        assert_eq!(
            totals.of("b".into(), 25, 25, 0, count),
            Ok(60),
            "another list"
        );
        assert_eq!(counted.get(), 2);
    }

    #[test]
    fn pages_past_the_deepest_are_empty_and_link_back_to_it() {
        let read = |page| {
            Paginated::read(PageNumber(page), 25, |_, offset| {
                assert!(offset < MAX_PAGE * 25, "read at offset {offset}");
                Ok::<_, Infallible>(vec![0; 26])
            })
            .unwrap()
        };
        let last = read(MAX_PAGE);
        assert_eq!((last.items.len(), last.has_next), (25, false));
        let past = read(MAX_PAGE + 1);
        assert_eq!((past.items.len(), past.has_next), (0, false));
        assert_eq!(past.newer, Some(MAX_PAGE));
        assert!(read(1_000_000_000).items.is_empty());
    }

    #[test]
    fn a_page_past_the_end_links_back_to_the_last_page_with_items() {
        let probes = std::cell::Cell::new(0);
        let read = |rows: i32, page| {
            probes.set(0);
            Paginated::read(PageNumber(page), 25, |limit, offset| {
                probes.set(probes.get() + 1);
                Ok::<_, Infallible>(
                    (1..=rows)
                        .skip(offset as usize)
                        .take(limit as usize)
                        .collect(),
                )
            })
            .unwrap()
        };
        for (rows, page, newer) in [
            (60, 4, Some(3)),
            (60, 99, Some(3)),
            (50, 3, Some(2)),
            (1, 1_000_000_000, Some(1)),
            (0, 2, None),
            (0, 1, None),
            (60, 3, Some(2)),
        ] {
            let found = read(rows, page);
            assert_eq!(found.newer, newer, "{rows} rows, page {page}");
            assert!(probes.get() <= 12, "{} reads", probes.get());
        }
        assert_eq!(
            read(60, 5).links("/index").prev_url.as_deref(),
            Some("/index?page=3")
        );
        assert_eq!(read(0, 2).links("/index").prev_url, None);
    }

    #[test]
    fn a_page_reads_one_row_more_and_links_to_its_neighbours() {
        let rows: Vec<i32> = (1..=60).collect();
        let read = |page| {
            Paginated::read(PageNumber(page), 25, |limit, offset| {
                Ok::<_, Infallible>(
                    rows.iter()
                        .copied()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .collect(),
                )
            })
            .unwrap()
        };

        let first = read(1);
        assert_eq!(first.items, (1..=25).collect::<Vec<_>>());
        assert_eq!(
            first.links("/explore"),
            Pagination {
                page: 1,
                next_url: Some("/explore?page=2".into()),
                prev_url: None,
            }
        );
        let last = read(3);
        assert_eq!(last.items, (51..=60).collect::<Vec<_>>());
        assert!(!last.has_next);
        assert_eq!(
            last.links("/search?q=rust").prev_url.as_deref(),
            Some("/search?q=rust&page=2")
        );
    }
}
