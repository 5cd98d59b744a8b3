use stategraph::tool;

/// Gets the weather.
#[tool]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
