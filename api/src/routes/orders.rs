//! Orders after the sale: refunds (under the show's refund policy), a customer's own order
//! history with its timeline, page by page or one order or hold at a time, and the staff
//! desk's search over everyone's.

use super::{page_limit, read_position};
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{OptionalJson, Path, Query};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::{
    DomainError, Money, OrderId, RefundId, SeatId, ShowCommand, ShowEvent, ShowId,
};
use boxoffice_eventstore::Position;
use boxoffice_projections::order_history::{
    order_of, orders_matching, orders_of, payment_of, OrderCursor, OrderKey, OrderSearch,
    OrderView, PaymentView,
};
use boxoffice_projections::tickets::orders_with_code;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which seats to refund.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// Some seats of the order; absent or null for every seat it still has.
    seats: Option<Vec<SeatId>>,
}

#[derive(Serialize, ToSchema)]
pub struct Refunded {
    refund_id: RefundId,
    order_id: OrderId,
    show_id: Uuid,
    seats: Vec<SeatId>,
    amount: Money,
    fully_refunded: bool,
    position: Position,
}

/// Refund some seats of an order, or (with no body or no `seats`) every seat it still has.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/orders/{order_id}/refunds",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("order_id" = Uuid, Path, description = "The order."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer (1-200 visible ASCII characters); generated when absent."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and the events' metadata; generated when absent, echoed back.")
    ),
    request_body(content = Option<Refund>, description = "Optional: without a body the whole order is refunded."),
    responses(
        (status = 201, description = "Refunded.", body = Refunded),
        (status = 404, description = "Unknown show or order, or someone else's order.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seats not in the order (`seats_not_in_order`), already refunded (`order_fully_refunded`), or the show has started (`show_started`).", body = Problem, content_type = "application/problem+json")
    )
)]
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
        refund_id: RefundId(context.derive_id_in(&ShowId(show_id).stream(), "refund")),
        requester,
        seats: body.and_then(|b| b.seats),
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let refunded = outcome.expect("OrderRefunded", |e| match e {
        ShowEvent::OrderRefunded(e) => Some(e),
        _ => None,
    })?;
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

/// Which seats a quote is for.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteParams {
    /// Seat ids of the order, comma separated (`A1,A2`); absent for every seat it still has.
    seats: Option<String>,
}

/// What a refund of those seats would pay back now, as the show would decide it.
#[derive(Serialize, ToSchema)]
pub struct RefundQuote {
    order_id: OrderId,
    show_id: Uuid,
    seats: Vec<SeatId>,
    /// What was paid for the seats.
    paid: Money,
    /// What the cinema's refund policy keeps (zero in full-refund time, or for staff).
    fee: Money,
    /// What would be paid back: `paid` less `fee`.
    amount: Money,
    /// The instant the quote was decided at; a refund later may keep more.
    decided_at: chrono::DateTime<chrono::Utc>,
}

/// What refunding some seats of an order (or all it still has) would pay back now and what
/// the cinema's refund policy would keep: decided by the show's own refund rule on its state
/// folded from the log, without writing anything. The refund itself is decided again when
/// made, so a quote near a policy's cut-off can change.
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/orders/{order_id}/refunds/quote",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("order_id" = Uuid, Path, description = "The order."),
        QuoteParams
    ),
    responses(
        (status = 200, description = "The quote.", body = RefundQuote),
        (status = 404, description = "Unknown show or order, or someone else's order.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "As a refund would be refused: `seats_not_in_order`, `order_fully_refunded`, `show_started`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A seat list that is not one.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn quote(
    State(state): State<AppState>,
    caller: Identity,
    Path((show_id, order_id)): Path<(Uuid, Uuid)>,
    Query(params): Query<QuoteParams>,
) -> Result<axum::Json<RefundQuote>, ApiError> {
    let requester = super::holds::requester(&caller)?;
    super::require_show_cinema(&state, &caller, show_id).await?;
    // A customer's own order is known to the order history before the show is folded: asking
    // about someone else's (or a made-up) order costs no replay of a show's log.
    if let boxoffice_domain::Requester::Customer(customer) = &requester {
        let client = state.pool.get().await?;
        let known = order_of(&client, &customer.0, OrderKey::Order(order_id))
            .await?
            .is_some_and(|order| order.show_id == show_id);
        if !known {
            return Err(DomainError::OrderNotFound.into());
        }
    }
    let seats: Option<Vec<SeatId>> = params.seats.map(|list| {
        list.split(',')
            .map(|s| SeatId(s.trim().to_owned()))
            .collect()
    });
    if seats
        .as_ref()
        .is_some_and(|seats| seats.iter().any(|s| s.0.is_empty()))
    {
        return Err(ApiError::validation(
            "seats",
            "comma-separated seat ids, none of them empty (absent for every seat)",
        ));
    }
    let show = state
        .states
        .show_aggregate(
            state.log.as_ref(),
            ShowId(show_id),
            boxoffice_audit::state::Point::Latest,
        )
        .await
        .map_err(|e| match e {
            boxoffice_audit::state::StateError::NotFound => DomainError::ShowNotFound.into(),
            other => ApiError::unavailable(other.to_string()),
        })?;
    let now = chrono::Utc::now();
    let command = ShowCommand::RefundOrder {
        order_id: OrderId(order_id),
        refund_id: RefundId(Uuid::nil()),
        requester,
        seats,
    };
    let refunded = boxoffice_domain::show::decide(&show, &command, now)?
        .into_iter()
        .find_map(|e| match e {
            ShowEvent::OrderRefunded(e) => Some(e),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a refund decided no OrderRefunded"))?;
    let fee = refunded
        .fee
        .clone()
        .unwrap_or_else(|| Money::new(0, refunded.amount.currency.clone()));
    Ok(axum::Json(RefundQuote {
        order_id: refunded.order_id,
        show_id,
        paid: Money::new(
            refunded.amount.amount_minor + fee.amount_minor,
            refunded.amount.currency.clone(),
        ),
        seats: refunded.seats,
        fee,
        amount: refunded.amount,
        decided_at: now,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyOrdersParams {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

/// A page of orders, newest first.
#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    orders: Vec<OrderView>,
    next_cursor: Option<String>,
    position: Position,
}

/// The `cursor` a client sent back, if any.
fn order_cursor(text: Option<&str>) -> Result<Option<OrderCursor>, ApiError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => OrderCursor::decode(text).map(Some).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "cursor is not one this server handed out")
        }),
    }
}

/// The caller's orders, newest first.
#[utoipa::path(
    get,
    path = "/v1/me/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(MyOrdersParams),
    responses(
        (status = 200, description = "A page of orders.", body = OrderPage)
    )
)]
pub async fn mine(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<MyOrdersParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let limit = page_limit(params.limit, 20, 100)?;
    let cursor = order_cursor(params.cursor.as_deref())?;
    let position = read_position(&state, "order_history", params.min_position).await?;
    let client = state.pool.get().await?;
    let (orders, next) = orders_of(&client, &caller.sub, cursor, limit).await?;
    Ok(axum::Json(OrderPage {
        orders,
        next_cursor: next.map(|c| c.encode()),
        position,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindOrdersParams {
    /// The customer's id (an account id, or a partner's customer reference).
    customer: Option<String>,
    /// An order's pickup code (ten digits).
    pickup_code: Option<String>,
    show_id: Option<Uuid>,
    /// A provider payment: the purchase it was started for.
    payment_id: Option<Uuid>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// Wait (up to 5 s) until the read models have reached this position.
    min_position: Option<Position>,
}

/// The staff desk: anyone's purchases by customer, pickup code, show or payment (at least
/// one; several narrow it down), newest first, as customers see them. Refunds, exchanges and
/// check-ins on what is found are the customer's routes, called with a staff token.
#[utoipa::path(
    get,
    path = "/v1/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(FindOrdersParams),
    responses(
        (status = 200, description = "A page of purchases.", body = OrderPage),
        (status = 400, description = "A cursor this server did not hand out (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No filter, or an empty one (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn find(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<FindOrdersParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff])?;
    let limit = page_limit(params.limit, 20, 100)?;
    let cursor = order_cursor(params.cursor.as_deref())?;
    let text = |value: Option<String>, field: &str| -> Result<Option<String>, ApiError> {
        match value.map(|v| v.trim().to_owned()) {
            Some(v) if v.is_empty() || v.chars().count() > 200 => Err(DomainError::Validation(
                vec![boxoffice_domain::FieldError::new(
                    field,
                    "must be 1 to 200 characters",
                )],
            )
            .into()),
            other => Ok(other),
        }
    };
    let customer = text(params.customer, "customer")?;
    let pickup_code = text(params.pickup_code, "pickup_code")?;
    if customer.is_none()
        && pickup_code.is_none()
        && params.show_id.is_none()
        && params.payment_id.is_none()
    {
        return Err(
            DomainError::Validation(vec![boxoffice_domain::FieldError::new(
                "customer",
                "give at least one of customer, pickup_code, show_id, payment_id",
            )])
            .into(),
        );
    }
    let position = read_position(&state, "order_history", params.min_position).await?;
    let client = state.pool.get().await?;
    let order_ids = match &pickup_code {
        Some(code) => {
            read_position(&state, "tickets", params.min_position).await?;
            Some(orders_with_code(&client, code).await?)
        }
        None => None,
    };
    let search = OrderSearch {
        customer_id: customer,
        show_id: params.show_id,
        payment_id: params.payment_id,
        order_ids,
        cinema_ids: caller.cinemas.as_ref().map(|c| c.iter().copied().collect()),
    };
    let (orders, next) = orders_matching(&client, &search, cursor, limit).await?;
    Ok(axum::Json(OrderPage {
        orders,
        next_cursor: next.map(|c| c.encode()),
        position,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OneOrderParams {
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct MyOrder {
    #[serde(flatten)]
    order: OrderView,
    position: Position,
}

/// One of the caller's orders, with its timeline (as in `GET /v1/me/orders`).
#[utoipa::path(
    get,
    path = "/v1/me/orders/{order_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("order_id" = Uuid, Path, description = "The order."), OneOrderParams),
    responses(
        (status = 200, description = "The order.", body = MyOrder),
        (status = 404, description = "No such order of the caller's (`order_not_found`), someone else's included.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn my_order(
    State(state): State<AppState>,
    caller: Identity,
    Path(order_id): Path<Uuid>,
    Query(params): Query<OneOrderParams>,
) -> Result<impl IntoResponse, ApiError> {
    one_of_mine(
        &state,
        &caller,
        OrderKey::Order(order_id),
        params.min_position,
    )
    .await
}

/// One of the caller's holds, paid or not, with its timeline: what a client shows while a
/// hold counts down and after it is paid, released or expired.
#[utoipa::path(
    get,
    path = "/v1/me/holds/{hold_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("hold_id" = Uuid, Path, description = "The hold."), OneOrderParams),
    responses(
        (status = 200, description = "The hold, and the order it became.", body = MyOrder),
        (status = 404, description = "No such hold of the caller's (`hold_not_found`), someone else's included.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn my_hold(
    State(state): State<AppState>,
    caller: Identity,
    Path(hold_id): Path<Uuid>,
    Query(params): Query<OneOrderParams>,
) -> Result<impl IntoResponse, ApiError> {
    one_of_mine(
        &state,
        &caller,
        OrderKey::Hold(hold_id),
        params.min_position,
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct MyPayment {
    #[serde(flatten)]
    payment: PaymentView,
    position: Position,
}

/// One of the caller's payments: how it stands (`pending`, `succeeded`, `failed`, or
/// `refused` when the show could not sell the seats any more), what it took and paid back,
/// and its steps. What a client asks when the pay page sends the customer back.
#[utoipa::path(
    get,
    path = "/v1/me/payments/{payment_id}",
    tag = "payments",
    security(("bearer" = [])),
    params(("payment_id" = Uuid, Path, description = "The payment."), OneOrderParams),
    responses(
        (status = 200, description = "The payment.", body = MyPayment),
        (status = 404, description = "No such payment of the caller's (`payment_not_found`), someone else's included.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn my_payment(
    State(state): State<AppState>,
    caller: Identity,
    Path(payment_id): Path<Uuid>,
    Query(params): Query<OneOrderParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let position = read_position(&state, "order_history", params.min_position).await?;
    let client = state.pool.get().await?;
    let payment = payment_of(&client, &caller.sub, payment_id)
        .await?
        .ok_or(boxoffice_domain::DomainError::PaymentNotFound)?;
    Ok(axum::Json(MyPayment { payment, position }))
}

async fn one_of_mine(
    state: &AppState,
    caller: &Identity,
    key: OrderKey,
    min_position: Option<Position>,
) -> Result<axum::Json<MyOrder>, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let position = read_position(state, "order_history", min_position).await?;
    let client = state.pool.get().await?;
    let order = order_of(&client, &caller.sub, key)
        .await?
        .ok_or(match key {
            OrderKey::Hold(_) => boxoffice_domain::DomainError::HoldNotFound,
            OrderKey::Order(_) => boxoffice_domain::DomainError::OrderNotFound,
        })?;
    Ok(axum::Json(MyOrder { order, position }))
}
