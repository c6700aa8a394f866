use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_commands::Outcome;
use boxoffice_domain::show::Requester;
use boxoffice_domain::{
    CustomerId, HoldId, Money, OrderId, SeatId, ShowCommand, ShowEvent, ShowId, Timestamp,
};
use boxoffice_eventstore::Position;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Customers act for themselves; staff act for anyone.
pub(super) fn requester(caller: &Identity) -> Result<Requester, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    Ok(if caller.has(Role::Staff) {
        Requester::Staff
    } else {
        Requester::Customer(CustomerId(caller.sub.clone()))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldSeats {
    seats: Vec<SeatId>,
}

#[derive(Serialize)]
struct Held {
    hold_id: HoldId,
    show_id: Uuid,
    customer_id: CustomerId,
    seats: Vec<SeatId>,
    held_at: Timestamp,
    expires_at: Timestamp,
    total: Money,
    position: Position,
}

/// `POST /v1/shows/{show_id}/holds`: holds all the seats or none.
pub async fn hold(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(show_id): Path<Uuid>,
    Json(body): Json<HoldSeats>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let context = headers.context(&caller);
    let command = ShowCommand::HoldSeats {
        hold_id: HoldId(context.derive_id("hold")),
        customer_id: CustomerId(caller.sub.clone()),
        seats: body.seats,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let held = outcome
        .events
        .iter()
        .find_map(|e| match e {
            ShowEvent::SeatsHeld(held) => Some(held),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a hold produced no SeatsHeld event"))?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Held {
            hold_id: held.hold_id,
            show_id,
            customer_id: held.customer_id.clone(),
            seats: held.seats.clone(),
            held_at: held.held_at,
            expires_at: held.expires_at,
            total: held.total.clone(),
            position: outcome.position,
        }),
    ))
}

#[derive(Serialize)]
struct Released {
    hold_id: HoldId,
    show_id: Uuid,
    seats: Vec<SeatId>,
    status: &'static str,
    position: Position,
}

/// `DELETE /v1/shows/{show_id}/holds/{hold_id}`: gives the seats back.
pub async fn release(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, hold_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    let context = headers.context(&caller);
    let command = ShowCommand::ReleaseHold {
        hold_id: HoldId(hold_id),
        requester,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let seats = seats_of(&outcome, |e| match e {
        ShowEvent::HoldReleased(e) => Some(&e.seats),
        _ => None,
    });
    Ok((
        super::replayed_header(outcome.replayed),
        axum::Json(Released {
            hold_id: HoldId(hold_id),
            show_id,
            seats,
            status: "released",
            position: outcome.position,
        }),
    ))
}

fn seats_of(outcome: &Outcome, pick: impl Fn(&ShowEvent) -> Option<&Vec<SeatId>>) -> Vec<SeatId> {
    outcome
        .events
        .iter()
        .find_map(pick)
        .cloned()
        .unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmPayment {
    payment_reference: String,
    amount: Money,
}

#[derive(Serialize)]
struct Confirmed {
    order_id: OrderId,
    hold_id: HoldId,
    show_id: Uuid,
    customer_id: CustomerId,
    seats: Vec<SeatId>,
    total: Money,
    payment_reference: String,
    confirmed_at: Timestamp,
    position: Position,
}

/// `POST /v1/shows/{show_id}/holds/{hold_id}/confirm`: pays for a hold, making it an order.
pub async fn confirm(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, hold_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<ConfirmPayment>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    let context = headers.context(&caller);
    let command = ShowCommand::ConfirmPayment {
        hold_id: HoldId(hold_id),
        order_id: OrderId(context.derive_id("order")),
        requester,
        payment_reference: body.payment_reference,
        amount: body.amount,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let confirmed = outcome
        .events
        .iter()
        .find_map(|e| match e {
            ShowEvent::HoldConfirmed(e) => Some(e),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a payment produced no HoldConfirmed event"))?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Confirmed {
            order_id: confirmed.order_id,
            hold_id: confirmed.hold_id,
            show_id,
            customer_id: confirmed.customer_id.clone(),
            seats: confirmed.seats.clone(),
            total: confirmed.total.clone(),
            payment_reference: confirmed.payment_reference.clone(),
            confirmed_at: confirmed.confirmed_at,
            position: outcome.position,
        }),
    ))
}
