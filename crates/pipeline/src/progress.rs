//! Progress on long work (indexing a large tree): a spinner on stderr when it is a terminal,
//! nothing otherwise, so scripts and pipes see clean output.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Nowhere (libraries, services, pipes).
    #[default]
    Silent,
    /// A spinner on stderr when stderr is a terminal; silent otherwise.
    Terminal,
}

impl Progress {
    /// [`Progress::Terminal`] when stderr is a terminal, else [`Progress::Silent`].
    pub fn terminal() -> Self {
        if std::io::stderr().is_terminal() {
            Progress::Terminal
        } else {
            Progress::Silent
        }
    }

    /// Starts showing `message`; the returned guard clears it when dropped.
    pub(crate) fn start(self, message: String) -> ProgressGuard {
        match self {
            Progress::Silent => ProgressGuard(None),
            Progress::Terminal => {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                    bar.set_style(style);
                }
                bar.set_message(message);
                bar.enable_steady_tick(Duration::from_millis(120));
                ProgressGuard(Some(bar))
            }
        }
    }
}

/// Clears the spinner when dropped.
pub(crate) struct ProgressGuard(Option<ProgressBar>);

impl ProgressGuard {
    /// Replaces the message.
    pub(crate) fn set_message(&self, message: String) {
        if let Some(bar) = &self.0 {
            bar.set_message(message);
        }
    }
}

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
