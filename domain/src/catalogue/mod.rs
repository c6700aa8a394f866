//! The catalogue staff manage and ticket clients browse: cities, cinemas with their halls
//! and seat layouts, and movies. Each is an aggregate in the decider shape, like the show:
//!
//! - [`Cities`]: every city, in one stream (`cities`), so names stay unique;
//! - [`Cinema`]: one cinema with its halls and the time each hall is booked for shows, in
//!   `cinema-{id}`, so two shows can never overlap in one hall;
//! - [`Movie`]: one movie, in `movie-{id}`.
//!
//! Scheduling a show from the catalogue books its time in the hall here first, then
//! schedules the show on its own stream with a snapshot of the hall's layout and prices.

mod cinema;
mod cities;
pub mod layout;
mod movie;

#[cfg(test)]
mod tests;

pub use cinema::{
    check_show_prices, Booking, Cinema, CinemaCommand, CinemaDetails, CinemaEvent, CinemaInfo,
    Hall, HallDetails,
};
pub use cities::{Cities, CitiesCommand, CitiesEvent, City, CityDetails};
pub use layout::{HallLayout, LayoutRow};
pub use movie::{Movie, MovieCommand, MovieDetails, MovieEvent};

/// Checks shared by the catalogue's text fields.
pub(crate) fn text_ok(text: &str, min: usize, max: usize) -> bool {
    let chars = text.chars().count();
    (min..=max).contains(&chars)
        && text.trim() == text
        && !text.chars().any(|c| c.is_control() && c != '\n')
}
