//! Comparing one table with its scratch copy: both read through a cursor in primary-key
//! order, a page at a time, and merged here. A key on one side only is a row lost or made
//! up; a key on both sides whose rows differ in any column is a row misfolded or changed.
//!
//! The merge needs Rust to order keys exactly as PostgreSQL does, so key columns are read
//! typed (integers, text, UUIDs) and text keys are sorted byte by byte (`COLLATE "C"`), which
//! is how Rust orders strings. Rows are compared as PostgreSQL renders them in JSON
//! (`to_jsonb`), so every column type compares the same way on both sides.

use super::{Difference, TableReport, SHOWN};
use crate::ProjectionError;
use chrono::Datelike;
use deadpool_postgres::Transaction;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::VecDeque;
use tokio_postgres::types::Type;
use tokio_postgres::Row;
use uuid::Uuid;

const OPEN_ROWS_SQL: &str = include_str!("sql/open_rows.sql");
const FETCH_ROWS_SQL: &str = include_str!("sql/fetch_rows.sql");
const CLOSE_ROWS_SQL: &str = include_str!("sql/close_rows.sql");

/// The copies are in the scratch session's temporary schema.
const SCRATCH_SCHEMA: &str = "pg_temp";

/// Compares `table` of `schema` in the live snapshot with its copy.
pub(super) async fn table(
    live: &Transaction<'_>,
    schema: &str,
    scratch: &Transaction<'_>,
    table: &str,
) -> Result<TableReport, ProjectionError> {
    let unverifiable = |reason: String| ProjectionError::Unverifiable {
        table: table.to_owned(),
        reason,
    };
    let mut live_rows = Rows::open(live, schema, table).await?;
    let mut rebuilt_rows = Rows::open(scratch, SCRATCH_SCHEMA, table).await?;
    if live_rows.key != rebuilt_rows.key {
        return Err(unverifiable(format!(
            "its key is ({}) but its copy's is ({})",
            live_rows.key.join(", "),
            rebuilt_rows.key.join(", ")
        )));
    }
    let mut report = TableReport {
        table: table.to_owned(),
        key: live_rows.key.clone(),
        live_rows: 0,
        rebuilt_rows: 0,
        differences: 0,
        shown: Vec::new(),
    };
    loop {
        let order = match (live_rows.peek().await?, rebuilt_rows.peek().await?) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(l), Some(r)) => compare_keys(&l.key, &r.key).ok_or_else(|| {
                unverifiable("its key columns read as different types on each side".into())
            })?,
        };
        let difference = match order {
            Ordering::Less => {
                let live = live_rows.next();
                report.live_rows += 1;
                Some(Difference {
                    key: key_of(&report.key, &live.row),
                    live: Some(live.row),
                    rebuilt: None,
                })
            }
            Ordering::Greater => {
                let rebuilt = rebuilt_rows.next();
                report.rebuilt_rows += 1;
                Some(Difference {
                    key: key_of(&report.key, &rebuilt.row),
                    live: None,
                    rebuilt: Some(rebuilt.row),
                })
            }
            Ordering::Equal => {
                let (live, rebuilt) = (live_rows.next(), rebuilt_rows.next());
                report.live_rows += 1;
                report.rebuilt_rows += 1;
                (live.row != rebuilt.row).then(|| {
                    let (live_columns, rebuilt_columns) = differing(&live.row, &rebuilt.row);
                    Difference {
                        key: key_of(&report.key, &live.row),
                        live: Some(live_columns),
                        rebuilt: Some(rebuilt_columns),
                    }
                })
            }
        };
        if let Some(difference) = difference {
            report.differences += 1;
            if report.shown.len() < SHOWN {
                report.shown.push(difference);
            }
        }
    }
    live_rows.close().await?;
    rebuilt_rows.close().await?;
    Ok(report)
}

/// One value of a key column, typed so that Rust orders it as PostgreSQL sorted it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyValue {
    Integer(i64),
    Text(String),
    Uuid(Uuid),
}

/// Keys in PostgreSQL's order; `None` when they hold different types at some column.
fn compare_keys(a: &[KeyValue], b: &[KeyValue]) -> Option<Ordering> {
    for (a, b) in a.iter().zip(b) {
        let order = match (a, b) {
            (KeyValue::Integer(a), KeyValue::Integer(b)) => a.cmp(b),
            (KeyValue::Text(a), KeyValue::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (KeyValue::Uuid(a), KeyValue::Uuid(b)) => a.as_bytes().cmp(b.as_bytes()),
            _ => return None,
        };
        if order != Ordering::Equal {
            return Some(order);
        }
    }
    Some(a.len().cmp(&b.len()))
}

struct KeyedRow {
    key: Vec<KeyValue>,
    row: Value,
}

/// One side's rows, read through the cursor a page at a time.
struct Rows<'a, 't> {
    tx: &'a Transaction<'t>,
    table: String,
    key: Vec<String>,
    page: VecDeque<KeyedRow>,
    exhausted: bool,
}

impl<'a, 't> Rows<'a, 't> {
    async fn open(
        tx: &'a Transaction<'t>,
        schema: &str,
        table: &str,
    ) -> Result<Self, ProjectionError> {
        let opened = tx
            .query_opt(OPEN_ROWS_SQL, &[&table, &schema])
            .await?
            .ok_or_else(|| ProjectionError::Unverifiable {
                table: table.to_owned(),
                reason: format!("{schema}.{table} has no primary key"),
            })?;
        let statement: String = opened.get("statement");
        tx.batch_execute(&statement).await?;
        Ok(Self {
            tx,
            table: table.to_owned(),
            key: opened.get("key_columns"),
            page: VecDeque::new(),
            exhausted: false,
        })
    }

    /// The next row, reading the next page when this one is used up.
    async fn peek(&mut self) -> Result<Option<&KeyedRow>, ProjectionError> {
        if self.page.is_empty() && !self.exhausted {
            let rows = self.tx.query(FETCH_ROWS_SQL, &[]).await?;
            self.exhausted = rows.is_empty();
            for row in &rows {
                self.page.push_back(self.keyed(row)?);
            }
        }
        Ok(self.page.front())
    }

    /// Takes the row [`Rows::peek`] returned.
    fn next(&mut self) -> KeyedRow {
        self.page
            .pop_front()
            .expect("next() follows a peek() that found a row")
    }

    fn keyed(&self, row: &Row) -> Result<KeyedRow, ProjectionError> {
        let mut key = Vec::with_capacity(self.key.len());
        for (n, column) in self.key.iter().enumerate() {
            let value = match *row.columns()[n].type_() {
                Type::INT2 => KeyValue::Integer(row.try_get::<_, i16>(n)?.into()),
                Type::INT4 => KeyValue::Integer(row.try_get::<_, i32>(n)?.into()),
                Type::INT8 => KeyValue::Integer(row.try_get(n)?),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                    KeyValue::Text(row.try_get(n)?)
                }
                Type::UUID => KeyValue::Uuid(row.try_get(n)?),
                Type::DATE => {
                    let date: chrono::NaiveDate = row.try_get(n)?;
                    KeyValue::Integer(date.num_days_from_ce().into())
                }
                ref other => {
                    return Err(ProjectionError::Unverifiable {
                        table: self.table.clone(),
                        reason: format!(
                            "its key column {column} is of type {other}, which a \
                             verification cannot order (integers, text and UUIDs only)"
                        ),
                    })
                }
            };
            key.push(value);
        }
        Ok(KeyedRow {
            key,
            row: row.try_get("row")?,
        })
    }

    async fn close(self) -> Result<(), ProjectionError> {
        self.tx.batch_execute(CLOSE_ROWS_SQL).await?;
        Ok(())
    }
}

/// The key's columns of a row.
fn key_of(key: &[String], row: &Value) -> Value {
    let columns: Map<String, Value> = key
        .iter()
        .map(|column| {
            (
                column.clone(),
                row.get(column).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    Value::Object(columns)
}

/// The columns whose values differ, on each side.
fn differing(live: &Value, rebuilt: &Value) -> (Value, Value) {
    let (empty_live, empty_rebuilt) = (Map::new(), Map::new());
    let live = live.as_object().unwrap_or(&empty_live);
    let rebuilt = rebuilt.as_object().unwrap_or(&empty_rebuilt);
    let mut on_live = Map::new();
    let mut on_rebuilt = Map::new();
    for column in live
        .keys()
        .chain(rebuilt.keys().filter(|k| !live.contains_key(*k)))
    {
        let (l, r) = (live.get(column), rebuilt.get(column));
        if l != r {
            on_live.insert(column.clone(), l.cloned().unwrap_or(Value::Null));
            on_rebuilt.insert(column.clone(), r.cloned().unwrap_or(Value::Null));
        }
    }
    (Value::Object(on_live), Value::Object(on_rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_keys_order_byte_by_byte_as_collate_c_does() {
        let key = |s: &str| vec![KeyValue::Text(s.into())];
        assert_eq!(compare_keys(&key("B10"), &key("B9")), Some(Ordering::Less));
        assert_eq!(compare_keys(&key("Z"), &key("a")), Some(Ordering::Less));
        assert_eq!(compare_keys(&key("a"), &key("é")), Some(Ordering::Less));
    }

    #[test]
    fn later_columns_decide_only_when_the_first_are_equal() {
        let id = Uuid::from_u128(7);
        let a = vec![KeyValue::Uuid(id), KeyValue::Integer(2)];
        let b = vec![KeyValue::Uuid(id), KeyValue::Integer(10)];
        assert_eq!(compare_keys(&a, &b), Some(Ordering::Less));
        let c = vec![KeyValue::Uuid(Uuid::from_u128(6)), KeyValue::Integer(99)];
        assert_eq!(compare_keys(&c, &a), Some(Ordering::Less));
        assert_eq!(compare_keys(&a, &[KeyValue::Text("x".into())]), None);
    }

    #[test]
    fn a_difference_names_only_the_columns_that_differ() {
        let live = json!({"show_id": "s", "sold": 3, "held": 1});
        let rebuilt = json!({"show_id": "s", "sold": 2, "held": 1});
        assert_eq!(
            differing(&live, &rebuilt),
            (json!({"sold": 3}), json!({"sold": 2}))
        );
        assert_eq!(key_of(&["show_id".into()], &live), json!({"show_id": "s"}));
    }
}
