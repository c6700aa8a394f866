//! What the payments process manager must do about an event: a pure mapping from one event
//! of the log to the tasks it calls for, with nothing to read and nothing to run, so every
//! rule is a unit test.
//!
//! Each task names the id that makes carrying it out idempotent (a refund id, a charge id,
//! a hold, a payment, an exchange); the task's own id derives from it, so the same event
//! seen twice (a replay, two processes) makes one task.

use crate::Cause;
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::promo::PromoCode;
use boxoffice_domain::show::OrderTransferredOut;
use boxoffice_domain::{HoldId, Money, ShowEvent};
use boxoffice_projections::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const TASK_NAMESPACE: Uuid = Uuid::from_u128(0x9a41_07c3_5e2d_4b8f_b6a1_0c7d_e3f5_2948);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// Pay money back through the provider.
    PayOut {
        payment_id: Uuid,
        refund_id: Uuid,
        amount: Money,
        reason: String,
    },
    /// Take more money through the provider (an exchange to dearer seats).
    Collect {
        payment_id: Uuid,
        charge_id: Uuid,
        amount: Money,
    },
    /// Give a promo code's use back: its hold expired or was released.
    GiveBack {
        code: PromoCode,
        hold_id: HoldId,
        reason: String,
    },
    /// A payment succeeded: settle it on its show (if the notification's own settling did
    /// not get that far).
    Settle { payment_id: Uuid },
    /// Seats left an order for another show: finish the exchange there, or undo it (if the
    /// request that started it did not get that far).
    CompleteTransfer {
        from_show_id: Uuid,
        transfer: Box<OrderTransferredOut>,
    },
}

/// A task as the to-do list keeps it: with the cause its steps record (the event that
/// called for it, and that event's request), so an auditor can follow a refund paid out by
/// the provider back to the refund asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Planned {
    #[serde(flatten)]
    pub task: Task,
    /// Absent on tasks planned before causes were recorded.
    #[serde(default)]
    pub cause: Cause,
}

impl Task {
    /// The task's id: the same for every sighting of the event that called for it.
    pub fn id(&self) -> Uuid {
        let name = match self {
            Self::PayOut { refund_id, .. } => format!("pay-out/{refund_id}"),
            Self::Collect { charge_id, .. } => format!("collect/{charge_id}"),
            Self::GiveBack { hold_id, .. } => format!("give-back/{hold_id}"),
            Self::Settle { payment_id } => format!("settle/{payment_id}"),
            Self::CompleteTransfer { transfer, .. } => {
                format!("complete-transfer/{}", transfer.exchange_id)
            }
        };
        Uuid::new_v5(&TASK_NAMESPACE, name.as_bytes())
    }

    /// The kind, as operators see it in `process_tasks.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PayOut { .. } => "pay_out",
            Self::Collect { .. } => "collect",
            Self::GiveBack { .. } => "give_back",
            Self::Settle { .. } => "settle",
            Self::CompleteTransfer { .. } => "complete_transfer",
        }
    }
}

/// The tasks one event of stream `stream_id` calls for (usually none).
pub fn react(stream_id: Uuid, event: &Event) -> Vec<Task> {
    match event {
        Event::Show(ShowEvent::OrderRefunded(e)) => e
            .payment_id
            .map(|payment_id| Task::PayOut {
                payment_id,
                refund_id: e.refund_id.0,
                amount: e.amount.clone(),
                reason: e.reason.as_str().to_owned(),
            })
            .into_iter()
            .collect(),
        Event::Show(ShowEvent::PaymentRefused(e)) => vec![Task::PayOut {
            payment_id: e.payment_id,
            refund_id: e.refund_id.0,
            amount: e.amount.clone(),
            reason: format!("payment refused: {}", e.reason),
        }],
        Event::Show(ShowEvent::SeatsExchanged(e)) => settle_difference(
            e.payment_id,
            e.exchange_id,
            (&e.charge, &e.refund),
            "exchange to cheaper seats",
        ),
        Event::Show(ShowEvent::OrderTransferredOut(e)) => vec![Task::CompleteTransfer {
            from_show_id: stream_id,
            transfer: Box::new(e.clone()),
        }],
        Event::Show(ShowEvent::OrderTransferredIn(e)) => settle_difference(
            e.payment_id,
            e.exchange_id,
            (&e.charge, &e.refund),
            "exchange to a cheaper show",
        ),
        Event::Show(ShowEvent::HoldExpired(e)) => give_back(&e.promo_code, e.hold_id, "expired"),
        Event::Show(ShowEvent::HoldReleased(e)) => give_back(&e.promo_code, e.hold_id, "released"),
        Event::Payment(PaymentEvent::PaymentSucceeded(_)) => vec![Task::Settle {
            payment_id: stream_id,
        }],
        _ => Vec::new(),
    }
}

/// The charge or refund an exchange decided, through the order's payment (none for orders
/// paid at the counter: the counter settles them).
fn settle_difference(
    payment_id: Option<Uuid>,
    exchange_id: Uuid,
    (charge, refund): (&Money, &Money),
    reason: &str,
) -> Vec<Task> {
    let Some(payment_id) = payment_id else {
        return Vec::new();
    };
    let mut tasks = Vec::new();
    if charge.amount_minor > 0 {
        tasks.push(Task::Collect {
            payment_id,
            charge_id: exchange_id,
            amount: charge.clone(),
        });
    }
    if refund.amount_minor > 0 {
        tasks.push(Task::PayOut {
            payment_id,
            refund_id: exchange_id,
            amount: refund.clone(),
            reason: reason.to_owned(),
        });
    }
    tasks
}

/// A hold that ended unpaid gives its promo code use back.
fn give_back(code: &Option<PromoCode>, hold_id: HoldId, ended: &str) -> Vec<Task> {
    code.iter()
        .map(|code| Task::GiveBack {
            code: code.clone(),
            hold_id,
            reason: format!("hold {ended}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxoffice_domain::payment::PaymentSucceeded;
    use boxoffice_domain::show::{HoldExpired, HoldReleased, SeatsExchanged};
    use boxoffice_domain::{Currency, CustomerId, OrderId, SeatId};
    use chrono::{TimeZone, Utc};

    fn cny(amount_minor: i64) -> Money {
        Money::new(amount_minor, Currency::parse("CNY").expect("a currency"))
    }

    fn exchanged(payment_id: Option<Uuid>, charge: i64, refund: i64) -> Event {
        Event::Show(ShowEvent::SeatsExchanged(SeatsExchanged {
            order_id: OrderId(Uuid::from_u128(7)),
            exchange_id: Uuid::from_u128(8),
            customer_id: CustomerId("alice".into()),
            moves: Vec::new(),
            charge: cny(charge),
            refund: cny(refund),
            payment_id,
            exchanged_at: Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap(),
        }))
    }

    #[test]
    fn an_exchange_to_dearer_seats_collects_the_difference_through_the_orders_payment() {
        let payment = Uuid::from_u128(9);
        let tasks = react(Uuid::nil(), &exchanged(Some(payment), 1500, 0));
        assert_eq!(
            tasks,
            vec![Task::Collect {
                payment_id: payment,
                charge_id: Uuid::from_u128(8),
                amount: cny(1500),
            }]
        );
    }

    #[test]
    fn an_exchange_to_cheaper_seats_pays_the_difference_back() {
        let tasks = react(Uuid::nil(), &exchanged(Some(Uuid::from_u128(9)), 0, 500));
        assert!(
            matches!(&tasks[..], [Task::PayOut { amount, .. }] if *amount == cny(500)),
            "{tasks:?}"
        );
    }

    #[test]
    fn an_order_paid_at_the_counter_has_nothing_to_settle_through_a_provider() {
        assert!(react(Uuid::nil(), &exchanged(None, 1500, 0)).is_empty());
        assert!(react(Uuid::nil(), &exchanged(Some(Uuid::from_u128(9)), 0, 0)).is_empty());
    }

    #[test]
    fn only_holds_with_a_promo_code_give_a_use_back() {
        let code = PromoCode::parse("SPRING25").expect("a code");
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        let expired = |promo_code: Option<PromoCode>| {
            Event::Show(ShowEvent::HoldExpired(HoldExpired {
                hold_id: HoldId(Uuid::from_u128(3)),
                seats: vec![SeatId::new("A1")],
                expired_at: at,
                promo_code,
            }))
        };
        assert!(react(Uuid::nil(), &expired(None)).is_empty());
        assert_eq!(
            react(Uuid::nil(), &expired(Some(code.clone()))),
            vec![Task::GiveBack {
                code: code.clone(),
                hold_id: HoldId(Uuid::from_u128(3)),
                reason: "hold expired".into(),
            }]
        );
        let released = Event::Show(ShowEvent::HoldReleased(HoldReleased {
            hold_id: HoldId(Uuid::from_u128(3)),
            seats: vec![SeatId::new("A1")],
            released_at: at,
            promo_code: Some(code),
        }));
        assert!(matches!(
            &react(Uuid::nil(), &released)[..],
            [Task::GiveBack { reason, .. }] if reason == "hold released"
        ));
    }

    #[test]
    fn a_succeeded_payment_is_settled_on_its_show_once_however_often_it_is_seen() {
        let payment = Uuid::from_u128(11);
        let succeeded = Event::Payment(PaymentEvent::PaymentSucceeded(PaymentSucceeded {
            provider_event_id: "evt-1".into(),
            amount: cny(9000),
            succeeded_at: Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap(),
        }));
        let first = react(payment, &succeeded);
        assert_eq!(
            first,
            vec![Task::Settle {
                payment_id: payment
            }]
        );
        assert_eq!(first[0].id(), react(payment, &succeeded)[0].id());
        assert_ne!(
            first[0].id(),
            react(Uuid::from_u128(12), &succeeded)[0].id()
        );
    }

    #[test]
    fn a_planned_task_keeps_its_cause_and_tasks_planned_before_causes_still_read() {
        let planned = Planned {
            task: Task::Settle {
                payment_id: Uuid::from_u128(11),
            },
            cause: Cause {
                correlation_id: Some("req-1".into()),
                causation_id: Some(Uuid::from_u128(12).to_string()),
            },
        };
        let stored = serde_json::to_value(&planned).unwrap();
        assert_eq!(stored["kind"], "settle");
        assert_eq!(serde_json::from_value::<Planned>(stored).unwrap(), planned);
        let before = serde_json::json!({"kind": "settle", "payment_id": Uuid::from_u128(11)});
        let read: Planned = serde_json::from_value(before).unwrap();
        assert_eq!(read.task, planned.task);
        assert_eq!(read.cause, Cause::default());
    }
}
