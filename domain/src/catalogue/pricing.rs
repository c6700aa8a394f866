//! A cinema's price rules: ticket types other than adult (child, student, senior, or the
//! cinema's own), each a percentage of the adult price, and matinee prices for shows that
//! start before a time of day. They are applied once, when a show is scheduled: the show
//! keeps the prices that came out in its own stream, so a later change of the rules never
//! reprices a show already on sale, and every price can be read from the log.

use crate::error::Problems;
use crate::show::{valid_ticket_type, ADULT};
use crate::{Money, Timestamp};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most ticket types a cinema sells besides adult (as a show may).
const MAX_TICKET_TYPES: usize = 10;

/// A ticket type a cinema sells besides adult.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TicketTypeRule {
    /// 1 to 32 lowercase letters, digits, `_` or `-`: `child`, `student`, `senior`.
    pub name: String,
    /// Its price as a percentage of the adult price of the same seat (0 to 100), rounded
    /// down to the minor unit.
    pub percent: u32,
}

/// Matinee prices: shows starting before `before` (the cinema's local time) sell every
/// ticket at `percent` of the hall's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Matinee {
    /// `HH:MM`, local to the cinema's city, such as `12:00`.
    pub before: String,
    /// 1 to 100.
    pub percent: u32,
}

impl Matinee {
    fn before(&self) -> Option<NaiveTime> {
        NaiveTime::parse_from_str(&self.before, "%H:%M").ok()
    }
}

pub(super) fn validate(
    problems: &mut Problems,
    ticket_types: &[TicketTypeRule],
    matinee: Option<&Matinee>,
) {
    problems.check(
        ticket_types.len() <= MAX_TICKET_TYPES,
        "ticket_types",
        format!("at most {MAX_TICKET_TYPES} ticket types besides adult"),
    );
    let mut seen = BTreeSet::new();
    for (index, rule) in ticket_types.iter().enumerate() {
        let field = format!("ticket_types[{index}]");
        if !valid_ticket_type(&rule.name) || rule.name == ADULT {
            problems.add(
                format!("{field}.name"),
                "1 to 32 lowercase letters, digits, `_` or `-`, other than `adult`",
            );
        } else if !seen.insert(&rule.name) {
            problems.add(format!("{field}.name"), "is listed twice");
        }
        problems.check(
            rule.percent <= 100,
            format!("{field}.percent"),
            "must be 0 to 100",
        );
    }
    if let Some(matinee) = matinee {
        problems.check(
            matinee.before().is_some(),
            "matinee.before",
            "must be a time of day as HH:MM",
        );
        problems.check(
            (1..=100).contains(&matinee.percent),
            "matinee.percent",
            "must be 1 to 100",
        );
    }
}

/// `percent` of `price`, rounded down to the minor unit.
pub fn percent_of(price: &Money, percent: u32) -> Money {
    let amount = i128::from(price.amount_minor) * i128::from(percent) / 100;
    Money::new(
        i64::try_from(amount).unwrap_or(price.amount_minor),
        price.currency.clone(),
    )
}

/// What a show scheduled at `starts_at` in a cinema of `time_zone` sells its tickets for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowPrices {
    /// The adult price per category.
    pub prices: BTreeMap<String, Money>,
    /// The other types' prices: type, then category.
    pub ticket_prices: BTreeMap<String, BTreeMap<String, Money>>,
    /// Whether the matinee rule lowered the prices.
    pub matinee: bool,
}

/// Applies the rules to the hall's `base` prices: the matinee percentage first (when the
/// show starts before its time, local to `time_zone`), then each ticket type's percentage of
/// the result. An unknown time zone applies no matinee.
pub fn price_show(
    base: &BTreeMap<String, Money>,
    ticket_types: &[TicketTypeRule],
    matinee: Option<&Matinee>,
    time_zone: &str,
    starts_at: Timestamp,
) -> ShowPrices {
    let local_start = time_zone
        .parse::<chrono_tz::Tz>()
        .ok()
        .map(|tz| starts_at.with_timezone(&tz).time());
    let matinee = matinee.and_then(|m| match (m.before(), local_start) {
        (Some(before), Some(start)) if start < before => Some(m.percent),
        _ => None,
    });
    let prices: BTreeMap<String, Money> = base
        .iter()
        .map(|(category, price)| {
            let price = matinee.map_or_else(|| price.clone(), |p| percent_of(price, p));
            (category.clone(), price)
        })
        .collect();
    let ticket_prices = ticket_types
        .iter()
        .map(|rule| {
            let by_category = prices
                .iter()
                .map(|(category, price)| (category.clone(), percent_of(price, rule.percent)))
                .collect();
            (rule.name.clone(), by_category)
        })
        .collect();
    ShowPrices {
        prices,
        ticket_prices,
        matinee: matinee.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::cny;
    use chrono::{TimeZone, Utc};

    fn rules() -> (Vec<TicketTypeRule>, Matinee) {
        (
            vec![
                TicketTypeRule {
                    name: "child".into(),
                    percent: 50,
                },
                TicketTypeRule {
                    name: "senior".into(),
                    percent: 67,
                },
            ],
            Matinee {
                before: "12:00".into(),
                percent: 80,
            },
        )
    }

    #[test]
    fn a_morning_show_gets_matinee_prices_and_each_type_its_share_rounded_down() {
        let (types, matinee) = rules();
        let base = [("regular".to_owned(), cny(4599))].into();
        // 11:30 in Shanghai is 03:30 UTC.
        let morning = Utc.with_ymd_and_hms(2027, 3, 15, 3, 30, 0).unwrap();
        let priced = price_show(&base, &types, Some(&matinee), "Asia/Shanghai", morning);
        assert!(priced.matinee);
        assert_eq!(
            priced.prices["regular"],
            cny(3679),
            "80% of 45.99, rounded down"
        );
        assert_eq!(priced.ticket_prices["child"]["regular"], cny(1839));
        assert_eq!(priced.ticket_prices["senior"]["regular"], cny(2464));
        // 12:00 local is not before noon.
        let noon = Utc.with_ymd_and_hms(2027, 3, 15, 4, 0, 0).unwrap();
        let priced = price_show(&base, &types, Some(&matinee), "Asia/Shanghai", noon);
        assert!(!priced.matinee);
        assert_eq!(priced.prices["regular"], cny(4599));
        assert_eq!(priced.ticket_prices["child"]["regular"], cny(2299));
    }

    #[test]
    fn rules_are_checked() {
        let mut problems = Problems::default();
        let types = [
            TicketTypeRule {
                name: "adult".into(),
                percent: 50,
            },
            TicketTypeRule {
                name: "child".into(),
                percent: 150,
            },
            TicketTypeRule {
                name: "child".into(),
                percent: 50,
            },
        ];
        let matinee = Matinee {
            before: "25:00".into(),
            percent: 0,
        };
        validate(&mut problems, &types, Some(&matinee));
        let fields: Vec<String> = match problems.into_result() {
            Err(crate::DomainError::Validation(errors)) => {
                errors.into_iter().map(|e| e.field).collect()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields,
            [
                "ticket_types[0].name",
                "ticket_types[1].percent",
                "ticket_types[2].name",
                "matinee.before",
                "matinee.percent"
            ]
        );
    }
}
