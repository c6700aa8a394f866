//! A webhook receiver on a loopback port, as a customer's system would run one: it answers
//! each POST with 200 and keeps what it got. It can be told to hang on its n-th request (so
//! a delivery is in flight when it is killed), killed (every connection closed at once, as
//! when its process dies) and started again on the same port.
//!
//! It speaks just enough HTTP/1.1 for the deliverer (requests with a `content-length`,
//! kept alive), so that killing it closes the very sockets the deliverer is using.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// What every incarnation of the receiver on one port got, in arrival order.
pub type Inbox = Arc<Mutex<Vec<Received>>>;

pub struct Receiver {
    task: JoinHandle<()>,
}

impl Receiver {
    /// Listens on `port`, adding each request to `inbox`; the `hang_on`-th request of this
    /// incarnation (1-based) is kept and never answered.
    pub async fn start(port: u16, inbox: Inbox, hang_on: Option<usize>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the receiver's port is free");
        let served = Arc::new(Mutex::new(0usize));
        let task = tokio::spawn(async move {
            // Owned by this task: aborting it drops the set, which aborts every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(serve(stream, inbox.clone(), served.clone(), hang_on));
            }
        });
        Self { task }
    }

    /// Dies at once: the listener and every open connection close, answered or not.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn serve(stream: TcpStream, inbox: Inbox, served: Arc<Mutex<usize>>, hang_on: Option<usize>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let Some(received) = read_request(&mut read).await else {
            return;
        };
        let number = {
            let mut served = served.lock().unwrap();
            *served += 1;
            *served
        };
        inbox.lock().unwrap().push(received);
        if Some(number) == hang_on {
            std::future::pending::<()>().await;
        }
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

async fn read_request(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Received> {
    let mut line = String::new();
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let path = line.split(' ').nth(1)?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        read.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    read.read_exact(&mut body).await.ok()?;
    Some(Received {
        path,
        headers,
        body,
    })
}
