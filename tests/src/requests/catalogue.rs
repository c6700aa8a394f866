//! Requests about the catalogue: what staff create and change (cities, cinemas, halls,
//! movies), and the discovery reads anyone makes without a token. The catalogue tests make
//! dozens of these; each path is spelled once here.

use super::Request;
use crate::server::Api;
use reqwest::Method;
use serde_json::{json, Value};

impl Api {
    /// `POST /v1/cities` with `{"name", "time_zone"}`.
    pub fn create_city(&self, staff: &str, name: &str, time_zone: &str) -> Request<'_> {
        self.post_request(
            "/v1/cities",
            staff,
            &json!({ "name": name, "time_zone": time_zone }),
        )
    }

    /// `DELETE /v1/cities/{city}`: retires it.
    pub fn retire_city(&self, staff: &str, city: &str) -> Request<'_> {
        self.delete_request(format!("/v1/cities/{city}"), staff)
    }

    /// `POST /v1/cinemas`.
    pub fn create_cinema(&self, staff: &str, cinema: &Value) -> Request<'_> {
        self.post_request("/v1/cinemas", staff, cinema)
    }

    /// `POST /v1/cinemas/{cinema}/halls`.
    pub fn create_hall(&self, staff: &str, cinema: &str, hall: &Value) -> Request<'_> {
        self.post_request(format!("/v1/cinemas/{cinema}/halls"), staff, hall)
    }

    /// `PUT /v1/cinemas/{cinema}/halls/{hall_id}`.
    pub fn update_hall(
        &self,
        staff: &str,
        cinema: &str,
        hall_id: &str,
        hall: &Value,
    ) -> Request<'_> {
        self.request(Method::PUT, format!("/v1/cinemas/{cinema}/halls/{hall_id}"))
            .token(staff)
            .json(hall)
    }

    /// `POST /v1/movies`.
    pub fn create_movie(&self, staff: &str, movie: &Value) -> Request<'_> {
        self.post_request("/v1/movies", staff, movie)
    }

    /// `PUT /v1/movies/{movie_id}`.
    pub fn update_movie(&self, staff: &str, movie_id: &str, movie: &Value) -> Request<'_> {
        self.request(Method::PUT, format!("/v1/movies/{movie_id}"))
            .token(staff)
            .json(movie)
    }

    /// `DELETE /v1/movies/{movie_id}`: retires it.
    pub fn retire_movie(&self, staff: &str, movie_id: &str) -> Request<'_> {
        self.delete_request(format!("/v1/movies/{movie_id}"), staff)
    }

    /// `GET /v1/movies`: the catalogue's movies not retired, by title (add `keyword` as a
    /// query).
    pub fn movies(&self) -> Request<'_> {
        self.get_request("/v1/movies")
    }

    /// `GET /v1/movies/search?{query}` (`query` as written: percent-encode it first).
    pub fn search_movies(&self, query: &str) -> Request<'_> {
        if query.is_empty() {
            self.get_request("/v1/movies/search")
        } else {
            self.get_request(format!("/v1/movies/search?{query}"))
        }
    }

    /// `GET /v1/cities`.
    pub fn cities(&self) -> Request<'_> {
        self.get_request("/v1/cities")
    }

    /// `GET /v1/cities/{city}/movies`: what is on in the city, soonest first.
    pub fn city_movies(&self, city: &str) -> Request<'_> {
        self.get_request(format!("/v1/cities/{city}/movies"))
    }

    /// `GET /v1/movies/{movie_id}`.
    pub fn movie(&self, movie_id: &str) -> Request<'_> {
        self.get_request(format!("/v1/movies/{movie_id}"))
    }

    /// `GET /v1/movies/{movie_id}/shows`, by cinema (add the show filters as queries).
    pub fn movie_shows(&self, movie_id: &str) -> Request<'_> {
        self.get_request(format!("/v1/movies/{movie_id}/shows"))
    }

    /// `GET /v1/cinemas/{cinema}`: the cinema with its halls.
    pub fn cinema(&self, cinema: &str) -> Request<'_> {
        self.get_request(format!("/v1/cinemas/{cinema}"))
    }

    /// `GET /v1/cinemas?city={city}`.
    pub fn cinemas_in(&self, city: &str) -> Request<'_> {
        self.get_request("/v1/cinemas").query("city", city)
    }
}
