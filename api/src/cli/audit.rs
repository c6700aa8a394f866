//! `boxoffice audit`: the auditors' tools on the command line, reading `DATABASE_URL` (and
//! `EVENTSTORE_URL` where set) like `serve`, but never creating, migrating or chaining the
//! database they look at (`server::open_database`). Exit status: 0 intact, 1 a finding (each
//! on a line of its own, naming the stream or line), 2 could not run.

use super::progress::Progress;
use super::{Failure, Target};
use crate::server;
use boxoffice_audit::export::{export, verify_export, Against, Selection};
use boxoffice_audit::seal::{PublicKey, Seal, SigningKey};
use boxoffice_audit::state::{Point, States};
use boxoffice_audit::verify_log::{verify_log, Walk};
use boxoffice_domain::StreamName;
use boxoffice_eventstore::postgres as pg;
use boxoffice_eventstore::{EventLog, Position};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AuditAction {
    /// Print a stream's state at a point of its history, folded from the log, as JSON.
    State {
        /// `show-{uuid}`, `cinema-{uuid}`, `movie-{uuid}`, `cities`, `payment-{uuid}`,
        /// `promo-{uuid}`, `seals` or `access`.
        #[arg(long)]
        stream: String,
        /// After the stream's event of this version.
        #[arg(long, conflicts_with_all = ["at_position", "at_time"])]
        at_version: Option<u64>,
        /// After its last event at or before this log position (`commit-prepare`).
        #[arg(long, conflicts_with = "at_time")]
        at_position: Option<Position>,
        /// After its events recorded at or before this instant (RFC 3339).
        #[arg(long)]
        at_time: Option<DateTime<Utc>>,
    },
    /// Walk the log: every stream's hash chain, gaps in its versions, and every seal.
    VerifyLog {
        /// Only this stream.
        #[arg(long)]
        stream: Option<String>,
        /// A seal kept outside the system (as `GET /v1/audit/seals` served it): the log
        /// must still hold it, and everything it fixed.
        #[arg(long)]
        seal: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Write the log, or one stream, as NDJSON with the hash chain.
    Export {
        /// One stream.
        #[arg(long, conflicts_with_all = ["all", "after"])]
        stream: Option<String>,
        /// The whole log.
        #[arg(long)]
        all: bool,
        /// The whole log after this position.
        #[arg(long, conflicts_with = "all")]
        after: Option<Position>,
        /// The file to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Check an export alone, with no database: every chain, the order of the lines, that
    /// nothing is cut; given the key, the seals in an export of the whole log; given a seal
    /// too, that the file reaches every head the seal fixed.
    VerifyExport {
        file: PathBuf,
        /// A seal kept outside the system (as `GET /v1/audit/seals` served it).
        #[arg(long, requires = "public_key")]
        seal: Option<PathBuf>,
        /// The seals' public key, 64 hex digits (an auditor's own copy).
        #[arg(long)]
        public_key: Option<String>,
        /// The file must be an export of the whole log (its header is not signed: without
        /// this, a header changed to say "after a position" turns the whole-log checks off).
        #[arg(long)]
        all: bool,
    },
}

/// The key seals are checked with.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// The seals' public key (64 hex digits, as `GET /v1/audit/public-key` serves it): an
    /// auditor's own copy.
    #[arg(long, env = "BOXOFFICE_AUDIT_PUBLIC_KEY")]
    public_key: Option<String>,
    /// Or the server's signing key, whose public half is used.
    #[arg(long, env = "BOXOFFICE_AUDIT_SIGNING_KEY", hide_env_values = true)]
    signing_key: Option<String>,
}

impl KeyArgs {
    fn key(&self) -> Result<PublicKey, Failure> {
        match (&self.public_key, &self.signing_key) {
            (Some(hex), _) => PublicKey::from_hex(hex)
                .ok_or_else(|| Failure::could_not_run("--public-key is not 64 hex digits")),
            (None, Some(hex)) => SigningKey::from_hex(hex)
                .map(|key| key.public_key())
                .ok_or_else(|| {
                    Failure::could_not_run("BOXOFFICE_AUDIT_SIGNING_KEY is not 64 hex digits")
                }),
            (None, None) => {
                eprintln!(
                    "checking seals against the development key (no --public-key given): \
                     such seals prove nothing"
                );
                Ok(SigningKey::development().public_key())
            }
        }
    }
}

/// Runs an audit command; the status is 0 or 1 (findings).
pub async fn run(cli: &Target, action: AuditAction) -> Result<u8, Failure> {
    match action {
        AuditAction::VerifyExport {
            file,
            seal,
            public_key,
            all,
        } => {
            let key = public_key
                .map(|hex| {
                    PublicKey::from_hex(&hex)
                        .ok_or_else(|| Failure::could_not_run("--public-key is not 64 hex digits"))
                })
                .transpose()?;
            let kept = seal.as_deref().map(read_seal).transpose()?;
            let reader = std::fs::File::open(&file)
                .map(std::io::BufReader::new)
                .map_err(|e| Failure::could_not_run(format!("{}: {e}", file.display())))?;
            let against = Against {
                key: key.as_ref(),
                kept: kept.as_ref(),
            };
            let report = verify_export(reader, &against)
                .map_err(|e| Failure::could_not_run(format!("{}: {e}", file.display())))?;
            let mut findings: Vec<String> =
                report.findings.iter().map(ToString::to_string).collect();
            if all && report.holds != "the whole log" {
                findings.push(format!(
                    "(file): holds {}, not the whole log (--all)",
                    report.holds
                ));
            }
            for finding in &findings {
                println!("{finding}");
            }
            for note in &report.notes {
                eprintln!("note: {note}");
            }
            if key.is_none() {
                eprintln!("seals not checked: give --public-key to check them");
            }
            if report.foreign_seals {
                eprintln!(
                    "note: the seals were made on another log (this one was copied): where \
                     events sit was not checked against them"
                );
            }
            eprintln!(
                "{}: {} lines, {} streams, {} signed seals: {}",
                report.holds,
                report.lines,
                report.streams,
                report.seals,
                verdict(findings.len())
            );
            Ok(u8::from(!findings.is_empty()))
        }
        AuditAction::State {
            stream,
            at_version,
            at_position,
            at_time,
        } => {
            let name = StreamName::parse(&stream).ok_or_else(|| {
                Failure::could_not_run(format!("{stream} is not a stream of the log"))
            })?;
            let point = match (at_version, at_position, at_time) {
                (Some(version), _, _) => Point::Version(version),
                (_, Some(position), _) => Point::Position(position),
                (_, _, Some(time)) => Point::Time(time),
                _ => Point::Latest,
            };
            let log = open(cli).await?;
            let state = States::default()
                .stream(log.as_ref(), name, point)
                .await
                .map_err(|e| Failure::could_not_run(format!("{stream}: {e}")))?;
            let json = serde_json::to_string_pretty(&state)
                .map_err(|e| Failure::could_not_run(e.to_string()))?;
            println!("{json}");
            Ok(0)
        }
        AuditAction::VerifyLog { stream, seal, key } => {
            let key = key.key()?;
            let kept = seal.as_deref().map(read_seal).transpose()?;
            let log = open(cli).await?;
            let total = log
                .count(stream.as_deref())
                .await
                .map_err(|e| Failure::could_not_run(e.to_string()))?;
            let mut progress = Progress::new("events", total);
            let walk = Walk {
                stream,
                key: &key,
                kept: kept.as_ref(),
            };
            let report = verify_log(log.as_ref(), &walk, |done| progress.set(done))
                .await
                .map_err(|e| Failure::could_not_run(e.to_string()))?;
            progress.finish(report.events);
            for finding in &report.findings {
                println!("{finding}");
            }
            if report.foreign_seals {
                eprintln!(
                    "note: the seals were made on another log (this one was copied): where \
                     events sit was not checked against them"
                );
            }
            eprintln!(
                "{} events in {} streams, {} seals: {}",
                report.events,
                report.streams,
                report.seals,
                verdict(report.findings.len())
            );
            Ok(u8::from(!report.intact()))
        }
        AuditAction::Export {
            stream,
            all,
            after,
            to,
        } => {
            let selection = match (stream, all, after) {
                (Some(stream), _, _) => Selection::Stream(stream),
                (None, _, Some(after)) => Selection::After(after),
                (None, true, None) => Selection::After(Position::START),
                (None, false, None) => {
                    return Err(Failure::could_not_run(
                        "say what to export: --stream S, --all or --after POSITION",
                    ))
                }
            };
            let log = open(cli).await?;
            let total = match &selection {
                Selection::Stream(stream) => log.count(Some(stream)).await,
                Selection::After(_) => log.count(None).await,
            }
            .map_err(|e| Failure::could_not_run(e.to_string()))?;
            let file = std::fs::File::create(&to)
                .map_err(|e| Failure::could_not_run(format!("{}: {e}", to.display())))?;
            let mut out = std::io::BufWriter::new(file);
            let mut progress = Progress::new("events", total);
            let written = export(log, selection, &mut out, |done| progress.set(done))
                .await
                .map_err(|e| Failure::could_not_run(e.to_string()))?;
            progress.finish(written);
            eprintln!("{written} events written to {}", to.display());
            Ok(0)
        }
    }
}

fn verdict(findings: usize) -> String {
    match findings {
        0 => "intact".into(),
        1 => "1 finding".into(),
        n => format!("{n} findings"),
    }
}

fn read_seal(path: &std::path::Path) -> Result<Seal, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::could_not_run(format!("{}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::could_not_run(format!("{}: not JSON: {e}", path.display())))?;
    Seal::from_json(&value).map_err(|e| Failure::could_not_run(format!("{}: {e}", path.display())))
}

async fn open(cli: &Target) -> Result<Arc<dyn EventLog>, Failure> {
    let config = server::open_database(&cli.database_url)
        .await
        .map_err(|e| Failure::could_not_run(e.to_string()))?;
    let pool = pg::pool(&config, 4);
    server::open_log(&pool, &config, cli.event_store.as_deref())
        .map_err(|e| Failure::could_not_run(e.to_string()))
}
