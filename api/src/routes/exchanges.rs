//! Exchanging seats of an order: for other free seats of the same show in one step, or for
//! seats of another show of the same movie (a process across the two shows,
//! commands::exchanges). The price difference is charged or refunded through the order's
//! payment.

use super::holds::requester;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::show::SeatMove;
use boxoffice_domain::{HoldId, Money, OrderId, SeatId, ShowCommand, ShowEvent, ShowId};
use boxoffice_eventstore::Position;
use boxoffice_projections::{order_history, seat_map};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"give_back": ["A1"], "take": ["B5"]}))]
pub struct Exchange {
    /// Seats of the order to give back (1 to 10).
    give_back: Vec<SeatId>,
    /// The free seats to take instead, one for each seat given back, in the same order.
    take: Vec<SeatId>,
}

#[derive(Serialize, ToSchema)]
pub struct Exchanged {
    exchange_id: Uuid,
    order_id: OrderId,
    show_id: Uuid,
    #[schema(value_type = Vec<Object>)]
    moves: Vec<SeatMove>,
    /// Charged through the payment provider (dearer seats).
    charge: Money,
    /// Refunded through the payment provider (cheaper seats).
    refund: Money,
    position: Position,
}

/// Move seats of an order to other free seats of the same show in one step; the price
/// difference is charged or refunded through the order's payment.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/orders/{order_id}/exchanges",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("order_id" = Uuid, Path, description = "The order."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer."),
    ),
    request_body = Exchange,
    responses(
        (status = 201, description = "Exchanged.", body = Exchanged),
        (status = 404, description = "Unknown show or order, or someone else's order.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seats not in the order, new seats taken, or the show started.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad seat lists.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn exchange(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, order_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<Exchange>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    let context = headers.context(&caller);
    let command = ShowCommand::ExchangeSeats {
        order_id: OrderId(order_id),
        exchange_id: context.derive_id_in(&ShowId(show_id).stream(), "exchange"),
        requester,
        give_back: body.give_back,
        take: body.take,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let exchanged = outcome.expect("SeatsExchanged", |e| match e {
        ShowEvent::SeatsExchanged(e) => Some(e),
        _ => None,
    })?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Exchanged {
            exchange_id: exchanged.exchange_id,
            order_id: exchanged.order_id,
            show_id,
            moves: exchanged.moves.clone(),
            charge: exchanged.charge.clone(),
            refund: exchanged.refund.clone(),
            position: outcome.position,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"give_back": ["A1", "A2"], "to_show_id": "5eed0000-0000-4000-8000-000000000002", "take": ["C5", "C6"]}))]
pub struct NewTransfer {
    /// Seats of the order to give back (1 to 10).
    give_back: Vec<SeatId>,
    /// Another show of the same movie.
    to_show_id: Uuid,
    /// Free seats of that show, as many as are given back.
    take: Vec<SeatId>,
}

#[derive(Serialize, ToSchema)]
pub struct Transferred {
    exchange_id: Uuid,
    from_show_id: Uuid,
    from_order_id: OrderId,
    to_show_id: Uuid,
    /// The new order on the other show.
    order_id: OrderId,
    hold_id: HoldId,
    seats: Vec<SeatId>,
    /// What the seats given back had been paid: it pays for the new ones.
    credit: Money,
    /// Charged through the order's payment (dearer seats).
    charge: Money,
    /// Refunded through the order's payment (cheaper seats).
    refund: Money,
    position: Position,
}

/// Exchange seats of an order for seats of another show of the same movie: the new seats
/// are held, the old ones leave the order, and the new order is paid with their value, the
/// difference charged or refunded. If the last step fails, the first two are undone.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/orders/{order_id}/transfers",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show of the order."),
        ("order_id" = Uuid, Path, description = "The order."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer."),
    ),
    request_body = NewTransfer,
    responses(
        (status = 201, description = "Exchanged: the new order.", body = Transferred),
        (status = 404, description = "Unknown show or order, or someone else's order.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seats not in the order, new seats taken, a hold already there, or a show started.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad seat lists, or a show of another movie.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, order_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<NewTransfer>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    if body.give_back.is_empty() || body.give_back.len() > boxoffice_domain::MAX_SEATS_PER_HOLD {
        return Err(ApiError::validation("give_back", "give back 1 to 10 seats"));
    }
    if body.take.len() != body.give_back.len() {
        return Err(ApiError::validation(
            "take",
            "name one new seat for each seat given back",
        ));
    }
    if body.to_show_id == show_id {
        return Err(ApiError::validation(
            "to_show_id",
            "to exchange within the show, use .../exchanges",
        ));
    }
    // Staff of some cinemas: both shows theirs, before the first step writes anything on
    // the other one.
    super::require_show_cinema(&state, &caller, show_id).await?;
    super::require_show_cinema(&state, &caller, body.to_show_id).await?;
    let client = state.pool.get().await?;
    let movies = seat_map::movies_of_shows(&client, &[show_id, body.to_show_id]).await?;
    let movie_of = |id: Uuid| movies.iter().find(|m| m.show_id == id).map(|m| m.movie_id);
    let (Some(from_movie), Some(to_movie)) = (movie_of(show_id), movie_of(body.to_show_id)) else {
        return Err(boxoffice_domain::DomainError::ShowNotFound.into());
    };
    if from_movie != to_movie {
        return Err(ApiError::validation(
            "to_show_id",
            "an exchange is to another show of the same movie",
        ));
    }
    let customer_id = if caller.has(Role::Staff) {
        let owner = order_history::customer_of_order(&client, order_id)
            .await?
            .ok_or(boxoffice_domain::DomainError::OrderNotFound)?;
        boxoffice_domain::CustomerId(owner)
    } else {
        boxoffice_domain::CustomerId(caller.sub.clone())
    };
    drop(client);
    let context = headers.context(&caller);
    let done = state
        .exchanges
        .transfer(
            boxoffice_commands::exchanges::Transfer {
                from_show: ShowId(show_id),
                order_id: OrderId(order_id),
                requester,
                customer_id,
                give_back: body.give_back,
                to_show: ShowId(body.to_show_id),
                take: body.take,
            },
            &context,
        )
        .await?;
    let into = done.into.expect("OrderTransferredIn", |e| match e {
        ShowEvent::OrderTransferredIn(e) => Some(e),
        _ => None,
    })?;
    let seats = done
        .into
        .find(|e| match e {
            ShowEvent::HoldConfirmed(e) => Some(e.seats.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        axum::Json(Transferred {
            exchange_id: done.exchange_id,
            from_show_id: show_id,
            from_order_id: OrderId(order_id),
            to_show_id: body.to_show_id,
            order_id: into.order_id,
            hold_id: into.hold_id,
            seats,
            credit: into.credit.clone(),
            charge: into.charge.clone(),
            refund: into.refund.clone(),
            position: done.into.position,
        }),
    ))
}
