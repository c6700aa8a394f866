//! The kinds of events an endpoint can ask for, and what is sent for one.
//!
//! A kind names what happened in a client's words (`order.paid`); the body carries the
//! event itself as the log holds it (its id, stream, version, type, schema version and
//! data), so a receiver can match it against an audit export, and nothing is invented
//! beside it.

use boxoffice_domain::ShowEvent;
use boxoffice_projections::{Applying, Event};
use serde_json::json;

/// Every kind, as endpoints name them.
pub const ALL: [&str; 6] = [
    ORDER_PAID,
    ORDER_REFUNDED,
    ORDER_EXCHANGED,
    TICKET_CHECKED_IN,
    SHOW_CANCELLED,
    WAITLIST_OFFERED,
];

pub const ORDER_PAID: &str = "order.paid";
pub const ORDER_REFUNDED: &str = "order.refunded";
pub const ORDER_EXCHANGED: &str = "order.exchanged";
pub const TICKET_CHECKED_IN: &str = "ticket.checked_in";
pub const SHOW_CANCELLED: &str = "show.cancelled";
pub const WAITLIST_OFFERED: &str = "waitlist.offered";

/// The kind an event is sent as, if any. An exchange is sent when it is done: seats
/// swapped on one show (`SeatsExchanged`), or an order arrived on its new show
/// (`OrderTransferredIn`); an order leaving for another show may still be undone there.
pub fn of(event: &Event) -> Option<&'static str> {
    let Event::Show(event) = event else {
        return None;
    };
    Some(match event {
        ShowEvent::HoldConfirmed(_) => ORDER_PAID,
        ShowEvent::OrderRefunded(_) => ORDER_REFUNDED,
        ShowEvent::SeatsExchanged(_) | ShowEvent::OrderTransferredIn(_) => ORDER_EXCHANGED,
        ShowEvent::TicketsCheckedIn(_) => TICKET_CHECKED_IN,
        ShowEvent::ShowCancelled(_) => SHOW_CANCELLED,
        ShowEvent::WaitlistOffered(_) => WAITLIST_OFFERED,
        _ => return None,
    })
}

/// The JSON body sent for `applying`, of kind `kind` (Standard Webhooks' shape: `type`,
/// `timestamp`, `data`).
pub fn body(kind: &str, applying: &Applying<'_>) -> String {
    let recorded = applying.recorded;
    let (event_type, schema_version, data) = applying.event.stored();
    json!({
        "type": kind,
        "timestamp": recorded.recorded_at,
        "data": {
            "show_id": applying.stream_id,
            "event": {
                "event_id": recorded.event_id,
                "stream": recorded.stream,
                "version": recorded.version,
                "type": event_type,
                "schema_version": schema_version,
                "data": data,
            },
        },
    })
    .to_string()
}
