//! Turning opaque `ID`s back into row ids.
use async_graphql::ID;

use crate::error::{AppError, AppResult};

/// An id argument or input field; a malformed one is `BAD_USER_INPUT` naming `field`.
pub fn parse_id(id: &ID, field: &str) -> AppResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::bad_input(field, "is not a valid id"))
}

/// An id to look something up by; a malformed one simply finds nothing.
pub fn lookup_id(id: &ID) -> Option<i64> {
    id.parse::<i64>().ok().filter(|v| *v > 0)
}

pub fn to_id(v: i64) -> ID {
    ID(v.to_string())
}
