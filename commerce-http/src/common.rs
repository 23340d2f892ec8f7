//! Small pieces every operation module uses: ids in paths, `If-Match`, `ETag`.

use std::str::FromStr;

use poem::http::StatusCode;

use crate::problem::ApiError;

/// An id from a path: one that is not a UUID names nothing, so it is a 404 like an unknown one.
pub fn path_id<T: FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    T::from_str(text.trim()).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    })
}

/// The version an `If-Match` header asks for: quoted or bare; `*` (or no header) asks for
/// none. Anything else cannot match a version, so it is a 412 like a stale one.
pub fn if_match(header: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(raw) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    if raw == "*" {
        return Ok(None);
    }
    let bare = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    bare.parse::<u64>().map(Some).map_err(|_| {
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "version_mismatch",
            "If-Match must be the resource's version, e.g. \"3\"",
        )
    })
}

/// The `ETag` of a versioned resource.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_quoted_bare_weak_and_star() {
        assert_eq!(if_match(Some("\"3\"")).unwrap(), Some(3));
        assert_eq!(if_match(Some("3")).unwrap(), Some(3));
        assert_eq!(if_match(Some("W/\"3\"")).unwrap(), Some(3));
        assert_eq!(if_match(Some("*")).unwrap(), None);
        assert_eq!(if_match(None).unwrap(), None);
        assert!(if_match(Some("abc")).is_err());
    }
}
