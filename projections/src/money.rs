//! Money as every read model's view shows it: integer minor units with the currency code.
//! One type, so that every answer of the HTTP API spells money the same way.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyView {
    pub amount_minor: i64,
    pub currency: String,
}
