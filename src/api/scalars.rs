//! Custom scalars of the contract.
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

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
