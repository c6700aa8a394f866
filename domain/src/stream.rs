//! The names of the log's streams, in one place.
//!
//! Every aggregate lives in a stream named after it: `show-{uuid}`, `cinema-{uuid}`,
//! `movie-{uuid}`, `payment-{uuid}`, `promo-{uuid}` and the one `cities` stream; the log's
//! own `seals` stream holds the signed seals over the hash chain, and `access` the grants
//! of roles and API keys an auditor must be able to see. Whoever
//! writes, reads, projects or audits a stream names it through [`StreamName`], so the
//! spelling cannot drift between the writers, the projectors and the EventStoreDB adapter
//! (which filters `$all` to [`StreamName::PREFIXES`]).

use crate::{CinemaId, MovieId, ShowId};
use std::fmt;
use uuid::Uuid;

const CITIES: &str = "cities";
const SEALS: &str = "seals";
const ACCESS: &str = "access";

/// A stream of this project's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamName {
    /// Every city (one stream, so names stay unique).
    Cities,
    /// A cinema with its halls and the hall time booked for shows.
    Cinema(CinemaId),
    /// A movie.
    Movie(MovieId),
    /// A show: its seats, holds, orders, refunds, exchanges and waiting list.
    Show(ShowId),
    /// A payment at the provider: what the provider said and did.
    Payment(Uuid),
    /// A promo code and its uses (the id is derived from the code).
    Promo(Uuid),
    /// The signed seals over the log's hash chain.
    Seals,
    /// Roles granted and revoked, API keys made and revoked: who may do what.
    Access,
}

impl StreamName {
    /// What every stream name of this project starts with.
    pub const PREFIXES: [&'static str; 8] = [
        "show-", "cinema-", "movie-", "cities", "payment-", "promo-", "seals", "access",
    ];

    /// Reads a stream name; `None` for a name that is not one of ours.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            CITIES => return Some(Self::Cities),
            SEALS => return Some(Self::Seals),
            ACCESS => return Some(Self::Access),
            _ => {}
        }
        let (prefix, id) = name.split_once('-')?;
        let id: Uuid = id.parse().ok()?;
        // Only the hyphenated form: one stream, one spelling.
        if id.hyphenated().to_string() != name[prefix.len() + 1..] {
            return None;
        }
        Some(match prefix {
            "show" => Self::Show(ShowId(id)),
            "cinema" => Self::Cinema(CinemaId(id)),
            "movie" => Self::Movie(MovieId(id)),
            "payment" => Self::Payment(id),
            "promo" => Self::Promo(id),
            _ => return None,
        })
    }

    /// The id in the name (nil for the streams that are one of a kind).
    pub fn id(&self) -> Uuid {
        match self {
            Self::Cities | Self::Seals | Self::Access => Uuid::nil(),
            Self::Cinema(id) => id.0,
            Self::Movie(id) => id.0,
            Self::Show(id) => id.0,
            Self::Payment(id) | Self::Promo(id) => *id,
        }
    }

    /// The kind of stream: `cities`, `cinema`, `movie`, `show`, `payment`, `promo`, `seals`
    /// or `access`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Cities => CITIES,
            Self::Seals => SEALS,
            Self::Access => ACCESS,
            Self::Cinema(_) => "cinema",
            Self::Movie(_) => "movie",
            Self::Show(_) => "show",
            Self::Payment(_) => "payment",
            Self::Promo(_) => "promo",
        }
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cities | Self::Seals | Self::Access => f.write_str(self.kind()),
            other => write!(f, "{}-{}", other.kind(), other.id()),
        }
    }
}

impl From<StreamName> for String {
    fn from(name: StreamName) -> Self {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_itself() {
        let id = Uuid::from_u128(0x5eed);
        let names = [
            StreamName::Cities,
            StreamName::Seals,
            StreamName::Access,
            StreamName::Cinema(CinemaId(id)),
            StreamName::Movie(MovieId(id)),
            StreamName::Show(ShowId(id)),
            StreamName::Payment(id),
            StreamName::Promo(id),
        ];
        for name in names {
            let text = name.to_string();
            assert_eq!(StreamName::parse(&text), Some(name), "{text}");
            assert!(
                StreamName::PREFIXES.iter().any(|p| text.starts_with(p)),
                "{text} has no listed prefix"
            );
        }
        assert_eq!(
            StreamName::Show(ShowId(id)).to_string(),
            "show-00000000-0000-0000-0000-000000005eed"
        );
    }

    #[test]
    fn names_that_are_not_ours_are_refused() {
        for name in [
            "",
            "show",
            "show-",
            "show-1",
            "ticket-00000000-0000-0000-0000-000000005eed",
            "show-00000000000000000000000000005eed",
            "show-00000000-0000-0000-0000-000000005EED",
            "cities-1",
            "$all",
        ] {
            assert_eq!(StreamName::parse(name), None, "{name}");
        }
    }
}
