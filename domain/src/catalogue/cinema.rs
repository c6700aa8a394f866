//! A cinema, its halls with their seat layouts and prices, and the time each hall is booked
//! for shows. Booking lives here so that two shows can never overlap in one hall: every
//! booking is decided against all the others of the same stream.

use super::layout::{categories_of, HallLayout};
use super::{check_text, text_ok, unique_name};
use crate::aggregate::{stored_events, Aggregate};
use crate::error::Problems;
use crate::show::Layout;
use crate::{CinemaId, CityId, DomainError, HallId, Money, MovieId, SeatSpec, ShowId, Timestamp};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const MAX_NAME_CHARS: usize = 100;
const MAX_ADDRESS_CHARS: usize = 300;
const MAX_POSTAL_CODE_CHARS: usize = 16;
/// How far ahead a show may be scheduled in a hall.
pub const MAX_DAYS_AHEAD: i64 = 730;
/// Longest cleaning gap a booking may ask for between two shows of a hall.
pub const MAX_CLEANING_MINUTES: u32 = 240;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "万达影城(五角场店)",
    "address": "上海市杨浦区邯郸路600号",
    "latitude": 31.3005,
    "longitude": 121.5146,
    "postal_code": "200433"
})))]
pub struct CinemaDetails {
    /// 1 to 100 characters.
    pub name: String,
    /// 1 to 300 characters.
    pub address: String,
    /// Degrees north, -90 to 90 (WGS 84).
    pub latitude: f64,
    /// Degrees east, -180 to 180 (WGS 84).
    pub longitude: f64,
    /// 1 to 16 letters, digits, spaces or dashes.
    pub postal_code: String,
    /// What customers get back when they return tickets; copied into each show scheduled
    /// afterwards. Absent: a full refund until the show starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_policy: Option<crate::show::RefundPolicy>,
    /// Ticket types sold besides adult, each a percentage of the adult price; shows
    /// scheduled afterwards get their prices. Absent: adult tickets only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ticket_types: Vec<super::TicketTypeRule>,
    /// Lower prices for shows starting before a time of day; applied to shows scheduled
    /// afterwards at the hall's prices. Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matinee: Option<super::Matinee>,
    /// How wheelchair spaces and companion seats are kept for those who need them; copied
    /// into each show scheduled afterwards in a hall that has them. Absent: the default
    /// rule (kept until two hours before the start or until the rest is sold, one companion
    /// seat per wheelchair space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessible_seating: Option<crate::show::AccessibleSeating>,
}

impl CinemaDetails {
    fn validate(&self) -> Result<(), DomainError> {
        if let Some(policy) = &self.refund_policy {
            policy.validate("refund_policy")?;
        }
        if let Some(rule) = &self.accessible_seating {
            rule.validate("accessible_seating")?;
        }
        let mut problems = Problems::default();
        check_text(&mut problems, "name", &self.name, MAX_NAME_CHARS);
        check_text(&mut problems, "address", &self.address, MAX_ADDRESS_CHARS);
        super::pricing::validate(&mut problems, &self.ticket_types, self.matinee.as_ref());
        problems.check(
            self.latitude.is_finite() && (-90.0..=90.0).contains(&self.latitude),
            "latitude",
            "must be -90 to 90",
        );
        problems.check(
            self.longitude.is_finite() && (-180.0..=180.0).contains(&self.longitude),
            "longitude",
            "must be -180 to 180",
        );
        problems.check(
            text_ok(&self.postal_code, 1, MAX_POSTAL_CODE_CHARS)
                && self
                    .postal_code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-'),
            "postal_code",
            format!("must be 1 to {MAX_POSTAL_CODE_CHARS} letters, digits, spaces or dashes"),
        );
        problems.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HallDetails {
    /// 1 to 100 characters, unique in the cinema, such as `1号厅 IMAX`.
    pub name: String,
    pub layout: HallLayout,
    /// The price of each seat category the layout uses, in one currency. Shows copy these
    /// when scheduled, unless they name their own.
    pub prices: BTreeMap<String, Money>,
}

impl HallDetails {
    /// Validates the hall; returns its seats.
    fn validate(&self) -> Result<Vec<SeatSpec>, DomainError> {
        let mut problems = Problems::default();
        check_text(&mut problems, "name", &self.name, MAX_NAME_CHARS);
        let seats = match self.layout.seats("layout") {
            Ok(seats) => seats,
            Err(DomainError::Validation(errors)) => {
                for error in errors {
                    problems.add(error.field, error.message);
                }
                Vec::new()
            }
            Err(other) => return Err(other),
        };
        check_prices(
            &mut problems,
            "prices",
            &self.prices,
            &categories_of(&seats),
        );
        problems.into_result().map(|()| seats)
    }
}

/// Checks prices a show is scheduled with against the seats it copies from its hall.
pub fn check_show_prices(
    prices: &BTreeMap<String, Money>,
    seats: &[SeatSpec],
) -> Result<(), DomainError> {
    let mut problems = Problems::default();
    check_prices(&mut problems, "prices", prices, &categories_of(seats));
    problems.into_result()
}

/// Prices must cover exactly the categories used, in one currency, none negative.
pub(crate) fn check_prices(
    problems: &mut Problems,
    field: &str,
    prices: &BTreeMap<String, Money>,
    used: &BTreeSet<&str>,
) {
    for category in used {
        problems.check(
            prices.contains_key(*category),
            format!("{field}.{category}"),
            format!("the layout has {category} seats: they need a price"),
        );
    }
    for (category, price) in prices {
        problems.check(
            used.contains(category.as_str()),
            format!("{field}.{category}"),
            "the layout has no seats of this category",
        );
        problems.check(
            price.amount_minor >= 0,
            format!("{field}.{category}.amount_minor"),
            "must not be negative",
        );
    }
    let currencies: BTreeSet<_> = prices.values().map(|p| &p.currency).collect();
    problems.check(
        currencies.len() <= 1,
        field,
        "all prices must be in one currency",
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CinemaCommand {
    OpenCinema {
        cinema_id: CinemaId,
        city_id: CityId,
        cinema: CinemaDetails,
    },
    UpdateCinema {
        cinema: CinemaDetails,
    },
    RetireCinema,
    AddHall {
        hall_id: HallId,
        hall: HallDetails,
    },
    UpdateHall {
        hall_id: HallId,
        hall: HallDetails,
    },
    RetireHall {
        hall_id: HallId,
    },
    /// Books a hall for a show from `starts_at` until `ends_at` plus the cleaning gap.
    BookShow {
        show_id: ShowId,
        hall_id: HallId,
        movie_id: MovieId,
        starts_at: Timestamp,
        ends_at: Timestamp,
        cleaning_minutes: u32,
    },
    /// Frees a cancelled show's time in its hall.
    ReleaseShow {
        show_id: ShowId,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CinemaOpened {
    pub cinema_id: CinemaId,
    pub city_id: CityId,
    pub cinema: CinemaDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CinemaUpdated {
    pub cinema_id: CinemaId,
    pub cinema: CinemaDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CinemaRetired {
    pub cinema_id: CinemaId,
    pub retired_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallAdded {
    pub cinema_id: CinemaId,
    pub hall_id: HallId,
    pub hall: HallDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallUpdated {
    pub cinema_id: CinemaId,
    pub hall_id: HallId,
    pub hall: HallDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallRetired {
    pub cinema_id: CinemaId,
    pub hall_id: HallId,
    pub retired_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowBooked {
    pub cinema_id: CinemaId,
    pub show_id: ShowId,
    pub hall_id: HallId,
    pub movie_id: MovieId,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// When the hall is ready for the next show: the end plus the cleaning gap.
    pub free_at: Timestamp,
    /// The show's number among the cinema's shows of its day: no other show starting
    /// within a day of it has it, so it is unique on any calendar day in any time zone. It
    /// starts the show's pickup codes. Absent in bookings made before numbers existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_number: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowReleased {
    pub cinema_id: CinemaId,
    pub show_id: ShowId,
    pub released_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CinemaEvent {
    CinemaOpened(CinemaOpened),
    CinemaUpdated(CinemaUpdated),
    CinemaRetired(CinemaRetired),
    HallAdded(HallAdded),
    HallUpdated(HallUpdated),
    HallRetired(HallRetired),
    ShowBooked(ShowBooked),
    ShowReleased(ShowReleased),
}
stored_events!(CinemaEvent {
    CinemaOpened,
    CinemaUpdated,
    CinemaRetired,
    HallAdded,
    HallUpdated,
    HallRetired,
    ShowBooked,
    ShowReleased,
});

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CinemaInfo {
    pub cinema_id: CinemaId,
    pub city_id: CityId,
    pub details: CinemaDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hall {
    pub details: HallDetails,
    /// The layout's seats, as a show scheduled now would copy them.
    pub seats: Layout,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub hall_id: HallId,
    pub movie_id: MovieId,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub free_at: Timestamp,
    pub released: bool,
    pub day_number: Option<u32>,
}

/// One cinema as its stream tells it (serialised for auditors as it is).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cinema {
    info: Option<CinemaInfo>,
    retired: bool,
    halls: BTreeMap<HallId, Hall>,
    bookings: BTreeMap<ShowId, Booking>,
}

impl Cinema {
    pub fn info(&self) -> Option<&CinemaInfo> {
        self.info.as_ref()
    }

    pub fn is_retired(&self) -> bool {
        self.retired
    }

    pub fn hall(&self, hall_id: &HallId) -> Option<&Hall> {
        self.halls.get(hall_id)
    }

    pub fn booking(&self, show_id: &ShowId) -> Option<&Booking> {
        self.bookings.get(show_id)
    }

    fn open(&self) -> Result<&CinemaInfo, DomainError> {
        let info = self.info.as_ref().ok_or(DomainError::CinemaNotFound)?;
        if self.retired {
            return Err(DomainError::Retired("cinema"));
        }
        Ok(info)
    }

    fn check_hall(&self, hall: &HallDetails, except: Option<&HallId>) -> Result<(), DomainError> {
        hall.validate()?;
        unique_name(
            self.halls
                .iter()
                .map(|(id, hall)| (id, hall.details.name.as_str(), hall.retired)),
            except,
            |other| other == hall.name,
            || format!("this cinema has a hall named {}", hall.name),
        )
    }
}

impl Aggregate for Cinema {
    type Command = CinemaCommand;
    type Event = CinemaEvent;

    fn evolve(&mut self, event: &CinemaEvent) {
        match event {
            CinemaEvent::CinemaOpened(e) => {
                self.info = Some(CinemaInfo {
                    cinema_id: e.cinema_id,
                    city_id: e.city_id,
                    details: e.cinema.clone(),
                });
            }
            CinemaEvent::CinemaUpdated(e) => {
                if let Some(info) = &mut self.info {
                    info.details = e.cinema.clone();
                }
            }
            CinemaEvent::CinemaRetired(_) => self.retired = true,
            CinemaEvent::HallAdded(HallAdded { hall_id, hall, .. })
            | CinemaEvent::HallUpdated(HallUpdated { hall_id, hall, .. }) => {
                // Validated when decided; a layout that became invalid under newer rules
                // still reads (with no seats, so nothing can be scheduled in it).
                let seats = hall.layout.seats("layout").unwrap_or_default();
                self.halls.insert(
                    *hall_id,
                    Hall {
                        details: hall.clone(),
                        seats: seats.into(),
                        retired: false,
                    },
                );
            }
            CinemaEvent::HallRetired(e) => {
                if let Some(hall) = self.halls.get_mut(&e.hall_id) {
                    hall.retired = true;
                }
            }
            CinemaEvent::ShowBooked(e) => {
                self.bookings.insert(
                    e.show_id,
                    Booking {
                        hall_id: e.hall_id,
                        movie_id: e.movie_id,
                        starts_at: e.starts_at,
                        ends_at: e.ends_at,
                        free_at: e.free_at,
                        released: false,
                        day_number: e.day_number,
                    },
                );
            }
            CinemaEvent::ShowReleased(e) => {
                if let Some(booking) = self.bookings.get_mut(&e.show_id) {
                    booking.released = true;
                }
            }
        }
    }

    fn decide(
        &self,
        command: &CinemaCommand,
        now: Timestamp,
    ) -> Result<Vec<CinemaEvent>, DomainError> {
        match command {
            CinemaCommand::OpenCinema {
                cinema_id,
                city_id,
                cinema,
            } => {
                cinema.validate()?;
                if let Some(info) = &self.info {
                    return if info.city_id == *city_id && info.details == *cinema {
                        Ok(Vec::new())
                    } else {
                        Err(DomainError::DuplicateId(format!("cinema {cinema_id}")))
                    };
                }
                Ok(vec![CinemaEvent::CinemaOpened(CinemaOpened {
                    cinema_id: *cinema_id,
                    city_id: *city_id,
                    cinema: cinema.clone(),
                })])
            }
            CinemaCommand::UpdateCinema { cinema } => {
                let info = self.open()?;
                cinema.validate()?;
                if info.details == *cinema {
                    return Ok(Vec::new());
                }
                Ok(vec![CinemaEvent::CinemaUpdated(CinemaUpdated {
                    cinema_id: info.cinema_id,
                    cinema: cinema.clone(),
                })])
            }
            CinemaCommand::RetireCinema => {
                let info = self.info.as_ref().ok_or(DomainError::CinemaNotFound)?;
                if self.retired {
                    return Ok(Vec::new());
                }
                Ok(vec![CinemaEvent::CinemaRetired(CinemaRetired {
                    cinema_id: info.cinema_id,
                    retired_at: now,
                })])
            }
            CinemaCommand::AddHall { hall_id, hall } => {
                let info = self.open()?;
                if let Some(existing) = self.halls.get(hall_id) {
                    return if existing.details == *hall && !existing.retired {
                        Ok(Vec::new())
                    } else {
                        Err(DomainError::DuplicateId(format!("hall {hall_id}")))
                    };
                }
                self.check_hall(hall, None)?;
                Ok(vec![CinemaEvent::HallAdded(HallAdded {
                    cinema_id: info.cinema_id,
                    hall_id: *hall_id,
                    hall: hall.clone(),
                })])
            }
            CinemaCommand::UpdateHall { hall_id, hall } => {
                let info = self.open()?;
                let existing = self.halls.get(hall_id).ok_or(DomainError::HallNotFound)?;
                if existing.retired {
                    return Err(DomainError::Retired("hall"));
                }
                if existing.details == *hall {
                    return Ok(Vec::new());
                }
                self.check_hall(hall, Some(hall_id))?;
                Ok(vec![CinemaEvent::HallUpdated(HallUpdated {
                    cinema_id: info.cinema_id,
                    hall_id: *hall_id,
                    hall: hall.clone(),
                })])
            }
            CinemaCommand::RetireHall { hall_id } => {
                let info = self.info.as_ref().ok_or(DomainError::CinemaNotFound)?;
                let existing = self.halls.get(hall_id).ok_or(DomainError::HallNotFound)?;
                if existing.retired {
                    return Ok(Vec::new());
                }
                Ok(vec![CinemaEvent::HallRetired(HallRetired {
                    cinema_id: info.cinema_id,
                    hall_id: *hall_id,
                    retired_at: now,
                })])
            }
            CinemaCommand::BookShow {
                show_id,
                hall_id,
                movie_id,
                starts_at,
                ends_at,
                cleaning_minutes,
            } => self.book(
                *show_id,
                *hall_id,
                *movie_id,
                (*starts_at, *ends_at),
                *cleaning_minutes,
                now,
            ),
            CinemaCommand::ReleaseShow { show_id } => {
                let info = self.info.as_ref().ok_or(DomainError::CinemaNotFound)?;
                match self.bookings.get(show_id) {
                    Some(booking) if !booking.released => {
                        Ok(vec![CinemaEvent::ShowReleased(ShowReleased {
                            cinema_id: info.cinema_id,
                            show_id: *show_id,
                            released_at: now,
                        })])
                    }
                    _ => Ok(Vec::new()),
                }
            }
        }
    }
}

impl Cinema {
    /// Books `hall_id` for the show from `starts_at` until `ends_at` plus the cleaning gap,
    /// unless that overlaps another show's time there.
    fn book(
        &self,
        show_id: ShowId,
        hall_id: HallId,
        movie_id: MovieId,
        (starts_at, ends_at): (Timestamp, Timestamp),
        cleaning_minutes: u32,
        now: Timestamp,
    ) -> Result<Vec<CinemaEvent>, DomainError> {
        let info = self.open()?;
        let hall = self
            .halls
            .get(&hall_id)
            .ok_or_else(|| DomainError::invalid("hall_id", "no such hall in this cinema"))?;
        if hall.retired {
            return Err(DomainError::invalid("hall_id", "the hall is retired"));
        }
        if cleaning_minutes > MAX_CLEANING_MINUTES {
            return Err(DomainError::invalid(
                "cleaning_minutes",
                format!("must be at most {MAX_CLEANING_MINUTES}"),
            ));
        }
        let free_at = ends_at
            .checked_add_signed(Duration::minutes(i64::from(cleaning_minutes)))
            .ok_or_else(|| DomainError::invalid("starts_at", "is too far in the future"))?;
        if let Some(booking) = self.bookings.get(&show_id) {
            let same = booking.hall_id == hall_id
                && booking.movie_id == movie_id
                && booking.starts_at == starts_at
                && booking.ends_at == ends_at
                && !booking.released;
            return if same {
                Ok(Vec::new())
            } else {
                Err(DomainError::DuplicateId(format!("show {show_id}")))
            };
        }
        let mut problems = Problems::default();
        problems.check(starts_at > now, "starts_at", "must be in the future");
        problems.check(
            starts_at <= now + Duration::days(MAX_DAYS_AHEAD),
            "starts_at",
            format!("must be within {MAX_DAYS_AHEAD} days"),
        );
        problems.check(ends_at > starts_at, "ends_at", "must be after starts_at");
        problems.into_result()?;
        let clash = self
            .bookings
            .iter()
            .filter(|(_, b)| b.hall_id == hall_id && !b.released)
            .filter(|(_, b)| starts_at < b.free_at && b.starts_at < free_at)
            .min_by_key(|(_, b)| b.starts_at);
        if let Some((other, booking)) = clash {
            return Err(DomainError::ShowOverlaps {
                show_id: other.0,
                starts_at: booking.starts_at,
                free_at: booking.free_at,
            });
        }
        // Cancelled shows keep their number: their codes were handed out.
        let taken: BTreeSet<u32> = self
            .bookings
            .values()
            .filter(|b| (b.starts_at - starts_at).abs() < Duration::days(1))
            .filter_map(|b| b.day_number)
            .collect();
        let day_number = (1..).find(|n| !taken.contains(n));
        Ok(vec![CinemaEvent::ShowBooked(ShowBooked {
            cinema_id: info.cinema_id,
            show_id,
            hall_id,
            movie_id,
            starts_at,
            ends_at,
            free_at,
            day_number,
        })])
    }
}
