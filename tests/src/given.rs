//! Given-steps: what a test needs done before the behaviour it is about (a show on sale),
//! each one request or a few, asserting only that the step itself succeeded so a broken
//! setup fails where it broke. A step that is the subject of a test is not one of these:
//! that test makes the request itself and says what the answer must be.

use crate::server::Api;
use serde_json::Value;

impl Api {
    /// `show` (a [`crate::fixtures`] body) scheduled by the box office; its id.
    pub async fn scheduled_show(&self, show: &Value) -> String {
        self.schedule_show(&self.staff(), show)
            .await
            .created("show_id")
    }
}
