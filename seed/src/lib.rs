//! `boxoffice seed`: a realistic catalogue (cities, cinemas, halls with layouts of 100 to
//! 2,000 seats, movies with Chinese and English titles, shows across the day), made through
//! the same commands the API carries out.
//!
//! Everything is derived from `--seed` and the names of things, not from the order of
//! work: ids and idempotency keys are deterministic, so running the same seed again adds
//! nothing that is already there (and on a later day adds only the new days' shows).
//!
//! It only issues commands (the catalogue's and the shows' writers), so it needs nothing of
//! the HTTP API; what it makes up lives in [`data`], apart from the steps here.

mod data;

use boxoffice_commands::{
    Catalogue, CatalogueShow, Cause, CommandContext, CommandError, ShowSettings, ShowWriters,
};
use boxoffice_domain::catalogue::{
    CinemaCommand, CinemaDetails, CitiesCommand, CityDetails, HallDetails, HallLayout, LayoutRow,
    Matinee, MovieCommand, MovieDetails, TicketTypeRule,
};
use boxoffice_domain::{CinemaId, CityId, Currency, HallId, Money, MovieId, ShowId};
use chrono::{Duration, NaiveDate, TimeZone};
use futures_util::{stream, StreamExt};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::data::{BRANDS, CITIES, CITY_FIRST, CITY_SECOND, DISTRICTS, HALL_NAMES, MOVIES, ROADS};

const SEED_NAMESPACE: Uuid = Uuid::from_u128(0x7a51_c0de_5eed_4b1a_9f3e_2c8d_61b0_a4e7);
/// Cinemas seeded at once (each cinema's shows one after another: one stream).
const CONCURRENCY: usize = 16;

#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub seed: u64,
    pub cities: usize,
    pub cinemas_per_city: usize,
    pub halls_per_cinema: usize,
    pub days: usize,
    pub shows_per_hall_day: usize,
    pub movies: usize,
    /// The first day's date (in Asia/Shanghai, every seeded city's time zone).
    pub first_day: NaiveDate,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub cities: usize,
    pub cinemas: usize,
    pub halls: usize,
    pub movies: usize,
    pub shows: usize,
    pub seats: usize,
}

/// SplitMix64: a small, good-enough generator for made-up data, seeded per thing.
struct Rng(u64);

impl Rng {
    fn for_thing(seed: u64, thing: &str) -> Self {
        let id = Uuid::new_v5(&SEED_NAMESPACE, format!("{seed}/{thing}").as_bytes());
        Self(id.as_u64_pair().0)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }

    /// A fraction in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn uuid_of(seed: u64, thing: &str) -> Uuid {
    Uuid::new_v5(&SEED_NAMESPACE, format!("{seed}/{thing}").as_bytes())
}

fn context(seed: u64, thing: &str) -> CommandContext {
    let cause = Cause {
        correlation_id: Some(format!("seed-{seed}")),
        causation_id: None,
    };
    CommandContext::system("system:seed", format!("seed-{seed}-{thing}"), &cause)
}

fn city_name(index: usize) -> String {
    if let Some((name, _, _)) = CITIES.get(index) {
        return (*name).to_owned();
    }
    let n = index - CITIES.len();
    let combos = CITY_FIRST.len() * CITY_SECOND.len();
    let base = format!(
        "{}{}",
        CITY_FIRST[n % CITY_FIRST.len()],
        CITY_SECOND[(n / CITY_FIRST.len()) % CITY_SECOND.len()]
    );
    match n / combos {
        0 => format!("{base}市"),
        round => format!("{base}{}号市", round + 1),
    }
}

fn movie_details(index: usize) -> MovieDetails {
    let (title, original, minutes, genres, language, country, rating, description) =
        MOVIES[index % MOVIES.len()];
    let round = index / MOVIES.len();
    let (title, original) = if round == 0 {
        (title.to_owned(), original.to_owned())
    } else {
        (
            format!("{title} {}", round + 1),
            format!("{original} {}", round + 1),
        )
    };
    MovieDetails {
        original_title: (original != title).then_some(original),
        title,
        description: description.to_owned(),
        duration_minutes: minutes,
        genres: genres.iter().map(|g| (*g).to_owned()).collect(),
        language: language.to_owned(),
        country: country.to_owned(),
        release_date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
            + Duration::days((index as i64 * 37) % 700),
        rating: Some(rating.to_owned()),
    }
}

/// Row labels A..Z, then AA, AB, ...: letters only, so no two seats share an id.
fn row_label(index: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if index < 26 {
        (letters[index] as char).to_string()
    } else {
        format!(
            "{}{}",
            letters[index / 26 - 1] as char,
            letters[index % 26] as char
        )
    }
}

/// A hall of about `seats` seats: three blocks split by two aisles, premium rows in the
/// middle, wheelchair spaces with companion seats at both ends of the back row.
fn layout(seats: usize) -> HallLayout {
    let per_row = ((seats as f64 * 1.6).sqrt().round() as usize).clamp(10, 60);
    let rows = seats.div_ceil(per_row).max(3);
    let side = per_row / 4;
    let middle = per_row - 2 * side;
    let premium = (rows * 2 / 5)..(rows * 2 / 5 + rows.div_ceil(5));
    let rows = (0..rows)
        .map(|r| {
            let seat = if premium.contains(&r) { "P" } else { "R" };
            let cells = if r + 1 == (seats.div_ceil(per_row).max(3)) {
                format!(
                    "WC{}_{}_{}CW",
                    seat.repeat(side.saturating_sub(2)),
                    seat.repeat(middle),
                    seat.repeat(side.saturating_sub(2))
                )
            } else {
                format!(
                    "{}_{}_{}",
                    seat.repeat(side),
                    seat.repeat(middle),
                    seat.repeat(side)
                )
            };
            LayoutRow {
                label: row_label(r),
                cells,
            }
        })
        .collect();
    HallLayout { rows }
}

fn cny(yuan: u64) -> Money {
    Money::new(
        yuan as i64 * 100,
        Currency::parse("CNY").expect("CNY is a currency"),
    )
}

/// Seeds the catalogue and its shows; prints progress to stderr.
pub async fn seed(
    catalogue: &Catalogue,
    writers: &ShowWriters,
    settings: &ShowSettings,
    plan: &SeedPlan,
) -> Result<SeedReport, CommandError> {
    let seed = plan.seed;
    let mut report = SeedReport::default();
    let shanghai: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    let mut movies = Vec::new();
    for m in 0..plan.movies.max(1) {
        let movie_id = MovieId(uuid_of(seed, &format!("movie/{m}")));
        let command = MovieCommand::AddMovie {
            movie_id,
            movie: movie_details(m),
        };
        catalogue
            .movie(movie_id, command, &context(seed, &format!("movie/{m}")))
            .await?;
        movies.push((movie_id, movie_details(m).duration_minutes));
        report.movies += 1;
    }

    let mut cinemas = Vec::new();
    for c in 0..plan.cities {
        let city_id = CityId(uuid_of(seed, &format!("city/{c}")));
        let mut rng = Rng::for_thing(seed, &format!("city/{c}"));
        let (latitude, longitude) = CITIES.get(c).map_or_else(
            || (22.0 + rng.unit() * 20.0, 102.0 + rng.unit() * 20.0),
            |(_, lat, lon)| (*lat, *lon),
        );
        let city = CityDetails {
            name: city_name(c),
            time_zone: "Asia/Shanghai".into(),
        };
        catalogue
            .cities(
                CitiesCommand::AddCity { city_id, city },
                &context(seed, &format!("city/{c}")),
            )
            .await?;
        report.cities += 1;
        for k in 0..plan.cinemas_per_city {
            cinemas.push((c, k, city_id, latitude, longitude));
        }
    }

    let results: Vec<Result<SeedReport, CommandError>> = stream::iter(cinemas)
        .map(|(c, k, city_id, latitude, longitude)| {
            let movies = &movies;
            async move {
                let mut report = SeedReport::default();
                let thing = format!("cinema/{c}/{k}");
                let mut rng = Rng::for_thing(seed, &thing);
                let cinema_id = CinemaId(uuid_of(seed, &thing));
                let district = rng.pick(DISTRICTS);
                let city = city_name(c);
                let cinema = CinemaDetails {
                    name: format!("{}({district}店)", rng.pick(BRANDS)),
                    address: format!(
                        "{city}{district}{}{}号",
                        rng.pick(ROADS),
                        rng.between(1, 999)
                    ),
                    latitude: latitude + (rng.unit() - 0.5) * 0.15,
                    longitude: longitude + (rng.unit() - 0.5) * 0.15,
                    postal_code: format!("{:03}{:03}", 100 + c % 900, rng.between(0, 999)),
                    refund_policy: None,
                    accessible_seating: None,
                    // Children half price, students and seniors less; morning shows cheaper.
                    ticket_types: vec![
                        TicketTypeRule {
                            name: "child".into(),
                            percent: 50,
                        },
                        TicketTypeRule {
                            name: "student".into(),
                            percent: 70,
                        },
                        TicketTypeRule {
                            name: "senior".into(),
                            percent: 60,
                        },
                    ],
                    matinee: Some(Matinee {
                        before: "12:00".into(),
                        percent: 80,
                    }),
                };
                let command = CinemaCommand::OpenCinema {
                    cinema_id,
                    city_id,
                    cinema,
                };
                catalogue
                    .cinema(cinema_id, command, &context(seed, &thing))
                    .await?;
                report.cinemas += 1;
                for h in 0..plan.halls_per_cinema {
                    let thing = format!("hall/{c}/{k}/{h}");
                    let mut rng = Rng::for_thing(seed, &thing);
                    let hall_id = HallId(uuid_of(seed, &thing));
                    // Most halls are small; one in ten is a big screen.
                    let seats = if rng.between(0, 9) == 0 {
                        rng.between(600, 2000)
                    } else {
                        rng.between(100, 300)
                    } as usize;
                    let layout = layout(seats);
                    let regular = rng.between(35, 60);
                    let name = if h == 0 && seats > 600 {
                        (*rng.pick(HALL_NAMES)).to_owned()
                    } else {
                        format!("{}号厅", h + 1)
                    };
                    let hall = HallDetails {
                        name,
                        prices: BTreeMap::from([
                            ("regular".to_owned(), cny(regular)),
                            ("premium".to_owned(), cny(regular + 20)),
                            ("accessible".to_owned(), cny(regular / 2)),
                        ]),
                        layout,
                    };
                    report.seats += hall.layout.seats("layout").map_or(0, |s| s.len())
                        * plan.days
                        * plan.shows_per_hall_day;
                    catalogue
                        .cinema(
                            cinema_id,
                            CinemaCommand::AddHall { hall_id, hall },
                            &context(seed, &thing),
                        )
                        .await?;
                    report.halls += 1;
                    for day in 0..plan.days {
                        let date = plan.first_day + Duration::days(day as i64);
                        let mut rng = Rng::for_thing(seed, &format!("{thing}/{date}"));
                        // The first show between 10:00 and 12:00, the next after the
                        // cleaning gap and up to an hour more, on five-minute marks.
                        let mut minute = 600 + rng.between(0, 24) * 5;
                        for n in 0..plan.shows_per_hall_day {
                            let (movie_id, duration) = *rng.pick(movies);
                            let local = date.and_hms_opt(0, 0, 0).expect("midnight exists")
                                + Duration::minutes(minute as i64);
                            let Some(starts_at) = shanghai.from_local_datetime(&local).single()
                            else {
                                continue;
                            };
                            let key = format!("show/{c}/{k}/{h}/{date}/{n}");
                            let show = CatalogueShow {
                                show_id: ShowId(uuid_of(seed, &key)),
                                movie_id,
                                cinema_id,
                                hall_id,
                                starts_at: starts_at.with_timezone(&chrono::Utc),
                                prices: None,
                                ticket_prices: None,
                            };
                            catalogue
                                .schedule_show(writers, show, settings, &context(seed, &key))
                                .await?;
                            report.shows += 1;
                            minute += u64::from(duration)
                                + u64::from(settings.cleaning_minutes)
                                + rng.between(0, 12) * 5;
                            minute = minute.div_ceil(5) * 5;
                        }
                    }
                }
                Ok(report)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for result in results {
        let part = result?;
        report.cinemas += part.cinemas;
        report.halls += part.halls;
        report.shows += part.shows;
        report.seats += part.seats;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_about_the_seats_asked_for_with_premium_rows_and_wheelchair_spaces() {
        for wanted in [100, 150, 300, 800, 2000] {
            let seats = layout(wanted).seats("layout").expect("a valid layout");
            let count = seats.len();
            assert!(
                count as f64 >= wanted as f64 * 0.8 && count as f64 <= wanted as f64 * 1.25,
                "{wanted} -> {count}"
            );
            let wheelchair = seats
                .iter()
                .filter(|s| s.kind == Some(boxoffice_domain::SeatKind::Wheelchair))
                .count();
            assert_eq!(wheelchair, 2, "{wanted}");
            assert!(seats.iter().any(|s| s.category == "premium"), "{wanted}");
        }
    }

    #[test]
    fn made_up_city_names_do_not_repeat() {
        let names: std::collections::BTreeSet<String> = (0..2000).map(city_name).collect();
        assert_eq!(names.len(), 2000);
    }
}
