//! The waiting room's signed tokens: a queue ticket (a place in line) and an admission (the
//! right to hold for a while). Both are HS256 JWTs signed with the server's JWT secret, so
//! every process of one deployment checks what any other issued; each names its kind in
//! `aud`, so neither passes for the other, nor for an access token (whose check refuses any
//! `aud`). Both are bound to the account they were issued to (`sub`). Their time limits are
//! the server clock's business, not the token library's: an admission's `until` travels to
//! the show, which decides with the command's instant.

use crate::auth::JwtKeys;
use boxoffice_domain::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const TICKET: &str = "boxoffice:queue-ticket";
const ADMISSION: &str = "boxoffice:admission";

/// A place in an on-sale's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub sub: String,
    pub onsale_id: Uuid,
    pub ticket_id: Uuid,
}

/// The waiting room let `sub` in to hold seats of the on-sale's shows until `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    pub sub: String,
    pub onsale_id: Uuid,
    pub until: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct Signed<T> {
    aud: String,
    #[serde(flatten)]
    claims: T,
}

#[derive(Clone)]
pub struct Tokens {
    jwt: JwtKeys,
}

impl Tokens {
    pub fn new(jwt: JwtKeys) -> Self {
        Self { jwt }
    }

    pub fn ticket(&self, ticket: &Ticket) -> String {
        self.jwt.sign(&Signed {
            aud: TICKET.into(),
            claims: ticket.clone(),
        })
    }

    pub fn admission(&self, admission: &Admission) -> String {
        self.jwt.sign(&Signed {
            aud: ADMISSION.into(),
            claims: admission.clone(),
        })
    }

    /// The ticket `token` is, if this deployment signed it as one.
    pub fn open_ticket(&self, token: &str) -> Option<Ticket> {
        self.jwt
            .open::<Signed<Ticket>>(token, TICKET)
            .map(|signed| signed.claims)
    }

    /// The admission `token` is, if this deployment signed it as one.
    pub fn open_admission(&self, token: &str) -> Option<Admission> {
        self.jwt
            .open::<Signed<Admission>>(token, ADMISSION)
            .map(|signed| signed.claims)
    }
}
