//! A `#[tool]` expansion under `deny(warnings, missing_docs)`, with each kind of argument.
#![deny(warnings, missing_docs)]

use stategraph::tool;

/// A unit.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub enum Unit {
    /// Celsius.
    Celsius,
}

/// A search.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// What to look for.
    pub query: String,
}

/// Gets the weather.
///
/// # Arguments
/// * `city` - The city
#[tool]
pub async fn get_weather(city: String, unit: Option<Unit>) -> String {
    let _ = unit;
    city
}

/// Searches.
#[tool]
pub async fn search(#[args] search: SearchArgs) -> Result<serde_json::Value, std::io::Error> {
    Ok(serde_json::json!({"query": search.query}))
}

/// Takes no arguments.
#[tool(crate = ::stategraph)]
pub async fn now() -> &'static str {
    "noon"
}

fn main() {
    let _ = (GetWeather, Search, Now);
}
