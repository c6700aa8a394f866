//! Progress of long commands (exports, verifications, rebuilds): on a terminal a bar with
//! the events done, events per second and the time left; otherwise (a log, CI) a plain line
//! every few seconds, so a pipe is never flooded with redraws.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a plain line is written when there is no terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: Option<u64>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// Progress over `total` items (when known) called `what` (`events`).
    pub fn new(what: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::new(total),
                    "{wide_bar} {human_pos}/{human_len} {msg} {per_sec} ETA {eta}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {human_pos} {msg} {per_sec}",
                ),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_message(what);
            bar
        });
        Self {
            bar,
            what,
            total,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn set(&mut self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if self.last_line.elapsed() >= LINE_EVERY => {
                self.last_line = Instant::now();
                eprintln!("{}", self.line(done));
            }
            None => {}
        }
    }

    /// Ends the bar (or writes the last line).
    pub fn finish(self, done: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.finish();
            }
            None => eprintln!("{}", self.line(done)),
        }
    }

    fn line(&self, done: u64) -> String {
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = done as f64 / elapsed;
        match self.total {
            Some(total) if rate > 0.0 && total > done => format!(
                "{done}/{total} {} ({rate:.0}/s, about {:.0} s left)",
                self.what,
                (total - done) as f64 / rate
            ),
            Some(total) => format!("{done}/{total} {} ({rate:.0}/s)", self.what),
            None => format!("{done} {} ({rate:.0}/s)", self.what),
        }
    }
}
