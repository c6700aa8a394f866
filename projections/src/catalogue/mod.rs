//! The catalogue as ticket clients browse it: cities, cinemas with their halls, movies, and
//! the shows scheduled in catalogue halls (with their city and local date, for search).
//!
//! It answers discovery: cities, what is showing in a city, a movie and its shows, search by
//! keyword, city, date, place and distance; staff's cinema pages; and which cinema a hall
//! belongs to. Each show lists its seat categories' prices and availability, from the seat
//! map.
//!
//! What it guarantees: discovery answers carry ETags derived from the positions at which
//! the catalogue and the seat categories' availability last changed, so an unchanged ETag
//! means an unchanged answer (within the minute).

mod projector;
mod queries;
mod search;
mod shows;

pub use projector::Catalogue;
pub use queries::*;
pub use search::*;
pub use shows::*;
