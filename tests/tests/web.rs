//! The web app beside the API, as a browser meets it: the real binary serves the built
//! files of `BOXOFFICE_WEB_DIR` (pages always revalidated, hashed assets kept for good,
//! precompressed variants to whoever accepts them) under a Content-Security-Policy that
//! lets a page load nothing from elsewhere, and says how to build the app when it is not.

use boxoffice_tests::server::{free_port, BinaryServer};
use boxoffice_tests::TestDatabase;
use reqwest::header::{HeaderMap, ACCEPT_ENCODING};
use reqwest::{Method, StatusCode};
use std::path::{Path, PathBuf};

const INDEX: &str =
    "<!doctype html><title>购票</title><script type=module src=/assets/app-abc123.js></script>";
const ADMIN: &str = "<!doctype html><title>票房后台</title>";
const SCRIPT: &str = "console.log('选座');\n";

/// A directory of its own under the system's temporary one, removed when dropped.
struct WebDir(PathBuf);

impl WebDir {
    /// What `npm --prefix web run build` leaves: two pages and a hashed asset with its
    /// gzip variant.
    fn built() -> Self {
        let dir = Self(std::env::temp_dir().join(format!("web-{}", uuid::Uuid::new_v4())));
        std::fs::create_dir_all(dir.0.join("assets")).unwrap();
        std::fs::write(dir.0.join("index.html"), INDEX).unwrap();
        std::fs::write(dir.0.join("admin.html"), ADMIN).unwrap();
        std::fs::write(dir.0.join("assets/app-abc123.js"), SCRIPT).unwrap();
        std::fs::write(
            dir.0.join("assets/app-abc123.js.gz"),
            gzip(SCRIPT.as_bytes()),
        )
        .unwrap();
        dir
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WebDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `data` as a gzip member holding one stored (uncompressed) deflate block: a real `.gz`
/// without a compression crate.
fn gzip(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("a stored block holds up to 64 KiB");
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // the final block, stored
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(data);
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE), as gzip's trailer carries it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The status, headers and bytes of `GET {path}` with `headers`.
async fn get(
    server: &BinaryServer,
    path: &str,
    headers: &[(reqwest::header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = server
        .api
        .http()
        .request(Method::GET, format!("{}{path}", server.api.base()));
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.bytes().await.expect("a body").to_vec();
    (status, headers, body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

#[tokio::test]
async fn the_built_web_app_is_served_from_the_web_dir_with_its_policy_and_caching() {
    let db = TestDatabase::create().await;
    let web = WebDir::built();
    let dir = web.path().to_str().expect("a UTF-8 temporary path");
    let server =
        BinaryServer::start_with_env(&db, free_port(), &[("BOXOFFICE_WEB_DIR", dir)]).await;

    // The booking page: asked again every time, and allowed nothing from elsewhere.
    let (status, headers, body) = get(&server, "/", &[]).await;
    assert_eq!(status, StatusCode::OK, "{headers:?}");
    assert_eq!(String::from_utf8(body).unwrap(), INDEX);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    let policy = header(&headers, "content-security-policy");
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "cache-control"), "no-cache");

    // The dashboard.
    let (status, headers, body) = get(&server, "/admin", &[]).await;
    assert_eq!(status, StatusCode::OK, "{headers:?}");
    assert_eq!(String::from_utf8(body).unwrap(), ADMIN);
    assert_eq!(header(&headers, "cache-control"), "no-cache");

    // A hashed asset is kept for good; its gzip variant goes to whoever accepts it.
    let (status, headers, body) = get(&server, "/assets/app-abc123.js", &[]).await;
    assert_eq!(status, StatusCode::OK, "{headers:?}");
    assert_eq!(String::from_utf8(body).unwrap(), SCRIPT);
    assert!(header(&headers, "content-type").contains("javascript"));
    assert!(header(&headers, "cache-control").contains("immutable"));
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    let (status, headers, body) = get(
        &server,
        "/assets/app-abc123.js",
        &[(ACCEPT_ENCODING, "gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{headers:?}");
    assert_eq!(header(&headers, "content-encoding"), "gzip");
    assert_eq!(body, gzip(SCRIPT.as_bytes()));
    // One path, several encodings: a cache between must keep them apart.
    assert_eq!(header(&headers, "vary"), "accept-encoding");
    assert!(header(&headers, "content-type").contains("javascript"));
    assert!(header(&headers, "cache-control").contains("immutable"));

    let (status, headers, body) = get(&server, "/assets/missing.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{headers:?}");
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "not_found");
    // Nothing outside the assets folder is reachable through it.
    for path in [
        "/assets/..%2findex.html",
        "/assets/%2e%2e/index.html",
        "/assets/../../Cargo.toml",
    ] {
        let (status, _, body) = get(&server, path, &[]).await;
        assert_ne!(status, StatusCode::OK, "{path}");
        assert!(
            !String::from_utf8_lossy(&body).contains("<!doctype"),
            "{path}"
        );
    }

    // The API's answers are never sniffed into something else either.
    let cities = server.api.cities().await;
    cities.expect_ok();
    assert_eq!(cities.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn without_a_built_web_app_the_pages_say_so_and_the_api_still_answers() {
    let db = TestDatabase::create().await;
    let missing = std::env::temp_dir().join(format!("web-{}", uuid::Uuid::new_v4()));
    let dir = missing.to_str().expect("a UTF-8 temporary path");
    let server =
        BinaryServer::start_with_env(&db, free_port(), &[("BOXOFFICE_WEB_DIR", dir)]).await;

    for page in ["/", "/admin"] {
        server
            .api
            .request(Method::GET, page)
            .await
            .expect_problem(StatusCode::NOT_FOUND, "web_app_not_built");
    }
    let (status, headers, _) = get(&server, "/assets/app-abc123.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{headers:?}");
    server.api.cities().await.expect_ok();
}
