//! The portal's storage: one SQLite database (embedded, no server), its schema created when it
//! opens, and the password hashes.
//!
//! Every table is CKAN's in spirit and much smaller: `user`, `api_token`, `package`,
//! `resource`, `datastore_row`, `reset_key`, `session` and `mail` (the messages the portal
//! would have e-mailed, such as reset links).

use std::path::Path;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::Connection;

/// The schema, created on start when absent.
const SCHEMA: &str = "
    PRAGMA foreign_keys = ON;
    CREATE TABLE IF NOT EXISTS user (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        fullname TEXT,
        sysadmin INTEGER NOT NULL DEFAULT 0,
        password_hash TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS api_token (
        token TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user(id),
        name TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS package (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        title TEXT
    );
    CREATE TABLE IF NOT EXISTS resource (
        id INTEGER PRIMARY KEY,
        package_id INTEGER NOT NULL REFERENCES package(id),
        url TEXT,
        upload BLOB
    );
    CREATE TABLE IF NOT EXISTS datastore_row (
        resource_id INTEGER NOT NULL REFERENCES resource(id),
        record TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS reset_key (
        key TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user(id)
    );
    CREATE TABLE IF NOT EXISTS session (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user(id)
    );
    CREATE TABLE IF NOT EXISTS mail (
        id INTEGER PRIMARY KEY,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL
    );
";

/// Opens the database at `path` (`None`: in memory, gone when the portal stops) and creates
/// the schema.
pub fn open(path: Option<&Path>) -> Result<Connection, rusqlite::Error> {
    let db = match path {
        Some(path) => Connection::open(path)?,
        None => Connection::open_in_memory()?,
    };
    db.execute_batch(SCHEMA)?;
    Ok(db)
}

/// How much work a password hash costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswordCost {
    /// Argon2id with the crate's default parameters (19 MiB, 2 passes): what a site uses.
    #[default]
    Default,
    /// Argon2id with the smallest parameters (8 KiB, 1 pass), for tests only: a hash takes
    /// microseconds instead of tens of milliseconds, and is no protection at all.
    CheapForTests,
}

impl PasswordCost {
    fn hasher(self) -> Argon2<'static> {
        let params = match self {
            PasswordCost::Default => Params::DEFAULT,
            PasswordCost::CheapForTests => {
                Params::new(Params::MIN_M_COST, Params::MIN_T_COST, 1, None)
                    .unwrap_or(Params::DEFAULT)
            }
        };
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// The PHC string of `password` (`$argon2id$v=19$...`), with a fresh random salt.
    pub fn hash(self, password: &str) -> Result<String, String> {
        self.hasher()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| format!("cannot hash the password: {e}"))
    }
}

/// Whether `password` matches the stored PHC string (its own parameters apply). A hash that
/// does not parse matches nothing.
pub fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A random token: 32 hex digits from the operating system's generator (API tokens, session
/// ids, reset keys).
pub fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers from the OS: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
