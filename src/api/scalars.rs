//! Custom scalars of the contract.
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

/// The largest integer a JavaScript client reads exactly (2^53 - 1).
const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// An amount of money in fen (分, 1/100 yuan), as a JSON integer. Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub i64);

/// An integer number of fen (分). 1990 = ¥19.90.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => match n.as_i64() {
                Some(v) if v.abs() <= MAX_SAFE => Ok(Money(v)),
                _ => Err(InputValueError::custom(
                    "Money must be an integer number of fen",
                )),
            },
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

impl From<i64> for Money {
    fn from(v: i64) -> Self {
        Money(v)
    }
}

/// A point in time. Written in UTC with a `Z` (never `+00:00`), so that
/// clients comparing or caching the strings see one spelling per instant;
/// read with any RFC 3339 offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub chrono::DateTime<Utc>);

/// RFC 3339 date and time, answered in UTC (`2026-12-03T08:00:00Z`); any
/// offset is accepted as input.
#[Scalar(name = "DateTime")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| Timestamp(t.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(
                        "DateTime must be RFC 3339, e.g. 2026-12-03T08:00:00Z or 2026-12-03T16:00:00+08:00",
                    )
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<Utc>> for Timestamp {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl From<Timestamp> for chrono::DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}
