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
pub mod pricing;

#[cfg(test)]
mod tests;

pub use cinema::{
    check_show_prices, Booking, Cinema, CinemaCommand, CinemaDetails, CinemaEvent, CinemaInfo,
    Hall, HallDetails,
};
pub use cities::{Cities, CitiesCommand, CitiesEvent, City, CityDetails};
pub use layout::{HallLayout, LayoutRow};
pub use movie::{Movie, MovieCommand, MovieDetails, MovieEvent};
pub use pricing::{price_show, Matinee, ShowPrices, TicketTypeRule};

use crate::error::Problems;
use crate::DomainError;

/// Checks a required line of text (a name, an address, a title): 1 to `max` characters
/// without surrounding spaces.
pub(crate) fn check_text(problems: &mut Problems, field: &str, text: &str, max: usize) {
    problems.check(
        text_ok(text, 1, max),
        field,
        format!("must be 1 to {max} characters without surrounding spaces"),
    );
}

/// Names are unique among the entries in use: refuses the `name` field, saying `taken`, when
/// an entry other than `except` (the one being changed) that is not retired has a name
/// that is the `same`. Entries come as (id, name, retired).
pub(crate) fn unique_name<'a, Id: PartialEq + 'a>(
    entries: impl IntoIterator<Item = (&'a Id, &'a str, bool)>,
    except: Option<&Id>,
    same: impl Fn(&str) -> bool,
    taken: impl FnOnce() -> String,
) -> Result<(), DomainError> {
    let used = entries
        .into_iter()
        .any(|(id, name, retired)| Some(id) != except && !retired && same(name));
    if used {
        return Err(DomainError::invalid("name", taken()));
    }
    Ok(())
}

/// Checks shared by the catalogue's text fields.
pub(crate) fn text_ok(text: &str, min: usize, max: usize) -> bool {
    let chars = text.chars().count();
    (min..=max).contains(&chars)
        && text.trim() == text
        && !text.chars().any(|c| c.is_control() && c != '\n')
}
