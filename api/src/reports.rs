//! The box-office reports as both the HTTP API and the command line give them: the
//! parameters checked into a query of the read models, and the answer written as JSON or as
//! CSV with the same figures (definitions in docs/reports.md). One place, so that a script
//! reading `boxoffice report` and a client reading `/v1/reports/*` see the same report.

use base64::Engine;
use boxoffice_domain::money::Currency;
use boxoffice_projections::box_office::{
    Cell, Cube, Dimension, GroupRow, Grouped, Grouping, Scope, TimelineRow,
};
use chrono::{Datelike, NaiveDate, SecondsFormat};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Most days a report may cover.
pub const MAX_DAYS: i64 = 366;
pub const DEFAULT_PAGE_SIZE: i64 = 100;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// Parameters of a grouped report, as given.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupedArgs {
    pub group_by: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub city_id: Option<Uuid>,
    pub cinema_id: Option<Uuid>,
    pub movie_id: Option<Uuid>,
    pub currency: Option<String>,
    pub sort: Option<String>,
    pub page_size: Option<i64>,
    pub cursor: Option<String>,
}

/// Why a report's parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// A parameter that cannot be read (400).
    Query(String),
    /// Ids the box office does not know (422).
    UnknownIds(Vec<&'static str>),
}

fn invalid(detail: impl Into<String>) -> Invalid {
    Invalid::Query(detail.into())
}

/// The dates `from` to `to`, both given, in order, at most [`MAX_DAYS`] days.
pub fn date_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    required: bool,
) -> Result<(), Invalid> {
    for date in [from, to].into_iter().flatten() {
        if !(1900..=9999).contains(&date.year()) {
            return Err(invalid(format!(
                "{date} is outside the years 1900 to 9999 a report covers"
            )));
        }
    }
    match (from, to) {
        (Some(from), Some(to)) => {
            if to < from {
                return Err(invalid(format!("to ({to}) is before from ({from})")));
            }
            let days = (to - from).num_days() + 1;
            if days > MAX_DAYS {
                return Err(invalid(format!(
                    "from {from} to {to} is {days} days; a report covers at most {MAX_DAYS}"
                )));
            }
            Ok(())
        }
        _ if required => Err(invalid("from and to (local show dates) are required")),
        (Some(_), None) | (None, Some(_)) => Err(invalid("give both from and to, or neither")),
        (None, None) => Ok(()),
    }
}

/// The grouping `args` ask of `cube`.
pub fn grouping(cube: Cube, args: &GroupedArgs) -> Result<Grouping, Invalid> {
    let group_by = args
        .group_by
        .as_deref()
        .filter(|g| !g.trim().is_empty())
        .ok_or_else(|| {
            invalid(
                "group_by is required (movie, cinema, city, day, weekday, hour, category, show)",
            )
        })?;
    let mut dimensions = Vec::new();
    for name in group_by.split(',').map(str::trim) {
        let dimension = Dimension::parse(name)
            .filter(|d| cube.allows(*d))
            .ok_or_else(|| {
                let known: Vec<&str> = Dimension::ALL
                    .into_iter()
                    .filter(|d| cube.allows(*d))
                    .map(Dimension::name)
                    .collect();
                invalid(format!(
                    "group_by: `{name}` is not a dimension of this report ({})",
                    known.join(", ")
                ))
            })?;
        if dimensions.contains(&dimension) {
            return Err(invalid(format!("group_by names `{name}` twice")));
        }
        dimensions.push(dimension);
    }
    dimensions.sort();
    date_range(args.from, args.to, true)?;
    let (Some(from), Some(to)) = (args.from, args.to) else {
        unreachable!("date_range requires both")
    };
    let (sort, descending) = match args.sort.as_deref() {
        None | Some("") => (None, false),
        Some(sort) => {
            let (name, descending) = match sort.strip_prefix('-') {
                Some(name) => (name, true),
                None => (sort, false),
            };
            let is_grouped = Dimension::parse(name).is_none_or(|d| dimensions.contains(&d));
            if !cube.sortable(name) || !is_grouped {
                return Err(invalid(format!(
                    "sort: `{name}` is neither a dimension grouped by nor a measure of this report"
                )));
            }
            (Some(name.to_owned()), descending)
        }
    };
    if cube == Cube::Funnel && args.currency.is_some() {
        return Err(invalid(
            "the funnel counts holds and payments: it has no currency",
        ));
    }
    if let Some(currency) = &args.currency {
        if Currency::parse(currency).is_none() {
            return Err(invalid(format!(
                "currency `{currency}` is not an ISO 4217 code (three capital letters)"
            )));
        }
    }
    let page_size = match args.page_size {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        Some(_) => {
            return Err(invalid(format!(
                "page_size must be between 1 and {MAX_PAGE_SIZE}"
            )))
        }
    };
    let mut grouping = Grouping {
        dimensions,
        from,
        to,
        city_id: args.city_id,
        cinema_id: args.cinema_id,
        movie_id: args.movie_id,
        currency: args.currency.clone(),
        sort,
        descending,
        page_size,
        after: None,
    };
    if let Some(cursor) = &args.cursor {
        grouping.after = Some(
            decode_cursor(cube, &grouping, cursor)
                .ok_or_else(|| invalid("cursor is not one this report handed out"))?,
        );
    }
    Ok(grouping)
}

/// What a cursor holds: the report it belongs to and the last row's sort key.
#[derive(Serialize, Deserialize)]
struct CursorBody {
    of: String,
    after: Vec<String>,
}

/// Which report, grouping and sort a cursor belongs to.
fn cursor_owner(cube: Cube, grouping: &Grouping) -> String {
    let names: Vec<&str> = grouping.dimensions.iter().map(|d| d.name()).collect();
    format!(
        "{cube:?}/{}/{}{}",
        names.join(","),
        if grouping.descending { "-" } else { "" },
        grouping.sort.as_deref().unwrap_or("")
    )
}

pub fn encode_cursor(cube: Cube, grouping: &Grouping, after: &[String]) -> String {
    let body = CursorBody {
        of: cursor_owner(cube, grouping),
        after: after.to_vec(),
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cube: Cube, grouping: &Grouping, cursor: &str) -> Option<Vec<String>> {
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let body: CursorBody = serde_json::from_slice(&json).ok()?;
    (body.of == cursor_owner(cube, grouping)).then_some(body.after)
}

/// `a / b` as a decimal with `places` places, rounded half away from zero; `None` when `b`
/// is not positive.
pub fn ratio(a: i64, b: i64, places: u32) -> Option<String> {
    if b <= 0 {
        return None;
    }
    let scale = 10i128.pow(places);
    let (a, b) = (i128::from(a), i128::from(b));
    let scaled = (2 * a * scale + a.signum() * b) / (2 * b);
    let sign = if scaled < 0 { "-" } else { "" };
    let magnitude = scaled.unsigned_abs();
    let unit = scale as u128;
    Some(format!(
        "{sign}{}.{:0width$}",
        magnitude / unit,
        magnitude % unit,
        width = places as usize
    ))
}

/// `a / b` rounded half away from zero to a whole number; `None` when `b` is not positive.
fn rounded_quotient(a: i64, b: i64) -> Option<i64> {
    if b <= 0 {
        return None;
    }
    let (a, b) = (i128::from(a), i128::from(b));
    i64::try_from((2 * a + a.signum() * b) / (2 * b)).ok()
}

/// A row's figures: its summed measures by name, and those worked out from them.
fn figures(cube: Cube, row: &GroupRow) -> Vec<(&'static str, Figure)> {
    let mut out: Vec<(&'static str, Figure)> = cube
        .measures()
        .iter()
        .zip(&row.measures)
        .map(|(name, value)| (*name, figure(name, *value)))
        .collect();
    let get = |name: &str| {
        cube.measures()
            .iter()
            .position(|m| *m == name)
            .map_or(0, |i| row.measures[i])
    };
    match cube {
        Cube::Facts => {
            let tickets_net = get("tickets_sold") + get("tickets_exchanged_in")
                - get("tickets_exchanged_out")
                - get("tickets_refunded");
            let net_revenue = get("gross_minor") - get("discounts_minor")
                + get("exchanged_in_minor")
                - get("exchanged_out_minor")
                - get("refunds_minor");
            out.push(("tickets_net", Figure::Count(tickets_net)));
            out.push(("net_revenue_minor", Figure::Money(net_revenue)));
            out.push((
                "occupancy",
                Figure::Ratio(ratio(tickets_net, get("capacity"), 4)),
            ));
            out.push((
                "average_price_minor",
                Figure::MaybeMoney(rounded_quotient(net_revenue, tickets_net)),
            ));
        }
        Cube::Funnel => {
            out.push((
                "conversion",
                Figure::Ratio(ratio(get("holds_paid"), get("holds_made"), 4)),
            ));
        }
    }
    out
}

enum Figure {
    Count(i64),
    Money(i64),
    MaybeMoney(Option<i64>),
    Ratio(Option<String>),
}

fn figure(name: &str, value: i64) -> Figure {
    if name.ends_with("_minor") {
        Figure::Money(value)
    } else {
        Figure::Count(value)
    }
}

impl Figure {
    fn json(&self) -> Value {
        match self {
            Self::Count(n) | Self::Money(n) => Value::from(*n),
            Self::MaybeMoney(n) => n.map_or(Value::Null, Value::from),
            Self::Ratio(r) => r.clone().map_or(Value::Null, Value::from),
        }
    }

    fn csv(&self, currency: Option<&Currency>) -> String {
        let money = |n: i64| currency.map_or(n.to_string(), |c| c.decimal(n));
        match self {
            Self::Count(n) => n.to_string(),
            Self::Money(n) => money(*n),
            Self::MaybeMoney(n) => n.map(money).unwrap_or_default(),
            Self::Ratio(r) => r.clone().unwrap_or_default(),
        }
    }
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Uuid(id) => Value::from(id.to_string()),
        Cell::Text(text) => Value::from(text.as_str()),
        Cell::Date(date) => Value::from(date.to_string()),
        Cell::Int(n) => Value::from(*n),
        Cell::Instant(at) => Value::from(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        Cell::Bool(b) => Value::from(*b),
    }
}

fn cell_text(cell: &Cell) -> String {
    match cell_json(cell) {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn row_json(
    cube: Cube,
    columns: &[(&'static str, boxoffice_projections::box_office::Kind)],
    row: &GroupRow,
) -> Value {
    let mut object = Map::new();
    for ((name, _), cell) in columns.iter().zip(&row.cells) {
        object.insert((*name).to_owned(), cell_json(cell));
    }
    if let Some(currency) = &row.currency {
        object.insert("currency".to_owned(), Value::from(currency.as_str()));
    }
    for (name, figure) in figures(cube, row) {
        object.insert(name.to_owned(), figure.json());
    }
    Value::Object(object)
}

/// A grouped report as JSON: `group_by`, `from`, `to`, `rows`, `totals` (a list per
/// currency for the facts, one object for the funnel), `next_cursor`.
pub fn grouped_json(cube: Cube, grouping: &Grouping, grouped: &Grouped) -> Map<String, Value> {
    let mut answer = Map::new();
    let names: Vec<&str> = grouping.dimensions.iter().map(|d| d.name()).collect();
    answer.insert("group_by".into(), Value::from(names));
    answer.insert("from".into(), Value::from(grouping.from.to_string()));
    answer.insert("to".into(), Value::from(grouping.to.to_string()));
    let rows: Vec<Value> = grouped
        .rows
        .iter()
        .map(|row| row_json(cube, &grouped.columns, row))
        .collect();
    answer.insert("rows".into(), Value::from(rows));
    let totals: Vec<Value> = grouped
        .totals
        .iter()
        .map(|row| row_json(cube, &[], row))
        .collect();
    let totals = match cube {
        Cube::Facts => Value::from(totals),
        Cube::Funnel => totals.into_iter().next().unwrap_or_else(|| {
            let zero = GroupRow {
                cells: Vec::new(),
                currency: None,
                measures: vec![0; cube.measures().len()],
            };
            row_json(cube, &[], &zero)
        }),
    };
    answer.insert("totals".into(), totals);
    let next = grouped
        .next
        .as_ref()
        .map(|after| encode_cursor(cube, grouping, after));
    answer.insert("next_cursor".into(), next.map_or(Value::Null, Value::from));
    answer
}

/// A grouped report's rows as CSV (RFC 4180, CRLF line ends): the dimensions' columns,
/// `currency`, then the figures, money as decimals (`_minor` dropped from the names).
pub fn grouped_csv(cube: Cube, grouped: &Grouped, with_header: bool) -> String {
    let mut out = String::new();
    if with_header {
        let mut header: Vec<String> = grouped
            .columns
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        if cube == Cube::Facts {
            header.push("currency".into());
        }
        let zero = GroupRow {
            cells: Vec::new(),
            currency: None,
            measures: vec![0; cube.measures().len()],
        };
        header.extend(
            figures(cube, &zero)
                .into_iter()
                .map(|(name, _)| name.trim_end_matches("_minor").to_owned()),
        );
        csv_line(&mut out, &header);
    }
    for row in &grouped.rows {
        let currency = row.currency.as_deref().and_then(Currency::parse);
        let mut fields: Vec<String> = row.cells.iter().map(cell_text).collect();
        if let Some(code) = &row.currency {
            fields.push(code.clone());
        }
        fields.extend(
            figures(cube, row)
                .iter()
                .map(|(_, figure)| figure.csv(currency.as_ref())),
        );
        csv_line(&mut out, &fields);
    }
    out
}

/// A timeline as CSV.
pub fn timeline_csv(rows: &[TimelineRow]) -> String {
    let mut out = String::new();
    let header = [
        "bucket",
        "currency",
        "tickets_sold",
        "tickets_refunded",
        "tickets_net",
        "net_revenue",
        "cumulative_tickets_net",
        "cumulative_net_revenue",
    ];
    csv_line(&mut out, &header.map(String::from));
    for row in rows {
        let currency = Currency::parse(&row.currency);
        let money = |n: i64| currency.as_ref().map_or(n.to_string(), |c| c.decimal(n));
        csv_line(
            &mut out,
            &[
                row.bucket.to_rfc3339_opts(SecondsFormat::Secs, true),
                row.currency.clone(),
                row.tickets_sold.to_string(),
                row.tickets_refunded.to_string(),
                row.tickets_net.to_string(),
                money(row.net_revenue_minor),
                row.cumulative_tickets_net.to_string(),
                money(row.cumulative_net_revenue_minor),
            ],
        );
    }
    out
}

/// One CSV record: a field holding a comma, a quote or a line break is quoted, its quotes
/// doubled (RFC 4180).
fn csv_line(out: &mut String, fields: &[String]) {
    for (n, field) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// Exactly one scope of a timeline.
pub fn timeline_scope(
    show_id: Option<Uuid>,
    movie_id: Option<Uuid>,
    cinema_id: Option<Uuid>,
    city_id: Option<Uuid>,
) -> Result<(Scope, Uuid), Invalid> {
    let given: Vec<(Scope, Uuid)> = [
        (Scope::Show, show_id),
        (Scope::Movie, movie_id),
        (Scope::Cinema, cinema_id),
        (Scope::City, city_id),
    ]
    .into_iter()
    .filter_map(|(scope, id)| id.map(|id| (scope, id)))
    .collect();
    match given.as_slice() {
        [one] => Ok(*one),
        _ => Err(invalid(
            "name exactly one of show_id, movie_id, cinema_id and city_id",
        )),
    }
}

/// A time zone's IANA name, checked.
pub fn time_zone(tz: Option<&str>) -> Result<String, Invalid> {
    let tz = tz.unwrap_or("UTC");
    tz.parse::<chrono_tz::Tz>()
        .map(|_| tz.to_owned())
        .map_err(|_| invalid(format!("tz `{tz}` is not an IANA time zone")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_half_away_from_zero() {
        assert_eq!(ratio(5, 12, 4).as_deref(), Some("0.4167"));
        assert_eq!(ratio(1, 8, 2).as_deref(), Some("0.13"));
        assert_eq!(ratio(-1, 8, 2).as_deref(), Some("-0.13"));
        assert_eq!(ratio(12, 12, 4).as_deref(), Some("1.0000"));
        assert_eq!(ratio(1, 0, 4), None);
        assert_eq!(rounded_quotient(26450, 6), Some(4408));
        assert_eq!(rounded_quotient(5, 2), Some(3));
        assert_eq!(rounded_quotient(-5, 2), Some(-3));
        assert_eq!(rounded_quotient(5, 0), None);
    }

    #[test]
    fn csv_fields_with_commas_and_quotes_are_quoted() {
        let mut out = String::new();
        csv_line(
            &mut out,
            &["流浪地球, 2".into(), "say \"hi\"".into(), "plain".into()],
        );
        assert_eq!(out, "\"流浪地球, 2\",\"say \"\"hi\"\"\",plain\r\n");
    }
}
