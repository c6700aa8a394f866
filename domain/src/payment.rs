//! A payment through a provider (card, Alipay, WeChat Pay): its own stream, `payment-{id}`.
//!
//! The show decides what a payment buys (a `PaymentRequested` on the show fixes the amount
//! and the hold); the payment stream records what the provider said and did: started, the
//! notifications it sent (each provider event id once, so a repeated notification changes
//! nothing), and the refunds and extra charges it carried out.

use crate::aggregate::{stored_events, Aggregate};
use crate::{CustomerId, DomainError, HoldId, Money, ShowId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

const MAX_PROVIDER_TEXT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Card,
    Alipay,
    WechatPay,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Alipay => "alipay",
            Self::WechatPay => "wechat_pay",
        }
    }
}

/// What a provider notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentCommand {
    Start {
        payment_id: Uuid,
        show_id: ShowId,
        hold_id: HoldId,
        customer_id: CustomerId,
        amount: Money,
        method: PaymentMethod,
        expires_at: Timestamp,
    },
    /// The provider says the payment succeeded or failed (`provider_event_id` identifies the
    /// notification; a repeated one changes nothing).
    Notify {
        provider_event_id: String,
        succeeded: bool,
        amount: Money,
        detail: String,
    },
    /// The provider paid `amount` back (for `refund_id`, once).
    RecordRefund {
        refund_id: Uuid,
        amount: Money,
        reason: String,
    },
    /// The provider took `amount` more (for `charge_id`, once): an exchange to dearer seats.
    RecordCharge { charge_id: Uuid, amount: Money },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentStarted {
    pub payment_id: Uuid,
    pub show_id: ShowId,
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    pub amount: Money,
    pub method: PaymentMethod,
    pub expires_at: Timestamp,
    pub started_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSucceeded {
    pub provider_event_id: String,
    pub amount: Money,
    pub succeeded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailed {
    pub provider_event_id: String,
    pub reason: String,
    pub failed_at: Timestamp,
}

/// A notification that came after the payment had already settled differently (a success
/// after a failure, say): recorded, never acted on silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentNotificationIgnored {
    pub provider_event_id: String,
    pub said: PaymentStatus,
    pub reason: String,
    pub received_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRefunded {
    pub refund_id: Uuid,
    pub amount: Money,
    pub reason: String,
    pub refunded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentCharged {
    pub charge_id: Uuid,
    pub amount: Money,
    pub charged_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    PaymentStarted(PaymentStarted),
    PaymentSucceeded(PaymentSucceeded),
    PaymentFailed(PaymentFailed),
    PaymentNotificationIgnored(PaymentNotificationIgnored),
    PaymentRefunded(PaymentRefunded),
    PaymentCharged(PaymentCharged),
}

stored_events!(PaymentEvent {
    PaymentStarted,
    PaymentSucceeded,
    PaymentFailed,
    PaymentNotificationIgnored,
    PaymentRefunded,
    PaymentCharged
});

/// One payment as its stream tells it (serialised for auditors as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Payment {
    started: Option<PaymentStarted>,
    status: Option<PaymentStatus>,
    /// Every notification seen, and the status the payment had after it.
    notifications: BTreeMap<String, PaymentStatus>,
    refunds: BTreeMap<Uuid, Money>,
    charges: BTreeMap<Uuid, Money>,
}

impl Payment {
    pub fn started(&self) -> Option<&PaymentStarted> {
        self.started.as_ref()
    }

    /// What every command but `Start` needs: a payment that was started.
    fn started_or_not_found(&self) -> Result<&PaymentStarted, DomainError> {
        self.started.as_ref().ok_or(DomainError::PaymentNotFound)
    }

    pub fn status(&self) -> PaymentStatus {
        self.status.clone().unwrap_or(PaymentStatus::Pending)
    }

    /// The status the payment had right after notification `provider_event_id`.
    pub fn after_notification(&self, provider_event_id: &str) -> Option<&PaymentStatus> {
        self.notifications.get(provider_event_id)
    }

    /// Paid back so far, in minor units.
    pub fn refunded_minor(&self) -> i64 {
        self.refunds.values().map(|m| m.amount_minor).sum()
    }

    pub fn charged_minor(&self) -> i64 {
        self.charges.values().map(|m| m.amount_minor).sum()
    }
}

fn provider_text(field: &str, text: &str) -> Result<(), DomainError> {
    let chars = text.chars().count();
    if (1..=MAX_PROVIDER_TEXT).contains(&chars) && !text.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be 1 to {MAX_PROVIDER_TEXT} characters"),
        ))
    }
}

impl Aggregate for Payment {
    type Command = PaymentCommand;
    type Event = PaymentEvent;

    fn evolve(&mut self, event: &PaymentEvent) {
        match event {
            PaymentEvent::PaymentStarted(e) => {
                self.started = Some(e.clone());
                self.status = Some(PaymentStatus::Pending);
            }
            PaymentEvent::PaymentSucceeded(e) => {
                self.status = Some(PaymentStatus::Succeeded);
                self.notifications
                    .insert(e.provider_event_id.clone(), PaymentStatus::Succeeded);
            }
            PaymentEvent::PaymentFailed(e) => {
                self.status = Some(PaymentStatus::Failed);
                self.notifications
                    .insert(e.provider_event_id.clone(), PaymentStatus::Failed);
            }
            PaymentEvent::PaymentNotificationIgnored(e) => {
                self.notifications
                    .insert(e.provider_event_id.clone(), self.status());
            }
            PaymentEvent::PaymentRefunded(e) => {
                self.refunds.insert(e.refund_id, e.amount.clone());
            }
            PaymentEvent::PaymentCharged(e) => {
                self.charges.insert(e.charge_id, e.amount.clone());
            }
        }
    }

    fn decide(
        &self,
        command: &PaymentCommand,
        now: Timestamp,
    ) -> Result<Vec<PaymentEvent>, DomainError> {
        match command {
            PaymentCommand::Start {
                payment_id,
                show_id,
                hold_id,
                customer_id,
                amount,
                method,
                expires_at,
            } => match &self.started {
                Some(started) if started.hold_id == *hold_id && started.amount == *amount => {
                    Ok(Vec::new())
                }
                Some(_) => Err(DomainError::DuplicateId(format!("payment {payment_id}"))),
                None => Ok(vec![PaymentEvent::PaymentStarted(PaymentStarted {
                    payment_id: *payment_id,
                    show_id: *show_id,
                    hold_id: *hold_id,
                    customer_id: customer_id.clone(),
                    amount: amount.clone(),
                    method: *method,
                    expires_at: *expires_at,
                    started_at: now,
                })]),
            },
            PaymentCommand::Notify {
                provider_event_id,
                succeeded,
                amount,
                detail,
            } => {
                let started = self.started_or_not_found()?;
                provider_text("event_id", provider_event_id)?;
                if self.notifications.contains_key(provider_event_id) {
                    return Ok(Vec::new());
                }
                if *amount != started.amount {
                    return Err(DomainError::AmountMismatch {
                        expected: started.amount.clone(),
                        paid: amount.clone(),
                    });
                }
                let said = if *succeeded {
                    PaymentStatus::Succeeded
                } else {
                    PaymentStatus::Failed
                };
                let status = self.status();
                if status != PaymentStatus::Pending {
                    return Ok(vec![PaymentEvent::PaymentNotificationIgnored(
                        PaymentNotificationIgnored {
                            provider_event_id: provider_event_id.clone(),
                            reason: format!("the payment had already {}", status.as_str()),
                            said,
                            received_at: now,
                        },
                    )]);
                }
                Ok(vec![if *succeeded {
                    PaymentEvent::PaymentSucceeded(PaymentSucceeded {
                        provider_event_id: provider_event_id.clone(),
                        amount: amount.clone(),
                        succeeded_at: now,
                    })
                } else {
                    provider_text("detail", detail)?;
                    PaymentEvent::PaymentFailed(PaymentFailed {
                        provider_event_id: provider_event_id.clone(),
                        reason: detail.clone(),
                        failed_at: now,
                    })
                }])
            }
            PaymentCommand::RecordRefund {
                refund_id,
                amount,
                reason,
            } => {
                let started = self.started_or_not_found()?;
                if self.refunds.contains_key(refund_id) {
                    return Ok(Vec::new());
                }
                let paid = started.amount.amount_minor + self.charged_minor();
                if self.status() != PaymentStatus::Succeeded
                    || amount.currency != started.amount.currency
                    || amount.amount_minor <= 0
                    || self.refunded_minor() + amount.amount_minor > paid
                {
                    return Err(DomainError::invalid(
                        "amount",
                        format!("cannot refund {amount} of a payment of {paid} minor units"),
                    ));
                }
                Ok(vec![PaymentEvent::PaymentRefunded(PaymentRefunded {
                    refund_id: *refund_id,
                    amount: amount.clone(),
                    reason: reason.clone(),
                    refunded_at: now,
                })])
            }
            PaymentCommand::RecordCharge { charge_id, amount } => {
                self.started_or_not_found()?;
                if self.charges.contains_key(charge_id) {
                    return Ok(Vec::new());
                }
                if self.status() != PaymentStatus::Succeeded || amount.amount_minor <= 0 {
                    return Err(DomainError::invalid(
                        "amount",
                        "only a succeeded payment can be charged more",
                    ));
                }
                Ok(vec![PaymentEvent::PaymentCharged(PaymentCharged {
                    charge_id: *charge_id,
                    amount: amount.clone(),
                    charged_at: now,
                })])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    /// Alice's payment 1 of 90.00 CNY by Alipay, for hold 3 of show 2.
    fn started() -> Payment {
        Payment::default()
            .when(
                PaymentCommand::Start {
                    payment_id: Uuid::from_u128(1),
                    show_id: ShowId(Uuid::from_u128(2)),
                    hold_id: hold_id(3),
                    customer_id: customer("alice"),
                    amount: cny(9_000),
                    method: PaymentMethod::Alipay,
                    expires_at: t0(),
                },
                t0(),
            )
            .then_accepted()
            .0
    }

    fn notify(event: &str, succeeded: bool, minor: i64) -> PaymentCommand {
        PaymentCommand::Notify {
            provider_event_id: event.into(),
            succeeded,
            amount: cny(minor),
            detail: "declined".into(),
        }
    }

    #[test]
    fn a_notification_counts_once() {
        let (payment, events) = started()
            .when(notify("evt-1", true, 9_000), t0())
            .then_accepted();
        assert_eq!(events.len(), 1);
        payment
            .when(notify("evt-1", true, 9_000), t0())
            .then_expect(vec![]);
        assert_eq!(payment.status(), PaymentStatus::Succeeded);
        // A different notification contradicting it is recorded and changes nothing.
        let (payment, ignored) = payment
            .when(notify("evt-2", false, 9_000), t0())
            .then_accepted();
        assert!(matches!(
            ignored[..],
            [PaymentEvent::PaymentNotificationIgnored(_)]
        ));
        assert_eq!(payment.status(), PaymentStatus::Succeeded);
        assert_eq!(
            payment.after_notification("evt-2"),
            Some(&PaymentStatus::Succeeded)
        );
    }

    #[test]
    fn a_notification_for_another_amount_is_refused() {
        started()
            .when(notify("evt-1", true, 8_999), t0())
            .then_code("amount_mismatch");
    }

    #[test]
    fn refunds_never_exceed_what_was_paid() {
        let refund = |id: u128, minor: i64| PaymentCommand::RecordRefund {
            refund_id: Uuid::from_u128(id),
            amount: cny(minor),
            reason: "customer".into(),
        };
        let payment = started();
        // Not paid yet.
        payment
            .when(refund(1, 100), t0())
            .then_code("validation_failed");
        let (payment, _) = payment
            .when(notify("evt-1", true, 9_000), t0())
            .then_accepted();
        let (payment, _) = payment.when(refund(1, 6_000), t0()).then_accepted();
        // Once.
        payment.when(refund(1, 6_000), t0()).then_expect(vec![]);
        payment
            .when(refund(2, 3_001), t0())
            .then_code("validation_failed");
        let (payment, _) = payment.when(refund(2, 3_000), t0()).then_accepted();
        assert_eq!(payment.refunded_minor(), 9_000);
    }
}
