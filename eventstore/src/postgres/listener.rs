//! One connection that LISTENs for appends and turns each notification into a wake-up for
//! every subscription of this process. It reconnects with backoff when the database goes
//! away, and wakes everyone after reconnecting, since notifications sent meanwhile were lost.

use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, NoTls};

pub(super) struct Listener {
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    pub fn spawn(config: tokio_postgres::Config) -> (Self, watch::Receiver<u64>) {
        let (wake, receiver) = watch::channel(0u64);
        let task = tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match listen(&config, &wake).await {
                    Ok(()) => backoff = Duration::from_millis(100),
                    Err(error) => {
                        tracing::warn!(%error, "event listener lost its connection; reconnecting")
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        (Self { task }, receiver)
    }
}

/// Runs until the connection ends.
async fn listen(
    config: &tokio_postgres::Config,
    wake: &watch::Sender<u64>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let notifications = wake.clone();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => notifications.send_modify(|n| *n += 1),
                Ok(_) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    });
    client.batch_execute("LISTEN boxoffice_events").await?;
    wake.send_modify(|n| *n += 1);
    let outcome = driver.await;
    drop(client);
    match outcome {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
