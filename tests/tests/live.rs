//! The live seat map over Server-Sent Events: every change, in order, across a reconnect.

use boxoffice_commands::SystemClock;
use boxoffice_tests::fixtures;
use boxoffice_tests::server::{Api, TestServer};
use boxoffice_tests::wait::{eventually, PATIENCE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;

/// One parsed Server-Sent Event.
#[derive(Debug)]
struct Message {
    event: String,
    id: u64,
    data: Value,
}

/// Reads messages from an open event stream.
struct Reader {
    response: reqwest::Response,
    buffer: String,
}

impl Reader {
    async fn open(api: &Api, show: &str, last_event_id: Option<u64>) -> Self {
        let mut request = api
            .http()
            .get(format!("{}/v1/shows/{show}/seats/live", api.base));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next message (comments and keep-alives skipped).
    async fn next(&mut self) -> Message {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(id) = id {
                    return Message {
                        event,
                        id,
                        data: serde_json::from_str(&data).unwrap(),
                    };
                }
                continue;
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("a message in time")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn changes(message: &Message) -> Vec<(String, String)> {
    message.data["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["seat_id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(seat: &str, status: &str) -> (String, String) {
    (seat.to_owned(), status.to_owned())
}

#[tokio::test]
async fn a_client_sees_every_seat_change_in_order_across_a_reconnect() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let bob = api.customer("bob");
    let scheduled = api.schedule_show(&staff, &fixtures::show(2, 5)).await;
    let show = scheduled.created("show_id");
    api.seat_map(&show)
        .min_position(scheduled.position())
        .await
        .expect_ok();

    let mut live = Reader::open(api, &show, None).await;
    let snapshot = live.next().await;
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.id, 0);
    assert_eq!(snapshot.data["counts"]["available"], 10);

    let held = api.hold_seats(&alice, &show, &["B1", "B2"]).await;
    let first = live.next().await;
    assert_eq!((first.event.as_str(), first.id), ("seats", 1));
    assert_eq!(changes(&first), [pair("B1", "held"), pair("B2", "held")]);
    drop(live);

    // While the client is away: alice pays, bob holds and releases.
    api.confirm_hold(
        &staff,
        &show,
        held.text("hold_id"),
        "p",
        &held.body["total"],
    )
    .await
    .expect_created();
    let bobs = api.hold_seats(&bob, &show, &["B5"]).await;
    api.release_hold(&bob, &show, bobs.text("hold_id"))
        .await
        .expect_ok();

    // Reconnecting after the last id seen brings exactly what was missed, in order, then
    // follows live.
    let mut live = Reader::open(api, &show, Some(first.id)).await;
    let missed = [live.next().await, live.next().await, live.next().await];
    let ids: Vec<u64> = missed.iter().map(|m| m.id).collect();
    assert_eq!(ids, [2, 3, 4]);
    assert_eq!(
        changes(&missed[0]),
        [pair("B1", "sold"), pair("B2", "sold")]
    );
    assert_eq!(changes(&missed[1]), [pair("B5", "held")]);
    assert_eq!(changes(&missed[2]), [pair("B5", "available")]);
    assert_eq!(missed[2].data["cause"], "HoldReleased");

    api.hold_seats(&api.customer("carol"), &show, &["A3"])
        .await
        .expect_created();
    let next = live.next().await;
    assert_eq!(next.id, 5);
    assert_eq!(changes(&next), [pair("A3", "held")]);

    api.request(Method::GET, format!("/v1/shows/{show}/seats/live"))
        .header("last-event-id", "yesterday")
        .await
        .expect_problem(400, "invalid_header");
}

/// A server allowing two live streams refuses a third with 503 `too_many_streams` and
/// `Retry-After`; once a client goes away, a new stream is let in. Each stream hears its own
/// show's changes, and streams of the same show all hear them.
#[tokio::test]
async fn streams_past_the_cap_are_refused_and_each_hears_its_own_show() {
    let server = TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.live_streams_max = 2;
    })
    .await;
    let api = &server.api;
    let staff = api.staff();
    let mut shows = Vec::new();
    for _ in 0..2 {
        let scheduled = api.schedule_show(&staff, &fixtures::show(2, 5)).await;
        api.seat_map(&scheduled.created("show_id"))
            .min_position(scheduled.position())
            .await
            .expect_ok();
        shows.push(scheduled.created("show_id"));
    }
    let mut first = Reader::open(api, &shows[0], None).await;
    let mut second = Reader::open(api, &shows[1], None).await;
    assert_eq!(first.next().await.event, "snapshot");
    assert_eq!(second.next().await.event, "snapshot");
    let refused = api
        .request(Method::GET, format!("/v1/shows/{}/seats/live", shows[0]))
        .await;
    refused.expect_problem(503, "too_many_streams");
    assert!(refused.header("retry-after").is_some(), "{refused}");

    api.hold_seats(&api.customer("alice"), &shows[1], &["A1"])
        .await
        .expect_created();
    api.hold_seats(&api.customer("bob"), &shows[0], &["B2"])
        .await
        .expect_created();
    assert_eq!(changes(&second.next().await), [pair("A1", "held")]);
    assert_eq!(changes(&first.next().await), [pair("B2", "held")]);

    // The second client goes away; the server lets a new stream in once it notices.
    drop(second);
    let mut third = eventually("a stream is let in after one closed", async || {
        let response = api
            .http()
            .get(format!("{}/v1/shows/{}/seats/live", api.base, shows[0]))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match response.status() {
            StatusCode::OK => Ok(Reader {
                response,
                buffer: String::new(),
            }),
            status => Err(status.to_string()),
        }
    })
    .await;
    assert_eq!(third.next().await.event, "snapshot");
    api.hold_seats(&api.customer("carol"), &shows[0], &["A5"])
        .await
        .expect_created();
    assert_eq!(changes(&first.next().await), [pair("A5", "held")]);
    assert_eq!(changes(&third.next().await), [pair("A5", "held")]);
}

/// A server stops on request even while clients follow live seat maps: their streams end
/// (they reconnect elsewhere with Last-Event-ID) instead of holding the shutdown open for as
/// long as the clients stay (a browser tab left open kept a stopping server up for good).
#[tokio::test]
async fn stopping_the_server_ends_live_streams_instead_of_waiting_for_their_clients() {
    let mut server = TestServer::start().await;
    let api = server.api.clone();
    let staff = api.staff();
    let scheduled = api.schedule_show(&staff, &fixtures::show(2, 5)).await;
    let show = scheduled.created("show_id");
    api.seat_map(&show)
        .min_position(scheduled.position())
        .await
        .expect_ok();
    let mut live = Reader::open(&api, &show, None).await;
    assert_eq!(live.next().await.event, "snapshot");

    // The stop returns (a generous bound turns a hang into a failure), and the stream ended.
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(120), server.stop()).await;
    assert!(
        stopped.is_ok(),
        "the server did not stop while a live stream was open"
    );
    let rest = live.response.chunk().await;
    assert!(
        matches!(rest, Ok(None) | Err(_)),
        "the stream ended with the server: {rest:?}"
    );
}
