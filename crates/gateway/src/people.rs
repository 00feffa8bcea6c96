//! People and teams through the gateway.

use model::{Person, PersonId, Team};

use crate::audit::{AuditRecord, AuditResource};
use crate::{AccessContext, Action, Actor, Gateway, GatewayError};

impl Gateway {
    /// Adds or updates people and teams in one go; managers and teams named
    /// must exist in the batch or the store.
    pub fn import_people(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        people: &[Person],
        teams: &[Team],
    ) -> Result<(), GatewayError> {
        self.authorize_admin(actor, Action::PersonUpdateStatus, ctx)?;
        let known: std::collections::HashSet<PersonId> = self
            .store
            .list_people()?
            .into_iter()
            .map(|p| p.id)
            .chain(people.iter().map(|p| p.id.clone()))
            .collect();
        for p in people {
            if let Some(m) = &p.manager {
                if !known.contains(m) {
                    return Err(GatewayError::Invalid(format!(
                        "person {}: unknown manager {m}; nothing was written",
                        p.id
                    )));
                }
            }
        }
        // Recorded first, as a status change is: an import may mark people departed.
        self.record(
            &AuditRecord::admin(self.clock.now_ms(), actor, Action::PersonUpdateStatus, ctx)
                .with_count(people.len() as u64),
        )?;
        self.store.upsert_teams(teams)?;
        self.store.upsert_people(people)?;
        Ok(())
    }

    pub fn list_people(&self, actor: &Actor, ctx: &AccessContext) -> Result<Vec<Person>, GatewayError> {
        self.authorize_admin(actor, Action::AccessReview, ctx)?;
        let people = self.store.list_people()?;
        self.record(
            &AuditRecord::admin(self.clock.now_ms(), actor, Action::AccessReview, ctx).with_count(people.len() as u64),
        )?;
        Ok(people)
    }

    pub fn person(&self, actor: &Actor, ctx: &AccessContext, id: &PersonId) -> Result<Person, GatewayError> {
        self.authorize_admin(actor, Action::AccessReview, ctx)?;
        let person = self.store.get_person(id)?.ok_or_else(|| GatewayError::NotFound {
            kind: "person",
            id: id.to_string(),
        })?;
        let mut record = AuditRecord::admin(self.clock.now_ms(), actor, Action::AccessReview, ctx).with_count(1);
        record.resources = vec![AuditResource::Person(id.to_string())];
        self.record(&record)?;
        Ok(person)
    }

    pub fn list_teams(&self) -> Result<Vec<Team>, GatewayError> {
        Ok(self.store.list_teams()?)
    }
}

impl Gateway {
    /// Changes a person's employment status (an HR signal: notice given,
    /// left). Takes effect at the person's very next request, since every
    /// request reads the person afresh.
    pub fn set_person_status(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &PersonId,
        status: model::EmploymentStatus,
        notice_date: Option<String>,
        last_day: Option<String>,
    ) -> Result<Person, GatewayError> {
        self.authorize_admin(actor, Action::PersonUpdateStatus, ctx)?;
        let mut person = self.store.get_person(id)?.ok_or_else(|| GatewayError::NotFound {
            kind: "person",
            id: id.to_string(),
        })?;
        person.status = status;
        if notice_date.is_some() {
            person.notice_date = notice_date;
        }
        if last_day.is_some() {
            person.last_day = last_day;
        }
        // Recorded first: a status change nobody can see in the ledger must not happen.
        let mut record = AuditRecord::admin(self.clock.now_ms(), actor, Action::PersonUpdateStatus, ctx).with_count(1);
        record.resources = vec![AuditResource::Person(id.to_string())];
        record.fields = vec![format!("status={}", status.as_str())];
        self.record(&record)?;
        self.store.upsert_people(std::slice::from_ref(&person))?;
        Ok(person)
    }

    /// Authorizes ending every session and API token `id` holds and records
    /// it; the caller, which holds the authentication store, then revokes
    /// them. Recorded first: a revocation must be in the ledger before it
    /// takes effect, like any admin action.
    pub fn authorize_sessions_revoke(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &PersonId,
    ) -> Result<(), GatewayError> {
        self.authorize_admin(actor, Action::SessionsRevoke, ctx)?;
        if self.store.get_person(id)?.is_none() {
            return Err(GatewayError::NotFound {
                kind: "person",
                id: id.to_string(),
            });
        }
        let mut record = AuditRecord::admin(self.clock.now_ms(), actor, Action::SessionsRevoke, ctx).with_count(1);
        record.resources = vec![AuditResource::Person(id.to_string())];
        self.record(&record)
    }
}
