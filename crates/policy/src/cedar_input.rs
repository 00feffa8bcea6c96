//! Turns the engine's input types into Cedar requests and entities.
//!
//! The request carries everything about the principal and the resource, so each request
//! builds a two-entity store; type names and action ids are parsed once and cached here.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression};

use crate::error::PolicyError;
use crate::model::{Action, Principal, RequestContext, ResourceRef};

/// Parsed Cedar names, built once per engine.
#[derive(Debug)]
pub(crate) struct Names {
    person: EntityTypeName,
    role: EntityTypeName,
    team: EntityTypeName,
    compartment: EntityTypeName,
    customer: EntityTypeName,
    document: EntityTypeName,
    system_uid: EntityUid,
    actions: Vec<EntityUid>,
}

/// A principal as Cedar sees it, plus the ids its policies may be indexed under.
#[derive(Debug, Clone)]
pub(crate) struct CedarPrincipal {
    uid: EntityUid,
    /// A store holding only the principal, its hierarchy closed once; each request adds
    /// its resource to a clone (entities are shared, so the clone is shallow).
    store: Entities,
    /// The principal itself, its role and its team: every `X` for which
    /// `principal in X` can hold (a person has no deeper hierarchy).
    pub(crate) scope_keys: Vec<EntityUid>,
}

fn type_name(name: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(name).map_err(|e| PolicyError::Internal(format!("entity type `{name}`: {e}")))
}

impl Names {
    pub(crate) fn new() -> Result<Self, PolicyError> {
        let action_type = type_name("Action")?;
        let actions = Action::ALL
            .iter()
            .map(|a| EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(a.as_str())))
            .collect();
        Ok(Names {
            person: type_name("Person")?,
            role: type_name("Role")?,
            team: type_name("Team")?,
            compartment: type_name("Compartment")?,
            customer: type_name("Customer")?,
            document: type_name("Document")?,
            system_uid: EntityUid::from_type_name_and_id(type_name("System")?, EntityId::new("custodia")),
            actions,
        })
    }

    fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    /// The Cedar uid of an action.
    pub(crate) fn action_uid(&self, action: Action) -> Result<&EntityUid, PolicyError> {
        self.actions
            .get(action.index())
            .ok_or_else(|| PolicyError::Internal(format!("no uid cached for {action}")))
    }

    /// The action whose uid this is, if it is one of ours.
    pub(crate) fn action_of(&self, uid: &EntityUid) -> Option<Action> {
        self.actions
            .iter()
            .position(|a| a == uid)
            .and_then(|i| Action::ALL.get(i).copied())
    }

    fn compartments(&self, tags: &BTreeSet<String>) -> RestrictedExpression {
        RestrictedExpression::new_set(
            tags.iter()
                .map(|t| RestrictedExpression::new_entity_uid(Self::uid(&self.compartment, t))),
        )
    }

    pub(crate) fn principal(&self, p: &Principal) -> Result<CedarPrincipal, PolicyError> {
        let uid = Self::uid(&self.person, &p.id);
        let role = Self::uid(&self.role, &p.role);
        let mut attrs = HashMap::with_capacity(8);
        attrs.insert("role".to_string(), RestrictedExpression::new_entity_uid(role.clone()));
        attrs.insert(
            "department".to_string(),
            RestrictedExpression::new_string(p.department.clone()),
        );
        attrs.insert(
            "clearance".to_string(),
            RestrictedExpression::new_long(p.clearance.rank()),
        );
        attrs.insert("compartments".to_string(), self.compartments(&p.compartments));
        attrs.insert(
            "status".to_string(),
            RestrictedExpression::new_string(p.status.as_str().to_string()),
        );
        if let Some(manager) = &p.manager {
            attrs.insert(
                "manager".to_string(),
                RestrictedExpression::new_entity_uid(Self::uid(&self.person, manager)),
            );
        }
        let mut parents = HashSet::with_capacity(2);
        parents.insert(role.clone());
        let mut scope_keys = vec![uid.clone(), role];
        if let Some(team) = &p.team {
            let team = Self::uid(&self.team, team);
            attrs.insert("team".to_string(), RestrictedExpression::new_entity_uid(team.clone()));
            parents.insert(team.clone());
            scope_keys.push(team);
        }
        let entity = Entity::new(uid.clone(), attrs, parents)
            .map_err(|e| PolicyError::Internal(format!("person `{}`: {e}", p.id)))?;
        let store = Entities::from_entities([entity], None)
            .map_err(|e| PolicyError::Internal(format!("person `{}`: {e}", p.id)))?;
        Ok(CedarPrincipal { uid, store, scope_keys })
    }

    /// The resource's uid and, for records, its entity.
    fn resource(&self, r: &ResourceRef) -> Result<(EntityUid, Option<Entity>), PolicyError> {
        let (uid, attrs) = match r {
            ResourceRef::System => return Ok((self.system_uid.clone(), None)),
            ResourceRef::Customer(c) => {
                let mut attrs = HashMap::with_capacity(5);
                attrs.insert(
                    "owner".to_string(),
                    RestrictedExpression::new_entity_uid(Self::uid(&self.person, &c.owner)),
                );
                if let Some(team) = &c.team {
                    attrs.insert(
                        "team".to_string(),
                        RestrictedExpression::new_entity_uid(Self::uid(&self.team, team)),
                    );
                }
                attrs.insert(
                    "territory".to_string(),
                    RestrictedExpression::new_string(c.territory.clone()),
                );
                attrs.insert(
                    "classification".to_string(),
                    RestrictedExpression::new_long(c.classification.rank()),
                );
                attrs.insert("compartments".to_string(), self.compartments(&c.compartments));
                (Self::uid(&self.customer, &c.id), attrs)
            }
            ResourceRef::Document(d) => {
                let mut attrs = HashMap::with_capacity(3);
                attrs.insert(
                    "custodian".to_string(),
                    RestrictedExpression::new_entity_uid(Self::uid(&self.person, &d.custodian)),
                );
                attrs.insert(
                    "classification".to_string(),
                    RestrictedExpression::new_long(d.classification.rank()),
                );
                attrs.insert("compartments".to_string(), self.compartments(&d.compartments));
                (Self::uid(&self.document, &d.id), attrs)
            }
        };
        let entity = Entity::new(uid.clone(), attrs, HashSet::new())
            .map_err(|e| PolicyError::Internal(format!("resource `{uid}`: {e}")))?;
        Ok((uid, Some(entity)))
    }

    pub(crate) fn context(&self, action: Action, ctx: &RequestContext) -> Result<Context, PolicyError> {
        if ctx.hour > 23 || !(1..=7).contains(&ctx.weekday) {
            return Err(PolicyError::InvalidContext(format!(
                "expected hour 0..=23 and weekday 1 (monday) ..= 7 (sunday), found hour {} weekday {}",
                ctx.hour, ctx.weekday
            )));
        }
        let mut pairs = Vec::with_capacity(8);
        pairs.push(("hour".to_string(), RestrictedExpression::new_long(ctx.hour.into())));
        pairs.push((
            "weekday".to_string(),
            RestrictedExpression::new_long(ctx.weekday.into()),
        ));
        pairs.push((
            "trusted_network".to_string(),
            RestrictedExpression::new_bool(ctx.trusted_network),
        ));
        pairs.push((
            "record_count".to_string(),
            RestrictedExpression::new_long(i64::try_from(ctx.record_count).unwrap_or(i64::MAX)),
        ));
        pairs.push(("mfa_fresh".to_string(), RestrictedExpression::new_bool(ctx.mfa_fresh)));
        pairs.push((
            "justification".to_string(),
            RestrictedExpression::new_bool(ctx.justification),
        ));
        pairs.push(("approved".to_string(), RestrictedExpression::new_bool(ctx.approved)));
        if action.is_field_action() {
            let field = ctx.field.ok_or_else(|| {
                PolicyError::InvalidContext(format!(
                    "{action} reads one field, found no field in the context; set `field`"
                ))
            })?;
            pairs.push((
                "field".to_string(),
                RestrictedExpression::new_string(field.as_str().to_string()),
            ));
        }
        Context::from_pairs(pairs).map_err(|e| PolicyError::Internal(format!("context: {e}")))
    }

    /// Builds the request and the entity store for one decision.
    #[cfg(test)]
    pub(crate) fn request(
        &self,
        principal: &CedarPrincipal,
        action: Action,
        resource: &ResourceRef,
        ctx: &RequestContext,
    ) -> Result<(Request, Entities), PolicyError> {
        let context = self.context(action, ctx)?;
        self.request_in(principal, action, resource, context)
    }

    /// Builds the request and the entity store for one decision, given its Cedar context.
    pub(crate) fn request_in(
        &self,
        principal: &CedarPrincipal,
        action: Action,
        resource: &ResourceRef,
        context: Context,
    ) -> Result<(Request, Entities), PolicyError> {
        if action.resource_kind() != resource.kind() {
            return Err(PolicyError::ResourceMismatch {
                action: action.as_str(),
                expected: action.resource_kind().type_name(),
                found: resource.label(),
            });
        }
        let (resource_uid, resource_entity) = self.resource(resource)?;
        let request = Request::new(
            principal.uid.clone(),
            self.action_uid(action)?.clone(),
            resource_uid,
            context,
            None,
        )
        .map_err(|e| PolicyError::Internal(format!("request: {e}")))?;
        let entities = match resource_entity {
            Some(entity) => principal
                .store
                .clone()
                .add_entities([entity], None)
                .map_err(|e| PolicyError::Internal(format!("entities: {e}")))?,
            None => principal.store.clone(),
        };
        Ok((request, entities))
    }
}
