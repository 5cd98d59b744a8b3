//! The schema, as versioned migrations embedded in the build and run on first use.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::Engine;

/// The migrations of each engine: version, description, SQL. Append, never edit: a
/// database records the checksum of each migration it ran.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "threads",
        include_str!("../../migrations/sqlite/0001_threads.sql"),
    ),
    (
        2,
        "frontier",
        include_str!("../../migrations/sqlite/0002_frontier.sql"),
    ),
    (
        3,
        "thread records",
        include_str!("../../migrations/sqlite/0003_thread_records.sql"),
    ),
    (
        4,
        "run records",
        include_str!("../../migrations/sqlite/0004_run_records.sql"),
    ),
    (
        5,
        "chain by key",
        include_str!("../../migrations/sqlite/0005_chain_by_key.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "threads",
        include_str!("../../migrations/postgres/0001_threads.sql"),
    ),
    (
        2,
        "frontier",
        include_str!("../../migrations/postgres/0002_frontier.sql"),
    ),
    (
        3,
        "thread records",
        include_str!("../../migrations/postgres/0003_thread_records.sql"),
    ),
    (
        4,
        "run records",
        include_str!("../../migrations/postgres/0004_run_records.sql"),
    ),
    (
        5,
        "chain by key",
        include_str!("../../migrations/postgres/0005_chain_by_key.sql"),
    ),
];

/// The newest schema version this build knows.
pub(crate) const NEWEST: i64 = 5;

/// The embedded migrations of one engine.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        let migrations = self
            .0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// The migrator of `engine`'s schema.
pub(crate) async fn migrator(engine: Engine) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    }))
    .await
}
