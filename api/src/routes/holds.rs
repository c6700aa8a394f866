//! Holding seats, releasing a hold, and selling one at the counter: the commands a ticket
//! client sends between choosing seats and paying.

use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_commands::holds::{NewHold, SeatChoice};
use boxoffice_commands::Outcome;
use boxoffice_domain::promo::PromoCode;
use boxoffice_domain::show::{AppliedDiscount, Requester};
use boxoffice_domain::{
    CustomerId, HoldId, Money, OrderId, SeatId, ShowCommand, ShowEvent, ShowId,
};
use boxoffice_eventstore::Position;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
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

/// What to hold: either `seats` (chosen seats, all of them or none) or `count` (the server
/// picks the best adjacent block in one row, optionally of one `category`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"seats": ["A1", "A2"]}))]
pub struct HoldSeats {
    /// 1 to 10 distinct seat ids of the show's layout.
    seats: Option<Vec<SeatId>>,
    /// 1 to 10: how many adjacent seats the server should pick.
    #[schema(minimum = 1, maximum = 10)]
    count: Option<u32>,
    /// With `count`: only seats of this category (such as `premium`).
    category: Option<String>,
    /// With `seats`: the ticket type of each seat that is not `adult`
    /// (`{"A2": "child"}`), one of the show's `ticket_types`; each seat is priced as its type.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    ticket_types: Option<BTreeMap<SeatId, String>>,
    /// With `count`: how many of the seats are of each ticket type other than `adult`
    /// (`{"child": 2}`); the block's first seats get them.
    ticket_type_counts: Option<BTreeMap<String, u32>>,
    /// A promo code: its discount is taken off the hold's total (one use of the code is
    /// reserved until the hold is paid, or given back if it expires or is released).
    promo_code: Option<String>,
    /// With `seats`: the hold is for a wheelchair user and their companions, so it may take
    /// the wheelchair spaces and companion seats the show keeps for them (each companion
    /// seat with the wheelchair space beside it). With `count`, ask for
    /// `category: accessible` instead.
    accessible: Option<bool>,
    /// While the show sells through an on-sale's waiting room: the admission the room gave
    /// (`admission.token` of the caller's place in line).
    admission_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Held {
    hold_id: HoldId,
    show_id: Uuid,
    customer_id: CustomerId,
    seats: Vec<SeatId>,
    /// The ticket type of each seat that is not `adult`.
    #[schema(value_type = BTreeMap<String, String>)]
    ticket_types: BTreeMap<SeatId, String>,
    held_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// What the customer pays: the seats' prices (as their ticket types) less `discount`.
    total: Money,
    discount: Option<AppliedDiscount>,
    position: Position,
}

/// Hold seats until payment: chosen seats (all or none), or the best available block.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/holds",
    tag = "holds",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer (1-200 visible ASCII characters); generated when absent."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and the events' metadata; generated when absent, echoed back.")
    ),
    request_body = HoldSeats,
    responses(
        (status = 201, description = "Held until `expires_at`.", body = Held,
            links(
                ("Confirm" = (operation_id = "confirm", parameters(("show_id" = "$response.body#/show_id"), ("hold_id" = "$response.body#/hold_id")))),
                ("Release" = (operation_id = "release", parameters(("show_id" = "$response.body#/show_id"), ("hold_id" = "$response.body#/hold_id"))))
            )),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Some seats are held or sold (`seats_unavailable`, with `unavailable_seats`; empty when no block of `count` exists), the customer already has an active hold on this show (`hold_exists`, with `hold_id`), the seats are kept for wheelchair users and the hold is not `accessible` (`seats_reserved`), or the show has started (`show_started`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The show sells through an on-sale's waiting room and the hold carries no valid admission of the caller's (`queue_required`, with `onsale_id` and `opens_at`): join the queue.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn hold(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(show_id): Path<Uuid>,
    Json(body): Json<HoldSeats>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let context = headers.context(&caller);
    let promo_code = match body.promo_code.as_deref() {
        None => None,
        Some(text) => Some(PromoCode::parse(text).ok_or_else(|| {
            ApiError::validation("promo_code", "3 to 32 letters, digits, `-` or `_`")
        })?),
    };
    let seats = match (body.seats, body.count, body.category) {
        (Some(seats), None, None) => {
            if body.ticket_type_counts.is_some() {
                return Err(ApiError::validation(
                    "ticket_type_counts",
                    "goes with `count`; with `seats`, give `ticket_types` per seat",
                ));
            }
            SeatChoice::Seats {
                seats,
                ticket_types: body.ticket_types.unwrap_or_default(),
                accessible: body.accessible.unwrap_or(false),
            }
        }
        (None, Some(count), category) => {
            if body.ticket_types.is_some() {
                return Err(ApiError::validation(
                    "ticket_types",
                    "goes with `seats`; with `count`, give `ticket_type_counts`",
                ));
            }
            if body.accessible.is_some() {
                return Err(ApiError::validation(
                    "accessible",
                    "goes with `seats`; with `count`, ask for `category: accessible`",
                ));
            }
            SeatChoice::Best {
                count,
                category,
                ticket_types: body.ticket_type_counts.unwrap_or_default(),
            }
        }
        (Some(_), _, _) => {
            return Err(ApiError::validation(
                "seats",
                "give either `seats` or `count` (with an optional `category`), not both",
            ))
        }
        (None, None, _) => {
            return Err(ApiError::validation(
                "seats",
                "give `seats` to hold, or `count` for the best available",
            ))
        }
    };
    let hold = NewHold {
        hold_id: HoldId(context.derive_id_in(&ShowId(show_id).stream(), "hold")),
        customer_id: CustomerId(caller.sub.clone()),
        seats,
        promo_code,
        admission: super::onsales::admission(&state, &caller, body.admission_token.as_deref()),
    };
    let outcome = state.holds.hold(ShowId(show_id), hold, &context).await?;
    let held = outcome.expect("SeatsHeld", |e| match e {
        ShowEvent::SeatsHeld(held) => Some(held),
        _ => None,
    })?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Held {
            hold_id: held.hold_id,
            show_id,
            customer_id: held.customer_id.clone(),
            seats: held.seats.clone(),
            ticket_types: held.ticket_types.clone(),
            held_at: held.held_at,
            expires_at: held.expires_at,
            total: held.total.clone(),
            discount: held.discount.clone(),
            position: outcome.position,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Released {
    hold_id: HoldId,
    show_id: Uuid,
    seats: Vec<SeatId>,
    /// Always `released`.
    status: &'static str,
    position: Position,
}

/// Release a hold: its seats become available again.
#[utoipa::path(
    delete,
    path = "/v1/shows/{show_id}/holds/{hold_id}",
    tag = "holds",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("hold_id" = Uuid, Path, description = "The hold."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer (1-200 visible ASCII characters); generated when absent."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and the events' metadata; generated when absent, echoed back.")
    ),
    responses(
        (status = 200, description = "Released.", body = Released),
        (status = 404, description = "Unknown show or hold, or someone else's hold (`show_not_found`, `hold_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hold was already paid, released or expired (`hold_already_confirmed`, `hold_released`).", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The hold expired (`hold_expired`).", body = Problem, content_type = "application/problem+json")
    )
)]
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
    outcome.find(pick).cloned().unwrap_or_default()
}

/// A payment for a hold.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payment_reference": "pay-0001", "amount": {"amount_minor": 9000, "currency": "CNY"}}))]
pub struct ConfirmPayment {
    /// The payment provider's reference (1-200 characters).
    payment_reference: String,
    /// Exactly the hold's total.
    amount: Money,
}

#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    order_id: OrderId,
    hold_id: HoldId,
    show_id: Uuid,
    customer_id: CustomerId,
    seats: Vec<SeatId>,
    total: Money,
    payment_reference: String,
    confirmed_at: DateTime<Utc>,
    position: Position,
}

/// Sell a held hold at the counter (staff only): the box office took the money, so the hold
/// becomes an order at once. Customers pay through `POST .../holds/{hold_id}/payments`.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/holds/{hold_id}/confirm",
    tag = "holds",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("hold_id" = Uuid, Path, description = "The hold."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer (1-200 visible ASCII characters); generated when absent."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and the events' metadata; generated when absent, echoed back.")
    ),
    request_body = ConfirmPayment,
    responses(
        (status = 201, description = "Paid: the order.", body = Confirmed,
            links(
                ("Refund" = (operation_id = "refund", parameters(("show_id" = "$response.body#/show_id"), ("order_id" = "$response.body#/order_id"))))
            )),
        (status = 403, description = "Not staff: customers pay through the payment provider.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown show or hold.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Wrong amount (`amount_mismatch`), already paid (`hold_already_confirmed`), released (`hold_released`), or the show has started.", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The hold expired (`hold_expired`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, hold_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<ConfirmPayment>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff])?;
    let requester = Requester::Staff;
    let context = headers.context(&caller);
    let command = ShowCommand::ConfirmPayment {
        hold_id: HoldId(hold_id),
        order_id: OrderId(context.derive_id_in(&ShowId(show_id).stream(), "order")),
        requester,
        payment_reference: body.payment_reference,
        amount: body.amount,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let confirmed = outcome.expect("HoldConfirmed", |e| match e {
        ShowEvent::HoldConfirmed(e) => Some(e),
        _ => None,
    })?;
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
