//! Page cursors for storage adapters: the last item's sort key and id, hex-encoded so that a
//! cursor survives any URL. The listing's kind is part of it, so a cursor handed out by one
//! listing is refused by another. Adapters share this so their cursors look alike.

use crate::ports::{Page, StorageError};

/// Encodes the parts of a keyset position for the listing `kind`.
pub fn encode(kind: &str, parts: &[String]) -> String {
    let mut raw = String::from(kind);
    for p in parts {
        raw.push('\u{1f}');
        raw.push_str(p);
    }
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The `parts` parts of a cursor of the listing `kind`; `InvalidCursor` for anything else.
pub fn decode(kind: &str, cursor: &str, parts: usize) -> Result<Vec<String>, StorageError> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 2048 {
        return Err(StorageError::InvalidCursor);
    }
    let bytes: Vec<u8> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| StorageError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StorageError::InvalidCursor)?;
    let mut fields = text.split('\u{1f}');
    if fields.next() != Some(kind) {
        return Err(StorageError::InvalidCursor);
    }
    let values: Vec<String> = fields.map(str::to_string).collect();
    if values.len() != parts {
        return Err(StorageError::InvalidCursor);
    }
    Ok(values)
}

/// Where a newest-first listing by sequence number resumes: before the sequence its cursor
/// names, or from the newest (`i64::MAX`) without one. `InvalidCursor` for any other text.
pub fn before_sequence(kind: &str, cursor: Option<&str>) -> Result<i64, StorageError> {
    match cursor {
        Some(c) => decode(kind, c, 1)?[0]
            .parse()
            .map_err(|_| StorageError::InvalidCursor),
        None => Ok(i64::MAX),
    }
}

/// A page of a newest-first listing by sequence number, from `rows` read with one more than
/// `limit`: at most `limit` items, and a cursor naming the last one's sequence when more
/// follow.
pub fn page_by_sequence<T>(kind: &str, mut rows: Vec<(T, i64)>, limit: usize) -> Page<T> {
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(_, seq)| encode(kind, &[seq.to_string()]))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(|(item, _)| item).collect(),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_pages_resume_before_their_last_item() {
        let page = page_by_sequence("log", vec![("c", 9), ("b", 7), ("a", 4)], 2);
        assert_eq!(page.items, ["c", "b"]);
        let next = page.next_cursor.unwrap();
        assert_eq!(before_sequence("log", Some(&next)), Ok(7));
        assert_eq!(before_sequence("log", None), Ok(i64::MAX));
        assert_eq!(
            before_sequence("other", Some(&next)),
            Err(StorageError::InvalidCursor)
        );
        assert_eq!(page_by_sequence("log", vec![("a", 4)], 2).next_cursor, None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let c = encode("price_asc", &["19990000".into(), "abc".into()]);
        assert_eq!(decode("price_asc", &c, 2).unwrap(), vec!["19990000", "abc"]);
        assert_eq!(decode("newest", &c, 2), Err(StorageError::InvalidCursor));
        assert_eq!(decode("price_asc", &c, 3), Err(StorageError::InvalidCursor));
        assert_eq!(
            decode("price_asc", "zz", 2),
            Err(StorageError::InvalidCursor)
        );
        assert_eq!(
            decode("price_asc", "abc", 2),
            Err(StorageError::InvalidCursor)
        );
    }
}
