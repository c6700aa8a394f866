//! The web front end: the booking app at `/` and the box-office dashboard at `/admin`, built
//! by Vite into `web/dist` (docs/web.md) and served from there as files. They are clients of
//! the public API like any other, so nothing here reads state: it hands out `index.html`,
//! `admin.html` and the hashed files under `assets/` (precompressed `.br` and `.gz` beside
//! them when the build made them), under the same in-flight limit and timeout as queries and
//! with a Content-Security-Policy that lets the page load nothing from anywhere but here.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, get_service, MethodRouter};
use axum::Router;
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The pages' policy: scripts, styles, images, fonts and API calls from this origin only; no
/// plugins, no framing, no `<base>`; forms post here (the sandbox's pay page is here too).
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// `/`, `/admin` and `/assets/*`, answered from `dir`.
pub fn router(
    dir: &Path,
    limit: impl Fn(MethodRouter<AppState>) -> MethodRouter<AppState>,
) -> Router<AppState> {
    let page = |file: &str| {
        let path = dir.join(file);
        limit(get(move |request: Request| {
            serve_page(path.clone(), request)
        }))
    };
    // Routed (not nested), the request keeps its `/assets/...` path: served from `dir`.
    let assets = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    Router::new()
        .route("/", page("index.html"))
        .route("/admin", page("admin.html"))
        .route("/admin/", page("admin.html"))
        .route(
            "/assets/{*file}",
            limit(get_service(assets).layer(axum::middleware::map_response(asset_answer))),
        )
        .layer(axum::middleware::map_response(page_policy))
}

/// A page: always asked again (it names the current assets), 404 with how to build it when
/// the build is missing.
async fn serve_page(path: std::path::PathBuf, request: Request) -> Response {
    let built = tokio::fs::metadata(&path)
        .await
        .is_ok_and(|meta| meta.is_file());
    if !built {
        return ApiError::new(StatusCode::NOT_FOUND, "web_app_not_built", "Web app not built")
            .detail(
                "the web app's files are not on this server: build them with `npm --prefix web ci && \
                 npm --prefix web run build` (scripts/run does) or point BOXOFFICE_WEB_DIR at a built one",
            )
            .into_response();
    }
    match ServeFile::new(&path)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await
    {
        Ok(mut response) => {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response.into_response()
        }
        Err(never) => match never {},
    }
}

/// Assets are named by their content's hash: a browser (or a cache between) may keep them
/// for good. A missing one is a problem answer like any other 404.
async fn asset_answer(mut response: Response) -> Response {
    if response.status() == StatusCode::NOT_FOUND {
        return ApiError::not_found("this file").into_response();
    }
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

/// The pages' policy, and `Vary`: the same path answers Brotli, gzip or plain bytes by the
/// request's `Accept-Encoding`, which a cache between must keep apart.
async fn page_policy(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Every answer of the server, API and pages: no content-type sniffing, no framing, no
/// referrer sent on. JSON answers also carry a policy that allows nothing (they are data,
/// never a document to run); the OpenAPI page and the sandbox's pay page keep theirs.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if json && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}
