//! Messages and progress on stderr. Standard output is reserved for results, so `--format json`
//! output can always be piped.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How to talk to the person at the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    quiet: bool,
    color: bool,
    interactive: bool,
    /// `SHIPLOG_TIMINGS` set: print how long each phase took (for benchmarks and bug reports).
    timings: Option<std::time::Instant>,
}

impl Ui {
    /// Reads the terminal and `NO_COLOR`.
    pub fn new(quiet: bool) -> Self {
        let stderr = std::io::stderr();
        let interactive = stderr.is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let timings = std::env::var_os("SHIPLOG_TIMINGS")
            .is_some_and(|v| !v.is_empty())
            .then(std::time::Instant::now);
        Self {
            quiet,
            color: interactive && !no_color,
            interactive,
            timings,
        }
    }

    /// With `SHIPLOG_TIMINGS` set, prints the time since the process started and a phase name.
    pub fn phase(&self, name: &str) {
        if let Some(start) = self.timings {
            // Resident memory, where the system reports it (Linux).
            let memory = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|status| {
                    let field = |name: &str| {
                        status
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim().to_owned())
                    };
                    Some(format!(
                        "  (anonymous {}, file-backed {})",
                        field("RssAnon:")?,
                        field("RssFile:")?
                    ))
                })
                .unwrap_or_default();
            eprintln!(
                "timing: {:>8.1} ms  {name}{memory}",
                start.elapsed().as_secs_f64() * 1000.0
            );
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// An informational note (hidden with --quiet).
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{} {text}", self.paint("2", "note:"));
        }
    }

    /// A command's result line on stderr (what an import stored): shown with --quiet too.
    pub fn result(&self, text: &str) {
        eprintln!("{text}");
    }

    /// A warning: something was left out or looks wrong.
    pub fn warn(&self, text: &str) {
        eprintln!("{} {text}", self.paint("33;1", "warning:"));
    }

    /// An error's one-line cause and hints.
    pub fn error(&self, text: &str) {
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            eprintln!("{} {first}", self.paint("31;1", "error:"));
        }
        for line in lines {
            match line.strip_prefix("hint: ") {
                Some(hint) => eprintln!("{} {hint}", self.paint("36", "hint:")),
                None => eprintln!("  {line}"),
            }
        }
    }

    /// A progress bar for reading history; drawn only on a terminal and not with --quiet.
    pub fn history_progress(&self) -> HistoryProgress {
        HistoryProgress {
            bar: self.progress_bar(
                "{spinner:.cyan} reading history {bar:30.cyan/blue} {human_pos}/{human_len} commits ({per_sec}, {eta} left)",
                "reading history {bar:30} {human_pos}/{human_len} commits ({per_sec}, {eta} left)",
            ),
        }
    }

    /// A progress bar on stderr, drawn only on a terminal and not with --quiet, styled with
    /// indicatif's `colored` template when colours are on and `plain` otherwise.
    pub fn progress_bar(&self, colored: &str, plain: &str) -> ProgressBar {
        let bar = ProgressBar::hidden();
        if self.interactive && !self.quiet {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        let template = if self.color { colored } else { plain };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }
}

/// Progress of a history read, as an indicatif bar.
pub struct HistoryProgress {
    bar: ProgressBar,
}

impl shiplog_engine::analysis::HistoryProgress for HistoryProgress {
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The terminal as the engine's reporter.
impl shiplog_engine::Reporter for Ui {
    fn phase(&self, name: &str) {
        Ui::phase(self, name);
    }
    fn note(&self, text: &str) {
        Ui::note(self, text);
    }
    fn warn(&self, text: &str) {
        Ui::warn(self, text);
    }
    fn history_progress(&self) -> Box<dyn shiplog_engine::analysis::HistoryProgress + '_> {
        Box::new(Ui::history_progress(self))
    }
}

impl shiplog_git::Progress for HistoryProgress {
    fn start_decoding(&self, total: u64) {
        self.bar.set_length(total);
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}
