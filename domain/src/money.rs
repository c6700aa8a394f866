//! Money: integer minor units and an ISO 4217 currency code, never a float, so prices,
//! discounts and refunds add up to the fen, and amounts in two currencies never mix.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 alphabetic code such as `CNY`: exactly three ASCII capital letters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(code: &str) -> Option<Self> {
        (code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point in this currency's amounts, as ISO 4217 lists them: 2
    /// but for the currencies below (`CNY` 2, `JPY` 0, `KWD` 3).
    pub fn minor_digits(&self) -> u32 {
        const NONE: &[&str] = &[
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ];
        const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
        const FOUR: &[&str] = &["CLF", "UYW"];
        let code = self.as_str();
        if NONE.contains(&code) {
            0
        } else if THREE.contains(&code) {
            3
        } else if FOUR.contains(&code) {
            4
        } else {
            2
        }
    }

    /// `amount_minor` written as a decimal in this currency: `12345` CNY is `123.45`, JPY
    /// `12345`, `-5` CNY `-0.05`.
    pub fn decimal(&self, amount_minor: i64) -> String {
        let digits = self.minor_digits();
        if digits == 0 {
            return amount_minor.to_string();
        }
        let unit = 10u64.pow(digits);
        let sign = if amount_minor < 0 { "-" } else { "" };
        let magnitude = amount_minor.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            magnitude / unit,
            magnitude % unit,
            width = digits as usize
        )
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code)
            .ok_or_else(|| format!("`{code}` is not an ISO 4217 code (three capital letters)"))
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[A-Z]{3}$"))
            .description(Some("ISO 4217 alphabetic code"))
            .examples(["CNY"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in the currency's minor unit (fen for CNY, cents for USD).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The sum, or `None` on a currency mismatch or an overflow.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(
            self.amount_minor.checked_add(other.amount_minor)?,
            self.currency.clone(),
        ))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_minor, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_three_capital_letters() {
        assert!(Currency::parse("CNY").is_some());
        assert!(Currency::parse("cny").is_none());
        assert!(Currency::parse("CN").is_none());
        assert!(Currency::parse("人民币").is_none());
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }

    #[test]
    fn amounts_are_written_with_the_currency_s_minor_digits() {
        let code = |c: &str| Currency::parse(c).unwrap();
        assert_eq!(code("CNY").decimal(12345), "123.45");
        assert_eq!(code("CNY").decimal(-5), "-0.05");
        assert_eq!(code("CNY").decimal(0), "0.00");
        assert_eq!(code("JPY").decimal(1200), "1200");
        assert_eq!(code("KWD").decimal(1), "0.001");
        assert_eq!(code("USD").decimal(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn adding_money_checks_currency_and_overflow() {
        let cny = Currency::parse("CNY").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let a = Money::new(4500, cny.clone());
        assert_eq!(a.checked_add(&a), Some(Money::new(9000, cny.clone())));
        assert_eq!(a.checked_add(&Money::new(1, usd)), None);
        assert_eq!(Money::new(i64::MAX, cny).checked_add(&a), None);
    }
}
