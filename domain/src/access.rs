//! Who may do what: roles set on accounts, API keys made and revoked, and webhook endpoints
//! registered and disabled (who is sent the log's events), recorded in one stream (`access`)
//! so an auditor sees every change of access beside the actions it allowed, hash-chained
//! like every other fact.
//!
//! Accounts and keys themselves stay in ordinary tables (personal data and secrets never
//! enter the immutable log): these events name an account or a key by its id only. The
//! tables are what the server checks; this stream is the record of every change made to
//! them through the API.

use crate::aggregate::{stored_events, Aggregate};
use crate::{DomainError, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessCommand {
    /// An account's roles become `roles`.
    SetRoles {
        account_id: Uuid,
        roles: Vec<String>,
    },
    /// A partner API key was made with these roles and quota (its secret is not here).
    CreateApiKey {
        key_id: Uuid,
        name: String,
        roles: Vec<String>,
        quota_per_minute: u32,
    },
    RevokeApiKey {
        key_id: Uuid,
    },
    /// A webhook endpoint was registered to be sent these kinds of events (its signing
    /// secret is not here).
    RegisterWebhook {
        webhook_id: Uuid,
        url: String,
        kinds: Vec<String>,
    },
    DisableWebhook {
        webhook_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesSet {
    pub account_id: Uuid,
    pub roles: Vec<String>,
    /// What they were before (empty for an account never changed through the API).
    pub previous_roles: Vec<String>,
    pub set_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreated {
    pub key_id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    pub quota_per_minute: u32,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRevoked {
    pub key_id: Uuid,
    pub revoked_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRegistered {
    pub webhook_id: Uuid,
    pub url: String,
    pub kinds: Vec<String>,
    pub registered_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDisabled {
    pub webhook_id: Uuid,
    pub disabled_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessEvent {
    RolesSet(RolesSet),
    ApiKeyCreated(ApiKeyCreated),
    ApiKeyRevoked(ApiKeyRevoked),
    WebhookRegistered(WebhookRegistered),
    WebhookDisabled(WebhookDisabled),
}

stored_events!(AccessEvent {
    RolesSet,
    ApiKeyCreated,
    ApiKeyRevoked,
    WebhookRegistered,
    WebhookDisabled,
});

/// An API key as the stream tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRecord {
    pub name: String,
    pub roles: Vec<String>,
    pub quota_per_minute: u32,
    pub revoked: bool,
}

/// Every account's roles as last set through the API, every key, and every webhook
/// endpoint (whether it is disabled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Access {
    roles: BTreeMap<Uuid, Vec<String>>,
    keys: BTreeMap<Uuid, ApiKeyRecord>,
    webhooks: BTreeMap<Uuid, bool>,
}

impl Access {
    pub fn roles_of(&self, account_id: &Uuid) -> Option<&[String]> {
        self.roles.get(account_id).map(Vec::as_slice)
    }

    pub fn key(&self, key_id: &Uuid) -> Option<&ApiKeyRecord> {
        self.keys.get(key_id)
    }
}

impl Aggregate for Access {
    type Command = AccessCommand;
    type Event = AccessEvent;

    fn evolve(&mut self, event: &AccessEvent) {
        match event {
            AccessEvent::RolesSet(e) => {
                self.roles.insert(e.account_id, e.roles.clone());
            }
            AccessEvent::ApiKeyCreated(e) => {
                self.keys.insert(
                    e.key_id,
                    ApiKeyRecord {
                        name: e.name.clone(),
                        roles: e.roles.clone(),
                        quota_per_minute: e.quota_per_minute,
                        revoked: false,
                    },
                );
            }
            AccessEvent::ApiKeyRevoked(e) => {
                if let Some(key) = self.keys.get_mut(&e.key_id) {
                    key.revoked = true;
                }
            }
            AccessEvent::WebhookRegistered(e) => {
                self.webhooks.insert(e.webhook_id, false);
            }
            AccessEvent::WebhookDisabled(e) => {
                self.webhooks.insert(e.webhook_id, true);
            }
        }
    }

    /// Records what the API did to the tables; a change that changes nothing records
    /// nothing (a retry, or roles set to what they were).
    fn decide(
        &self,
        command: &AccessCommand,
        now: Timestamp,
    ) -> Result<Vec<AccessEvent>, DomainError> {
        Ok(match command {
            AccessCommand::SetRoles { account_id, roles } => {
                let previous = self.roles.get(account_id).cloned().unwrap_or_default();
                if previous == *roles {
                    Vec::new()
                } else {
                    vec![AccessEvent::RolesSet(RolesSet {
                        account_id: *account_id,
                        roles: roles.clone(),
                        previous_roles: previous,
                        set_at: now,
                    })]
                }
            }
            AccessCommand::CreateApiKey {
                key_id,
                name,
                roles,
                quota_per_minute,
            } => {
                if self.keys.contains_key(key_id) {
                    Vec::new()
                } else {
                    vec![AccessEvent::ApiKeyCreated(ApiKeyCreated {
                        key_id: *key_id,
                        name: name.clone(),
                        roles: roles.clone(),
                        quota_per_minute: *quota_per_minute,
                        created_at: now,
                    })]
                }
            }
            AccessCommand::RevokeApiKey { key_id } => match self.keys.get(key_id) {
                Some(key) if !key.revoked => vec![AccessEvent::ApiKeyRevoked(ApiKeyRevoked {
                    key_id: *key_id,
                    revoked_at: now,
                })],
                _ => Vec::new(),
            },
            AccessCommand::RegisterWebhook {
                webhook_id,
                url,
                kinds,
            } => {
                if self.webhooks.contains_key(webhook_id) {
                    Vec::new()
                } else {
                    vec![AccessEvent::WebhookRegistered(WebhookRegistered {
                        webhook_id: *webhook_id,
                        url: url.clone(),
                        kinds: kinds.clone(),
                        registered_at: now,
                    })]
                }
            }
            AccessCommand::DisableWebhook { webhook_id } => match self.webhooks.get(webhook_id) {
                Some(false) => vec![AccessEvent::WebhookDisabled(WebhookDisabled {
                    webhook_id: *webhook_id,
                    disabled_at: now,
                })],
                _ => Vec::new(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{given, t0, When};

    fn account() -> Uuid {
        Uuid::from_u128(1)
    }

    #[test]
    fn a_role_change_records_the_roles_before_and_after_and_a_repeat_records_nothing() {
        let set = |roles: &[&str]| AccessCommand::SetRoles {
            account_id: account(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        };
        let (access, events) = given(Vec::<AccessEvent>::new())
            .when(set(&["staff"]), t0())
            .then_accepted();
        assert_eq!(
            events,
            vec![AccessEvent::RolesSet(RolesSet {
                account_id: account(),
                roles: vec!["staff".into()],
                previous_roles: vec![],
                set_at: t0(),
            })]
        );
        access.when(set(&["staff"]), t0()).then_expect(vec![]);
    }

    #[test]
    fn a_key_is_revoked_once() {
        let key_id = Uuid::from_u128(9);
        let created = AccessEvent::ApiKeyCreated(ApiKeyCreated {
            key_id,
            name: "partner".into(),
            roles: vec!["customer".into()],
            quota_per_minute: 600,
            created_at: t0(),
        });
        let (access, events) = given(vec![created])
            .when(AccessCommand::RevokeApiKey { key_id }, t0())
            .then_accepted();
        assert_eq!(events.len(), 1);
        access
            .when(AccessCommand::RevokeApiKey { key_id }, t0())
            .then_expect(vec![]);
    }

    #[test]
    fn a_webhook_is_registered_once_and_disabled_once() {
        let webhook_id = Uuid::from_u128(7);
        let register = AccessCommand::RegisterWebhook {
            webhook_id,
            url: "https://hooks.example.com/boxoffice".into(),
            kinds: vec!["order.paid".into()],
        };
        let (access, events) = given(Vec::<AccessEvent>::new())
            .when(register.clone(), t0())
            .then_accepted();
        assert!(matches!(events[..], [AccessEvent::WebhookRegistered(_)]));
        access.when(register, t0()).then_expect(vec![]);
        let (access, events) = access
            .when(AccessCommand::DisableWebhook { webhook_id }, t0())
            .then_accepted();
        assert!(matches!(events[..], [AccessEvent::WebhookDisabled(_)]));
        access
            .when(AccessCommand::DisableWebhook { webhook_id }, t0())
            .then_expect(vec![]);
    }
}
