//! Promo codes: aggregates of their own (`promo-{uuid}`), so a code's usage limit is exact
//! however many processes sell at once.
//!
//! A hold with a code first reserves a use here (appended at the version its decision
//! read), then asks the show for the hold ([`crate::holds`]); a use whose hold is not made,
//! expires or is released is given back.

use crate::streams::Streams;
use crate::{Cause, CommandContext, CommandError};
use boxoffice_domain::promo::{Promo, PromoCode, PromoCommand, PromoOffer, PromoTerms};
use boxoffice_domain::{CustomerId, DomainError, HoldId, ShowId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Promo codes. Uses of one code are decided one at a time in this process (so a rush on a
/// code waits in line instead of failing on conflicts), and across processes by the
/// version each append expects.
#[derive(Clone)]
pub struct Promos {
    streams: Streams,
    lines: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Promos {
    pub fn new(streams: Streams) -> Self {
        Self {
            streams,
            lines: Arc::default(),
        }
    }

    pub async fn create(
        &self,
        code: PromoCode,
        terms: PromoTerms,
        context: &CommandContext,
    ) -> Result<bool, CommandError> {
        let outcome = self
            .streams
            .execute::<Promo>(
                &code.stream(),
                PromoCommand::Create { code, terms },
                context,
            )
            .await?;
        Ok(!outcome.events.is_empty() && !outcome.replayed)
    }

    pub async fn get(&self, code: &PromoCode) -> Result<Promo, CommandError> {
        Ok(self.streams.load::<Promo>(&code.stream()).await?.state)
    }

    /// Reserves a use of `code` for a hold about to be made.
    pub async fn redeem(
        &self,
        code: &PromoCode,
        hold_id: HoldId,
        show_id: ShowId,
        customer_id: &CustomerId,
        cause: &Cause,
    ) -> Result<PromoOffer, CommandError> {
        let stream = code.stream();
        let context = CommandContext::system("system:promos", format!("redeem:{hold_id}"), cause);
        let command = PromoCommand::Redeem {
            hold_id,
            show_id,
            customer_id: customer_id.clone(),
        };
        self.in_line(&stream, || {
            self.streams.execute::<Promo>(&stream, command, &context)
        })
        .await?;
        let promo = self.get(code).await?;
        promo
            .offer()
            .ok_or_else(|| DomainError::PromoNotFound.into())
    }

    /// Gives a hold's use back (nothing if it has none).
    pub async fn give_back(
        &self,
        code: &PromoCode,
        hold_id: HoldId,
        reason: &str,
        cause: &Cause,
    ) -> Result<(), CommandError> {
        let stream = code.stream();
        let context =
            CommandContext::system("system:promos", format!("give-back:{hold_id}"), cause);
        let command = PromoCommand::GiveBack {
            hold_id,
            reason: reason.to_owned(),
        };
        self.in_line(&stream, || {
            self.streams.execute::<Promo>(&stream, command, &context)
        })
        .await?;
        Ok(())
    }

    async fn in_line<T, F: std::future::Future<Output = T>>(
        &self,
        stream: &str,
        work: impl FnOnce() -> F,
    ) -> T {
        let line = self
            .lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(stream.to_owned())
            .or_default()
            .clone();
        let result = {
            let _turn = line.lock().await;
            work().await
        };
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        // The map's and ours: nobody else waits, so the line can go.
        if Arc::strong_count(&line) == 2 {
            lines.remove(stream);
        }
        result
    }
}
