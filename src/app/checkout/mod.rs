//! Checkout: placing and paying orders of every kind (goods, membership,
//! top-up), composed from the order domain (which writes the order, takes
//! the stock and coupon, draws the balance) and WeChat Pay.
//!
//! The mutations live here, not in `order` or `membership`, so that the
//! plan domain never reaches up into orders: a membership or top-up is
//! bought through the same placing and paying path as goods.
pub mod resolver;
