//! The box-office projector: catalogue changes and scheduled shows one statement each, in
//! log order (they are few); then the batch's sales, refunds, exchanges and funnel steps
//! folded in memory ([`super::fold`]) against the state they need, loaded in a few
//! statements, and written back in a few more, however many events the batch holds.

use super::fold::{self, Fold, PaidSeat, ShowPlace, Transfer};
use crate::runner::etag_moved;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::catalogue::{CinemaEvent, CitiesEvent, MovieEvent};
use boxoffice_domain::show::ShowScheduled;
use boxoffice_domain::{ShowEvent, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::Transaction;
use uuid::Uuid;

const UPSERT_CITY_SQL: &str = include_str!("sql/upsert_city.sql");
const UPSERT_CINEMA_SQL: &str = include_str!("sql/upsert_cinema.sql");
const UPSERT_MOVIE_SQL: &str = include_str!("sql/upsert_movie.sql");
const INSERT_SHOWS_SQL: &str = include_str!("sql/insert_shows.sql");
const CANCEL_SHOWS_SQL: &str = include_str!("sql/cancel_shows.sql");
const LOAD_SHOWS_SQL: &str = include_str!("sql/load_shows.sql");
const LOAD_SEATS_SQL: &str = include_str!("sql/load_seats.sql");
const LOAD_TRANSFERS_SQL: &str = include_str!("sql/load_transfers.sql");
const LOAD_OFFERS_SQL: &str = include_str!("sql/load_offers.sql");
const LOAD_PAYMENTS_SQL: &str = include_str!("sql/load_payments.sql");
const SAVE_STATE_SQL: &str = include_str!("sql/save_state.sql");
const ADD_FACTS_SQL: &str = include_str!("sql/add_facts.sql");
const ADD_FUNNEL_SQL: &str = include_str!("sql/add_funnel.sql");
const ADD_TIMELINE_SQL: &str = include_str!("sql/add_timeline.sql");

pub struct BoxOffice;

#[async_trait]
impl Projector for BoxOffice {
    fn name(&self) -> &'static str {
        "box_office"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "report_cities",
            "report_cinemas",
            "report_movies",
            "report_shows",
            "box_office_facts",
            "box_office_city_days",
            "box_office_movie_days",
            "box_office_days",
            "box_office_funnel",
            "sales_timeline",
            "report_seats",
            "report_transfers",
            "report_offer_holds",
            "report_payments",
        ]
    }

    fn cares_about(&self, event: &Event) -> bool {
        fold::counts(event)
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut changed = None;
        let mut scheduled = ScheduledShows::default();
        let mut cancelled = Vec::new();
        for applying in events {
            if !self.cares_about(applying.event) {
                continue;
            }
            changed = Some(applying.recorded.position);
            match applying.event {
                Event::Show(ShowEvent::ShowScheduled(e)) => scheduled.push(applying.stream_id, e),
                Event::Show(ShowEvent::ShowCancelled(_)) => cancelled.push(applying.stream_id),
                _ => name(tx, applying).await?,
            }
        }
        scheduled.insert(tx).await?;
        if !cancelled.is_empty() {
            tx.execute(CANCEL_SHOWS_SQL, &[&cancelled]).await?;
        }
        let mut fold = load(tx, events).await?;
        fold.apply(events);
        save(tx, &fold).await?;
        if let Some(at) = changed {
            etag_moved(tx, self.name(), at).await?;
        }
        Ok(())
    }
}

/// The catalogue's cities (with their time zones), cinemas and movies, one statement each
/// (they are few), before the batch's shows are placed in them.
async fn name(tx: &Transaction<'_>, applying: &Applying<'_>) -> Result<(), tokio_postgres::Error> {
    match applying.event {
        Event::Cities(CitiesEvent::CityAdded(e)) => {
            let (id, city) = (e.city_id.0, &e.city);
            tx.execute(UPSERT_CITY_SQL, &[&id, &city.name, &city.time_zone])
                .await?;
        }
        Event::Cities(CitiesEvent::CityUpdated(e)) => {
            let (id, city) = (e.city_id.0, &e.city);
            tx.execute(UPSERT_CITY_SQL, &[&id, &city.name, &city.time_zone])
                .await?;
        }
        Event::Cinema(CinemaEvent::CinemaOpened(e)) => {
            tx.execute(
                UPSERT_CINEMA_SQL,
                &[&e.cinema_id.0, &Some(e.city_id.0), &e.cinema.name],
            )
            .await?;
        }
        Event::Cinema(CinemaEvent::CinemaUpdated(e)) => {
            tx.execute(
                UPSERT_CINEMA_SQL,
                &[&e.cinema_id.0, &None::<Uuid>, &e.cinema.name],
            )
            .await?;
        }
        Event::Movie(MovieEvent::MovieAdded(e)) => {
            tx.execute(UPSERT_MOVIE_SQL, &[&e.movie_id.0, &e.movie.title])
                .await?;
        }
        Event::Movie(MovieEvent::MovieUpdated(e)) => {
            tx.execute(UPSERT_MOVIE_SQL, &[&e.movie_id.0, &e.movie.title])
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// A batch's scheduled shows as the columns of `insert_shows.sql`: one row per show, and
/// one per show and seat category.
#[derive(Default)]
struct ScheduledShows<'a> {
    show_ids: Vec<Uuid>,
    movie_ids: Vec<Uuid>,
    titles: Vec<&'a str>,
    cinema_ids: Vec<Option<Uuid>>,
    hall_ids: Vec<Option<Uuid>>,
    starts_at: Vec<Timestamp>,
    currencies: Vec<String>,
    seat_ids: Vec<Value>,
    seat_categories: Vec<Value>,
    prices: Vec<Value>,
    ticket_prices: Vec<Value>,
    category_shows: Vec<Uuid>,
    categories: Vec<&'a str>,
    capacities: Vec<i32>,
    firsts: Vec<i32>,
}

impl<'a> ScheduledShows<'a> {
    fn push(&mut self, show_id: Uuid, e: &'a ShowScheduled) {
        self.show_ids.push(show_id);
        self.movie_ids.push(e.movie_id);
        self.titles.push(&e.title);
        self.cinema_ids
            .push(e.venue.as_ref().map(|v| v.cinema_id.0));
        self.hall_ids.push(e.venue.as_ref().map(|v| v.hall_id.0));
        self.starts_at.push(e.starts_at);
        // A show is priced in one currency: any price's.
        let currency = e.prices.values().next();
        self.currencies
            .push(currency.map_or(String::new(), |p| p.currency.to_string()));
        self.seat_ids.push(Value::from_iter(
            e.seats.iter().map(|s| Value::from(s.seat_id.as_str())),
        ));
        self.seat_categories.push(Value::from_iter(
            e.seats.iter().map(|s| Value::from(s.category.as_str())),
        ));
        self.prices.push(Value::Object(
            e.prices
                .iter()
                .map(|(category, price)| (category.clone(), Value::from(price.amount_minor)))
                .collect(),
        ));
        self.ticket_prices.push(Value::Object(
            e.ticket_prices
                .iter()
                .map(|(ticket_type, by_category)| {
                    let by_category = by_category
                        .iter()
                        .map(|(category, price)| {
                            (category.clone(), Value::from(price.amount_minor))
                        })
                        .collect();
                    (ticket_type.clone(), Value::Object(by_category))
                })
                .collect(),
        ));
        let mut capacity: BTreeMap<&str, i32> = BTreeMap::new();
        for seat in e.seats.iter() {
            *capacity.entry(seat.category.as_str()).or_default() += 1;
        }
        // The first category by name counts the show once in sums over categories.
        for (n, (category, seats)) in capacity.into_iter().enumerate() {
            self.category_shows.push(show_id);
            self.categories.push(category);
            self.capacities.push(seats);
            self.firsts.push(i32::from(n == 0));
        }
    }

    async fn insert(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.show_ids.is_empty() {
            return Ok(());
        }
        tx.execute(
            INSERT_SHOWS_SQL,
            &[
                &self.show_ids,
                &self.movie_ids,
                &self.titles,
                &self.cinema_ids,
                &self.hall_ids,
                &self.starts_at,
                &self.currencies,
                &self.seat_ids,
                &self.seat_categories,
                &self.prices,
                &self.category_shows,
                &self.categories,
                &self.capacities,
                &self.firsts,
                &self.ticket_prices,
            ],
        )
        .await?;
        Ok(())
    }
}

/// The state the batch folds against.
async fn load(
    tx: &Transaction<'_>,
    events: &[Applying<'_>],
) -> Result<Fold, tokio_postgres::Error> {
    let wanted = fold::wanted(events);
    let mut fold = Fold::default();
    if !wanted.shows.is_empty() {
        for row in tx.query(LOAD_SHOWS_SQL, &[&wanted.shows]).await? {
            let seat_ids: Vec<String> = json_of(row.get("seat_ids"));
            let categories: Vec<String> = json_of(row.get("seat_categories"));
            let prices: HashMap<String, i64> = json_of(row.get("prices_minor"));
            let ticket_prices: HashMap<String, HashMap<String, i64>> =
                json_of(row.get("ticket_prices_minor"));
            fold.shows.insert(
                row.get("show_id"),
                ShowPlace {
                    movie_id: row.get("movie_id"),
                    cinema_id: row.get("cinema_id"),
                    city_id: row.get("city_id"),
                    currency: row.get("currency"),
                    seats: seat_ids.into_iter().zip(categories).collect(),
                    prices,
                    ticket_prices,
                },
            );
        }
    }
    if !wanted.seats.is_empty() {
        let (shows, seats): (Vec<Uuid>, Vec<String>) = wanted.seats.into_iter().unzip();
        for row in tx.query(LOAD_SEATS_SQL, &[&shows, &seats]).await? {
            fold.seats.insert(
                (row.get("show_id"), row.get("seat_id")),
                Some(PaidSeat {
                    category: row.get("category"),
                    paid_minor: row.get("paid_minor"),
                }),
            );
        }
    }
    if !wanted.transfers.is_empty() {
        let (shows, exchanges): (Vec<Uuid>, Vec<Uuid>) = wanted.transfers.into_iter().unzip();
        for row in tx.query(LOAD_TRANSFERS_SQL, &[&shows, &exchanges]).await? {
            fold.transfers.insert(
                (row.get("show_id"), row.get("exchange_id")),
                Some(Transfer {
                    seats: row.get("seat_ids"),
                    categories: row.get("seat_categories"),
                    paid_minor: row.get("paid_minor"),
                }),
            );
        }
    }
    if !wanted.holds.is_empty() {
        for row in tx.query(LOAD_OFFERS_SQL, &[&wanted.holds]).await? {
            fold.offers
                .insert(row.get("hold_id"), Some(row.get("show_id")));
        }
    }
    if !wanted.payments.is_empty() {
        for row in tx.query(LOAD_PAYMENTS_SQL, &[&wanted.payments]).await? {
            fold.payments
                .insert(row.get("payment_id"), row.get("show_id"));
        }
    }
    Ok(fold)
}

/// A JSON column this projector wrote, read back (empty if it were ever unreadable).
fn json_of<T: serde::de::DeserializeOwned + Default>(value: Value) -> T {
    serde_json::from_value(value).unwrap_or_default()
}

/// Writes the batch's changes and the state the next batches need.
async fn save(tx: &Transaction<'_>, fold: &Fold) -> Result<(), tokio_postgres::Error> {
    save_state(tx, fold).await?;
    if !fold.facts.is_empty() {
        let mut c = FactColumns::default();
        for ((show, category), f) in &fold.facts {
            c.show_ids.push(*show);
            c.categories.push(category.as_str());
            c.counts[0].push(f.tickets_sold);
            c.counts[1].push(f.tickets_refunded);
            c.counts[2].push(f.tickets_exchanged_in);
            c.counts[3].push(f.tickets_exchanged_out);
            c.counts[4].push(f.tickets_checked_in);
            c.money[0].push(f.gross_minor);
            c.money[1].push(f.discounts_minor);
            c.money[2].push(f.refunds_minor);
            c.money[3].push(f.fees_minor);
            c.money[4].push(f.exchanged_in_minor);
            c.money[5].push(f.exchanged_out_minor);
        }
        let [sold, refunded, ex_in, ex_out, checked_in] = &c.counts;
        let [gross, discounts, refunds, fees, in_minor, out_minor] = &c.money;
        tx.execute(
            ADD_FACTS_SQL,
            &[
                &c.show_ids,
                &c.categories,
                sold,
                refunded,
                ex_in,
                ex_out,
                gross,
                discounts,
                refunds,
                fees,
                in_minor,
                out_minor,
                checked_in,
            ],
        )
        .await?;
    }
    if !fold.funnel.is_empty() {
        let mut shows = Vec::with_capacity(fold.funnel.len());
        let mut counts = Vec::with_capacity(fold.funnel.len());
        for (show, f) in &fold.funnel {
            shows.push(*show);
            counts.push(Value::from(vec![
                f.holds_made,
                f.holds_released,
                f.holds_expired,
                f.holds_paid,
                f.paid_after_expiry,
                f.payments_started,
                f.payments_failed,
                f.payments_refused,
                f.waitlist_joined,
                f.waitlist_offers,
                f.offers_taken,
                f.offers_lapsed,
                f.promo_holds,
                f.promo_orders,
            ]));
        }
        tx.execute(ADD_FUNNEL_SQL, &[&shows, &counts]).await?;
    }
    if !fold.timeline.is_empty() {
        let mut c = TimelineColumns::default();
        for ((show, hour), t) in &fold.timeline {
            let Some(place) = fold.shows.get(show) else {
                continue;
            };
            let scopes = [
                ("show", Some(*show)),
                ("movie", Some(place.movie_id)),
                ("cinema", place.cinema_id),
                ("city", place.city_id),
            ];
            for (scope, id) in scopes {
                let Some(id) = id else { continue };
                c.scopes.push(scope);
                c.ids.push(id);
                c.hours.push(*hour);
                c.currencies.push(place.currency.as_str());
                c.sold.push(t.tickets_sold);
                c.refunded.push(t.tickets_refunded);
                c.net.push(t.tickets_net);
                c.revenue.push(t.net_revenue_minor);
            }
        }
        tx.execute(
            ADD_TIMELINE_SQL,
            &[
                &c.scopes,
                &c.ids,
                &c.hours,
                &c.currencies,
                &c.sold,
                &c.refunded,
                &c.net,
                &c.revenue,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn save_state(tx: &Transaction<'_>, fold: &Fold) -> Result<(), tokio_postgres::Error> {
    let mut left: (Vec<Uuid>, Vec<&str>) = Default::default();
    let mut kept: (Vec<Uuid>, Vec<&str>, Vec<&str>, Vec<i64>) = Default::default();
    for ((show, seat), paid) in &fold.seats {
        match paid {
            None => {
                left.0.push(*show);
                left.1.push(seat);
            }
            Some(paid) => {
                kept.0.push(*show);
                kept.1.push(seat);
                kept.2.push(&paid.category);
                kept.3.push(paid.paid_minor);
            }
        }
    }
    let mut ended: (Vec<Uuid>, Vec<Uuid>) = Default::default();
    let mut begun = BegunTransfers::default();
    for ((show, exchange), transfer) in &fold.transfers {
        match transfer {
            None => {
                ended.0.push(*show);
                ended.1.push(*exchange);
            }
            Some(t) => {
                begun.shows.push(*show);
                begun.exchanges.push(*exchange);
                begun.seats.push(Value::from(t.seats.clone()));
                begun.categories.push(Value::from(t.categories.clone()));
                begun.paid.push(Value::from(t.paid_minor.clone()));
            }
        }
    }
    let mut offers_ended: Vec<Uuid> = Vec::new();
    let mut offers_made: (Vec<Uuid>, Vec<Uuid>) = Default::default();
    for (hold, show) in &fold.offers {
        match show {
            None => offers_ended.push(*hold),
            Some(show) => {
                offers_made.0.push(*hold);
                offers_made.1.push(*show);
            }
        }
    }
    let payments: (Vec<Uuid>, Vec<Uuid>) = fold.new_payments.iter().copied().unzip();
    let nothing = left.0.is_empty()
        && kept.0.is_empty()
        && ended.0.is_empty()
        && begun.shows.is_empty()
        && offers_ended.is_empty()
        && offers_made.0.is_empty()
        && payments.0.is_empty();
    if nothing {
        return Ok(());
    }
    tx.execute(
        SAVE_STATE_SQL,
        &[
            &left.0,
            &left.1,
            &kept.0,
            &kept.1,
            &kept.2,
            &kept.3,
            &ended.0,
            &ended.1,
            &begun.shows,
            &begun.exchanges,
            &begun.seats,
            &begun.categories,
            &begun.paid,
            &offers_ended,
            &offers_made.0,
            &offers_made.1,
            &payments.0,
            &payments.1,
        ],
    )
    .await?;
    Ok(())
}

/// The batch's fact changes as the columns of `add_facts.sql`.
#[derive(Default)]
struct FactColumns<'a> {
    show_ids: Vec<Uuid>,
    categories: Vec<&'a str>,
    counts: [Vec<i32>; 5],
    money: [Vec<i64>; 6],
}

/// The batch's timeline changes as the columns of `add_timeline.sql`.
#[derive(Default)]
struct TimelineColumns<'a> {
    scopes: Vec<&'static str>,
    ids: Vec<Uuid>,
    hours: Vec<i64>,
    currencies: Vec<&'a str>,
    sold: Vec<i32>,
    refunded: Vec<i32>,
    net: Vec<i32>,
    revenue: Vec<i64>,
}

/// Transfers begun in the batch, as columns of `save_state.sql` (lists as JSON arrays).
#[derive(Default)]
struct BegunTransfers {
    shows: Vec<Uuid>,
    exchanges: Vec<Uuid>,
    seats: Vec<Value>,
    categories: Vec<Value>,
    paid: Vec<Value>,
}
