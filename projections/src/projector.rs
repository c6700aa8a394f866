//! What a read model implements to be run: the [`Projector`] trait, and the events it is
//! given. Each projector owns its tables and knows how to fold a batch of events into them:
//! in memory first (the last status of each seat, the sum of each show's changes), then a
//! few set-based statements per batch, however many events it holds.

use async_trait::async_trait;
use boxoffice_domain::access::AccessEvent;
use boxoffice_domain::catalogue::{CinemaEvent, CitiesEvent, MovieEvent};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::promo::PromoEvent;
use boxoffice_domain::{ShowEvent, StoredEvent};
use boxoffice_eventstore::{Position, RecordedEvent};
use tokio_postgres::Transaction;
use uuid::Uuid;

#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// The checkpoint's name; also how operators refer to it.
    fn name(&self) -> &'static str;
    /// Its tables, emptied by a rebuild.
    fn tables(&self) -> &'static [&'static str];
    /// Whether `event` changes its read model; a batch with none of these only moves the
    /// checkpoint (one statement instead of a transaction).
    fn cares_about(&self, event: &Event) -> bool;
    /// Folds events, in log order, into the read model.
    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error>;
    /// Told once the checkpoint has moved from `from` to `to` over `events` (committed, or
    /// moved alone when none of them changed the read model), before readers learn the new
    /// position: for copies of the read model kept in memory, which follow the batch instead
    /// of asking the database again. Not told of batches another process applied.
    fn committed(&self, events: &[Applying<'_>], from: Position, to: Position) {
        let _ = (events, from, to);
    }
    /// Told when the checkpoint was found moved from `from` to `to` by another process,
    /// over batches this process's projector never saw.
    fn passed(&self, from: Position, to: Position) {
        let _ = (from, to);
    }
}

/// An event of any of this project's streams, read into its domain type.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Show(ShowEvent),
    Cities(CitiesEvent),
    Cinema(CinemaEvent),
    Movie(MovieEvent),
    Payment(PaymentEvent),
    Promo(PromoEvent),
    Access(AccessEvent),
}

impl Event {
    /// Its type name, schema version and body as this code stores it (what
    /// [`RecordedEvent::data`] held: the feed does not keep that once decoded).
    pub fn stored(&self) -> (&'static str, i32, serde_json::Value) {
        fn parts<E: StoredEvent>(event: &E) -> (&'static str, i32, serde_json::Value) {
            (event.event_type(), event.schema_version(), event.to_json())
        }
        match self {
            Self::Show(e) => parts(e),
            Self::Cities(e) => parts(e),
            Self::Cinema(e) => parts(e),
            Self::Movie(e) => parts(e),
            Self::Payment(e) => parts(e),
            Self::Promo(e) => parts(e),
            Self::Access(e) => parts(e),
        }
    }
}

/// One event, read and ready to fold. The decoded event is shared: the log is read and
/// decoded once for every projector of the process.
pub struct Applying<'a> {
    /// The id in the stream's name (`show-{id}`, `cinema-{id}`, `movie-{id}`,
    /// `payment-{id}`, `promo-{id}`; nil for `cities` and `access`).
    pub stream_id: Uuid,
    pub event: &'a Event,
    /// Where and when it was recorded; its body (`data`) may be gone: `event` is it,
    /// decoded (see [`Event::stored`]).
    pub recorded: &'a RecordedEvent,
}

pub(crate) fn seat_labels(seats: &[boxoffice_domain::SeatId]) -> Vec<&str> {
    seats.iter().map(|s| s.as_str()).collect()
}

/// Seat labels as one JSON array, so that many rows' lists travel in one `jsonb[]`
/// parameter (SQL arrays cannot nest lists of different lengths); SQL unpacks each with
/// `ARRAY(SELECT jsonb_array_elements_text(..))`.
pub(crate) fn seat_list(seats: &[boxoffice_domain::SeatId]) -> serde_json::Value {
    serde_json::Value::from(seat_labels(seats))
}
