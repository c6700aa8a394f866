//! A movie: what the catalogue says about it. Shows refer to it by id and copy its title and
//! running time when they are scheduled.

use super::{check_text, text_ok};
use crate::aggregate::{stored_events, Aggregate};
use crate::error::Problems;
use crate::{DomainError, MovieId, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

const MAX_TITLE_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 5_000;
const MAX_GENRES: usize = 10;
const MAX_GENRE_CHARS: usize = 40;
pub const MAX_DURATION_MINUTES: u32 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "title": "流浪地球3",
    "original_title": "The Wandering Earth III",
    "description": "人类带着地球流浪的第三章。",
    "duration_minutes": 138,
    "genres": ["sci-fi", "adventure"],
    "language": "zh",
    "country": "CN",
    "release_date": "2027-01-29",
    "rating": "PG-13"
})))]
pub struct MovieDetails {
    /// The title shown to customers: 1 to 200 characters.
    pub title: String,
    /// The title in the original language, when it differs.
    #[serde(default)]
    pub original_title: Option<String>,
    /// Up to 5,000 characters.
    #[serde(default)]
    pub description: String,
    /// Running time, 1 to 600 minutes; a show's end is its start plus this.
    pub duration_minutes: u32,
    /// 1 to 10 lower-case genre names such as `sci-fi`.
    pub genres: Vec<String>,
    /// The spoken language as an ISO 639-1 code, such as `zh` or `en`.
    pub language: String,
    /// The country of origin as an ISO 3166-1 alpha-2 code, such as `CN`.
    pub country: String,
    pub release_date: NaiveDate,
    /// The age rating, such as `PG-13`, when it has one.
    #[serde(default)]
    pub rating: Option<String>,
}

impl MovieDetails {
    fn validate(&self) -> Result<(), DomainError> {
        let mut problems = Problems::default();
        check_text(&mut problems, "title", &self.title, MAX_TITLE_CHARS);
        if let Some(original) = &self.original_title {
            check_text(&mut problems, "original_title", original, MAX_TITLE_CHARS);
        }
        problems.check(
            self.description.chars().count() <= MAX_DESCRIPTION_CHARS
                && !self
                    .description
                    .chars()
                    .any(|c| c.is_control() && c != '\n'),
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
        problems.check(
            (1..=MAX_DURATION_MINUTES).contains(&self.duration_minutes),
            "duration_minutes",
            format!("must be 1 to {MAX_DURATION_MINUTES}"),
        );
        problems.check(
            (1..=MAX_GENRES).contains(&self.genres.len()),
            "genres",
            format!("a movie has 1 to {MAX_GENRES} genres"),
        );
        for (index, genre) in self.genres.iter().enumerate() {
            problems.check(
                text_ok(genre, 1, MAX_GENRE_CHARS) && genre.to_lowercase() == *genre,
                format!("genres[{index}]"),
                format!("must be 1 to {MAX_GENRE_CHARS} lower-case characters"),
            );
        }
        problems.check(
            self.language.len() == 2 && self.language.bytes().all(|b| b.is_ascii_lowercase()),
            "language",
            "must be an ISO 639-1 code: two lower-case letters such as zh",
        );
        problems.check(
            self.country.len() == 2 && self.country.bytes().all(|b| b.is_ascii_uppercase()),
            "country",
            "must be an ISO 3166-1 alpha-2 code: two capital letters such as CN",
        );
        problems.check(
            (1870..=2200).contains(&chrono::Datelike::year(&self.release_date)),
            "release_date",
            "must be a date from 1870 to 2200",
        );
        if let Some(rating) = &self.rating {
            problems.check(
                text_ok(rating, 1, 16),
                "rating",
                "must be 1 to 16 characters",
            );
        }
        problems.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MovieCommand {
    AddMovie {
        movie_id: MovieId,
        movie: MovieDetails,
    },
    UpdateMovie {
        movie_id: MovieId,
        movie: MovieDetails,
    },
    RetireMovie {
        movie_id: MovieId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovieAdded {
    pub movie_id: MovieId,
    pub movie: MovieDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovieUpdated {
    pub movie_id: MovieId,
    pub movie: MovieDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovieRetired {
    pub movie_id: MovieId,
    pub retired_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MovieEvent {
    MovieAdded(MovieAdded),
    MovieUpdated(MovieUpdated),
    MovieRetired(MovieRetired),
}
stored_events!(MovieEvent {
    MovieAdded,
    MovieUpdated,
    MovieRetired
});

/// One movie as its stream tells it (serialised for auditors as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Movie {
    details: Option<MovieDetails>,
    retired: bool,
}

impl Movie {
    pub fn details(&self) -> Option<&MovieDetails> {
        self.details.as_ref()
    }

    pub fn is_retired(&self) -> bool {
        self.retired
    }
}

impl Aggregate for Movie {
    type Command = MovieCommand;
    type Event = MovieEvent;

    fn evolve(&mut self, event: &MovieEvent) {
        match event {
            MovieEvent::MovieAdded(e) => self.details = Some(e.movie.clone()),
            MovieEvent::MovieUpdated(e) => self.details = Some(e.movie.clone()),
            MovieEvent::MovieRetired(_) => self.retired = true,
        }
    }

    fn decide(
        &self,
        command: &MovieCommand,
        now: Timestamp,
    ) -> Result<Vec<MovieEvent>, DomainError> {
        match command {
            MovieCommand::AddMovie { movie_id, movie } => {
                movie.validate()?;
                if let Some(existing) = &self.details {
                    return if existing == movie && !self.retired {
                        Ok(Vec::new())
                    } else {
                        Err(DomainError::DuplicateId(format!("movie {movie_id}")))
                    };
                }
                Ok(vec![MovieEvent::MovieAdded(MovieAdded {
                    movie_id: *movie_id,
                    movie: movie.clone(),
                })])
            }
            MovieCommand::UpdateMovie { movie_id, movie } => {
                let existing = self.details.as_ref().ok_or(DomainError::MovieNotFound)?;
                if self.retired {
                    return Err(DomainError::Retired("movie"));
                }
                movie.validate()?;
                if existing == movie {
                    return Ok(Vec::new());
                }
                Ok(vec![MovieEvent::MovieUpdated(MovieUpdated {
                    movie_id: *movie_id,
                    movie: movie.clone(),
                })])
            }
            MovieCommand::RetireMovie { movie_id } => {
                if self.details.is_none() {
                    return Err(DomainError::MovieNotFound);
                }
                if self.retired {
                    return Ok(Vec::new());
                }
                Ok(vec![MovieEvent::MovieRetired(MovieRetired {
                    movie_id: *movie_id,
                    retired_at: now,
                })])
            }
        }
    }
}
