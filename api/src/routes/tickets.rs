//! Tickets at the door: the customer's tickets (QR codes signed for offline checking, and
//! the order's pickup code; printable as a PDF), the key scanners check them with, checking in, and who is in.

use super::read_position;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::tickets::pdf::{self, Printed};
use crate::tickets::{self, QrTicket};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use boxoffice_domain::show::{Door, Presented, ADULT};
use boxoffice_domain::{Currency, DomainError, SeatId, ShowCommand, ShowEvent, ShowId};
use boxoffice_eventstore::Position;
use boxoffice_projections::catalogue;
use boxoffice_projections::order_history::{order_of, OrderKey};
use boxoffice_projections::seat_map::{self, SeatView};
use boxoffice_projections::tickets::{attendance, tickets_of, Attendance, OrderTickets};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct TicketKeyView {
    /// Always `Ed25519`.
    algorithm: &'static str,
    /// The 32-byte public key, hex.
    public_key: String,
    /// How a QR code's text is made: `BOXT1.` then the base64url (unpadded) JSON body
    /// `{"show_id","seat_id","ticket_id","version"}`, a dot, and the base64url Ed25519
    /// signature over the body's bytes.
    format: &'static str,
    /// True when tickets are signed with the development key, which anyone can make.
    development: bool,
}

/// The key ticket QR codes are signed with: a scanner checks a code offline with it
/// (anyone may read it).
#[utoipa::path(get, path = "/v1/tickets/public-key", tag = "tickets",
    responses((status = 200, description = "The public key.", body = TicketKeyView)))]
pub async fn public_key(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(TicketKeyView {
        algorithm: "Ed25519",
        public_key: state.tickets.public_key.to_hex(),
        format: "BOXT1.<base64url(body)>.<base64url(signature)>",
        development: state.tickets.development,
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TicketsParams {
    /// Wait (up to 5 s) until the read model has reached this position (the payment's).
    min_position: Option<Position>,
}

/// An order's tickets, ready to show at the door.
#[derive(Serialize, ToSchema)]
pub struct OrderTicketsView {
    order_id: Uuid,
    show_id: Uuid,
    show_title: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    cinema_name: Option<String>,
    hall_name: Option<String>,
    /// Ten digits for the ticket machine or the door: lets in every seat of the order.
    pickup_code: Option<String>,
    /// One per seat the order still owns (refunded seats have none).
    tickets: Vec<TicketView>,
    position: Position,
}

#[derive(Serialize, ToSchema)]
pub struct TicketView {
    ticket_id: Uuid,
    seat_id: String,
    /// Grows each time the seat gets a new ticket on this show: only the latest admits.
    version: u32,
    /// `valid` or `checked_in`.
    #[schema(pattern = "^(valid|checked_in)$")]
    status: &'static str,
    checked_in_at: Option<DateTime<Utc>>,
    door: Option<String>,
    /// `adult`, or the other ticket type the seat was sold as (`child`, ...).
    ticket_type: String,
    qr: QrView,
}

#[derive(Serialize, ToSchema)]
pub struct QrView {
    /// The text the QR code holds (see `GET /v1/tickets/public-key`).
    payload: String,
    /// The QR code as an SVG document.
    svg: String,
    /// The QR code as a PNG image, base64.
    png_base64: String,
}

/// The tickets of one of the caller's orders: a signed QR code per seat (text, SVG and
/// PNG) and the order's pickup code.
#[utoipa::path(
    get,
    path = "/v1/me/orders/{order_id}/tickets",
    tag = "tickets",
    security(("bearer" = [])),
    params(("order_id" = Uuid, Path, description = "The order."), TicketsParams),
    responses(
        (status = 200, description = "The tickets.", body = OrderTicketsView),
        (status = 404, description = "No such order of the caller's (`order_not_found`), someone else's included.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn order_tickets(
    State(state): State<AppState>,
    caller: Identity,
    Path(order_id): Path<Uuid>,
    Query(params): Query<TicketsParams>,
) -> Result<impl IntoResponse, ApiError> {
    let (order, position) = owned(&state, &caller, order_id, params.min_position).await?;
    let client = state.pool.get().await?;
    let shown = order_of(&client, &order.customer_id, OrderKey::Order(order_id)).await?;
    let mut tickets = Vec::with_capacity(order.tickets.len());
    for ticket in order.tickets {
        let payload = state.tickets.sign(&QrTicket {
            show_id: order.show_id,
            seat_id: ticket.seat_id.clone(),
            ticket_id: ticket.ticket_id,
            version: ticket.version,
        });
        let (svg, png) = tickets::draw::svg(&payload)
            .zip(tickets::draw::png(&payload))
            .ok_or_else(|| ApiError::internal("a ticket's QR code could not be drawn"))?;
        tickets.push(TicketView {
            ticket_id: ticket.ticket_id,
            seat_id: ticket.seat_id,
            version: ticket.version,
            status: if ticket.checked_in_at.is_some() {
                "checked_in"
            } else {
                "valid"
            },
            checked_in_at: ticket.checked_in_at,
            door: ticket.door,
            ticket_type: ticket.ticket_type,
            qr: QrView {
                payload,
                svg,
                png_base64: base64::engine::general_purpose::STANDARD.encode(png),
            },
        });
    }
    Ok(axum::Json(OrderTicketsView {
        order_id,
        show_id: order.show_id,
        show_title: shown.as_ref().and_then(|o| o.show_title.clone()),
        starts_at: shown.as_ref().and_then(|o| o.starts_at),
        cinema_name: shown.as_ref().and_then(|o| o.cinema_name.clone()),
        hall_name: shown.as_ref().and_then(|o| o.hall_name.clone()),
        pickup_code: order.pickup_code,
        tickets,
        position,
    }))
}

/// The caller's order's tickets (staff: anyone's), once the read model has `min_position`.
async fn owned(
    state: &AppState,
    caller: &Identity,
    order_id: Uuid,
    min_position: Option<Position>,
) -> Result<(OrderTickets, Position), ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    let position = read_position(state, "tickets", min_position).await?;
    let client = state.pool.get().await?;
    let order = tickets_of(&client, order_id)
        .await?
        .filter(|o| o.customer_id == caller.sub || caller.has(Role::Staff))
        .ok_or(DomainError::OrderNotFound)?;
    if order.customer_id != caller.sub {
        super::require_show_cinema(state, caller, order.show_id).await?;
    }
    Ok((order, position))
}

/// The tickets of one of the caller's orders, printable: a PDF with an A6 page per seat
/// (movie, cinema, hall, local time, row and seat, category and price, pickup code, QR code).
#[utoipa::path(
    get,
    path = "/v1/me/orders/{order_id}/tickets.pdf",
    tag = "tickets",
    security(("bearer" = [])),
    params(("order_id" = Uuid, Path, description = "The order."), TicketsParams),
    responses(
        (status = 200, description = "The tickets, a page per seat.", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such order of the caller's (`order_not_found`), someone else's included.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Every seat of the order was refunded or exchanged away (`order_fully_refunded`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn order_tickets_pdf(
    State(state): State<AppState>,
    caller: Identity,
    Path(order_id): Path<Uuid>,
    Query(params): Query<TicketsParams>,
) -> Result<impl IntoResponse, ApiError> {
    let (order, _) = owned(&state, &caller, order_id, params.min_position).await?;
    if order.tickets.is_empty() {
        return Err(DomainError::OrderFullyRefunded.into());
    }
    // The page also prints the show from the catalogue and the seats from the seat map:
    // each follows the log at its own pace, so each is waited for.
    for projector in ["catalogue", "seat_map"] {
        read_position(&state, projector, params.min_position).await?;
    }
    let client = state.pool.get().await?;
    let show = catalogue::show_detail(&client, order.show_id, Utc::now()).await?;
    let time_zone = match show.as_ref().and_then(|s| s.cinema.as_ref()) {
        Some(cinema) => catalogue::city(&client, cinema.city_id)
            .await?
            .and_then(|city| city.time_zone.parse::<chrono_tz::Tz>().ok()),
        None => None,
    };
    let seats: BTreeMap<String, SeatView> = seat_map::seat_map(&client, order.show_id)
        .await?
        .map(|map| map.seats)
        .unwrap_or_default()
        .into_iter()
        .map(|seat| (seat.seat_id.clone(), seat))
        .collect();
    let title = show.as_ref().map_or_else(String::new, |s| s.title.clone());
    let starts = show.as_ref().map_or_else(String::new, |s| match time_zone {
        Some(tz) => format!(
            "{} ({tz})",
            s.starts_at.with_timezone(&tz).format("%Y-%m-%d %H:%M")
        ),
        None => s.starts_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    let printed: Vec<Printed> = order
        .tickets
        .iter()
        .map(|ticket| {
            let seat = seats.get(&ticket.seat_id);
            Printed {
                title: title.clone(),
                cinema: show
                    .as_ref()
                    .and_then(|s| s.cinema.as_ref())
                    .map(|c| c.name.clone()),
                hall: show
                    .as_ref()
                    .and_then(|s| s.hall.as_ref())
                    .map(|h| h.name.clone()),
                starts: starts.clone(),
                seat_id: ticket.seat_id.clone(),
                row: seat.map(|s| s.row.clone()),
                number: seat.and_then(|s| u32::try_from(s.number).ok()),
                category: seat.map(|s| match ticket.ticket_type.as_str() {
                    ADULT => s.category.clone(),
                    ticket_type => format!("{} · {ticket_type}", s.category),
                }),
                price: seat.and_then(|s| {
                    // The list price of the seat's ticket type (the adult one is the seat's).
                    let price = match ticket.ticket_type.as_str() {
                        ADULT => Some(&s.price),
                        ticket_type => show
                            .as_ref()
                            .and_then(|show| {
                                show.categories.iter().find(|c| c.category == s.category)
                            })
                            .and_then(|c| c.ticket_prices.get(ticket_type)),
                    }?;
                    let currency = Currency::parse(&price.currency)?;
                    Some(format!(
                        "{} {currency}",
                        currency.decimal(price.amount_minor)
                    ))
                }),
                pickup_code: order.pickup_code.clone(),
                ticket_id: ticket.ticket_id.to_string(),
                version: ticket.version,
                payload: state.tickets.sign(&QrTicket {
                    show_id: order.show_id,
                    seat_id: ticket.seat_id.clone(),
                    ticket_id: ticket.ticket_id,
                    version: ticket.version,
                }),
            }
        })
        .collect();
    let document =
        tokio::task::spawn_blocking(move || pdf::printable(&title, &printed, &state.tickets.font))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"tickets-{order_id}.pdf\""),
            ),
        ],
        document,
    ))
}

/// What the door scanned: a ticket's QR code or an order's pickup code, and which door.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"qr": "BOXT1.eyJzaG93X2lkIjoi...", "door": "north-1"}))]
pub struct CheckIn {
    /// The QR code's text (one ticket).
    qr: Option<String>,
    /// The order's pickup code (every ticket of the order not in yet).
    pickup_code: Option<String>,
    /// The door or scanner, 1 to 100 characters: shown when a ticket comes twice.
    door: String,
}

#[derive(Serialize, ToSchema)]
pub struct CheckedInView {
    order_id: Uuid,
    show_id: Uuid,
    /// The tickets let in now.
    admitted: Vec<AdmittedView>,
    door: String,
    /// `qr` or `pickup_code`.
    #[schema(pattern = "^(qr|pickup_code)$")]
    method: &'static str,
    checked_in_at: DateTime<Utc>,
    position: Position,
}

#[derive(Serialize, ToSchema)]
pub struct AdmittedView {
    seat_id: SeatId,
    ticket_id: Uuid,
    version: u32,
}

/// Let a ticket in (by its QR code), or every ticket of an order not in yet (by its pickup
/// code). A ticket is let in once: a second scan, from any door, is `already_checked_in`
/// with when and where.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/check-ins",
    tag = "tickets",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show at the door."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer (1-200 visible ASCII characters); generated when absent."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and the events' metadata; generated when absent, echoed back.")
    ),
    request_body = CheckIn,
    responses(
        (status = 201, description = "Let in.", body = CheckedInView),
        (status = 403, description = "Not door staff or staff.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown show (`show_not_found`) or pickup code (`ticket_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already let in (`already_checked_in`, with `checked_in_at` and `door`), void (`ticket_void`: refunded, exchanged or replaced), for another show (`ticket_for_another_show`), too early (`check_in_not_open`, with `opens_at`), the show is over (`show_ended`) or cancelled (`show_cancelled`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a QR code this server signed (`ticket_forged`), or a bad body (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn check_in(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(show_id): Path<Uuid>,
    Json(body): Json<CheckIn>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Door, Role::Staff])?;
    let presented = match (body.qr, body.pickup_code) {
        (Some(qr), None) => {
            let ticket = state.tickets.verify(&qr).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "ticket_forged",
                    "Not a ticket of ours",
                )
                .detail("the QR code is not one this server signed")
            })?;
            if ticket.show_id != show_id {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "ticket_for_another_show",
                    "Ticket for another show",
                )
                .detail(format!("the ticket is for show {}", ticket.show_id))
                .with("ticket_show_id", ticket.show_id));
            }
            Presented::Ticket {
                seat_id: SeatId::new(ticket.seat_id),
                ticket_id: ticket.ticket_id,
                version: ticket.version,
            }
        }
        (None, Some(code)) => Presented::PickupCode(code.trim().to_owned()),
        _ => {
            return Err(
                DomainError::Validation(vec![boxoffice_domain::FieldError::new(
                    "qr",
                    "give either `qr` or `pickup_code`",
                )])
                .into(),
            )
        }
    };
    let context = headers.context(&caller);
    let command = ShowCommand::CheckIn {
        presented,
        door: Door {
            name: body.door,
            opens_minutes_before: state.settings.tickets.doors_open_minutes,
        },
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let checked = outcome.expect("TicketsCheckedIn", |e| match e {
        ShowEvent::TicketsCheckedIn(e) => Some(e),
        _ => None,
    })?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(CheckedInView {
            order_id: checked.order_id.0,
            show_id,
            admitted: checked
                .tickets
                .iter()
                .map(|t| AdmittedView {
                    seat_id: t.seat_id.clone(),
                    ticket_id: t.ticket_id,
                    version: t.version,
                })
                .collect(),
            door: checked.door.clone(),
            method: checked.method.as_str(),
            checked_in_at: checked.checked_in_at,
            position: outcome.position,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceView {
    show_id: Uuid,
    #[serde(flatten)]
    attendance: Attendance,
    position: Position,
}

/// Who is in and who is still expected (seat and pickup code): what the door manager
/// watches; after the show, `not_checked_in` is its no-shows.
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/check-ins",
    tag = "tickets",
    security(("bearer" = [])),
    params(("show_id" = Uuid, Path, description = "The show."), TicketsParams),
    responses(
        (status = 200, description = "The show's attendance.", body = AttendanceView),
        (status = 403, description = "Not door staff or staff (of this show's cinema).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn attendance_of(
    State(state): State<AppState>,
    caller: Identity,
    Path(show_id): Path<Uuid>,
    Query(params): Query<TicketsParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Door, Role::Staff])?;
    super::require_show_cinema(&state, &caller, show_id).await?;
    let position = read_position(&state, "tickets", params.min_position).await?;
    let client = state.pool.get().await?;
    if seat_map::seat_map_version(&client, show_id)
        .await?
        .is_none()
    {
        return Err(DomainError::ShowNotFound.into());
    }
    let attendance = attendance(&client, show_id).await?;
    Ok(axum::Json(AttendanceView {
        show_id,
        attendance,
        position,
    }))
}
