//! Pagination: the opaque `nextToken` of the listings: a registry cursor (the core pages the
//! listing), the key of the last item returned (the emulator pages a listing it orders itself:
//! the next page starts after that key, whatever was created or deleted meanwhile, and is found
//! without a look at the items before it), or an offset (the emulator's other listings).

use iot_jobs_core::registry::Cursor;

use super::ApiError;

/// A `nextToken`: a registry cursor (`c…`), the key of the last item returned (`a…`) or an
/// offset into a listing the emulator pages (`o…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Where a core listing goes on.
    Cursor(Cursor),
    /// How many items to skip.
    Offset(usize),
    /// The key of the last item of the page before: the listing goes on after it.
    After(String),
}

impl Token {
    /// The opaque string.
    pub fn encode(&self) -> String {
        match self {
            Token::Cursor(c) => {
                let (i, g) = c.to_parts();
                format!("c{i:08x}{g:08x}")
            }
            Token::Offset(n) => format!("o{n}"),
            Token::After(key) => format!("a{key}"),
        }
    }

    /// Parses a token this emulator gave out.
    pub fn decode(s: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::invalid("nextToken is not valid: pass the nextToken of a previous response");
        if let Some(hex) = s.strip_prefix('c').filter(|h| h.len() == 16 && h.is_ascii()) {
            let (i, g) = hex.split_at(8);
            let i = u32::from_str_radix(i, 16).map_err(|_| bad())?;
            let g = u32::from_str_radix(g, 16).map_err(|_| bad())?;
            return Ok(Token::Cursor(Cursor::from_parts(i, g)));
        }
        if let Some(key) = s.strip_prefix('a').filter(|k| !k.is_empty()) {
            return Ok(Token::After(key.to_owned()));
        }
        s.strip_prefix('o').and_then(|n| n.parse().ok()).map(Token::Offset).ok_or_else(bad)
    }

    /// Where a listing the core pages starts: the cursor of `token`, if given; an offset token is
    /// not valid for `listing`.
    pub fn cursor(token: Option<&str>, listing: &str) -> Result<Option<Cursor>, ApiError> {
        match token.map(Token::decode).transpose()? {
            None => Ok(None),
            Some(Token::Cursor(c)) => Ok(Some(c)),
            Some(Token::Offset(_) | Token::After(_)) => Err(not_for(listing)),
        }
    }

    /// Where a listing the emulator pages starts: the offset of `token`, 0 without one; a cursor
    /// token is not valid for `listing`.
    pub fn offset(token: Option<&str>, listing: &str) -> Result<usize, ApiError> {
        match token.map(Token::decode).transpose()? {
            None => Ok(0),
            Some(Token::Offset(n)) => Ok(n),
            Some(Token::Cursor(_) | Token::After(_)) => Err(not_for(listing)),
        }
    }

    /// Where a listing the emulator orders by key starts: after the key of `token`, from the
    /// first item without one; another kind of token is not valid for `listing`.
    pub fn after(token: Option<&str>, listing: &str) -> Result<Option<String>, ApiError> {
        match token.map(Token::decode).transpose()? {
            None => Ok(None),
            Some(Token::After(key)) => Ok(Some(key)),
            Some(Token::Cursor(_) | Token::Offset(_)) => Err(not_for(listing)),
        }
    }
}

/// The refusal of a token of another listing.
pub fn not_for(listing: &str) -> ApiError {
    ApiError::invalid(format!("nextToken is not valid for {listing}"))
}

/// One page of a listing the emulator pages: at most `max` items after the first `skip`, and
/// the `nextToken` of the next page when more items follow.
pub fn page<T>(items: impl IntoIterator<Item = T>, skip: usize, max: usize) -> (Vec<T>, Option<String>) {
    let mut rest = items.into_iter().skip(skip);
    let page: Vec<T> = rest.by_ref().take(max).collect();
    let more = rest.next().is_some();
    (page, more.then(|| Token::Offset(skip.saturating_add(max)).encode()))
}

/// The items of `a` and of `b`, two iterators in order without an item in both, in order.
pub fn merged<T: Ord>(a: impl Iterator<Item = T>, b: impl Iterator<Item = T>) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y < x => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// One page of a listing that comes in key order, from after the token's key (a range of an
/// ordered map): at most `max` items, and the token of the next page (the last item's key) when
/// more follow.
pub fn page_in_order<T>(
    items: impl IntoIterator<Item = T>,
    max: usize,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let mut rest = items.into_iter();
    let page: Vec<T> = rest.by_ref().take(max).collect();
    let next = match (rest.next(), page.last()) {
        (Some(_), Some(last)) => Some(Token::After(key(last).to_owned()).encode()),
        _ => None,
    };
    (page, next)
}

/// One page of a listing that comes in key order with filters the order does not know: the
/// first `max` of `items` that `passes`, read into `page`, reading `looks` items at most (a
/// filter that passes few costs no more than that). Answers the key the next page starts after,
/// if items are left: the last item of a full page when another passes after it, or the last
/// item read when the looks ran out before the items did (the page is then short, or empty).
pub fn filtered_page<K: Copy, T>(
    items: impl Iterator<Item = (K, T)>,
    max: usize,
    looks: usize,
    page: &mut Vec<T>,
    passes: impl Fn(&T) -> bool,
) -> Option<K> {
    let mut items = items.peekable();
    let mut last = None;
    let mut looked = 0usize;
    while let Some((key, item)) = items.next() {
        if passes(&item) {
            if page.len() >= max {
                return last;
            }
            page.push(item);
        }
        last = Some(key);
        looked = looked.saturating_add(1);
        if looked >= looks {
            return items.peek().and(last);
        }
    }
    None
}

/// One page of a listing the emulator orders by key: the `max` items of smallest key after
/// `after`, in key order, and whether more follow. One pass over the items that keeps at most
/// `max` + 1 of them, not a sort (and a copy) of the whole listing. Keys are unique.
pub fn smallest<K: Ord, T>(
    items: impl IntoIterator<Item = (K, T)>,
    after: Option<&K>,
    max: usize,
) -> (Vec<(K, T)>, bool) {
    /// An item ordered by its key alone.
    struct Keyed<K, T>(K, T);
    impl<K: Ord, T> PartialEq for Keyed<K, T> {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }
    impl<K: Ord, T> Eq for Keyed<K, T> {}
    impl<K: Ord, T> PartialOrd for Keyed<K, T> {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl<K: Ord, T> Ord for Keyed<K, T> {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.cmp(&other.0)
        }
    }
    let keep = max.saturating_add(1);
    // The largest kept on top: what a smaller key replaces.
    let mut heap = std::collections::BinaryHeap::with_capacity(keep.min(1024).saturating_add(1));
    for (key, item) in items {
        if after.is_some_and(|a| key <= *a) {
            continue;
        }
        if heap.len() == keep && heap.peek().is_some_and(|top: &Keyed<K, T>| key >= top.0) {
            continue;
        }
        heap.push(Keyed(key, item));
        if heap.len() > keep {
            heap.pop();
        }
    }
    let mut page: Vec<(K, T)> = heap.into_sorted_vec().into_iter().map(|Keyed(k, t)| (k, t)).collect();
    let more = page.len() > max;
    page.truncate(max);
    (page, more)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for t in [Token::Cursor(Cursor::from_parts(7, 3)), Token::Offset(250), Token::After("k/1".into())] {
            assert_eq!(Token::decode(&t.encode()).unwrap(), t);
        }
        for bad in ["", "c12", "x1", "o-1", "cZZZZZZZZ00000000", "a"] {
            assert!(Token::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_and_offsets_are_not_interchangeable() {
        let (cursor, offset) = (Token::Cursor(Cursor::from_parts(1, 2)).encode(), Token::Offset(5).encode());
        assert_eq!(Token::cursor(None, "L").unwrap(), None);
        assert_eq!(Token::cursor(Some(&cursor), "L").unwrap(), Some(Cursor::from_parts(1, 2)));
        assert_eq!(Token::cursor(Some(&offset), "L").unwrap_err().message, "nextToken is not valid for L");
        assert_eq!(Token::offset(None, "L").unwrap(), 0);
        assert_eq!(Token::offset(Some(&offset), "L").unwrap(), 5);
        assert_eq!(Token::offset(Some(&cursor), "L").unwrap_err().message, "nextToken is not valid for L");
        assert_eq!(Token::offset(Some("o"), "L").unwrap_err().status, 400);
        let after = Token::After("k".into()).encode();
        assert_eq!(Token::after(None, "L").unwrap(), None);
        assert_eq!(Token::after(Some(&after), "L").unwrap().as_deref(), Some("k"));
        assert_eq!(Token::after(Some(&offset), "L").unwrap_err().message, "nextToken is not valid for L");
        assert_eq!(Token::after(Some(&cursor), "L").unwrap_err().message, "nextToken is not valid for L");
        assert_eq!(Token::offset(Some(&after), "L").unwrap_err().message, "nextToken is not valid for L");
        assert_eq!(Token::cursor(Some(&after), "L").unwrap_err().message, "nextToken is not valid for L");
    }

    proptest::proptest! {
        /// Walked page by page, in any order of the items and with any page size, the pages
        /// are the sorted items, each once, and only the last says no more follow.
        #[test]
        fn smallest_pages_like_a_sort(
            keys in proptest::collection::hash_set(proptest::prelude::any::<u16>(), 0..80),
            max in 1..30_usize,
        ) {
            let mut sorted: Vec<u16> = keys.iter().copied().collect();
            sorted.sort_unstable();
            let (mut after, mut walked) = (None, Vec::new());
            loop {
                let (page, more) = smallest(keys.iter().map(|k| (*k, ())), after.as_ref(), max);
                proptest::prop_assert!(page.len() == max || !more);
                walked.extend(page.iter().map(|(k, ())| *k));
                // More follow exactly when the walk has not reached the end.
                proptest::prop_assert_eq!(more, walked.len() < sorted.len());
                after = page.last().map(|(k, ())| *k);
                if !more {
                    break;
                }
            }
            proptest::prop_assert_eq!(walked, sorted);
        }

        /// Walked page by page from the key each page answers, the pages hold exactly the items
        /// that pass, in order, each once; a page is at most `max` long, reads at most `looks`
        /// items (and peeks at one more), and is short with a key only when it read `looks`.
        #[test]
        fn filtered_pages_hold_what_passes(
            passing in proptest::collection::vec(proptest::prelude::any::<bool>(), 0..80),
            max in 1..6_usize,
            looks in 1..12_usize,
        ) {
            let model: Vec<usize> = (0..passing.len()).filter(|k| passing[*k]).collect();
            let (mut after, mut walked) = (None::<usize>, Vec::new());
            for _ in 0..=passing.len() {
                let read = std::cell::Cell::new(0usize);
                let rest = (0..passing.len())
                    .filter(|k| after.is_none_or(|a| *k > a))
                    .map(|k| (k, (k, passing[k])))
                    .inspect(|_| read.set(read.get() + 1));
                let mut page = Vec::new();
                let next = filtered_page(rest, max, looks, &mut page, |(_, p)| *p);
                proptest::prop_assert!(page.len() <= max);
                proptest::prop_assert!(page.iter().all(|(_, p)| *p));
                proptest::prop_assert!(read.get() <= looks + 1);
                if page.len() < max && next.is_some() {
                    proptest::prop_assert_eq!(read.get(), looks + 1);
                }
                // A key says items are left after it.
                proptest::prop_assert!(next.is_none_or(|n| n + 1 < passing.len()));
                walked.extend(page.iter().map(|(k, _)| *k));
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            proptest::prop_assert_eq!(walked, model);
        }

        /// Two disjoint sorted sequences merge into their sorted union.
        #[test]
        fn merged_is_the_sorted_union(
            keys in proptest::collection::btree_map(proptest::prelude::any::<u8>(), proptest::prelude::any::<bool>(), 0..60),
        ) {
            let a = keys.iter().filter(|(_, left)| **left).map(|(k, _)| *k);
            let b = keys.iter().filter(|(_, left)| !**left).map(|(k, _)| *k);
            let all: Vec<u8> = keys.keys().copied().collect();
            proptest::prop_assert_eq!(merged(a, b).collect::<Vec<_>>(), all);
        }
    }

    #[test]
    fn pages() {
        assert_eq!(page(0..5, 0, 2), (vec![0, 1], Some("o2".to_owned())));
        assert_eq!(page(0..5, 2, 2), (vec![2, 3], Some("o4".to_owned())));
        assert_eq!(page(0..5, 4, 2), (vec![4], None));
        assert_eq!(page(0..4, 2, 2), (vec![2, 3], None));
        assert_eq!(page(0..4, 9, 2), (vec![], None));
    }
}
