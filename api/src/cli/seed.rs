//! `boxoffice seed`: a demo or benchmark catalogue, made through the commands.

use super::Target;
use crate::server;
use crate::ApiSettings;
use boxoffice_commands::WriterConfig;
use boxoffice_eventstore::postgres as pg;
use clap::Args;
use std::time::Duration;

#[derive(Args)]
pub struct SeedArgs {
    #[arg(long, default_value_t = 3)]
    pub cities: usize,
    #[arg(long, default_value_t = 2)]
    pub cinemas_per_city: usize,
    #[arg(long, default_value_t = 2)]
    pub halls_per_cinema: usize,
    /// Days of shows, from --first-day on.
    #[arg(long, default_value_t = 2)]
    pub days: usize,
    #[arg(long, default_value_t = 2)]
    pub shows_per_hall_day: usize,
    #[arg(long, default_value_t = 12)]
    pub movies: usize,
    /// The first day of shows (YYYY-MM-DD, Asia/Shanghai); default: tomorrow.
    #[arg(long)]
    pub first_day: Option<chrono::NaiveDate>,
    /// Different seeds make different catalogues.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Minutes a hall needs between two shows.
    #[arg(long, env = "BOXOFFICE_CLEANING_MINUTES", default_value_t = 15)]
    pub cleaning_minutes: u32,
}

pub async fn seed(cli: &Target, args: SeedArgs) -> Result<(), String> {
    let config = server::prepare_database(&cli.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let pool = pg::pool(&config, 24);
    let log =
        server::open_log(&pool, &config, cli.event_store.as_deref()).map_err(|e| e.to_string())?;
    let clock: std::sync::Arc<dyn boxoffice_commands::Clock> =
        std::sync::Arc::new(boxoffice_commands::SystemClock);
    let catalogue = boxoffice_commands::Catalogue::new(boxoffice_commands::Streams::new(
        log.clone(),
        clock.clone(),
    ));
    // A show's writer is needed once, to schedule it: let it go soon after.
    let writers = boxoffice_commands::ShowWriters::new(
        log,
        clock,
        WriterConfig {
            idle_after: Duration::from_secs(1),
            ..WriterConfig::default()
        },
    );
    let defaults = ApiSettings::default();
    let settings = ApiSettings {
        cleaning_minutes: args.cleaning_minutes,
        ..defaults
    }
    .show_settings();
    let first_day = args.first_day.unwrap_or_else(|| {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive()
            + chrono::Duration::days(1)
    });
    let plan = boxoffice_seed::SeedPlan {
        seed: args.seed,
        cities: args.cities,
        cinemas_per_city: args.cinemas_per_city,
        halls_per_cinema: args.halls_per_cinema,
        days: args.days,
        shows_per_hall_day: args.shows_per_hall_day,
        movies: args.movies,
        first_day,
    };
    let started = std::time::Instant::now();
    let report = boxoffice_seed::seed(&catalogue, &writers, &settings, &plan)
        .await
        .map_err(|e| format!("seeding failed: {e}"))?;
    writers.shutdown(Duration::from_secs(10)).await;
    pool.close();
    println!(
        "seeded {} cities, {} cinemas, {} halls, {} movies, {} shows ({} seats) from {first_day} in {:.1} s",
        report.cities,
        report.cinemas,
        report.halls,
        report.movies,
        report.shows,
        report.seats,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
