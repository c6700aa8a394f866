//! Paying through a provider: the cross-stream work between a show and its payments.
//!
//! - A payment starts on the show (`RequestPayment` fixes the hold and the amount), is
//!   opened at the provider (the [`PaymentProvider`] port), and gets its own stream.
//! - A provider notification is recorded on the payment's stream once per provider event
//!   id; a success settles the show (`SettlePayment`): the hold becomes an order, or the
//!   payment is refused and then refunded.
//! - Refunds and extra charges the show decides are carried out through the provider and
//!   recorded on the payment's stream, each once (by its id), however often it is asked.

use crate::streams::Streams;
use crate::{Cause, CommandContext, CommandError, ShowWriters};
use boxoffice_domain::payment::{Payment, PaymentCommand, PaymentEvent, PaymentMethod};
use boxoffice_domain::{
    DomainError, HoldId, Money, OrderId, PaymentRefusal, Requester, ShowCommand, ShowEvent, ShowId,
    StreamName, Timestamp,
};
use boxoffice_eventstore::Position;
use std::sync::Arc;
use uuid::Uuid;

const ID_NAMESPACE: Uuid = Uuid::from_u128(0x1c7e_55a0_8d3b_4f69_a2e4_6b0d_93c1_7f28);

/// The stream of a payment.
fn payment_stream(payment_id: Uuid) -> String {
    StreamName::Payment(payment_id).to_string()
}

/// A payment a provider is asked to open.
#[derive(Debug, Clone)]
pub struct PaymentOrder {
    pub payment_id: Uuid,
    pub amount: Money,
    pub method: PaymentMethod,
    pub expires_at: Timestamp,
    /// What the customer sees at the provider (the show's title, say).
    pub description: String,
    /// Where the provider sends the customer back when they have paid or given up (the
    /// merchant's app), already checked against the origins the merchant allows.
    pub return_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Worth trying again later (the provider could not be reached, or said so).
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused: trying again will not help.
    #[error("the payment provider refused: {0}")]
    Refused(String),
}

/// A payment provider (a card acquirer, Alipay, WeChat Pay). Every call is idempotent by
/// the id it is given: asking twice opens, refunds or charges once.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Opens a payment; returns the URL the customer pays at.
    async fn open(&self, order: &PaymentOrder) -> Result<String, ProviderError>;
    /// Pays `amount` of payment `payment_id` back.
    async fn refund(
        &self,
        payment_id: Uuid,
        refund_id: Uuid,
        amount: &Money,
    ) -> Result<(), ProviderError>;
    /// Takes `amount` more from the means payment `payment_id` was made with.
    async fn charge(
        &self,
        payment_id: Uuid,
        charge_id: Uuid,
        amount: &Money,
    ) -> Result<(), ProviderError>;
}

/// A notification from the provider, its signature already verified.
#[derive(Debug, Clone)]
pub struct Notification {
    pub provider: String,
    /// The request that delivered it, recorded as the correlation id of what it leads to.
    pub correlation_id: Option<String>,
    pub event_id: String,
    pub payment_id: Uuid,
    pub succeeded: bool,
    pub amount: Money,
    pub detail: String,
}

/// How a customer pays for a hold: the method, what they see at the provider, and where
/// the provider sends them back (see [`PaymentOrder`]).
#[derive(Debug, Clone)]
pub struct Checkout {
    pub method: PaymentMethod,
    pub description: String,
    pub return_url: Option<String>,
}

/// A started payment.
#[derive(Debug, Clone)]
pub struct StartedPayment {
    pub payment_id: Uuid,
    pub amount: Money,
    pub pay_url: String,
    pub expires_at: Timestamp,
    /// The log position after the payment's start; read models that reached it show it.
    pub position: Position,
    pub replayed: bool,
}

/// What a notification did; the same for every delivery of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    pub payment_id: Uuid,
    pub status: &'static str,
    /// The order a success made, or why it was refused.
    pub order_id: Option<OrderId>,
    pub refused: Option<PaymentRefusal>,
}

#[derive(Clone)]
pub struct Payments {
    streams: Streams,
    writers: ShowWriters,
    provider: Arc<dyn PaymentProvider>,
    /// How long a customer has at the provider, counted from starting the payment.
    window: chrono::Duration,
}

impl Payments {
    pub fn new(
        streams: Streams,
        writers: ShowWriters,
        provider: Arc<dyn PaymentProvider>,
        window: chrono::Duration,
    ) -> Self {
        Self {
            streams,
            writers,
            provider,
            window,
        }
    }

    /// Starts paying for a hold: the show records the request (refusing holds that are not
    /// the requester's or no longer payable), the provider opens the payment, and the
    /// payment's stream starts. A retry (same key) returns the same payment.
    pub async fn start(
        &self,
        show_id: ShowId,
        hold_id: HoldId,
        requester: Requester,
        checkout: Checkout,
        context: &CommandContext,
    ) -> Result<StartedPayment, CommandError> {
        let Checkout {
            method,
            description,
            return_url,
        } = checkout;
        let payment_id = context.derive_id_in(&show_id.stream(), "payment");
        let outcome = self
            .writers
            .execute(
                show_id,
                ShowCommand::RequestPayment {
                    hold_id,
                    payment_id,
                    requester,
                    method,
                },
                context.clone(),
            )
            .await?;
        let requested = outcome.expect("PaymentRequested", |e| match e {
            ShowEvent::PaymentRequested(e) => Some(e.clone()),
            _ => None,
        })?;
        let expires_at = requested.requested_at + self.window;
        let pay_url = self
            .provider
            .open(&PaymentOrder {
                payment_id,
                amount: requested.amount.clone(),
                method,
                expires_at,
                description,
                return_url,
            })
            .await
            .map_err(provider_error)?;
        let started = self
            .streams
            .execute::<Payment>(
                &payment_stream(payment_id),
                PaymentCommand::Start {
                    payment_id,
                    show_id,
                    hold_id,
                    customer_id: requested.customer_id,
                    amount: requested.amount.clone(),
                    method,
                    expires_at,
                },
                context,
            )
            .await?;
        Ok(StartedPayment {
            payment_id,
            amount: requested.amount,
            pay_url,
            expires_at,
            position: started.position.max(outcome.position),
            replayed: outcome.replayed,
        })
    }

    /// Records a verified notification (once per provider event id) and, on success,
    /// settles the show. Every delivery of one notification gets the same answer.
    pub async fn notified(&self, notification: &Notification) -> Result<Notified, CommandError> {
        let stream = payment_stream(notification.payment_id);
        let context = CommandContext::system(
            &format!("provider:{}", notification.provider),
            format!("notify:{}", notification.event_id),
            &Cause {
                correlation_id: notification.correlation_id.clone(),
                causation_id: None,
            },
        );
        let payment = self.payment(notification.payment_id).await?;
        let started = payment
            .started()
            .cloned()
            .ok_or(DomainError::PaymentNotFound)?;
        let recorded = self
            .streams
            .execute::<Payment>(
                &stream,
                PaymentCommand::Notify {
                    provider_event_id: notification.event_id.clone(),
                    succeeded: notification.succeeded,
                    amount: notification.amount.clone(),
                    detail: notification.detail.clone(),
                },
                &context,
            )
            .await?;
        // The status right after this notification: what it recorded, or (delivered
        // again) what it recorded the first time.
        let status = match recorded.events.first() {
            Some(PaymentEvent::PaymentSucceeded(_)) => "succeeded",
            Some(PaymentEvent::PaymentFailed(_)) => "failed",
            Some(_) => payment.status().as_str(),
            None => payment
                .after_notification(&notification.event_id)
                .map_or("pending", |s| s.as_str()),
        };
        let mut answer = Notified {
            payment_id: notification.payment_id,
            status,
            order_id: None,
            refused: None,
        };
        if status == "succeeded" {
            let settled = self
                .settle(started.show_id, notification.payment_id, &context.cause())
                .await?;
            answer.order_id = settled.0;
            answer.refused = settled.1;
        }
        Ok(answer)
    }

    /// Settles a succeeded payment on its show (once: a retry gets the first outcome).
    /// Returns the order it made, or why it was refused.
    pub async fn settle(
        &self,
        show_id: ShowId,
        payment_id: Uuid,
        cause: &Cause,
    ) -> Result<(Option<OrderId>, Option<PaymentRefusal>), CommandError> {
        let context = system_context("settle", payment_id, cause);
        let command = ShowCommand::SettlePayment {
            payment_id,
            order_id: OrderId(Uuid::new_v5(&ID_NAMESPACE, payment_id.as_bytes())),
        };
        match self.writers.execute(show_id, command, context).await {
            Ok(outcome) => Ok(outcome
                .find(|e| match e {
                    ShowEvent::HoldConfirmed(e) => Some((Some(e.order_id), None)),
                    ShowEvent::PaymentRefused(e) => Some((None, Some(e.reason))),
                    _ => None,
                })
                .unwrap_or((None, None))),
            Err(CommandError::Rejected(DomainError::HoldAlreadyConfirmed { order_id })) => {
                Ok((Some(order_id), None))
            }
            Err(other) => Err(other),
        }
    }

    /// Pays `amount` back through the provider and records it on the payment, once per
    /// `refund_id`.
    pub async fn pay_out(
        &self,
        payment_id: Uuid,
        refund_id: Uuid,
        amount: &Money,
        reason: &str,
        cause: &Cause,
    ) -> Result<(), CommandError> {
        if amount.amount_minor == 0 {
            return Ok(());
        }
        let payment = self.payment(payment_id).await?;
        if payment.started().is_none() {
            return Err(DomainError::PaymentNotFound.into());
        }
        self.provider
            .refund(payment_id, refund_id, amount)
            .await
            .map_err(provider_error)?;
        self.streams
            .execute::<Payment>(
                &payment_stream(payment_id),
                PaymentCommand::RecordRefund {
                    refund_id,
                    amount: amount.clone(),
                    reason: reason.to_owned(),
                },
                &system_context("refund", refund_id, cause),
            )
            .await?;
        Ok(())
    }

    /// Takes `amount` more through the provider and records it, once per `charge_id`.
    pub async fn collect(
        &self,
        payment_id: Uuid,
        charge_id: Uuid,
        amount: &Money,
        cause: &Cause,
    ) -> Result<(), CommandError> {
        if amount.amount_minor == 0 {
            return Ok(());
        }
        self.provider
            .charge(payment_id, charge_id, amount)
            .await
            .map_err(provider_error)?;
        self.streams
            .execute::<Payment>(
                &payment_stream(payment_id),
                PaymentCommand::RecordCharge {
                    charge_id,
                    amount: amount.clone(),
                },
                &system_context("charge", charge_id, cause),
            )
            .await?;
        Ok(())
    }

    /// The payment as its stream tells it.
    pub async fn payment(&self, payment_id: Uuid) -> Result<Payment, CommandError> {
        Ok(self
            .streams
            .load::<Payment>(&payment_stream(payment_id))
            .await?
            .state)
    }
}

/// The context of work the system does on its own, keyed so it is done once.
fn system_context(purpose: &str, id: Uuid, cause: &Cause) -> CommandContext {
    CommandContext::system("system:payments", format!("{purpose}:{id}"), cause)
}

fn provider_error(error: ProviderError) -> CommandError {
    match error {
        ProviderError::Unavailable(reason) => CommandError::Unavailable(reason),
        ProviderError::Refused(reason) => CommandError::Failed(reason),
    }
}
