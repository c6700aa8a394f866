use super::{page_limit, read_position};
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{OptionalJson, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::{Money, OrderId, RefundId, SeatId, ShowCommand, ShowEvent, ShowId};
use boxoffice_eventstore::Position;
use boxoffice_projections::queries::{orders_of, OrderCursor, OrderView};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    seats: Option<Vec<SeatId>>,
}

#[derive(Serialize)]
struct Refunded {
    refund_id: RefundId,
    order_id: OrderId,
    show_id: Uuid,
    seats: Vec<SeatId>,
    amount: Money,
    fully_refunded: bool,
    position: Position,
}

/// `POST /v1/shows/{show_id}/orders/{order_id}/refunds`: refunds some seats, or (with no
/// body or no `seats`) every seat the order still has.
pub async fn refund(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, order_id)): Path<(Uuid, Uuid)>,
    OptionalJson(body): OptionalJson<Refund>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = super::holds::requester(&caller)?;
    let context = headers.context(&caller);
    let command = ShowCommand::RefundOrder {
        order_id: OrderId(order_id),
        refund_id: RefundId(context.derive_id("refund")),
        requester,
        seats: body.and_then(|b| b.seats),
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let refunded = outcome
        .events
        .iter()
        .find_map(|e| match e {
            ShowEvent::OrderRefunded(e) => Some(e),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a refund produced no OrderRefunded event"))?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Refunded {
            refund_id: refunded.refund_id,
            order_id: refunded.order_id,
            show_id,
            seats: refunded.seats.clone(),
            amount: refunded.amount.clone(),
            fully_refunded: refunded.fully_refunded,
            position: outcome.position,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyOrdersParams {
    cursor: Option<String>,
    limit: Option<i64>,
    min_position: Option<Position>,
}

#[derive(Serialize)]
struct MyOrders {
    orders: Vec<OrderView>,
    next_cursor: Option<String>,
    position: Position,
}

/// `GET /v1/me/orders`: the caller's orders, newest first.
pub async fn mine(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<MyOrdersParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let limit = page_limit(params.limit, 20, 100)?;
    let cursor = match params.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(OrderCursor::decode(text).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "cursor is not one this server handed out")
        })?),
    };
    let position = read_position(&state, "order_history", params.min_position).await?;
    let client = state.pool.get().await?;
    let (orders, next) = orders_of(&client, &caller.sub, cursor, limit).await?;
    Ok(axum::Json(MyOrders {
        orders,
        next_cursor: next.map(|c| c.encode()),
        position,
    }))
}
