//! Pooled PostgreSQL connections that prepare each statement once.
//!
//! `postgres::Client::query(&str, …)` parses and plans the text as an
//! unnamed statement on every call: two round trips and a plan per query.
//! A store runs the same few dozen statements all day, so each connection
//! keeps what it prepared, keyed by the SQL text, and later calls only bind
//! and execute. r2d2_postgres hands out bare clients, hence this manager.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use postgres::types::ToSql;
use postgres::{Client, Config, Error, NoTls, Row, Statement};
use r2d2_postgres::PostgresConnectionManager;

/// Statements one connection keeps prepared; past this (dynamic SQL) the
/// cache starts over rather than grow without bound.
const MAX_PREPARED: usize = 256;

/// A client with the statements it has prepared. Its `query`, `query_one`,
/// `query_opt` and `execute` shadow the client's and use the cache; every
/// other method is the client's.
pub(crate) struct Db {
    client: Client,
    prepared: HashMap<String, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// SQL text (prepared once per connection) or a statement prepared already.
pub(crate) trait Sql {
    fn statement(&self, db: &mut Db) -> Result<Statement, Error>;
}

impl Sql for str {
    fn statement(&self, db: &mut Db) -> Result<Statement, Error> {
        if let Some(statement) = db.prepared.get(self) {
            return Ok(statement.clone());
        }
        let statement = db.client.prepare(self)?;
        if db.prepared.len() >= MAX_PREPARED {
            db.prepared.clear();
        }
        db.prepared.insert(self.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Sql for String {
    fn statement(&self, db: &mut Db) -> Result<Statement, Error> {
        self.as_str().statement(db)
    }
}

impl Sql for Statement {
    fn statement(&self, _: &mut Db) -> Result<Statement, Error> {
        Ok(self.clone())
    }
}

impl Db {
    /// A connection made outside a pool (the first one, which migrates).
    pub(crate) fn new(client: Client) -> Db {
        Db {
            client,
            prepared: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &(impl Sql + ?Sized)) -> Result<Statement, Error> {
        sql.statement(self)
    }

    pub(crate) fn query(&mut self, sql: &(impl Sql + ?Sized), params: Params<'_>) -> Result<Vec<Row>, Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    pub(crate) fn query_one(&mut self, sql: &(impl Sql + ?Sized), params: Params<'_>) -> Result<Row, Error> {
        let statement = self.statement(sql)?;
        self.client.query_one(&statement, params)
    }

    pub(crate) fn query_opt(&mut self, sql: &(impl Sql + ?Sized), params: Params<'_>) -> Result<Option<Row>, Error> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params)
    }

    pub(crate) fn execute(&mut self, sql: &(impl Sql + ?Sized), params: Params<'_>) -> Result<u64, Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }
}

impl Deref for Db {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Opens [`Db`] connections for an r2d2 pool.
pub(crate) struct DbManager(PostgresConnectionManager<NoTls>);

impl DbManager {
    pub(crate) fn new(config: Config) -> DbManager {
        DbManager(PostgresConnectionManager::new(config, NoTls))
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = Db;
    type Error = Error;

    fn connect(&self) -> Result<Db, Error> {
        Ok(Db::new(self.0.connect()?))
    }

    fn is_valid(&self, conn: &mut Db) -> Result<(), Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Db) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}
