//! Relay connection arguments and opaque keyset cursors.
use base64::Engine;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// `first`: default 20, 1..=100.
pub fn page_size(first: Option<i32>) -> AppResult<u64> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE as i32).contains(&n) => Ok(n as u64),
        Some(_) => Err(AppError::bad_input(
            "first",
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

/// A newest-first page as a Relay connection: each row with its id, the id
/// becoming the row's cursor.
pub fn id_connection<T: async_graphql::OutputType>(
    rows: Vec<(i64, T)>,
    has_next: bool,
    had_after: bool,
) -> async_graphql::connection::Connection<String, T> {
    id_connection_with(
        rows,
        has_next,
        had_after,
        async_graphql::connection::EmptyFields,
    )
}

/// [`id_connection`] with fields of the list itself (`totalCount`).
pub fn id_connection_with<T: async_graphql::OutputType, E: async_graphql::ObjectType>(
    rows: Vec<(i64, T)>,
    has_next: bool,
    had_after: bool,
    extra: E,
) -> async_graphql::connection::Connection<String, T, E> {
    let mut conn =
        async_graphql::connection::Connection::with_additional_fields(had_after, has_next, extra);
    conn.edges.extend(
        rows.into_iter()
            .map(|(id, node)| async_graphql::connection::Edge::new(encode_cursor(&id), node)),
    );
    conn
}

/// A cursor is base64url(JSON) of the sort key of the last row seen.
pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    let json = serde_json::to_vec(key).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Decodes `after`; any tampering or a cursor of another list is `BAD_USER_INPUT`.
pub fn decode_cursor<T: DeserializeOwned>(after: Option<&str>) -> AppResult<Option<T>> {
    let Some(raw) = after else { return Ok(None) };
    let bad = || {
        AppError::bad_input(
            "after",
            "is not a cursor of this list; use an endCursor it returned",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_and_cursors() {
        assert_eq!(page_size(None).unwrap(), 20);
        assert_eq!(page_size(Some(100)).unwrap(), 100);
        assert_eq!(page_size(Some(101)).unwrap_err().code(), "BAD_USER_INPUT");
        assert_eq!(page_size(Some(0)).unwrap_err().code(), "BAD_USER_INPUT");
        let c = encode_cursor(&("NEWEST", 5_i64));
        assert_eq!(
            decode_cursor::<(String, i64)>(Some(&c)).unwrap(),
            Some(("NEWEST".into(), 5))
        );
        assert!(decode_cursor::<(String, i64)>(Some("!!")).is_err());
    }
}
