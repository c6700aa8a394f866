//! docs/api.md is what client developers build from: every answer shape its route tables
//! show must be the one the server's OpenAPI document describes. A shape names its members
//! (`{"hold_id","seats":[{"seat_id"}],...}`); every member named must exist in the schema,
//! nested ones too, and a shape written without `...` must name every member. The document
//! is the one the server serves, built in this process.

use serde_json::Value;
use std::collections::BTreeSet;

/// An answer shape as docs/api.md writes it: only its members' names matter.
#[derive(Debug)]
enum Shape {
    Object {
        members: Vec<(String, Shape)>,
        /// Written with `...`: some members are left out on purpose.
        elided: bool,
    },
    Array(Box<Shape>),
    /// A value, a literal, or words: nothing to check.
    Other,
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn string(&mut self) -> String {
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|c| c != b'"') {
            self.at += 1;
        }
        let text = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
        self.at += 1;
        text
    }

    /// Skips words, literals and `(comments, with commas)` up to the next `,` `}` or `]`
    /// of this level; says whether they held `...`.
    fn skip_rest(&mut self) -> bool {
        let (mut depth, mut dots) = (0, false);
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.string();
                    continue;
                }
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' if depth > 0 => depth -= 1,
                b',' | b'}' | b']' if depth == 0 => break,
                b'.' if self.text[self.at..].starts_with(b"...") => dots = true,
                _ => {}
            }
            self.at += 1;
        }
        dots
    }

    fn value(&mut self) -> Shape {
        self.skip_spaces();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => {
                self.at += 1;
                let inner = self.value();
                self.skip_rest();
                if self.peek() == Some(b']') {
                    self.at += 1;
                }
                Shape::Array(Box::new(inner))
            }
            _ => {
                self.skip_rest();
                Shape::Other
            }
        }
    }

    fn object(&mut self) -> Shape {
        self.at += 1;
        let (mut members, mut elided) = (Vec::new(), false);
        loop {
            self.skip_spaces();
            match self.peek() {
                None => break,
                Some(b'}') => {
                    self.at += 1;
                    break;
                }
                Some(b',') => self.at += 1,
                Some(b'"') => {
                    let name = self.string();
                    self.skip_spaces();
                    if self.peek() == Some(b'?') {
                        self.at += 1;
                        self.skip_spaces();
                    }
                    let shape = if self.peek() == Some(b':') {
                        self.at += 1;
                        self.value()
                    } else {
                        Shape::Other
                    };
                    elided |= self.skip_rest();
                    members.push((name, shape));
                }
                Some(_) => {
                    let before = self.at;
                    elided |= self.skip_rest();
                    // A stray `]` of a shape written loosely: step over it.
                    if self.at == before {
                        self.at += 1;
                    }
                }
            }
        }
        Shape::Object { members, elided }
    }
}

fn parse(text: &str) -> Shape {
    Parser {
        text: text.as_bytes(),
        at: 0,
    }
    .value()
}

/// `schema` with its `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The members an object schema has (through `allOf`, `oneOf`, `anyOf`); `None` for a
/// free-form object, whose members nothing describes.
fn members<'a>(doc: &'a Value, schema: &'a Value) -> Option<Vec<(&'a str, &'a Value)>> {
    let schema = resolve(doc, schema);
    let mut found: Option<Vec<(&str, &Value)>> = None;
    if let Some(properties) = schema["properties"].as_object() {
        found
            .get_or_insert_with(Vec::new)
            .extend(properties.iter().map(|(k, v)| (k.as_str(), v)));
    }
    for combined in ["allOf", "oneOf", "anyOf"] {
        for part in schema[combined].as_array().into_iter().flatten() {
            if let Some(more) = members(doc, part) {
                found.get_or_insert_with(Vec::new).extend(more);
            }
        }
    }
    found
}

/// The schema of an array's items (through `oneOf`/`anyOf` with null).
fn items<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    let schema = resolve(doc, schema);
    if !schema["items"].is_null() {
        return Some(&schema["items"]);
    }
    ["oneOf", "anyOf"]
        .iter()
        .flat_map(|c| schema[*c].as_array().into_iter().flatten())
        .find_map(|part| items(doc, part))
}

fn check(doc: &Value, shape: &Shape, schema: &Value, at: &str, found: &mut Vec<String>) {
    match shape {
        Shape::Object {
            members: named,
            elided,
        } => {
            let Some(has) = members(doc, schema) else {
                return;
            };
            let has_names: BTreeSet<&str> = has.iter().map(|(n, _)| *n).collect();
            for (name, inner) in named {
                match has.iter().find(|(n, _)| n == name) {
                    Some((_, member)) => {
                        check(doc, inner, member, &format!("{at}.{name}"), found);
                    }
                    None => found.push(format!(
                        "{at}: names `{name}`, which the answer does not have (it has {has_names:?})"
                    )),
                }
            }
            if !elided {
                let named: BTreeSet<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
                let missing: Vec<&&str> = has_names.difference(&named).collect();
                if !missing.is_empty() {
                    found.push(format!(
                        "{at}: leaves out {missing:?} without a `...` to say so"
                    ));
                }
            }
        }
        Shape::Array(inner) => match items(doc, schema) {
            Some(item) => check(doc, inner, item, &format!("{at}[]"), found),
            None => found.push(format!("{at}: shown as a list, but it is not one")),
        },
        Shape::Other => {}
    }
}

/// A table row's cells, split on the `|` that are not escaped.
fn cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = row.trim().trim_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// The first `code span` of a cell.
fn first_code(cell: &str) -> Option<&str> {
    let start = cell.find('`')? + 1;
    let end = start + cell[start..].find('`')?;
    Some(&cell[start..end])
}

#[test]
fn every_answer_shape_in_the_api_guide_is_the_one_the_openapi_document_describes() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md"))
        .expect("docs/api.md");
    let doc = serde_json::to_value(boxoffice_api::openapi()).unwrap();
    let (mut checked, mut found) = (0, Vec::new());
    // The column of the current table that holds answers (tables of request bodies have
    // none).
    let mut answers: Option<usize> = None;
    for row in guide.lines().filter(|l| l.starts_with("| ")) {
        let cells = cells(row);
        if cells[0].trim() == "Method and path" {
            answers = cells
                .iter()
                .position(|c| ["Success", "Answer"].contains(&c.trim()));
            continue;
        }
        let Some(route) = first_code(&cells[0]) else {
            continue;
        };
        let Some((method, path)) = route.split_once(' ') else {
            continue;
        };
        let method = method.to_ascii_lowercase();
        if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
            continue;
        }
        let Some(shape) = answers
            .and_then(|n| cells.get(n))
            .and_then(|c| first_code(c))
        else {
            continue;
        };
        if !shape.starts_with('{') && !shape.starts_with('[') {
            continue;
        }
        let operation = &doc["paths"][path][&method];
        if operation.is_null() {
            found.push(format!("{route}: not in the OpenAPI document"));
            continue;
        }
        let responses = operation["responses"].as_object().unwrap();
        let success = responses
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .find_map(|(_, r)| r["content"]["application/json"]["schema"].as_object());
        let Some(schema) = success else {
            found.push(format!(
                "{route}: the OpenAPI document gives no JSON answer"
            ));
            continue;
        };
        check(
            &doc,
            &parse(shape),
            &Value::Object(schema.clone()),
            route,
            &mut found,
        );
        checked += 1;
    }
    eprintln!("{checked} answer shapes checked against the OpenAPI document");
    assert!(checked >= 30, "only {checked} answer shapes were found");
    assert!(
        found.is_empty(),
        "docs/api.md and the OpenAPI document disagree:\n{}",
        found.join("\n")
    );
}
