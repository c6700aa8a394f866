//! Exchanges to another show of the same movie: a process across two show streams.
//!
//! 1. Hold the new seats on the other show, as the customer.
//! 2. Take the old seats out of the order (`TransferOut`): their paid value becomes a credit.
//!    If that is refused, the new hold is released.
//! 3. Make the new hold an order paid by the credit (`TransferIn`), settling the
//!    difference. If that is refused, step 2 is undone (`RevertTransferOut`: the seats go back
//!    to the order if still free, else their value is refunded) and the hold released.
//!
//! Step 3 and its undoing are keyed by the exchange, so they happen once however often they
//! are tried: the request tries them at once, and the payments process manager tries them
//! again from the `OrderTransferredOut` event if the request never got that far (a crash).

use crate::{Cause, CommandContext, CommandError, Outcome, ShowWriters};
use boxoffice_domain::show::{OrderTransferredOut, ADULT};
use boxoffice_domain::{
    CustomerId, HoldId, OrderId, Requester, SeatId, ShowCommand, ShowEvent, ShowId,
};
use std::collections::BTreeMap;
use uuid::Uuid;

const ORDER_NAMESPACE: Uuid = Uuid::from_u128(0x6e1f_92b4_0a73_4c58_9d2e_b5c4_17a0_e8f3);

/// An exchange to another show, as asked.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub from_show: ShowId,
    pub order_id: OrderId,
    pub requester: Requester,
    /// Whose order it is (the new hold is theirs).
    pub customer_id: CustomerId,
    pub give_back: Vec<SeatId>,
    pub to_show: ShowId,
    pub take: Vec<SeatId>,
}

/// The order made on the other show.
#[derive(Debug, Clone)]
pub struct Transferred {
    pub exchange_id: Uuid,
    pub out: OrderTransferredOut,
    pub into: Outcome,
}

#[derive(Clone)]
pub struct Exchanges {
    writers: ShowWriters,
}

impl Exchanges {
    pub fn new(writers: ShowWriters) -> Self {
        Self { writers }
    }

    pub async fn transfer(
        &self,
        transfer: Transfer,
        context: &CommandContext,
    ) -> Result<Transferred, CommandError> {
        let exchange_id = context.derive_id_in(&transfer.from_show.stream(), "exchange");
        let to_hold = HoldId(context.derive_id_in(&transfer.to_show.stream(), "exchange-hold"));
        let step = |name: &str| CommandContext {
            idempotency_key: format!("{}/{name}", context.idempotency_key),
            ..context.clone()
        };
        self.writers
            .execute(
                transfer.to_show,
                ShowCommand::HoldSeats {
                    admission: None,
                    hold_id: to_hold,
                    customer_id: transfer.customer_id.clone(),
                    seats: transfer.take.clone(),
                    // Priced as adult tickets here; the transfer in gives the seats the
                    // types of the seats given up, and prices them so.
                    ticket_types: BTreeMap::new(),
                    promo: None,
                    // A wheelchair user's party moves into the other show's kept seats
                    // only once they are released there (or through a new booking).
                    accessible: false,
                },
                step("hold"),
            )
            .await?;
        let out = match self
            .writers
            .execute(
                transfer.from_show,
                ShowCommand::TransferOut {
                    order_id: transfer.order_id,
                    exchange_id,
                    requester: transfer.requester.clone(),
                    seats: transfer.give_back.clone(),
                    to_show_id: transfer.to_show.0,
                    to_hold_id: to_hold,
                },
                step("out"),
            )
            .await
        {
            Ok(outcome) => outcome.expect("OrderTransferredOut", |e| match e {
                ShowEvent::OrderTransferredOut(e) => Some(e.clone()),
                _ => None,
            })?,
            Err(error) => {
                self.release(transfer.to_show, to_hold, exchange_id, &context.cause())
                    .await;
                return Err(error);
            }
        };
        let into = self
            .complete(transfer.from_show, &out, &context.cause())
            .await?;
        Ok(Transferred {
            exchange_id,
            out,
            into,
        })
    }

    /// Step 3, or its undoing if the other show refuses. Safe to call again.
    pub async fn complete(
        &self,
        from_show: ShowId,
        out: &OrderTransferredOut,
        cause: &Cause,
    ) -> Result<Outcome, CommandError> {
        let command = ShowCommand::TransferIn {
            hold_id: out.to_hold_id,
            order_id: OrderId(Uuid::new_v5(&ORDER_NAMESPACE, out.exchange_id.as_bytes())),
            exchange_id: out.exchange_id,
            customer_id: out.customer_id.clone(),
            from_show_id: from_show.0,
            from_order_id: out.order_id,
            movie_id: out.movie_id,
            credit: out.credit.clone(),
            payment_id: out.payment_id,
            ticket_types: out
                .seats
                .iter()
                .map(|seat| {
                    out.ticket_types
                        .get(seat)
                        .map_or(ADULT, String::as_str)
                        .to_owned()
                })
                .collect(),
        };
        let to_show = ShowId(out.to_show_id);
        match self
            .writers
            .execute(
                to_show,
                command,
                system("transfer-in", out.exchange_id, cause),
            )
            .await
        {
            Err(CommandError::Rejected(rejection)) => {
                self.writers
                    .execute(
                        from_show,
                        ShowCommand::RevertTransferOut {
                            exchange_id: out.exchange_id,
                        },
                        system("revert", out.exchange_id, cause),
                    )
                    .await?;
                self.release(to_show, out.to_hold_id, out.exchange_id, cause)
                    .await;
                Err(CommandError::Rejected(rejection))
            }
            other => other,
        }
    }

    /// Releases the exchange's hold; a hold that already ended needs nothing.
    async fn release(&self, show: ShowId, hold_id: HoldId, exchange_id: Uuid, cause: &Cause) {
        let released = self
            .writers
            .execute(
                show,
                ShowCommand::ReleaseHold {
                    hold_id,
                    requester: Requester::Staff,
                },
                system("release", exchange_id, cause),
            )
            .await;
        if let Err(error) = released {
            tracing::info!(%hold_id, %error, "exchange: the new hold was not released");
        }
    }
}

fn system(purpose: &str, exchange_id: Uuid, cause: &Cause) -> CommandContext {
    CommandContext::system(
        "system:exchanges",
        format!("{purpose}:{exchange_id}"),
        cause,
    )
}
