//! `shiplog report`: the delivery report a team shows its leadership, as one self-contained HTML
//! page, as Markdown, or as the JSON of its model.
//!
//! Compute, then render: [`build`] turns the attributed delivery model into a [`ReportModel`]
//! (every number, list and chart series the page shows), and the renderers only lay that model
//! out. `--format json` prints the model, so what the template sees can be read, and the future
//! `shiplog serve` renders the same pages from the same model.
//!
//! - [`model`]: the model and its builder.
//! - [`html`]: the page (maud templates; inline CSS, no script).
//! - [`charts`]: the SVG charts (hand-written; the module says why).
//! - [`dashboard`]: the same pages inside the live dashboard of `shiplog serve`, and its home page.
//! - [`markdown`]: the same report in Markdown.
//! - [`links`]: commit and pull-request links from the repository's web address.
//! - [`definitions`]: the metric definitions from docs/metrics.md carried in the page.

pub mod charts;
pub mod dashboard;
pub mod definitions;
pub mod html;
pub mod links;
pub mod markdown;
pub mod model;

pub use links::WebLinks;
pub use model::{ReportError, ReportInputs, ReportModel, TrendPeriod, build};

/// The page as one HTML document.
pub fn render_html(model: &ReportModel) -> String {
    html::render(model)
}

/// The page inside the live dashboard's navigation, filters and CSV exports.
pub fn render_dashboard(model: &ReportModel, chrome: &dashboard::Chrome) -> String {
    html::render_with(model, Some(chrome))
}

/// The report in Markdown.
pub fn render_markdown(model: &ReportModel) -> String {
    markdown::render(model)
}

/// The model as JSON: exactly what the templates see.
pub fn render_json(model: &ReportModel) -> Result<String, crate::RenderError> {
    Ok(serde_json::to_string_pretty(model)? + "\n")
}
