//! The payments process manager's worker never holds a transaction while it waits for the
//! payment provider: a refund held open at the provider does not stop the projectors, so
//! reads that wait for their own writes (`min_position`) keep being answered.
//!
//! Built from the real parts (PostgreSQL log, show writers, projectors, the process
//! manager's projector and worker) around a provider that answers a refund only when the
//! test says so.

use async_trait::async_trait;
use boxoffice_commands::payments::{
    Checkout, Notification, PaymentOrder, PaymentProvider, ProviderError,
};
use boxoffice_commands::process::{PaymentsProcess, TaskWorker, Workers};
use boxoffice_commands::{
    CommandContext, Exchanges, Payments, Promos, ShowWriters, Streams, SystemClock, WriterConfig,
};
use boxoffice_domain::payment::PaymentMethod;
use boxoffice_domain::{
    Currency, CustomerId, HoldId, Money, RefundId, Requester, SeatId, SeatSpec, ShowCommand,
    ShowEvent, ShowId,
};
use boxoffice_eventstore::postgres::{pool, PgEventLog};
use boxoffice_eventstore::{EventLog, Position};
use boxoffice_projections::Projections;
use boxoffice_tests::wait::eventually;
use boxoffice_tests::TestDatabase;
use chrono::Utc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

/// Generous: a loaded CI machine is slow, and a stalled reader never gets there at all.
const DEADLINE: Duration = boxoffice_tests::wait::PATIENCE;

/// A provider whose refunds wait until the test lets them through.
struct HeldRefunds {
    entered: Notify,
    gate: Semaphore,
    refunded: Mutex<Vec<Uuid>>,
}

#[async_trait]
impl PaymentProvider for HeldRefunds {
    async fn open(&self, order: &PaymentOrder) -> Result<String, ProviderError> {
        Ok(format!("http://127.0.0.1:9/pay/{}", order.payment_id))
    }

    async fn refund(
        &self,
        _payment_id: Uuid,
        refund_id: Uuid,
        _amount: &Money,
    ) -> Result<(), ProviderError> {
        self.entered.notify_one();
        let _through = self
            .gate
            .acquire()
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        self.refunded.lock().expect("not poisoned").push(refund_id);
        Ok(())
    }

    async fn charge(&self, _: Uuid, _: Uuid, _: &Money) -> Result<(), ProviderError> {
        Ok(())
    }
}

fn cny(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::parse("CNY").expect("a currency"))
}

fn context(actor: &str, key: &str) -> CommandContext {
    CommandContext::request(actor, key, Some(format!("req-{key}")))
}

fn alice() -> Requester {
    Requester::Customer(CustomerId("alice".into()))
}

#[tokio::test]
async fn a_refund_held_at_the_provider_does_not_stall_projections_or_reads_of_own_writes() {
    let db = TestDatabase::create().await;
    let pg = boxoffice_api::server::prepare_database(&db.url)
        .await
        .expect("migrated");
    let pool = pool(&pg, 8);
    let log: Arc<dyn EventLog> = Arc::new(PgEventLog::new(pool.clone(), &pg));
    let clock = Arc::new(SystemClock);
    let writers = ShowWriters::new(log.clone(), clock.clone(), WriterConfig::default());
    let streams = Streams::new(log.clone(), clock);
    let provider = Arc::new(HeldRefunds {
        entered: Notify::new(),
        gate: Semaphore::new(0),
        refunded: Mutex::default(),
    });
    let payments = Payments::new(
        streams.clone(),
        writers.clone(),
        provider.clone(),
        chrono::Duration::minutes(15),
    );
    let wake = Arc::new(Notify::new());
    let mut projectors = boxoffice_projections::all();
    projectors.push(Arc::new(PaymentsProcess { wake: wake.clone() }));
    let projections = Projections::start(
        log.clone(),
        pool.clone(),
        projectors,
        boxoffice_projections::DEFAULT_FEED_BATCHES,
    );
    let worker = TaskWorker::start(
        pool.clone(),
        Workers {
            payments: payments.clone(),
            promos: Promos::new(streams),
            exchanges: Exchanges::new(writers.clone()),
        },
        wake,
    );

    // A show; alice holds two seats, pays through the provider, then refunds the order.
    let show = ShowId(Uuid::new_v4());
    let starts_at = Utc::now() + chrono::Duration::days(3);
    writers
        .execute(
            show,
            ShowCommand::ScheduleShow {
                accessible_seating: None,
                ticket_prices: Default::default(),
                show_id: show.0,
                movie_id: Uuid::new_v4(),
                title: "流浪地球".into(),
                starts_at,
                ends_at: starts_at + chrono::Duration::hours(2),
                seats: (1..=10)
                    .map(|n| SeatSpec {
                        seat_id: SeatId(format!("A{n}")),
                        row: "A".into(),
                        number: n,
                        category: "regular".into(),
                        column: None,
                        kind: None,
                    })
                    .collect(),
                prices: [("regular".to_owned(), cny(4500))].into(),
                hold_ttl_seconds: 300,
                expiry_grace_seconds: 5,
                max_holds_per_customer: 1,
                waitlist_max_wait_seconds: 3600,
                venue: None,
                refund_policy: None,
            },
            context("staff:ops", "schedule"),
        )
        .await
        .expect("scheduled");
    let hold = HoldId(Uuid::new_v4());
    writers
        .execute(
            show,
            ShowCommand::HoldSeats {
                admission: None,
                accessible: false,
                ticket_types: Default::default(),
                hold_id: hold,
                customer_id: CustomerId("alice".into()),
                seats: vec![SeatId::new("A1"), SeatId::new("A2")],
                promo: None,
            },
            context("alice", "hold"),
        )
        .await
        .expect("held");
    let started = payments
        .start(
            show,
            hold,
            alice(),
            Checkout {
                method: PaymentMethod::Card,
                description: "two seats".into(),
                return_url: None,
            },
            &context("alice", "pay"),
        )
        .await
        .expect("payment started");
    let paid = payments
        .notified(&Notification {
            provider: "test".into(),
            correlation_id: Some("req-notify".into()),
            event_id: "evt-1".into(),
            payment_id: started.payment_id,
            succeeded: true,
            amount: cny(9000),
            detail: String::new(),
        })
        .await
        .expect("notified");
    let order_id = paid.order_id.expect("the payment bought the seats");
    let refund_id = RefundId(Uuid::new_v4());
    let refunded = writers
        .execute(
            show,
            ShowCommand::RefundOrder {
                order_id,
                refund_id,
                requester: alice(),
                seats: None,
            },
            context("alice", "refund"),
        )
        .await
        .expect("refunded on the show");
    assert!(refunded
        .events
        .iter()
        .any(|e| matches!(e, ShowEvent::OrderRefunded(r) if r.payment_id.is_some())));

    // The worker takes the refund to the provider, which holds it there.
    tokio::time::timeout(DEADLINE, provider.entered.notified())
        .await
        .expect("the worker calls the provider to pay the refund out");

    // Meanwhile bob holds a seat: the projectors reach his write, as a read with
    // `min_position` waits for them to.
    let bobs = writers
        .execute(
            show,
            ShowCommand::HoldSeats {
                admission: None,
                accessible: false,
                ticket_types: Default::default(),
                hold_id: HoldId(Uuid::new_v4()),
                customer_id: CustomerId("bob".into()),
                seats: vec![SeatId::new("A5")],
                promo: None,
            },
            context("bob", "hold"),
        )
        .await
        .expect("held");
    for projector in ["seat_map", "order_history", "sales"] {
        let reached = projections
            .wait_for(projector, bobs.position, DEADLINE)
            .await;
        assert!(
            reached >= bobs.position,
            "{projector} stalled at {reached} behind {} while the provider call was open",
            bobs.position
        );
    }
    let client = db.client().await;
    let seat = client
        .query_one(
            "SELECT status FROM seat_map_seats WHERE show_id = $1 AND seat_id = 'A5'",
            &[&show.0],
        )
        .await
        .expect("a seat row");
    assert_eq!(seat.get::<_, String>("status"), "held");
    assert!(
        provider.refunded.lock().expect("not poisoned").is_empty(),
        "the provider has not let the refund through yet"
    );

    // Let it through: the refund is recorded on the payment's stream and the task is done.
    provider.gate.add_permits(1);
    eventually("the refund is recorded and its task done", async || {
        let payment = payments.payment(started.payment_id).await.expect("read");
        let open: i64 = client
            .query_one("SELECT count(*) FROM process_tasks", &[])
            .await
            .expect("count")
            .get(0);
        if payment.refunded_minor() == 9000 && open == 0 {
            Ok(())
        } else {
            Err(format!(
                "{} refunded, {open} tasks open",
                payment.refunded_minor()
            ))
        }
    })
    .await;
    assert_eq!(
        *provider.refunded.lock().expect("not poisoned"),
        vec![refund_id.0]
    );

    // Every step carries the request it follows from: the settlement the notification's,
    // the refund paid out by the process manager the refund request's, caused by the
    // show's OrderRefunded event.
    let show_events = log.read_stream(&show.stream(), 0, 100).await.expect("read");
    let of_type = |t: &str| {
        show_events
            .iter()
            .find(|e| e.event_type == t)
            .unwrap_or_else(|| panic!("no {t}"))
            .clone()
    };
    let confirmed = of_type("HoldConfirmed");
    assert_eq!(
        confirmed.metadata.correlation_id.as_deref(),
        Some("req-notify")
    );
    assert_eq!(confirmed.metadata.command.as_deref(), Some("SettlePayment"));
    let refund_event = of_type("OrderRefunded");
    assert_eq!(
        refund_event.metadata.correlation_id.as_deref(),
        Some("req-refund")
    );
    let payment_events = log
        .read_stream(&format!("payment-{}", started.payment_id), 0, 100)
        .await
        .expect("read");
    let paid_out = payment_events
        .iter()
        .find(|e| e.event_type == "PaymentRefunded")
        .expect("the refund is recorded on the payment");
    assert_eq!(
        paid_out.metadata.correlation_id.as_deref(),
        Some("req-refund")
    );
    assert_eq!(
        paid_out.metadata.causation_id,
        Some(refund_event.event_id.to_string())
    );
    assert!(projections.position("seat_map").unwrap_or(Position::START) >= bobs.position);

    worker.stop().await;
    projections.shutdown(Duration::from_secs(10)).await;
    writers.shutdown(Duration::from_secs(10)).await;
}
