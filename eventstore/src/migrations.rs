//! A minimal schema migrator: numbered SQL steps per component, each applied once, in order,
//! inside a transaction, under an advisory lock so concurrent starts do not race.

use tokio_postgres::Client;

/// Arbitrary but fixed: serialises migrations of all Boxoffice components in one database.
const MIGRATION_LOCK: i64 = 0x626f_786f_6666_6963;

#[derive(Debug, thiserror::Error)]
#[error("migration {component} #{step} failed: {source}")]
pub struct MigrationError {
    pub component: String,
    pub step: usize,
    #[source]
    pub source: tokio_postgres::Error,
}

/// Applies the steps of `component` not applied yet. Step numbers are their index + 1.
pub async fn apply(
    client: &mut Client,
    component: &str,
    steps: &[&str],
) -> Result<usize, MigrationError> {
    let fail = |step: usize| {
        move |source| MigrationError {
            component: component.to_owned(),
            step,
            source,
        }
    };
    let tx = client.transaction().await.map_err(fail(0))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(fail(0))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            component text NOT NULL,
            step integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (component, step)
        )",
    )
    .await
    .map_err(fail(0))?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(step), 0) FROM schema_migrations WHERE component = $1",
            &[&component],
        )
        .await
        .map_err(fail(0))?;
    let done = usize::try_from(row.get::<_, i32>(0)).unwrap_or(0);
    let mut applied = 0;
    for (index, sql) in steps.iter().enumerate().skip(done) {
        let step = index + 1;
        tx.batch_execute(sql).await.map_err(fail(step))?;
        let number = i32::try_from(step).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_migrations (component, step) VALUES ($1, $2)",
            &[&component, &number],
        )
        .await
        .map_err(fail(step))?;
        applied += 1;
    }
    tx.commit().await.map_err(fail(0))?;
    Ok(applied)
}

/// How many steps of `component` are not applied yet (every one in a database never
/// migrated). Reads only: for tools that must not change the database they look at.
pub async fn pending(
    client: &Client,
    component: &str,
    steps: &[&str],
) -> Result<usize, MigrationError> {
    let done = match client
        .query_one(
            "SELECT coalesce(max(step), 0) FROM schema_migrations WHERE component = $1",
            &[&component],
        )
        .await
    {
        Ok(row) => usize::try_from(row.get::<_, i32>(0)).unwrap_or(0),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => 0,
        Err(source) => {
            return Err(MigrationError {
                component: component.to_owned(),
                step: 0,
                source,
            })
        }
    };
    Ok(steps.len().saturating_sub(done))
}
