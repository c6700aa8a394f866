//! The EventStoreDB / KurrentDB adapter, through the official `eventstore` client.
//!
//! Chosen with `EVENTSTORE_URL=esdb://host:2113?tls=false` (or `--event-store`). The
//! PostgreSQL database still holds the read models and their checkpoints; the checkpoints
//! store EventStoreDB's `$all` positions (commit, prepare) unchanged.
//!
//! How the port's promises are kept:
//! - append: the expected version becomes the expected revision, a wrong one the port's
//!   typed conflict; event ids are the writers' deterministic ones, so a retried append is
//!   recognised by the server's idempotency check rather than doubled (and answered as
//!   written, where PostgreSQL answers `DuplicateEvent`: either way the events are in the
//!   log once; an append expecting `Any` is checked for known ids first);
//! - read_stream: forwards from a revision; a stream that does not exist reads as empty;
//! - read_all and subscribe: `$all` in commit order, only this project's streams
//!   (the stream prefixes the application names when it connects; the subscription
//!   filters on the server, and everything
//!   else in the database, system events included, is skipped). A subscription
//!   starts strictly after the stored position and remembers the last position it handed
//!   out, so a reconnect (with backoff) neither repeats nor skips an event.

pub mod mapping;

use crate::chain::{self, Heads};
use crate::{
    AppendResult, EventHash, EventLog, EventLogError, ExpectedVersion, NewEvent, Position,
    RecordedEvent, Subscription,
};
use async_trait::async_trait;
use eventstore::{
    AppendToStreamOptions, Client, ClientSettings, ReadAllOptions, ReadStreamOptions,
    StreamPosition, SubscribeToAllOptions, SubscriptionFilter,
};
use std::time::Duration;
use tokio::sync::mpsc;

/// Events a live subscription may hold before its reader takes them.
const SUBSCRIPTION_BUFFER: usize = 4096;
/// Events read per request when paging through `$all`.
const PAGE: usize = 1000;

pub struct EsdbEventLog {
    client: Client,
    /// The streams this log is made of, by prefix.
    prefixes: Vec<String>,
    /// What the next append of each stream chains to.
    heads: Heads,
}

impl EsdbEventLog {
    /// A client for `url` (`esdb://`, `esdb+discover://`, `kurrentdb://`, `kurrent://`)
    /// whose log is made of the streams named with `prefixes` (the application's; the
    /// contract suite's `contract-`); connects lazily.
    pub fn connect(url: &str, prefixes: &[&str]) -> Result<Self, EventLogError> {
        let settings: ClientSettings = mapping::client_url(url).parse().map_err(|e| {
            EventLogError::Failed(format!(
                "{} is not an EventStoreDB connection string: {e}",
                mapping::redacted(url)
            ))
        })?;
        let client = Client::new(settings)
            .map_err(|e| EventLogError::Failed(format!("EventStoreDB client: {e}")))?;
        Ok(Self {
            client,
            prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            heads: Heads::default(),
        })
    }

    /// The revision to append at and the hash to chain to: the head itself for `Any` (the
    /// server then refuses the append if the head moves meanwhile, and the writer's retry
    /// rereads it).
    async fn chain_point(
        &self,
        stream: &str,
        expected: ExpectedVersion,
    ) -> Result<(ExpectedVersion, EventHash), EventLogError> {
        let version = match expected {
            ExpectedVersion::NoStream => return Ok((expected, EventHash::GENESIS)),
            ExpectedVersion::Exact(version) => {
                if let Some(hash) = self.heads.at(stream, version) {
                    return Ok((expected, hash));
                }
                version
            }
            ExpectedVersion::Any => match self.last_version(stream).await? {
                Some(version) => version,
                None => return Ok((ExpectedVersion::NoStream, EventHash::GENESIS)),
            },
        };
        let at = self.read_stream(stream, version, 1).await?;
        match at.first() {
            Some(event) if event.version == version => Ok((
                ExpectedVersion::Exact(version),
                event.hash.unwrap_or(EventHash::GENESIS),
            )),
            // Not there: the server will refuse the append with the stream's real revision.
            _ => Ok((ExpectedVersion::Exact(version), EventHash::GENESIS)),
        }
    }

    /// The revision of a stream's last event.
    async fn last_version(&self, stream: &str) -> Result<Option<u64>, EventLogError> {
        let options = ReadStreamOptions::default()
            .backwards()
            .position(StreamPosition::End)
            .max_count(1);
        let mut read = match self.client.read_stream(stream.to_owned(), &options).await {
            Ok(read) => read,
            Err(eventstore::Error::ResourceNotFound) => return Ok(None),
            Err(e) => return Err(mapping::error(stream, e)),
        };
        match read.next().await {
            Ok(Some(event)) => Ok(Some(event.get_original_event().revision)),
            Ok(None) | Err(eventstore::Error::ResourceNotFound) => Ok(None),
            Err(e) => Err(mapping::error(stream, e)),
        }
    }

    /// Up to `limit` of this project's events of `$all` strictly after `after`.
    async fn page_after(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        let mut out = Vec::new();
        let mut from = after;
        loop {
            let start = if from == Position::START {
                StreamPosition::Start
            } else {
                StreamPosition::Position(mapping::esdb_position(from))
            };
            let page = self
                .all_page(ReadAllOptions::default().forwards().position(start))
                .await?;
            for original in &page {
                let position = mapping::position(original.position);
                if position <= from {
                    continue;
                }
                from = position;
                if mapping::is_ours(&self.prefixes, &original.stream_id) {
                    out.push(mapping::recorded(original)?);
                    if out.len() == limit {
                        return Ok(out);
                    }
                }
            }
            if page.len() < PAGE {
                return Ok(out);
            }
        }
    }

    /// One page (up to [`PAGE`] events, of any stream) of `$all` as `options` reads it.
    async fn all_page(
        &self,
        options: ReadAllOptions,
    ) -> Result<Vec<eventstore::RecordedEvent>, EventLogError> {
        let mut stream = self
            .client
            .read_all(&options.max_count(PAGE))
            .await
            .map_err(|e| mapping::error("$all", e))?;
        let mut page = Vec::with_capacity(PAGE);
        while let Some(event) = stream.next().await.map_err(|e| mapping::error("$all", e))? {
            // The original event: the link when there is one (as `get_original_event`).
            page.extend(event.link.or(event.event));
        }
        Ok(page)
    }
}

#[async_trait]
impl EventLog for EsdbEventLog {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError> {
        if events.is_empty() {
            return Err(EventLogError::EmptyAppend);
        }
        // With an exact expectation a retried append (same ids) is recognised by the
        // server, which answers it as written: the events are in the log either way. Without
        // one the server may not recognise it, so the port's rule (the same ids twice are
        // refused) is checked here; only tools append with `Any`.
        if expected == ExpectedVersion::Any {
            let mut from = 0;
            loop {
                let page = self.read_stream(stream, from, PAGE).await?;
                if let Some(seen) = page
                    .iter()
                    .find(|e| events.iter().any(|n| n.event_id == e.event_id))
                {
                    return Err(EventLogError::DuplicateEvent(seen.event_id));
                }
                if page.len() < PAGE {
                    break;
                }
                from += PAGE as u64;
            }
        }
        let written = loop {
            let (at, previous) = self.chain_point(stream, expected).await?;
            let first_version = match at {
                ExpectedVersion::Exact(version) => version + 1,
                _ => 0,
            };
            let links = chain::link(stream, first_version, previous, &events, chrono::Utc::now());
            let data = events
                .iter()
                .zip(links)
                .map(|(event, link)| mapping::event_data(event, link))
                .collect::<Result<Vec<_>, _>>()?;
            let options =
                AppendToStreamOptions::default().expected_revision(mapping::expected_revision(at));
            match self
                .client
                .append_to_stream(stream.to_owned(), &options, data)
                .await
                .map_err(|e| mapping::error(stream, e))
            {
                Ok(written) => break written,
                // Appending at whatever the head is: it moved since it was read.
                Err(EventLogError::WrongExpectedVersion { .. })
                    if expected == ExpectedVersion::Any => {}
                Err(other) => return Err(other),
            }
        };
        // Nothing is remembered of the hashes just sent: a retried append the server
        // recognises keeps the events (and hashes) of the first try, so the next append
        // reads the hash it chains to.
        let mut position = mapping::position(written.position);
        if position == Position::START {
            // A retried append the server recognised may come back without a position:
            // read it off the event.
            let last = self
                .read_stream(stream, written.next_expected_version, 1)
                .await?;
            position = last.first().map_or(Position::START, |e| e.position);
        }
        Ok(AppendResult {
            last_version: written.next_expected_version,
            position,
        })
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Position(from_version))
            .max_count(limit);
        let mut read = match self.client.read_stream(stream.to_owned(), &options).await {
            Ok(read) => read,
            Err(eventstore::Error::ResourceNotFound) => return Ok(Vec::new()),
            Err(e) => return Err(mapping::error(stream, e)),
        };
        let mut events = Vec::new();
        loop {
            match read.next().await {
                Ok(Some(event)) => events.push(mapping::recorded(event.get_original_event())?),
                Ok(None) => {
                    self.heads.remember_read(&events);
                    return Ok(events);
                }
                Err(eventstore::Error::ResourceNotFound) => return Ok(Vec::new()),
                Err(e) => return Err(mapping::error(stream, e)),
            }
        }
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.page_after(after, limit).await
    }

    async fn subscribe(&self, after: Position) -> Result<Box<dyn Subscription>, EventLogError> {
        let (sender, receiver) = mpsc::channel(SUBSCRIPTION_BUFFER);
        tokio::spawn(pump(
            self.client.clone(),
            self.prefixes.clone(),
            after,
            sender,
        ));
        Ok(Box::new(EsdbSubscription {
            receiver,
            pending: None,
        }))
    }

    async fn head(&self) -> Result<Position, EventLogError> {
        let mut before: Option<eventstore::Position> = None;
        loop {
            let start = before.map_or(StreamPosition::End, StreamPosition::Position);
            let page = self
                .all_page(ReadAllOptions::default().backwards().position(start))
                .await?;
            for original in &page {
                if before
                    .is_some_and(|b| mapping::position(original.position) >= mapping::position(b))
                {
                    continue;
                }
                if mapping::is_ours(&self.prefixes, &original.stream_id) {
                    return Ok(mapping::position(original.position));
                }
                before = Some(original.position);
            }
            if page.len() < PAGE {
                return Ok(Position::START);
            }
        }
    }

    /// Every event EventStoreDB has recorded is readable at once.
    async fn last_recorded(&self) -> Result<Position, EventLogError> {
        self.head().await
    }

    async fn is_recorded(&self, position: Position) -> Result<bool, EventLogError> {
        if position == Position::START || !mapping::is_valid_position(position) {
            return Ok(false);
        }
        let options = ReadAllOptions::default()
            .forwards()
            .position(StreamPosition::Position(mapping::esdb_position(position)))
            .max_count(1);
        // A position that is not an event's is refused by the server as an invalid argument.
        let not_an_event = |e: &eventstore::Error| {
            matches!(
                e,
                eventstore::Error::Grpc {
                    code: tonic::Code::InvalidArgument,
                    ..
                }
            )
        };
        let mut stream = match self.client.read_all(&options).await {
            Ok(stream) => stream,
            Err(e) if not_an_event(&e) => return Ok(false),
            Err(e) => return Err(mapping::error("$all", e)),
        };
        match stream.next().await {
            Ok(Some(event)) => {
                let original = event.get_original_event();
                Ok(mapping::position(original.position) == position
                    && mapping::is_ours(&self.prefixes, &original.stream_id))
            }
            Ok(None) => Ok(false),
            Err(e) if not_an_event(&e) => Ok(false),
            Err(e) => Err(mapping::error("$all", e)),
        }
    }

    /// A stream's length is its last revision plus one; `$all` has no count short of
    /// reading it (its positions are byte offsets).
    async fn count(&self, stream: Option<&str>) -> Result<Option<u64>, EventLogError> {
        match stream {
            Some(stream) => Ok(Some(self.last_version(stream).await?.map_or(0, |v| v + 1))),
            None => Ok(None),
        }
    }
}

struct EsdbSubscription {
    receiver: mpsc::Receiver<Result<RecordedEvent, EventLogError>>,
    /// An error that came after events already taken: reported on the next call.
    pending: Option<EventLogError>,
}

#[async_trait]
impl Subscription for EsdbSubscription {
    async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, EventLogError> {
        if let Some(error) = self.pending.take() {
            return Err(error);
        }
        let first = self.receiver.recv().await.ok_or_else(|| {
            EventLogError::Unavailable("the EventStoreDB subscription stopped".into())
        })??;
        let mut batch = vec![first];
        while batch.len() < max {
            match self.receiver.try_recv() {
                Ok(Ok(event)) => batch.push(event),
                Ok(Err(error)) => {
                    self.pending = Some(error);
                    break;
                }
                Err(_) => break,
            }
        }
        Ok(batch)
    }
}

/// Follows `$all` after `after` into `sender`, reconnecting with backoff (0.1 s doubling to
/// 10 s) from the last position handed out while errors are transient; an error that will
/// not pass (access denied, say) is handed to the reader and ends it. Stops as soon as the
/// reader is gone.
async fn pump(
    client: Client,
    prefixes: Vec<String>,
    mut after: Position,
    sender: mpsc::Sender<Result<RecordedEvent, EventLogError>>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let filter = prefixes
            .iter()
            .fold(SubscriptionFilter::on_stream_name(), |f, p| f.add_prefix(p));
        let start = if after == Position::START {
            StreamPosition::Start
        } else {
            StreamPosition::Position(mapping::esdb_position(after))
        };
        let options = SubscribeToAllOptions::default()
            .position(start)
            .filter(filter);
        let mut subscription = client.subscribe_to_all(&options).await;
        loop {
            let next = tokio::select! {
                next = subscription.next() => next,
                () = sender.closed() => return,
            };
            match next {
                Ok(event) => {
                    backoff = Duration::from_millis(100);
                    let original = event.get_original_event();
                    let position = mapping::position(original.position);
                    // The start is exclusive, and a resubscription may repeat: skip what
                    // was handed out already.
                    if position <= after || !mapping::is_ours(&prefixes, &original.stream_id) {
                        continue;
                    }
                    let recorded = mapping::recorded(original);
                    let failed = recorded.is_err();
                    if sender.send(recorded).await.is_err() || failed {
                        return;
                    }
                    after = position;
                }
                Err(error) if mapping::is_transient(&error) => {
                    tracing::warn!(%error, "EventStoreDB subscription dropped; resubscribing");
                    break;
                }
                Err(error) => {
                    let _ = sender.send(Err(mapping::error("$all", error))).await;
                    return;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = sender.closed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
