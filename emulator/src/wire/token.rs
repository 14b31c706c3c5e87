//! Pagination: the opaque `nextToken` of the listings, either a registry cursor (the core pages
//! the listing) or an offset (the emulator pages a listing it filters or sorts itself).

use iot_jobs_core::registry::Cursor;

use super::ApiError;

/// A `nextToken`: a registry cursor (`c…`) or an offset into a listing the emulator pages (`o…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// Where a core listing goes on.
    Cursor(Cursor),
    /// How many items to skip.
    Offset(usize),
}

impl Token {
    /// The opaque string.
    pub fn encode(self) -> String {
        match self {
            Token::Cursor(c) => {
                let (i, g) = c.to_parts();
                format!("c{i:08x}{g:08x}")
            }
            Token::Offset(n) => format!("o{n}"),
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
        s.strip_prefix('o').and_then(|n| n.parse().ok()).map(Token::Offset).ok_or_else(bad)
    }

    /// Where a listing the core pages starts: the cursor of `token`, if given; an offset token is
    /// not valid for `listing`.
    pub fn cursor(token: Option<&str>, listing: &str) -> Result<Option<Cursor>, ApiError> {
        match token.map(Token::decode).transpose()? {
            None => Ok(None),
            Some(Token::Cursor(c)) => Ok(Some(c)),
            Some(Token::Offset(_)) => Err(ApiError::invalid(format!("nextToken is not valid for {listing}"))),
        }
    }

    /// Where a listing the emulator pages starts: the offset of `token`, 0 without one; a cursor
    /// token is not valid for `listing`.
    pub fn offset(token: Option<&str>, listing: &str) -> Result<usize, ApiError> {
        match token.map(Token::decode).transpose()? {
            None => Ok(0),
            Some(Token::Offset(n)) => Ok(n),
            Some(Token::Cursor(_)) => Err(ApiError::invalid(format!("nextToken is not valid for {listing}"))),
        }
    }
}

/// One page of a listing the emulator pages: at most `max` items after the first `skip`, and
/// the `nextToken` of the next page when more items follow.
pub fn page<T>(items: impl IntoIterator<Item = T>, skip: usize, max: usize) -> (Vec<T>, Option<String>) {
    let mut rest = items.into_iter().skip(skip);
    let page: Vec<T> = rest.by_ref().take(max).collect();
    let more = rest.next().is_some();
    (page, more.then(|| Token::Offset(skip.saturating_add(max)).encode()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for t in [Token::Cursor(Cursor::from_parts(7, 3)), Token::Offset(250)] {
            assert_eq!(Token::decode(&t.encode()).unwrap(), t);
        }
        for bad in ["", "c12", "x1", "o-1", "cZZZZZZZZ00000000"] {
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
