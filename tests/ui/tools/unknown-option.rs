use stategraph::tool;

/// Gets the weather.
#[tool(name = "weather")]
async fn get_weather(city: String) -> String {
    city
}

fn main() {}
