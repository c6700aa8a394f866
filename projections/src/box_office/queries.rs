//! Reads of the box office: the facts and the funnel grouped by any nesting of their
//! dimensions, a keyset page of groups and the totals of every group in one scan; and the
//! sales timeline of one show, movie, cinema or city.
//!
//! Grouped queries are built from fixed pieces (the dimensions' and measures' SQL below),
//! never from client text: a client names dimensions and a sort key, which are parsed into
//! these enums first.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

/// A way to group the box office, in the order groups nest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dimension {
    Movie,
    Cinema,
    City,
    Day,
    Weekday,
    Hour,
    Category,
    Show,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Self::Movie,
        Self::Cinema,
        Self::City,
        Self::Day,
        Self::Weekday,
        Self::Hour,
        Self::Category,
        Self::Show,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Movie => "movie",
            Self::Cinema => "cinema",
            Self::City => "city",
            Self::Day => "day",
            Self::Weekday => "weekday",
            Self::Hour => "hour",
            Self::Category => "category",
            Self::Show => "show",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The columns it adds to a row: (name, SQL, type), in order.
    fn columns(self) -> &'static [Column] {
        match self {
            Self::Movie => &[
                ("movie_id", "f.movie_id", Kind::Uuid),
                ("movie_title", "coalesce(m.title, '')", Kind::Text),
            ],
            Self::Cinema => &[
                ("cinema_id", "f.cinema_id", Kind::Uuid),
                ("cinema_name", "c.name", Kind::Text),
            ],
            Self::City => &[
                (
                    "city_id",
                    "nullif(f.city_id, '00000000-0000-0000-0000-000000000000')",
                    Kind::Uuid,
                ),
                ("city_name", "ci.name", Kind::Text),
            ],
            Self::Day => &[("day", "f.local_date", Kind::Date)],
            Self::Weekday => &[("weekday", "f.weekday::int", Kind::Int)],
            Self::Hour => &[("hour", "f.local_hour::int", Kind::Int)],
            Self::Category => &[("category", "f.category", Kind::Text)],
            Self::Show => &[
                ("show_id", "f.show_id", Kind::Uuid),
                ("starts_at", "f.starts_at", Kind::Instant),
                ("hall_id", "s.hall_id", Kind::Uuid),
                ("cancelled", "s.cancelled", Kind::Bool),
            ],
        }
    }

    /// How its groups are ordered: (SQL over the grouped row, type), never NULL.
    fn order(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Movie => &[("movie_title", "text"), ("movie_id", "uuid")],
            Self::Cinema => &[
                ("coalesce(cinema_name, '')", "text"),
                (
                    "coalesce(cinema_id, '00000000-0000-0000-0000-000000000000')",
                    "uuid",
                ),
            ],
            Self::City => &[
                ("coalesce(city_name, '')", "text"),
                (
                    "coalesce(city_id, '00000000-0000-0000-0000-000000000000')",
                    "uuid",
                ),
            ],
            Self::Day => &[("day", "date")],
            Self::Weekday => &[("weekday", "int")],
            Self::Hour => &[("hour", "int")],
            Self::Category => &[("category", "text")],
            Self::Show => &[("starts_at", "timestamptz"), ("show_id", "uuid")],
        }
    }

    /// For a dimension that names a catalogue entity sorted by name: the entity's table, its
    /// id column (named the same in the facts, the funnel and the day rollups) and its name
    /// column. Every id in those tables is in the entity's table or is the group of
    /// shows without one (NULL or the nil id): a cinema comes from the hall a show was
    /// scheduled in, a city from its cinema, both from the catalogue. (A movie is not one:
    /// a show made without the catalogue may name a movie it never listed.)
    fn entity(self) -> Option<Entity> {
        match self {
            Self::Cinema => Some(Entity {
                table: "report_cinemas",
                id: "cinema_id",
                name: "name",
            }),
            Self::City => Some(Entity {
                table: "report_cities",
                id: "city_id",
                name: "name",
            }),
            _ => None,
        }
    }

    /// The join its columns need.
    fn join(self) -> Option<&'static str> {
        match self {
            Self::Movie => Some("LEFT JOIN report_movies m ON m.movie_id = f.movie_id"),
            Self::Cinema => Some("LEFT JOIN report_cinemas c ON c.cinema_id = f.cinema_id"),
            Self::City => Some("LEFT JOIN report_cities ci ON ci.city_id = f.city_id"),
            Self::Show => Some("JOIN report_shows s ON s.show_id = f.show_id"),
            _ => None,
        }
    }
}

/// A catalogue entity a report's groups may be led by (see [`Dimension::entity`]).
struct Entity {
    table: &'static str,
    id: &'static str,
    name: &'static str,
}

type Column = (&'static str, &'static str, Kind);

/// A column's type, so that rows are read and written out the same way everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uuid,
    Text,
    Date,
    Int,
    Instant,
    Bool,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Uuid(Uuid),
    Text(String),
    Date(NaiveDate),
    Int(i64),
    Instant(DateTime<Utc>),
    Bool(bool),
}

/// Which report: the facts (per currency) or the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cube {
    Facts,
    Funnel,
}

/// The facts' summed measures, in the order rows carry them.
pub const FACT_MEASURES: [&str; 13] = [
    "shows",
    "capacity",
    "tickets_sold",
    "tickets_refunded",
    "tickets_exchanged_in",
    "tickets_exchanged_out",
    "gross_minor",
    "discounts_minor",
    "refunds_minor",
    "fees_minor",
    "exchanged_in_minor",
    "exchanged_out_minor",
    "tickets_checked_in",
];

/// The funnel's summed measures, in order.
pub const FUNNEL_MEASURES: [&str; 15] = [
    "shows",
    "holds_made",
    "holds_released",
    "holds_expired",
    "holds_paid",
    "paid_after_expiry",
    "payments_started",
    "payments_failed",
    "payments_refused",
    "waitlist_joined",
    "waitlist_offers",
    "offers_taken",
    "offers_lapsed",
    "promo_holds",
    "promo_orders",
];

impl Cube {
    /// The table to read for groups by `dimensions` under `grouping`'s filters: the facts'
    /// day rollups for the chain, per city or per movie when they group and filter by
    /// nothing finer, else the facts or the funnel themselves.
    fn table(self, dimensions: &[Dimension], grouping: &Grouping) -> &'static str {
        use Dimension::*;
        let only = |allowed: &[Dimension]| dimensions.iter().all(|d| allowed.contains(d));
        match self {
            Self::Funnel => "box_office_funnel",
            _ if grouping.cinema_id.is_some() => "box_office_facts",
            _ if grouping.city_id.is_none()
                && grouping.movie_id.is_none()
                && only(&[Day, Weekday, Category]) =>
            {
                "box_office_days"
            }
            _ if grouping.movie_id.is_none() && only(&[City, Day, Weekday, Category]) => {
                "box_office_city_days"
            }
            _ if grouping.city_id.is_none() && only(&[Movie, Day, Weekday, Category]) => {
                "box_office_movie_days"
            }
            _ => "box_office_facts",
        }
    }

    pub fn measures(self) -> &'static [&'static str] {
        match self {
            Self::Facts => &FACT_MEASURES,
            Self::Funnel => &FUNNEL_MEASURES,
        }
    }

    /// Measures worked out from the summed ones, that a report may be sorted by, with
    /// their SQL over the grouped row.
    fn derived(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Facts => &[
                (
                    "tickets_net",
                    "(tickets_sold + tickets_exchanged_in - tickets_exchanged_out - tickets_refunded)",
                ),
                (
                    "net_revenue_minor",
                    "(gross_minor - discounts_minor + exchanged_in_minor - exchanged_out_minor - refunds_minor)",
                ),
                (
                    "occupancy",
                    "(CASE WHEN capacity = 0 THEN -1 ELSE (tickets_sold + tickets_exchanged_in \
                     - tickets_exchanged_out - tickets_refunded)::numeric / capacity END)",
                ),
            ],
            Self::Funnel => &[(
                "conversion",
                "(CASE WHEN holds_made = 0 THEN -1 ELSE holds_paid::numeric / holds_made END)",
            )],
        }
    }

    fn has_currency(self) -> bool {
        self == Self::Facts
    }

    pub fn allows(self, dimension: Dimension) -> bool {
        self == Self::Facts || dimension != Dimension::Category
    }

    /// Whether `name` is a key this report may be sorted by.
    pub fn sortable(self, name: &str) -> bool {
        Dimension::parse(name).is_some_and(|d| self.allows(d))
            || self.measures().contains(&name)
            || self.derived().iter().any(|(n, _)| *n == name)
    }
}

/// What a grouped report is asked for.
#[derive(Debug, Clone)]
pub struct Grouping {
    /// Distinct, in nesting order.
    pub dimensions: Vec<Dimension>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub city_id: Option<Uuid>,
    pub cinema_id: Option<Uuid>,
    pub movie_id: Option<Uuid>,
    pub currency: Option<String>,
    /// A dimension's or measure's name (checked with [`Cube::sortable`]); `None`: the
    /// dimensions' order.
    pub sort: Option<String>,
    pub descending: bool,
    pub page_size: i64,
    /// The sort key of the last row of the previous page.
    pub after: Option<Vec<String>>,
}

/// A row: its dimensions' cells (named by [`Grouped::columns`]), its currency (facts only)
/// and its summed measures (named by [`Cube::measures`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub cells: Vec<Cell>,
    pub currency: Option<String>,
    pub measures: Vec<i64>,
}

/// A page of groups, the totals of every group (per currency for the facts), and the key
/// to ask for the next page with.
#[derive(Debug, Clone)]
pub struct Grouped {
    pub columns: Vec<(&'static str, Kind)>,
    pub rows: Vec<GroupRow>,
    pub totals: Vec<GroupRow>,
    pub next: Option<Vec<String>>,
}

/// Whether a cursor fits this grouping (a cursor of another grouping or sort is refused).
#[derive(Debug, thiserror::Error)]
#[error("the cursor does not belong to this report's grouping and sort")]
pub struct ForeignCursor;

/// One page of `cube` grouped as `grouping` asks.
pub async fn grouped(
    client: &impl GenericClient,
    cube: Cube,
    grouping: &Grouping,
) -> Result<Result<Grouped, ForeignCursor>, tokio_postgres::Error> {
    let mut columns: Vec<(&'static str, &'static str, Kind)> = Vec::new();
    let mut joins: Vec<&'static str> = Vec::new();
    let mut order: Vec<(String, &'static str, bool)> = Vec::new();
    let mut sort_first: Vec<(String, &'static str, bool)> = Vec::new();
    for dimension in &grouping.dimensions {
        columns.extend_from_slice(dimension.columns());
        joins.extend(dimension.join());
        let descending = grouping.sort.as_deref() == Some(dimension.name()) && grouping.descending;
        let keys = dimension
            .order()
            .iter()
            .map(|(sql, ty)| (sql.to_string(), *ty, descending));
        if grouping.sort.as_deref() == Some(dimension.name()) {
            sort_first.extend(keys);
        } else {
            order.extend(keys);
        }
    }
    if let Some(sort) = &grouping.sort {
        if let Some((_, sql)) = cube.derived().iter().find(|(n, _)| n == sort) {
            sort_first.push((sql.to_string(), "numeric", grouping.descending));
        } else if cube.measures().contains(&sort.as_str()) {
            sort_first.push((sort.clone(), "bigint", grouping.descending));
        }
    }
    if cube.has_currency() {
        order.push(("currency".to_owned(), "text", false));
    }
    sort_first.extend(order);
    let order = sort_first;
    if grouping
        .after
        .as_ref()
        .is_some_and(|after| after.len() != order.len())
    {
        return Ok(Err(ForeignCursor));
    }

    let table = cube.table(&grouping.dimensions, grouping);
    // The totals do not depend on the grouping: the smallest table the filters allow.
    let totals_table = cube.table(&[], grouping);
    let select_dims: Vec<String> = columns
        .iter()
        .map(|(name, sql, _)| format!("{sql} AS {name}, "))
        .collect();
    let mut group_dims: Vec<&str> = columns.iter().map(|(_, sql, _)| *sql).collect();
    let currency = if cube.has_currency() {
        group_dims.push("f.currency");
        "f.currency"
    } else {
        "''::text"
    };
    // Each group's shows: every fact row is one show's category, and one category row of
    // each show counts it unless the groups are categories.
    let (shows, total_shows) = match cube {
        Cube::Funnel => ("count(*)", "count(*)"),
        Cube::Facts if grouping.dimensions.contains(&Dimension::Category) => {
            ("sum(f.shows)", "sum(f.shows_first)")
        }
        Cube::Facts => ("sum(f.shows_first)", "sum(f.shows_first)"),
    };
    let sums: Vec<String> = cube.measures()[1..]
        .iter()
        .map(|m| format!("sum(f.{m})::bigint AS {m}"))
        .collect();
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![
        Box::new(grouping.from),
        Box::new(grouping.to),
        Box::new(grouping.city_id),
        Box::new(grouping.cinema_id),
        Box::new(grouping.movie_id),
    ];
    if cube.has_currency() {
        params.push(Box::new(grouping.currency.clone()));
    }
    let first_after_slot = params.len() + 1;
    let keyset = match &grouping.after {
        None => "true".to_owned(),
        Some(after) => {
            // (k1 > c1) OR (k1 = c1 AND k2 > c2) OR ..., each key in its own direction.
            let mut alternatives = Vec::new();
            for (n, (sql, ty, descending)) in order.iter().enumerate() {
                let mut terms: Vec<String> = order[..n]
                    .iter()
                    .enumerate()
                    .map(|(k, (sql, ty, _))| {
                        format!("{sql} = ${}::text::{ty}", first_after_slot + k)
                    })
                    .collect();
                let op = if *descending { "<" } else { ">" };
                terms.push(format!("{sql} {op} ${}::text::{ty}", first_after_slot + n));
                alternatives.push(format!("({})", terms.join(" AND ")));
            }
            for value in after {
                params.push(Box::new(value.clone()));
            }
            alternatives.join(" OR ")
        }
    };
    let order_by: Vec<String> = order
        .iter()
        .map(|(sql, _, descending)| format!("{sql}{}", if *descending { " DESC" } else { "" }))
        .collect();
    let key_text: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(n, (sql, _, _))| format!("({sql})::text AS k{n}"))
        .collect();
    let no_keys: Vec<String> = (0..order.len())
        .map(|n| format!("NULL::text AS k{n}"))
        .collect();
    let null_dims: Vec<String> = columns
        .iter()
        .map(|(name, sql, _)| format!("NULL::{} AS {name}, ", sql_type(sql, name)))
        .collect();
    params.push(Box::new(grouping.page_size + 1));
    let limit_slot = params.len();
    let group_by = if group_dims.is_empty() {
        "()".to_owned()
    } else {
        group_dims.join(", ")
    };
    let filters = filters_on(cube, table).join(" AND ");
    // Groups led by a cinema or a city, in the order of its name, need only the first
    // entities that have a row here from the cursor's on: each gives at least one group, so
    // the page's rows, the one after them and the cursor's own come from page size + 2 of
    // them. A page reads a page's worth of cinemas' rows, not the whole country's. When
    // other dimensions split each entity into several groups (a cinema's hours, a city's
    // days), a quarter of that is tried first (see `fewer_candidates_sufficed`).
    let leading = leading_entity(grouping);
    let split = leading.is_some() && grouping.dimensions.len() > 1;
    // Its value is set by each try below.
    let candidates_slot = leading.as_ref().map(|_| {
        params.push(Box::new(0_i64));
        params.len()
    });
    let (candidates, only_candidates) = match (leading, candidates_slot) {
        (Some((entity, descending)), Some(candidates_slot)) => {
            let (dir, op) = if descending {
                (" DESC", "<=")
            } else {
                ("", ">=")
            };
            let after = match grouping.after {
                Some(_) => format!(
                    "(e.{name}, e.{id}) {op} (${a}::text, ${b}::text::uuid)",
                    name = entity.name,
                    id = entity.id,
                    a = first_after_slot,
                    b = first_after_slot + 1
                ),
                None => "true".to_owned(),
            };
            (
                format!(
                    "candidates AS MATERIALIZED (
                        SELECT e.{id} AS id FROM {entities} e
                        WHERE {after} AND EXISTS (
                            SELECT 1 FROM {table} f WHERE f.{id} = e.{id} AND {filters})
                        ORDER BY e.{name}{dir}, e.{id}{dir} LIMIT ${candidates_slot}
                    ), ",
                    id = entity.id,
                    name = entity.name,
                    entities = entity.table,
                ),
                format!(
                    " AND (f.{id} = ANY(ARRAY(SELECT id FROM candidates)) OR f.{id} IS NULL
                        OR f.{id} = '00000000-0000-0000-0000-000000000000')",
                    id = entity.id
                ),
            )
        }
        _ => (String::new(), String::new()),
    };
    let totals_currency = if cube.has_currency() {
        "f.currency"
    } else {
        "''::text"
    };
    let sql = format!(
        "WITH {candidates}t AS (
            SELECT {totals_currency} AS currency, {total_shows}::bigint AS shows, {sums}
            FROM {totals_table} f
            WHERE {totals_filters}
            GROUP BY 1
        )
        (SELECT {null_dims}currency, shows, {measures}, true AS is_total, {no_keys}
         FROM t ORDER BY currency)
        UNION ALL
        (SELECT g.*, false AS is_total, {key_text}
         FROM (
            SELECT {select_dims}{currency} AS currency, {shows}::bigint AS shows, {sums}
            FROM {table} f {joins}
            WHERE {filters}{only_candidates}
            GROUP BY {group_by}
         ) g
         WHERE {keyset}
         ORDER BY {order_by} LIMIT ${limit_slot})",
        select_dims = select_dims.concat(),
        null_dims = null_dims.concat(),
        sums = sums.join(", "),
        measures = cube.measures()[1..].join(", "),
        totals_filters = filters_on(cube, totals_table).join(" AND "),
        joins = joins.join(" "),
        key_text = key_text.join(", "),
        no_keys = no_keys.join(", "),
        order_by = order_by.join(", "),
    );
    let full = grouping.page_size + 2;
    let mut tries = if split {
        vec![grouping.page_size / 4 + 2, full]
    } else {
        vec![full]
    };
    tries.dedup();
    let mut result = Vec::new();
    for (n, limit) in tries.iter().enumerate() {
        if let Some(slot) = candidates_slot {
            params[slot - 1] = Box::new(*limit);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        result = match client.query(&sql, &refs).await {
            Ok(rows) => rows,
            // Every other parameter is typed: a value that does not cast is the cursor's.
            Err(error)
                if grouping.after.is_some()
                    && error.code().is_some_and(|c| c.code().starts_with("22")) =>
            {
                return Ok(Err(ForeignCursor))
            }
            Err(error) => return Err(error),
        };
        if n + 1 == tries.len() || fewer_candidates_sufficed(&result, grouping.page_size) {
            break;
        }
    }
    let mut grouped = Grouped {
        columns: columns
            .iter()
            .map(|(name, _, kind)| (*name, *kind))
            .collect(),
        rows: Vec::new(),
        totals: Vec::new(),
        next: None,
    };
    for row in &result {
        let measures = cube
            .measures()
            .iter()
            .map(|m| row.get::<_, i64>(*m))
            .collect();
        let currency: String = row.get("currency");
        let currency = cube.has_currency().then_some(currency);
        if row.get::<_, bool>("is_total") {
            grouped.totals.push(GroupRow {
                cells: Vec::new(),
                currency,
                measures,
            });
            continue;
        }
        if grouped.rows.len() as i64 == grouping.page_size {
            let last = &result[result.len() - 2];
            grouped.next = Some(
                (0..order.len())
                    .map(|n| last.get::<_, String>(format!("k{n}").as_str()))
                    .collect(),
            );
            break;
        }
        let cells = columns
            .iter()
            .map(|(name, _, kind)| cell(row, name, *kind))
            .collect();
        grouped.rows.push(GroupRow {
            cells,
            currency,
            measures,
        });
    }
    Ok(Ok(grouped))
}

/// The SQL type of a dimension's column, for the totals' empty cells.
fn sql_type(sql: &str, name: &str) -> &'static str {
    match name {
        "day" => "date",
        "weekday" | "hour" => "int",
        "starts_at" => "timestamptz",
        "cancelled" => "boolean",
        _ if name.ends_with("_id") || sql.ends_with("_id") => "uuid",
        _ => "text",
    }
}

/// The filters on `table` (aliased `f`): $1 and $2 the local dates, $3 to $5 the city,
/// cinema and movie (NULL: any), $6 the currency (facts only). The day rollups have no
/// cinema and at most one of city and movie: they are read only when the others are NULL.
fn filters_on(cube: Cube, table: &str) -> Vec<&'static str> {
    let mut filters = vec!["f.local_date BETWEEN $1 AND $2"];
    filters.push(
        if matches!(table, "box_office_movie_days" | "box_office_days") {
            "$3::uuid IS NULL"
        } else {
            "($3::uuid IS NULL OR f.city_id = $3)"
        },
    );
    filters.push(if table.ends_with("_days") {
        "$4::uuid IS NULL"
    } else {
        "($4::uuid IS NULL OR f.cinema_id = $4)"
    });
    filters.push(
        if matches!(table, "box_office_city_days" | "box_office_days") {
            "$5::uuid IS NULL"
        } else {
            "($5::uuid IS NULL OR f.movie_id = $5)"
        },
    );
    if cube.has_currency() {
        filters.push("($6::text IS NULL OR f.currency = $6)");
    }
    filters
}

/// Whether a try with fewer candidate entities than page size + 2 answered the page. The
/// first entities in name order give the first groups in that order, so it did if it found
/// the page's rows and the one after, the last of them a real entity's: the group of shows
/// without one (always read, its name empty) may sort after every candidate but not after
/// entities never read. `rows` are the query's, totals first; the leading entity's id is
/// key `k1`.
fn fewer_candidates_sufficed(rows: &[tokio_postgres::Row], page_size: i64) -> bool {
    let groups = rows.iter().filter(|r| !r.get::<_, bool>("is_total"));
    groups.clone().count() as i64 > page_size
        && groups
            .last()
            .is_some_and(|r| r.get::<_, String>("k1") != Uuid::nil().to_string())
}

/// The catalogue entity whose name orders a report's groups first, and whether downwards:
/// the sorted dimension, or with no sort the first one.
fn leading_entity(grouping: &Grouping) -> Option<(Entity, bool)> {
    match grouping.sort.as_deref() {
        None => Some((grouping.dimensions.first()?.entity()?, false)),
        Some(sort) => Some((Dimension::parse(sort)?.entity()?, grouping.descending)),
    }
}

fn cell(row: &tokio_postgres::Row, name: &str, kind: Kind) -> Cell {
    let value = match kind {
        Kind::Uuid => row.get::<_, Option<Uuid>>(name).map(Cell::Uuid),
        Kind::Text => row.get::<_, Option<String>>(name).map(Cell::Text),
        Kind::Date => row.get::<_, Option<NaiveDate>>(name).map(Cell::Date),
        Kind::Int => row.get::<_, Option<i32>>(name).map(|n| Cell::Int(n.into())),
        Kind::Instant => row.get::<_, Option<DateTime<Utc>>>(name).map(Cell::Instant),
        Kind::Bool => row.get::<_, Option<bool>>(name).map(Cell::Bool),
    };
    value.unwrap_or(Cell::Null)
}

const KNOWN_SQL: &str = include_str!("sql/known.sql");

/// Which of a city, a cinema and a movie the box office does not know (by name).
pub async fn unknown_ids(
    client: &impl GenericClient,
    city_id: Option<Uuid>,
    cinema_id: Option<Uuid>,
    movie_id: Option<Uuid>,
    show_id: Option<Uuid>,
) -> Result<Vec<&'static str>, tokio_postgres::Error> {
    let row = client
        .query_one(KNOWN_SQL, &[&city_id, &cinema_id, &movie_id, &show_id])
        .await?;
    Ok(["city_id", "cinema_id", "movie_id", "show_id"]
        .into_iter()
        .filter(|name| !row.get::<_, bool>(*name))
        .collect())
}

/// Whose sales a timeline follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Show,
    Movie,
    Cinema,
    City,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Self::Show => "show",
            Self::Movie => "movie",
            Self::Cinema => "cinema",
            Self::City => "city",
        }
    }
}

/// One bucket of sale time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineRow {
    /// The start of the hour or day.
    pub bucket: DateTime<Utc>,
    pub currency: String,
    pub tickets_sold: i64,
    pub tickets_refunded: i64,
    pub tickets_net: i64,
    pub net_revenue_minor: i64,
    pub cumulative_tickets_net: i64,
    pub cumulative_net_revenue_minor: i64,
}

/// The on-sale curve of one show, movie, cinema or city: per hour (`by_day` false) or per
/// day in `time_zone` (an IANA name the caller has checked), within sale dates `from` to
/// `to` when given.
pub async fn timeline(
    client: &impl GenericClient,
    (scope, id): (Scope, Uuid),
    by_day: bool,
    time_zone: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<TimelineRow>, tokio_postgres::Error> {
    let bucket = if by_day { "day" } else { "hour" };
    let rows = client
        .query(
            TIMELINE_SQL,
            &[&scope.name(), &id, &bucket, &time_zone, &from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| TimelineRow {
            bucket: row.get("bucket"),
            currency: row.get("currency"),
            tickets_sold: row.get("tickets_sold"),
            tickets_refunded: row.get("tickets_refunded"),
            tickets_net: row.get("tickets_net"),
            net_revenue_minor: row.get("net_revenue_minor"),
            cumulative_tickets_net: row.get("cumulative_tickets_net"),
            cumulative_net_revenue_minor: row.get("cumulative_net_revenue_minor"),
        })
        .collect())
}

const TIMELINE_SQL: &str = include_str!("sql/timeline.sql");

/// The position at which the box office's answers last changed (for ETags), as
/// `(commit, prepare)`. Before the projector has written its checkpoint (a server just
/// started) it is the start, which is what the row holds when it appears: the tag of an
/// unchanged report does not change when the row does.
pub async fn etag_position(
    client: &impl GenericClient,
) -> Result<(i64, i64), tokio_postgres::Error> {
    let positions = crate::runner::etag_positions(client, &["box_office"]).await?;
    Ok(positions.first().map_or((0, 0), |p| (p.commit, p.prepare)))
}
