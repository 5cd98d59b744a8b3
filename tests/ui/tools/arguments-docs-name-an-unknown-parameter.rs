use stategraph::tool;

/// Gets the weather.
///
/// # Arguments
/// * `town` - The town
#[tool]
async fn get_weather(city: String) -> String {
    city
}

fn main() {}
