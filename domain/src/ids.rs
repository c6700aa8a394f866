//! Identifiers. Newtypes so a hold id can never be passed where an order id belongs.

use crate::StreamName;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

uuid_id!(
    /// A scheduled showing of a movie in a hall; its stream is `show-{id}`.
    ShowId
);
uuid_id!(
    /// A temporary hold on seats, waiting for payment.
    HoldId
);
uuid_id!(
    /// A paid order: the seats a customer bought with one payment.
    OrderId
);
uuid_id!(
    /// One refund of some or all seats of an order.
    RefundId
);
uuid_id!(
    /// A customer's place on a show's waiting list.
    WaitlistEntryId
);

uuid_id!(
    /// A city cinemas are in; every city is in the `cities` stream.
    CityId
);
uuid_id!(
    /// A cinema with its halls; its stream is `cinema-{id}`.
    CinemaId
);
uuid_id!(
    /// A hall of a cinema (its seat layout lives in the cinema's stream).
    HallId
);
uuid_id!(
    /// A movie; its stream is `movie-{id}`.
    MovieId
);

impl CinemaId {
    /// The cinema's stream name, spelled by [`StreamName`].
    pub fn stream(&self) -> String {
        StreamName::Cinema(*self).to_string()
    }
}

impl MovieId {
    /// The movie's stream name, spelled by [`StreamName`].
    pub fn stream(&self) -> String {
        StreamName::Movie(*self).to_string()
    }
}

impl ShowId {
    /// The event stream that holds everything that happened to this show.
    pub fn stream(&self) -> String {
        StreamName::Show(*self).to_string()
    }
}

/// The customer a hold or order belongs to: the `sub` of their token. Events carry only this
/// id, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct CustomerId(pub String);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A seat's label within its hall, such as `F7` (or `贵宾3`): unique within a show.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = "F7"))]
#[serde(transparent)]
pub struct SeatId(pub String);

impl SeatId {
    pub fn new(label: impl Into<String>) -> Self {
        Self(label.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SeatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
