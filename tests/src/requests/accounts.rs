//! Requests about accounts: registering, logging in and refreshing a session, the account's
//! own profile and favourites, roles an admin grants, and partners' API keys. Their bodies
//! carry passwords and tokens the tests must not get subtly wrong in one place and right in
//! another; here each is written once.

use super::Request;
use crate::server::Api;
use reqwest::Method;
use serde_json::{json, Value};

impl Api {
    /// `POST /v1/auth/register`.
    pub fn register(&self, email: &str, password: &str, display_name: &str) -> Request<'_> {
        self.request(Method::POST, "/v1/auth/register")
            .json(&json!({ "email": email, "password": password, "display_name": display_name }))
    }

    /// `POST /v1/auth/login`.
    pub fn login(&self, email: &str, password: &str) -> Request<'_> {
        self.request(Method::POST, "/v1/auth/login")
            .json(&json!({ "email": email, "password": password }))
    }

    /// `POST /v1/auth/refresh`.
    pub fn refresh(&self, refresh_token: &str) -> Request<'_> {
        self.request(Method::POST, "/v1/auth/refresh")
            .json(&json!({ "refresh_token": refresh_token }))
    }

    /// `GET /v1/me`.
    pub fn me(&self, token: &str) -> Request<'_> {
        self.get_request("/v1/me").token(token)
    }

    /// `PUT /v1/me` with `{"display_name", "phone"?}`.
    pub fn update_me(&self, token: &str, profile: &Value) -> Request<'_> {
        self.request(Method::PUT, "/v1/me")
            .token(token)
            .json(profile)
    }

    /// `PUT /v1/me/favorites/{movie_id}`.
    pub fn add_favorite(&self, token: &str, movie_id: &str) -> Request<'_> {
        self.request(Method::PUT, format!("/v1/me/favorites/{movie_id}"))
            .token(token)
    }

    /// `DELETE /v1/me/favorites/{movie_id}`.
    pub fn remove_favorite(&self, token: &str, movie_id: &str) -> Request<'_> {
        self.delete_request(format!("/v1/me/favorites/{movie_id}"), token)
    }

    /// `GET /v1/me/favorites`.
    pub fn favorites(&self, token: &str) -> Request<'_> {
        self.get_request("/v1/me/favorites").token(token)
    }

    /// `PUT /v1/accounts/{account_id}/roles` with `{"roles": roles}`.
    pub fn grant_roles(&self, admin: &str, account_id: &str, roles: &[&str]) -> Request<'_> {
        self.request(Method::PUT, format!("/v1/accounts/{account_id}/roles"))
            .token(admin)
            .json(&json!({ "roles": roles }))
    }

    /// `POST /v1/api-keys` with `{"name", "quota_per_minute"}`.
    pub fn create_api_key(&self, admin: &str, name: &str, quota_per_minute: u32) -> Request<'_> {
        self.post_request(
            "/v1/api-keys",
            admin,
            &json!({ "name": name, "quota_per_minute": quota_per_minute }),
        )
    }

    /// `GET /v1/api-keys`.
    pub fn api_keys(&self, admin: &str) -> Request<'_> {
        self.get_request("/v1/api-keys").token(admin)
    }

    /// `DELETE /v1/api-keys/{key_id}`.
    pub fn revoke_api_key(&self, admin: &str, key_id: &str) -> Request<'_> {
        self.delete_request(format!("/v1/api-keys/{key_id}"), admin)
    }
}
