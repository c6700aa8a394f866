//! Promo codes: a discount customers apply when they hold seats.
//!
//! Each code is an aggregate with its own stream (`promo-{id}`, the id derived from the
//! code), so its usage limit is enforced exactly: every use is an event appended at the
//! version its decision read, and two concurrent uses can never both take the last one. A
//! use is reserved for a hold before the hold is made and given back when the hold expires,
//! is released, or could not be made.

use crate::aggregate::{stored_events, Aggregate};
use crate::error::Problems;
use crate::{CinemaId, CustomerId, DomainError, HoldId, Money, MovieId, ShowId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

const PROMO_NAMESPACE: Uuid = Uuid::from_u128(0x3b9f_61d2_7c44_4a1e_8e05_d2c6_0f97_a13b);
const MAX_CODE_CHARS: usize = 32;

/// A promo code as customers type it: 3 to 32 letters, digits, `-` or `_`; compared without
/// regard to case (stored upper-case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PromoCode(String);

impl PromoCode {
    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim();
        ((3..=MAX_CODE_CHARS).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(code.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code's stream: one per code, found from the code alone.
    pub fn stream(&self) -> String {
        crate::StreamName::Promo(self.id()).to_string()
    }

    pub fn id(&self) -> Uuid {
        Uuid::new_v5(&PROMO_NAMESPACE, self.0.as_bytes())
    }
}

impl TryFrom<String> for PromoCode {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code).ok_or_else(|| {
            format!("`{code}` is not a promo code (3 to {MAX_CODE_CHARS} letters, digits, - or _)")
        })
    }
}

impl From<PromoCode> for String {
    fn from(code: PromoCode) -> Self {
        code.0
    }
}

impl std::fmt::Display for PromoCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a code takes off a hold's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Discount {
    /// 1 to 100 percent of the seats' prices, rounded down to the minor unit.
    Percent(u32),
    /// A fixed amount, at most the seats' prices.
    Fixed(Money),
}

impl Discount {
    /// The discount on `gross`, never more than `gross`; `None` if the currencies differ.
    pub fn on(&self, gross: &Money) -> Option<Money> {
        match self {
            Self::Percent(percent) => {
                let off = i128::from(gross.amount_minor) * i128::from(*percent) / 100;
                Some(Money::new(
                    i64::try_from(off).ok()?.min(gross.amount_minor),
                    gross.currency.clone(),
                ))
            }
            Self::Fixed(amount) => (amount.currency == gross.currency).then(|| {
                Money::new(
                    amount.amount_minor.min(gross.amount_minor),
                    gross.currency.clone(),
                )
            }),
        }
    }
}

/// Where a code may be used; every given part must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromoScope {
    #[serde(default)]
    pub movie_id: Option<MovieId>,
    #[serde(default)]
    pub cinema_id: Option<CinemaId>,
    #[serde(default)]
    pub show_id: Option<ShowId>,
}

/// A reserved use of a code, handed to the show aggregate with the hold it is for: the show
/// checks the scope against itself and computes the discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoOffer {
    pub code: PromoCode,
    pub discount: Discount,
    pub scope: PromoScope,
}

/// The terms of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromoTerms {
    pub discount: Discount,
    #[serde(default)]
    pub scope: PromoScope,
    /// Usable from this instant (inclusive)...
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_from: Timestamp,
    /// ...until this one (exclusive).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_until: Timestamp,
    /// Uses at once over all customers: holds and paid orders; expired or released holds
    /// give theirs back.
    pub usage_limit: u32,
    /// Uses one customer may have.
    pub per_customer_limit: u32,
}

impl PromoTerms {
    fn validate(&self) -> Result<(), DomainError> {
        let mut problems = Problems::default();
        match &self.discount {
            Discount::Percent(p) => problems.check(
                (1..=100).contains(p),
                "discount.percent",
                "must be 1 to 100",
            ),
            Discount::Fixed(m) => problems.check(
                m.amount_minor > 0,
                "discount.fixed.amount_minor",
                "must be positive",
            ),
        }
        problems.check(
            self.valid_until > self.valid_from,
            "valid_until",
            "must be after valid_from",
        );
        problems.check(
            (1..=1_000_000).contains(&self.usage_limit),
            "usage_limit",
            "must be 1 to 1000000",
        );
        problems.check(
            (1..=self.usage_limit.max(1)).contains(&self.per_customer_limit),
            "per_customer_limit",
            "must be 1 to usage_limit",
        );
        problems.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromoCommand {
    Create {
        code: PromoCode,
        terms: PromoTerms,
    },
    /// Reserves a use for a hold about to be made.
    Redeem {
        hold_id: HoldId,
        show_id: ShowId,
        customer_id: CustomerId,
    },
    /// Gives a hold's use back (it expired, was released, or was never made).
    GiveBack {
        hold_id: HoldId,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoCreated {
    pub code: PromoCode,
    pub terms: PromoTerms,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoRedeemed {
    pub hold_id: HoldId,
    pub show_id: ShowId,
    pub customer_id: CustomerId,
    pub redeemed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoGivenBack {
    pub hold_id: HoldId,
    pub reason: String,
    pub given_back_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromoEvent {
    PromoCreated(PromoCreated),
    PromoRedeemed(PromoRedeemed),
    PromoGivenBack(PromoGivenBack),
}

stored_events!(PromoEvent {
    PromoCreated,
    PromoRedeemed,
    PromoGivenBack
});

/// One code: its terms and the uses it has now (serialised for auditors as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Promo {
    code: Option<PromoCode>,
    terms: Option<PromoTerms>,
    /// Uses held now, by hold.
    uses: BTreeMap<HoldId, CustomerId>,
    /// Holds whose use was given back (a hold never gets a second one).
    given_back: std::collections::BTreeSet<HoldId>,
}

impl Promo {
    pub fn terms(&self) -> Option<&PromoTerms> {
        self.terms.as_ref()
    }

    pub fn uses(&self) -> usize {
        self.uses.len()
    }

    /// The offer a hold redeemed, if it holds a use of this code.
    pub fn offer(&self) -> Option<PromoOffer> {
        Some(PromoOffer {
            code: self.code.clone()?,
            discount: self.terms.as_ref()?.discount.clone(),
            scope: self.terms.as_ref()?.scope.clone(),
        })
    }
}

impl Aggregate for Promo {
    type Command = PromoCommand;
    type Event = PromoEvent;

    fn evolve(&mut self, event: &PromoEvent) {
        match event {
            PromoEvent::PromoCreated(e) => {
                self.code = Some(e.code.clone());
                self.terms = Some(e.terms.clone());
            }
            PromoEvent::PromoRedeemed(e) => {
                self.uses.insert(e.hold_id, e.customer_id.clone());
            }
            PromoEvent::PromoGivenBack(e) => {
                self.uses.remove(&e.hold_id);
                self.given_back.insert(e.hold_id);
            }
        }
    }

    fn decide(
        &self,
        command: &PromoCommand,
        now: Timestamp,
    ) -> Result<Vec<PromoEvent>, DomainError> {
        match command {
            PromoCommand::Create { code, terms } => {
                if let Some(existing) = &self.terms {
                    return if existing == terms {
                        Ok(Vec::new())
                    } else {
                        Err(DomainError::DuplicateId(format!("promo code {code}")))
                    };
                }
                terms.validate()?;
                Ok(vec![PromoEvent::PromoCreated(PromoCreated {
                    code: code.clone(),
                    terms: terms.clone(),
                    created_at: now,
                })])
            }
            PromoCommand::Redeem {
                hold_id,
                show_id,
                customer_id,
            } => {
                let terms = self.terms.as_ref().ok_or(DomainError::PromoNotFound)?;
                if self.uses.get(hold_id) == Some(customer_id) {
                    return Ok(Vec::new());
                }
                if self.given_back.contains(hold_id) || self.uses.contains_key(hold_id) {
                    return Err(DomainError::DuplicateId(format!("hold {hold_id}")));
                }
                if now < terms.valid_from || now >= terms.valid_until {
                    return Err(DomainError::PromoNotApplicable(format!(
                        "the code is valid from {} until {}",
                        terms.valid_from, terms.valid_until
                    )));
                }
                if terms.scope.show_id.is_some_and(|s| s != *show_id) {
                    return Err(DomainError::PromoNotApplicable(
                        "the code is not valid for this show".into(),
                    ));
                }
                let mine = self.uses.values().filter(|c| *c == customer_id).count();
                if mine >= terms.per_customer_limit as usize {
                    return Err(DomainError::PromoCustomerLimit {
                        limit: terms.per_customer_limit,
                    });
                }
                if self.uses.len() >= terms.usage_limit as usize {
                    return Err(DomainError::PromoUsedUp);
                }
                Ok(vec![PromoEvent::PromoRedeemed(PromoRedeemed {
                    hold_id: *hold_id,
                    show_id: *show_id,
                    customer_id: customer_id.clone(),
                    redeemed_at: now,
                })])
            }
            PromoCommand::GiveBack { hold_id, reason } => {
                if self.terms.is_none() {
                    return Err(DomainError::PromoNotFound);
                }
                if !self.uses.contains_key(hold_id) {
                    return Ok(Vec::new());
                }
                Ok(vec![PromoEvent::PromoGivenBack(PromoGivenBack {
                    hold_id: *hold_id,
                    reason: reason.clone(),
                    given_back_at: now,
                })])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use crate::Currency;
    use chrono::Duration;

    fn at(minute: i64) -> Timestamp {
        t0() + Duration::minutes(minute)
    }

    /// Code SPRING-25, 25% off, valid for the first half hour after t0.
    fn promo(limit: u32, per_customer: u32) -> Promo {
        Promo::default()
            .when(
                PromoCommand::Create {
                    code: PromoCode::parse("spring-25").unwrap(),
                    terms: PromoTerms {
                        discount: Discount::Percent(25),
                        scope: PromoScope::default(),
                        valid_from: at(0),
                        valid_until: at(30),
                        usage_limit: limit,
                        per_customer_limit: per_customer,
                    },
                },
                at(0),
            )
            .then_accepted()
            .0
    }

    /// `who` reserves a use for hold `hold` of show 7.
    fn redeem(hold: u128, who: &str) -> PromoCommand {
        PromoCommand::Redeem {
            hold_id: hold_id(hold),
            show_id: ShowId(Uuid::from_u128(7)),
            customer_id: customer(who),
        }
    }

    fn give_back(hold: u128) -> PromoCommand {
        PromoCommand::GiveBack {
            hold_id: hold_id(hold),
            reason: "expired".into(),
        }
    }

    #[test]
    fn codes_are_case_insensitive_and_checked() {
        assert_eq!(
            PromoCode::parse(" spring-25 ").unwrap().as_str(),
            "SPRING-25"
        );
        assert_eq!(
            PromoCode::parse("Spring-25").unwrap().stream(),
            PromoCode::parse("SPRING-25").unwrap().stream()
        );
        for bad in ["ab", "春节快乐", "a b c", &"x".repeat(33)] {
            assert!(PromoCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn discounts_never_exceed_the_price_and_round_down() {
        let cny = Currency::parse("CNY").unwrap();
        let gross = Money::new(4_999, cny.clone());
        assert_eq!(
            Discount::Percent(25).on(&gross),
            Some(Money::new(1_249, cny.clone()))
        );
        assert_eq!(Discount::Percent(100).on(&gross), Some(gross.clone()));
        assert_eq!(
            Discount::Fixed(Money::new(9_000, cny.clone())).on(&gross),
            Some(gross.clone())
        );
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(Discount::Fixed(Money::new(100, usd)).on(&gross), None);
    }

    #[test]
    fn the_usage_limit_counts_uses_held_now() {
        let (promo, _) = promo(2, 1).when(redeem(1, "alice"), at(1)).then_accepted();
        promo
            .when(redeem(2, "alice"), at(1))
            .then_error(DomainError::PromoCustomerLimit { limit: 1 });
        let (promo, _) = promo.when(redeem(3, "bob"), at(1)).then_accepted();
        promo
            .when(redeem(4, "carol"), at(1))
            .then_error(DomainError::PromoUsedUp);
        // A retry of a redemption is no new use.
        promo.when(redeem(3, "bob"), at(2)).then_expect(vec![]);
        assert_eq!(promo.uses(), 2);
        let (promo, _) = promo.when(give_back(1), at(3)).then_accepted();
        let (promo, _) = promo.when(redeem(4, "carol"), at(4)).then_accepted();
        // Giving back twice gives back once; the given-back hold cannot redeem again.
        promo.when(give_back(1), at(5)).then_expect(vec![]);
        promo
            .when(redeem(1, "alice"), at(5))
            .then_code("duplicate_id");
    }

    #[test]
    fn codes_work_only_inside_their_window() {
        let promo = promo(5, 5);
        promo
            .when(redeem(1, "alice"), at(30))
            .then_code("promo_not_applicable");
        promo.when(redeem(1, "alice"), at(29)).then_accepted();
    }
}
