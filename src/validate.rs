//! Input checks shared by the domains, each naming the field it refuses.
use crate::error::{AppError, AppResult};

/// The largest amount any price, plan or coupon may name: ¥1,000,000.
pub const MAX_FEN: i64 = 100_000_000;

/// Trimmed text of 1 to `max` characters.
pub fn text(value: &str, field: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be 1-{max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Optional text: blank is `None`, otherwise as [`text`].
pub fn optional_text(value: Option<&str>, field: &str, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(v, field, max).map(Some),
        None => Ok(None),
    }
}

/// An http(s) URL of at most 1,024 characters.
pub fn url(value: &str, field: &str) -> AppResult<String> {
    let v = text(value, field, 1024)?;
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(AppError::bad_input(field, "must be an http(s) URL"));
    }
    Ok(v)
}

/// An amount from `min` to [`MAX_FEN`] fen.
pub fn fen(v: i64, field: &str, min: i64) -> AppResult<i64> {
    if !(min..=MAX_FEN).contains(&v) {
        return Err(AppError::bad_input(
            field,
            format!("must be between {min} and {MAX_FEN} fen"),
        ));
    }
    Ok(v)
}

/// A `LIKE` pattern finding `keyword` anywhere, case-insensitively (match
/// it against the lower-cased column, with `\` as the escape character).
pub fn contains_pattern(keyword: &str) -> String {
    let escaped = keyword
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::contains_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
