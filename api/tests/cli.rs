//! The command line as scripts and people use it.

use std::process::Command;

fn boxoffice() -> Command {
    Command::new(env!("CARGO_BIN_EXE_boxoffice"))
}

#[test]
fn token_prints_a_verifiable_jwt_and_nothing_else() {
    let output = boxoffice()
        .args([
            "token", "--sub", "张三", "--role", "customer", "--role", "analyst",
        ])
        .env("BOXOFFICE_JWT_SECRET", "cli-test-secret")
        .output()
        .expect("run boxoffice token");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.strip_suffix('\n').expect("one line");
    assert!(!token.contains(char::is_whitespace), "{stdout:?}");
    assert_eq!(token.split('.').count(), 3);
    let identity = boxoffice_api::auth::JwtKeys::new("cli-test-secret")
        .verify(token)
        .expect("the token verifies with the secret");
    assert_eq!(identity.sub, "张三");
    assert!(identity.has(boxoffice_api::auth::Role::Analyst));
    assert!(boxoffice_api::auth::JwtKeys::new("another-secret")
        .verify(token)
        .is_err());
}

#[test]
fn token_without_a_role_is_refused() {
    let output = boxoffice().args(["token", "--sub", "x"]).output().unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
}
