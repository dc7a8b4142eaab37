//! The API's shared vocabulary, used by every domain's GraphQL types: global
//! ids, cursor pagination and the contract's scalars.
pub mod ids;
pub mod pagination;
pub mod scalars;
