//! The waiting room's tables: on-sales and their lines, and the statements that move them
//! (join, shuffle, admit, end). Every step that must happen once (the shuffle, each
//! admission) happens under a lock of the on-sale's (the shuffle: its row; admissions: its
//! advisory lock), so any number of processes may try it.

use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

/// Places of those who arrive after the opening start here, after every shuffled place.
pub const LATE: i64 = 1 << 40;

/// How far the admission schedule may fall behind the clock: after a pause, at most this
/// much of the rate's admissions are made at once.
pub const LAG: Duration = Duration::seconds(10);

/// A place is refreshed (`last_seen_at`) at most this often by its holder's questions.
const SEEN_EVERY_SECONDS: i64 = 5;

/// An on-sale as staff set it up, and how far it got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnSale {
    pub onsale_id: Uuid,
    pub title: String,
    /// The movie whose opening it is, when it was set up for one.
    pub movie_id: Option<Uuid>,
    /// The shows whose holds need an admission from this on-sale's queue.
    pub show_ids: Vec<Uuid>,
    pub opens_at: DateTime<Utc>,
    /// People let in per minute; with an automatic rate, absent until the opening.
    pub admitted_per_minute: Option<i32>,
    /// The rate is set at the opening from the writers' measured capacity.
    pub automatic_rate: bool,
    /// How long an admission lets its customer hold.
    pub admission_seconds: i32,
    /// How long someone who stops asking about their place keeps it.
    pub grace_seconds: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// When the pre-queue was shuffled (at the opening), and how many were in it.
    pub shuffled_at: Option<DateTime<Utc>>,
    pub pre_queue: Option<i32>,
    /// How many were let in so far.
    pub admitted: i32,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    /// The place of the last one admitted or given up: everyone at or before it is done.
    #[serde(skip)]
    pub admitted_through: i64,
    /// When the next admission is due.
    #[serde(skip)]
    pub next_due_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub shows_queued: bool,
    #[serde(skip)]
    pub shows_lifted: bool,
}

impl OnSale {
    fn from_row(row: &Row) -> Self {
        Self {
            onsale_id: row.get("onsale_id"),
            title: row.get("title"),
            movie_id: row.get("movie_id"),
            show_ids: row.get("show_ids"),
            opens_at: row.get("opens_at"),
            admitted_per_minute: row.get("rate_per_minute"),
            automatic_rate: row.get("automatic_rate"),
            admission_seconds: row.get("admission_seconds"),
            grace_seconds: row.get("grace_seconds"),
            created_by: row.get("created_by"),
            created_at: row.get("created_at"),
            shuffled_at: row.get("shuffled_at"),
            pre_queue: row.get("pre_queue"),
            admitted: row.get("admitted"),
            admitted_through: row.get("admitted_through"),
            next_due_at: row.get("next_due_at"),
            ended_at: row.get("ended_at"),
            ended_by: row.get("ended_by"),
            shows_queued: row.get("shows_queued"),
            shows_lifted: row.get("shows_lifted"),
        }
    }

    /// The admissions due by `now` and when the one after them will be: admission after
    /// admission is due a minute over the rate after the one before, from the opening; a
    /// schedule more than [`LAG`] behind `now` (the line ran dry, or no process was up)
    /// starts again from `now - LAG`, so admissions never come faster than the rate allows
    /// beyond [`LAG`]'s worth at once.
    pub fn due(&self, now: DateTime<Utc>) -> (i64, DateTime<Utc>) {
        let (Some(rate), Some(next)) = (self.admitted_per_minute, self.next_due_at) else {
            return (0, now);
        };
        let next = next.max(now - LAG);
        let Some(ahead) = (now - next).num_microseconds().filter(|m| *m >= 0) else {
            return (0, next);
        };
        let due = i128::from(ahead) * i128::from(rate) / 60_000_000 + 1;
        (i64::try_from(due).unwrap_or(i64::MAX), next)
    }

    /// `from` moved on by `admissions` at the rate.
    fn after(&self, from: DateTime<Utc>, admissions: i64) -> DateTime<Utc> {
        let rate = i128::from(self.admitted_per_minute.unwrap_or(1).max(1));
        let micros = i128::from(admissions) * 60_000_000 / rate;
        from + Duration::microseconds(i64::try_from(micros).unwrap_or(i64::MAX / 2))
    }
}

/// What staff ask for.
#[derive(Debug, Clone)]
pub struct NewOnSale {
    pub onsale_id: Uuid,
    pub title: String,
    pub movie_id: Option<Uuid>,
    pub show_ids: Vec<Uuid>,
    pub opens_at: DateTime<Utc>,
    /// `None`: set at the opening from the writers' measured capacity.
    pub admitted_per_minute: Option<i32>,
    pub admission_seconds: i32,
    pub grace_seconds: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A place in line.
#[derive(Debug, Clone)]
pub struct Entry {
    pub ticket_id: Uuid,
    pub arrived_at: DateTime<Utc>,
    pub place: Option<i64>,
    pub last_seen_at: DateTime<Utc>,
    pub admission: Option<i32>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
}

impl Entry {
    fn from_row(row: &Row) -> Self {
        Self {
            ticket_id: row.get("ticket_id"),
            arrived_at: row.get("arrived_at"),
            place: row.get("place"),
            last_seen_at: row.get("last_seen_at"),
            admission: row.get("admission"),
            admitted_at: row.get("admitted_at"),
            left_at: row.get("left_at"),
        }
    }
}

const ENTRY: &str = "ticket_id, arrived_at, place, last_seen_at, admission, admitted_at, left_at";

/// Why an on-sale could not be set up.
#[derive(Debug)]
pub enum CreateError {
    /// These shows are under another on-sale's queue that has not ended.
    Overlaps {
        onsale_id: Uuid,
        shows: Vec<Uuid>,
    },
    Db(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for CreateError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Db(error)
    }
}

/// A movie's shows not started yet, as the catalogue read model has them (the shows an
/// on-sale for its opening covers).
pub async fn shows_to_come(
    client: &impl GenericClient,
    movie_id: Uuid,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT show_id FROM catalogue_shows WHERE movie_id = $1 \
             AND starts_at > $2 AND NOT cancelled ORDER BY starts_at LIMIT $3",
            &[&movie_id, &now, &limit],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Records a new on-sale, unless one of its shows is under another that has not ended
/// (creations are serialised by a table lock, so two cannot both miss each other).
pub async fn create(
    client: &mut deadpool_postgres::Client,
    new: &NewOnSale,
) -> Result<(), CreateError> {
    let tx = client.transaction().await?;
    tx.batch_execute("LOCK TABLE onsales IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    let overlap = tx
        .query_opt(
            "SELECT onsale_id, ARRAY(SELECT unnest(show_ids) INTERSECT SELECT unnest($1::uuid[])) \
             FROM onsales WHERE ended_at IS NULL AND show_ids && $1 LIMIT 1",
            &[&new.show_ids],
        )
        .await?;
    if let Some(row) = overlap {
        return Err(CreateError::Overlaps {
            onsale_id: row.get(0),
            shows: row.get(1),
        });
    }
    tx.execute(
        "INSERT INTO onsales (onsale_id, title, movie_id, show_ids, opens_at, rate_per_minute, \
         automatic_rate, admission_seconds, grace_seconds, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6::integer, $6::integer IS NULL, $7, $8, $9, $10)",
        &[
            &new.onsale_id,
            &new.title,
            &new.movie_id,
            &new.show_ids,
            &new.opens_at,
            &new.admitted_per_minute,
            &new.admission_seconds,
            &new.grace_seconds,
            &new.created_by,
            &new.created_at,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get(
    client: &impl GenericClient,
    onsale_id: Uuid,
) -> Result<Option<OnSale>, tokio_postgres::Error> {
    let row = client
        .query_opt("SELECT * FROM onsales WHERE onsale_id = $1", &[&onsale_id])
        .await?;
    Ok(row.as_ref().map(OnSale::from_row))
}

/// The on-sale not ended that covers `show_id`, if any.
pub async fn of_show(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<OnSale>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT * FROM onsales WHERE show_ids @> ARRAY[$1::uuid] AND ended_at IS NULL \
             LIMIT 1",
            &[&show_id],
        )
        .await?;
    Ok(row.as_ref().map(OnSale::from_row))
}

/// On-sales that have not ended, and those ended in the last week, soonest opening first.
pub async fn list(
    client: &impl GenericClient,
    now: DateTime<Utc>,
) -> Result<Vec<OnSale>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT * FROM onsales WHERE ended_at IS NULL OR ended_at > $1 \
             ORDER BY opens_at, onsale_id LIMIT 500",
            &[&(now - Duration::days(7))],
        )
        .await?;
    Ok(rows.iter().map(OnSale::from_row).collect())
}

/// On-sales the admitters have work for: open ones, and ended ones whose shows are still
/// under their queue.
pub async fn serving(client: &impl GenericClient) -> Result<Vec<OnSale>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT * FROM onsales WHERE ended_at IS NULL OR NOT shows_lifted \
             ORDER BY opens_at LIMIT 1000",
            &[],
        )
        .await?;
    Ok(rows.iter().map(OnSale::from_row).collect())
}

/// Ends the on-sale (once: a second end changes nothing); `None` if there is none.
pub async fn end(
    client: &impl GenericClient,
    onsale_id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<OnSale>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "UPDATE onsales SET ended_at = COALESCE(ended_at, $2), \
             ended_by = COALESCE(ended_by, $3) WHERE onsale_id = $1 RETURNING *",
            &[&onsale_id, &now, &by],
        )
        .await?;
    Ok(row.as_ref().map(OnSale::from_row))
}

/// Every show was put under the queue (`lifted`: taken off it).
pub async fn mark_shows(
    client: &impl GenericClient,
    onsale_id: Uuid,
    lifted: bool,
) -> Result<(), tokio_postgres::Error> {
    let statement = if lifted {
        "UPDATE onsales SET shows_lifted = true WHERE onsale_id = $1"
    } else {
        "UPDATE onsales SET shows_queued = true WHERE onsale_id = $1"
    };
    client.execute(statement, &[&onsale_id]).await?;
    Ok(())
}

/// How a join went.
#[derive(Debug)]
pub enum Joined {
    /// A new place (or a new one at the back after the old was given up or used).
    New(Entry),
    /// The customer has a place already (or an admission still valid): that one.
    Existing(Entry),
    NoSuchOnSale,
    Ended,
    /// Another join of the same customer was in the way and could not be read back.
    Raced,
}

/// Gives `customer` a place in the on-sale's line: in the pre-queue before the opening,
/// at the back after it. One place per customer: asking again answers the place they have.
pub async fn join(
    client: &mut deadpool_postgres::Client,
    onsale_id: Uuid,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<Joined, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    // A key-share lock: joins go side by side and beside the admitters (whose updates leave
    // the key alone), while the shuffle, which takes the row for update, waits for every
    // early join in flight, so none is left out of it.
    let Some(onsale) = tx
        .query_opt(
            "SELECT * FROM onsales WHERE onsale_id = $1 FOR KEY SHARE",
            &[&onsale_id],
        )
        .await?
    else {
        return Ok(Joined::NoSuchOnSale);
    };
    let onsale = OnSale::from_row(&onsale);
    if onsale.ended_at.is_some() {
        return Ok(Joined::Ended);
    }
    let had = latest_place(&tx, onsale_id, customer).await?;
    if let Some(entry) = had {
        let admission_valid = entry
            .admitted_at
            .is_some_and(|at| at + Duration::seconds(onsale.admission_seconds.into()) > now);
        let waiting = entry.admission.is_none() && entry.left_at.is_none();
        if waiting || admission_valid {
            tx.commit().await?;
            return Ok(Joined::Existing(entry));
        }
    }
    let early = now < onsale.opens_at && onsale.shuffled_at.is_none();
    let row = tx
        .query_opt(
            &format!(
                "WITH arrival AS (SELECT nextval('onsale_arrivals') AS n) \
                 INSERT INTO onsale_queue (onsale_id, ticket_id, customer_id, arrived_at, \
                 arrival, early, place, last_seen_at) \
                 SELECT $1, $2, $3, $4, n, $5, CASE WHEN $5 THEN NULL ELSE $6 + n END, $4 \
                 FROM arrival ON CONFLICT (onsale_id, customer_id) \
                 WHERE admission IS NULL AND left_at IS NULL DO NOTHING RETURNING {ENTRY}"
            ),
            &[&onsale_id, &Uuid::new_v4(), &customer, &now, &early, &LATE],
        )
        .await?;
    let joined = match row {
        Some(row) => Joined::New(Entry::from_row(&row)),
        // The same customer's other join got there first: that place.
        None => match latest_place(&tx, onsale_id, customer).await? {
            Some(entry) => Joined::Existing(entry),
            // Only if that place vanished between the two statements: ask again.
            None => Joined::Raced,
        },
    };
    tx.commit().await?;
    Ok(joined)
}

/// The customer's latest place in the on-sale's line.
async fn latest_place(
    client: &impl GenericClient,
    onsale_id: Uuid,
    customer: &str,
) -> Result<Option<Entry>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {ENTRY} FROM onsale_queue WHERE onsale_id = $1 AND customer_id = $2 \
                 ORDER BY arrival DESC LIMIT 1"
            ),
            &[&onsale_id, &customer],
        )
        .await?;
    Ok(row.as_ref().map(Entry::from_row))
}

/// The place behind `ticket_id`.
pub async fn entry(
    client: &impl GenericClient,
    onsale_id: Uuid,
    ticket_id: Uuid,
) -> Result<Option<Entry>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!("SELECT {ENTRY} FROM onsale_queue WHERE onsale_id = $1 AND ticket_id = $2"),
            &[&onsale_id, &ticket_id],
        )
        .await?;
    Ok(row.as_ref().map(Entry::from_row))
}

/// Where `place` stands, read in one snapshot: the waiting places ahead of it, and its
/// number in line (1 + every place ahead that was not given up, let in or not), which only
/// changes when someone ahead gives their place up.
pub async fn standing(
    client: &impl GenericClient,
    onsale_id: Uuid,
    place: i64,
) -> Result<(i64, i64), tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE admission IS NULL), count(*) FROM onsale_queue \
             WHERE onsale_id = $1 AND place < $2 AND left_at IS NULL",
            &[&onsale_id, &place],
        )
        .await?;
    Ok((row.get(0), row.get::<_, i64>(1) + 1))
}

/// Everyone in the pre-queue so far.
pub async fn pre_queue(
    client: &impl GenericClient,
    onsale_id: Uuid,
) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT count(*) FROM onsale_queue WHERE onsale_id = $1 AND early",
            &[&onsale_id],
        )
        .await?;
    Ok(row.get(0))
}

/// The holder of a place asked about it: they are still there.
pub async fn seen(
    client: &impl GenericClient,
    onsale_id: Uuid,
    entry: &Entry,
    now: DateTime<Utc>,
) -> Result<(), tokio_postgres::Error> {
    if now - entry.last_seen_at < Duration::seconds(SEEN_EVERY_SECONDS) || entry.left_at.is_some() {
        return Ok(());
    }
    client
        .execute(
            "UPDATE onsale_queue SET last_seen_at = greatest(last_seen_at, $3) \
             WHERE onsale_id = $1 AND ticket_id = $2",
            &[&onsale_id, &entry.ticket_id, &now],
        )
        .await?;
    Ok(())
}

/// Draws the pre-queue's order, once, at the opening: a uniformly random permutation
/// (ordered by random UUIDs, which PostgreSQL draws from a strong source); an automatic
/// rate is set to `automatic_rate` then. `false` if it was drawn already.
pub async fn shuffle(
    client: &mut deadpool_postgres::Client,
    onsale_id: Uuid,
    now: DateTime<Utc>,
    automatic_rate: i32,
) -> Result<bool, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT shuffled_at FROM onsales WHERE onsale_id = $1 AND opens_at <= $2 FOR UPDATE",
            &[&onsale_id, &now],
        )
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    if row.get::<_, Option<DateTime<Utc>>>(0).is_some() {
        return Ok(false);
    }
    let shuffled = tx
        .execute(
            "UPDATE onsale_queue q SET place = drawn.rank \
             FROM (SELECT ticket_id, row_number() OVER (ORDER BY gen_random_uuid()) AS rank \
                   FROM onsale_queue WHERE onsale_id = $1 AND early) drawn \
             WHERE q.onsale_id = $1 AND q.ticket_id = drawn.ticket_id",
            &[&onsale_id],
        )
        .await?;
    tx.execute(
        "UPDATE onsales SET shuffled_at = $2, pre_queue = $3, \
         rate_per_minute = COALESCE(rate_per_minute, $4), \
         next_due_at = greatest(opens_at, $5) WHERE onsale_id = $1",
        &[
            &onsale_id,
            &now,
            &i32::try_from(shuffled).unwrap_or(i32::MAX),
            &automatic_rate,
            &(now - LAG),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Admits whoever is due by `now` (see [`OnSale::due`]), in the line's order; places whose
/// holders stopped asking for longer than the grace are given up on the way. `None` if
/// another process is admitting for this on-sale right now (an advisory lock: joins, which
/// share the on-sale's row, never hold the admitters up); else the admissions so far and
/// the place the line was let in through.
pub async fn admit(
    client: &mut deadpool_postgres::Client,
    onsale_id: Uuid,
    now: DateTime<Utc>,
    process: &str,
) -> Result<Option<(i32, i64)>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let key = (onsale_id.as_u128() >> 64) as i64;
    let locked: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key])
        .await?
        .get(0);
    if !locked {
        return Ok(None);
    }
    let row = tx
        .query_opt(
            "SELECT * FROM onsales WHERE onsale_id = $1 AND ended_at IS NULL \
             AND shuffled_at IS NOT NULL FOR NO KEY UPDATE",
            &[&onsale_id],
        )
        .await?;
    let Some(onsale) = row.as_ref().map(OnSale::from_row) else {
        return Ok(None);
    };
    let mut admitted = onsale.admitted;
    let mut through = onsale.admitted_through;
    let (due, from) = onsale.due(now);
    let target = i64::from(admitted) + due;
    let stale_before = now - Duration::seconds(onsale.grace_seconds.into());
    while i64::from(admitted) < target {
        let wanted = target - i64::from(admitted);
        let next = tx
            .query(
                "SELECT ticket_id, last_seen_at, place FROM onsale_queue \
                 WHERE onsale_id = $1 AND admission IS NULL AND left_at IS NULL \
                 AND place IS NOT NULL ORDER BY place LIMIT $2",
                &[&onsale_id, &wanted],
            )
            .await?;
        if next.is_empty() {
            break;
        }
        let (mut let_in, mut gone) = (Vec::new(), Vec::new());
        let mut numbers = Vec::new();
        for row in &next {
            let ticket: Uuid = row.get(0);
            through = through.max(row.get(2));
            if row.get::<_, DateTime<Utc>>(1) < stale_before {
                gone.push(ticket);
            } else {
                numbers.push(admitted);
                let_in.push(ticket);
                admitted += 1;
            }
        }
        tx.execute(
            "UPDATE onsale_queue SET left_at = $3 \
             WHERE onsale_id = $1 AND ticket_id = ANY($2)",
            &[&onsale_id, &gone, &now],
        )
        .await?;
        tx.execute(
            "UPDATE onsale_queue q SET admission = v.n, admitted_at = $4, admitted_by = $5 \
             FROM unnest($2::uuid[], $3::int[]) AS v(ticket, n) \
             WHERE q.onsale_id = $1 AND q.ticket_id = v.ticket",
            &[&onsale_id, &let_in, &numbers, &now, &process],
        )
        .await?;
    }
    tx.execute(
        "UPDATE onsales SET admitted = $2, admitted_through = $3, next_due_at = $4 \
         WHERE onsale_id = $1",
        &[
            &onsale_id,
            &admitted,
            &through,
            &onsale.after(from, i64::from(admitted - onsale.admitted)),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Some((admitted, through)))
}

/// An on-sale's line, for `/metrics`.
pub struct Gauges {
    pub onsale_id: Uuid,
    pub waiting: i64,
    pub admitted_last_minute: i64,
    /// The median of the last ten minutes' admissions' waits (from arrival, or the opening
    /// for the pre-queue), in seconds.
    pub median_wait_seconds: Option<f64>,
}

pub async fn gauges(
    client: &impl GenericClient,
    now: DateTime<Utc>,
) -> Result<Vec<Gauges>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT o.onsale_id, \
               (SELECT count(*) FROM onsale_queue q WHERE q.onsale_id = o.onsale_id \
                  AND q.admission IS NULL AND q.left_at IS NULL), \
               (SELECT count(*) FROM onsale_queue q WHERE q.onsale_id = o.onsale_id \
                  AND q.admitted_at > $1::timestamptz - interval '1 minute'), \
               (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY \
                  extract(epoch FROM q.admitted_at - greatest(q.arrived_at, o.opens_at))::float8) \
                FROM onsale_queue q WHERE q.onsale_id = o.onsale_id \
                  AND q.admitted_at > $1::timestamptz - interval '10 minutes') \
             FROM onsales o WHERE o.ended_at IS NULL",
            &[&now],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Gauges {
            onsale_id: row.get(0),
            waiting: row.get(1),
            admitted_last_minute: row.get(2),
            median_wait_seconds: row.get(3),
        })
        .collect())
}
