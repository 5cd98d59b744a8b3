use stategraph::tool;

#[derive(serde::Deserialize)]
pub struct City {
    pub name: String,
}

/// Gets the weather.
#[tool]
async fn get_weather(city: City) -> String {
    city.name
}

fn main() {}
