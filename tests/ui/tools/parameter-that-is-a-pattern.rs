use stategraph::tool;

/// Gets the weather.
#[tool]
async fn get_weather((city, country): (String, String)) -> String {
    format!("{city}, {country}")
}

fn main() {}
