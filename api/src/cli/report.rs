//! `boxoffice report`: the box-office reports for analysts' scripts and cron jobs, read
//! straight from the read models, every page, as JSON or CSV (the same figures as
//! `/v1/reports/*`, written by the same code).

use super::Target;
use crate::reports::{self, GroupedArgs, Invalid};
use crate::server;
use boxoffice_eventstore::postgres as pg;
use boxoffice_projections::box_office::{self, Cube};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde_json::Value;
use uuid::Uuid;

#[derive(Subcommand)]
pub enum ReportAction {
    /// The box office grouped by movie, cinema, city, day, weekday, hour, category or show.
    BoxOffice(GroupedCli),
    /// The on-sale curve of a show, movie, cinema or city.
    Timeline(TimelineCli),
    /// The conversion funnel, grouped like the box office (no category).
    Funnel(GroupedCli),
}

#[derive(Args)]
pub struct GroupedCli {
    /// Comma-separated: movie, cinema, city, day, weekday, hour, category, show.
    #[arg(long)]
    group_by: String,
    /// First local show date.
    #[arg(long)]
    from: NaiveDate,
    /// Last local show date, included.
    #[arg(long)]
    to: NaiveDate,
    #[arg(long)]
    city_id: Option<Uuid>,
    #[arg(long)]
    cinema_id: Option<Uuid>,
    #[arg(long)]
    movie_id: Option<Uuid>,
    /// Only rows in this currency (box office only).
    #[arg(long)]
    currency: Option<String>,
    /// A dimension or measure, `-` first for descending (`--sort=-net_revenue_minor`).
    #[arg(long, allow_hyphen_values = true)]
    sort: Option<String>,
    /// CSV instead of JSON.
    #[arg(long)]
    csv: bool,
}

#[derive(Args)]
pub struct TimelineCli {
    #[arg(long)]
    show_id: Option<Uuid>,
    #[arg(long)]
    movie_id: Option<Uuid>,
    #[arg(long)]
    cinema_id: Option<Uuid>,
    #[arg(long)]
    city_id: Option<Uuid>,
    /// `hour` or `day`.
    #[arg(long, default_value = "hour")]
    bucket: String,
    /// The IANA time zone of days and dates.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// First sale date.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last sale date, included.
    #[arg(long)]
    to: Option<NaiveDate>,
    /// CSV instead of JSON.
    #[arg(long)]
    csv: bool,
}

fn explain(invalid: Invalid) -> String {
    match invalid {
        Invalid::Query(detail) => detail,
        Invalid::UnknownIds(names) => format!("the box office knows no such {}", names.join(", ")),
    }
}

pub async fn run(target: &Target, action: ReportAction) -> Result<(), String> {
    let config = server::prepare_database(&target.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let pool = pg::pool(&config, 1);
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let db = |e: tokio_postgres::Error| e.to_string();
    let out = match action {
        ReportAction::BoxOffice(args) => grouped(&client, Cube::Facts, args).await?,
        ReportAction::Funnel(args) => grouped(&client, Cube::Funnel, args).await?,
        ReportAction::Timeline(args) => {
            let scope =
                reports::timeline_scope(args.show_id, args.movie_id, args.cinema_id, args.city_id)
                    .map_err(explain)?;
            let by_day = match args.bucket.as_str() {
                "hour" => false,
                "day" => true,
                other => return Err(format!("--bucket {other} is neither hour nor day")),
            };
            let tz = reports::time_zone(Some(&args.tz)).map_err(explain)?;
            reports::date_range(args.from, args.to, false).map_err(explain)?;
            let (show, movie, cinema, city) =
                (args.show_id, args.movie_id, args.cinema_id, args.city_id);
            let unknown = box_office::unknown_ids(&client, city, cinema, movie, show)
                .await
                .map_err(db)?;
            if !unknown.is_empty() {
                return Err(explain(Invalid::UnknownIds(unknown)));
            }
            let rows = box_office::timeline(&client, scope, by_day, &tz, args.from, args.to)
                .await
                .map_err(db)?;
            if args.csv {
                reports::timeline_csv(&rows)
            } else {
                let json = serde_json::json!({ "rows": rows });
                format!("{json:#}\n")
            }
        }
    };
    print!("{out}");
    Ok(())
}

/// Every page of a grouped report.
async fn grouped(
    client: &deadpool_postgres::Client,
    cube: Cube,
    args: GroupedCli,
) -> Result<String, String> {
    let given = GroupedArgs {
        group_by: Some(args.group_by),
        from: Some(args.from),
        to: Some(args.to),
        city_id: args.city_id,
        cinema_id: args.cinema_id,
        movie_id: args.movie_id,
        currency: args.currency,
        sort: args.sort,
        page_size: Some(reports::MAX_PAGE_SIZE),
        cursor: None,
    };
    let mut grouping = reports::grouping(cube, &given).map_err(explain)?;
    let unknown = box_office::unknown_ids(
        client,
        grouping.city_id,
        grouping.cinema_id,
        grouping.movie_id,
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    if !unknown.is_empty() {
        return Err(explain(Invalid::UnknownIds(unknown)));
    }
    let mut csv = String::new();
    let mut rows: Vec<Value> = Vec::new();
    let mut totals = Value::Null;
    loop {
        let page = box_office::grouped(client, cube, &grouping)
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if args.csv {
            csv.push_str(&reports::grouped_csv(cube, &page, csv.is_empty()));
        } else {
            let mut json = reports::grouped_json(cube, &grouping, &page);
            if let Some(Value::Array(page_rows)) = json.remove("rows") {
                rows.extend(page_rows);
            }
            totals = json.remove("totals").unwrap_or(Value::Null);
        }
        match page.next {
            Some(after) => grouping.after = Some(after),
            None => break,
        }
    }
    if args.csv {
        return Ok(csv);
    }
    let names: Vec<&str> = grouping.dimensions.iter().map(|d| d.name()).collect();
    let json = serde_json::json!({
        "group_by": names,
        "from": grouping.from.to_string(),
        "to": grouping.to.to_string(),
        "rows": rows,
        "totals": totals,
    });
    Ok(format!("{json:#}\n"))
}
