//! Holding seats, with or without a promo code: a process across the code's stream and the
//! show's, like [`crate::exchanges`].
//!
//! 1. With a code, reserve one of its uses for the hold on the code's stream (refused when
//!    the code is used up, expired, or used up by this customer).
//! 2. Hold the seats on the show; the show checks the code's scope and takes its discount
//!    off the hold's total.
//! 3. If the show refuses the hold, give the use back at once. A hold that is made and then
//!    expires or is released gives its use back through the process manager.
//!
//! Step 3 is keyed by the hold, so it happens once however often it is tried. A crash
//! between steps 1 and 2 leaves the use reserved for a hold that was never made
//! (docs/architecture.md, "Bounds and known gaps").

use crate::{CommandContext, CommandError, Outcome, Promos, ShowWriters};
use boxoffice_domain::promo::PromoCode;
use boxoffice_domain::show::Admission;
use boxoffice_domain::{CustomerId, HoldId, SeatId, ShowCommand, ShowId};
use std::collections::BTreeMap;

/// Which seats to hold, and as which ticket types (seats and types not named: `adult`).
#[derive(Debug, Clone)]
pub enum SeatChoice {
    /// These seats, all of them or none.
    Seats {
        seats: Vec<SeatId>,
        ticket_types: BTreeMap<SeatId, String>,
        /// For a wheelchair user's party: may take the wheelchair spaces and companion
        /// seats the show keeps for them.
        accessible: bool,
    },
    /// The best block of `count` adjacent seats, of `category` when given, with how many
    /// of each ticket type.
    Best {
        count: u32,
        category: Option<String>,
        ticket_types: BTreeMap<String, u32>,
    },
}

/// A hold a customer asks for.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    pub seats: SeatChoice,
    pub promo_code: Option<PromoCode>,
    /// Why the hold may be made while the show sells through a waiting room.
    pub admission: Option<Admission>,
}

#[derive(Clone)]
pub struct Holds {
    writers: ShowWriters,
    promos: Promos,
}

impl Holds {
    pub fn new(writers: ShowWriters, promos: Promos) -> Self {
        Self { writers, promos }
    }

    /// Holds the seats, with the promo code's discount when one is given.
    pub async fn hold(
        &self,
        show_id: ShowId,
        hold: NewHold,
        context: &CommandContext,
    ) -> Result<Outcome, CommandError> {
        let promo = match &hold.promo_code {
            Some(code) => Some(
                self.promos
                    .redeem(
                        code,
                        hold.hold_id,
                        show_id,
                        &hold.customer_id,
                        &context.cause(),
                    )
                    .await?,
            ),
            None => None,
        };
        let command = match hold.seats {
            SeatChoice::Seats {
                seats,
                ticket_types,
                accessible,
            } => ShowCommand::HoldSeats {
                admission: hold.admission,
                hold_id: hold.hold_id,
                customer_id: hold.customer_id,
                seats,
                ticket_types,
                promo,
                accessible,
            },
            SeatChoice::Best {
                count,
                category,
                ticket_types,
            } => ShowCommand::HoldBestAvailable {
                admission: hold.admission,
                hold_id: hold.hold_id,
                customer_id: hold.customer_id,
                count,
                category,
                ticket_types,
                promo,
            },
        };
        let held = self
            .writers
            .execute(show_id, command, context.clone())
            .await;
        if let (Err(_), Some(code)) = (&held, &hold.promo_code) {
            self.promos
                .give_back(
                    code,
                    hold.hold_id,
                    "the hold could not be made",
                    &context.cause(),
                )
                .await?;
        }
        held
    }
}
