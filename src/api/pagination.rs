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

/// `totalCount` of a filtered list: the count of its query over all pages,
/// run only when a client asks for it. One type for every list whose count
/// is its query's.
pub struct TotalCount(sea_orm::sea_query::SelectStatement);

impl TotalCount {
    /// The count of what `query` selects (its order and limits do not matter).
    pub fn of<E: sea_orm::EntityTrait>(query: sea_orm::Select<E>) -> Self {
        TotalCount(sea_orm::QueryTrait::into_query(query))
    }
}

#[async_graphql::Object]
impl TotalCount {
    /// How many match the filters (all pages).
    async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<u64> {
        use sea_orm::{
            ConnectionTrait,
            sea_query::{Alias, Expr, Query},
        };
        let db = &ctx.data_unchecked::<crate::state::AppState>().db;
        let count = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(self.0.clone(), Alias::new("q"))
            .to_owned();
        let row = db
            .query_one_raw(db.get_database_backend().build(&count))
            .await
            .map_err(AppError::from)?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n").map_err(AppError::from)?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }
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
