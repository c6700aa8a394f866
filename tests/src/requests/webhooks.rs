//! Requests about outbound webhooks (admin).

use super::Request;
use crate::server::Api;
use serde_json::json;

impl Api {
    /// `POST /v1/webhooks`.
    pub fn register_webhook(&self, admin: &str, url: &str, kinds: &[&str]) -> Request<'_> {
        self.post_request(
            "/v1/webhooks",
            admin,
            &json!({ "url": url, "kinds": kinds }),
        )
    }

    /// `GET /v1/webhooks`.
    pub fn webhooks(&self, admin: &str) -> Request<'_> {
        self.get_request("/v1/webhooks").token(admin)
    }

    /// `GET /v1/webhooks/{webhook}`.
    pub fn webhook(&self, admin: &str, webhook: &str) -> Request<'_> {
        self.get_request(format!("/v1/webhooks/{webhook}"))
            .token(admin)
    }

    /// `DELETE /v1/webhooks/{webhook}`.
    pub fn disable_webhook(&self, admin: &str, webhook: &str) -> Request<'_> {
        self.delete_request(format!("/v1/webhooks/{webhook}"), admin)
    }

    /// `GET /v1/webhooks/{webhook}/deliveries`.
    pub fn webhook_deliveries(&self, admin: &str, webhook: &str) -> Request<'_> {
        self.get_request(format!("/v1/webhooks/{webhook}/deliveries"))
            .token(admin)
    }
}
