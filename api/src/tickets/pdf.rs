//! Printable tickets: one A6 page per seat with the movie, cinema, hall, local time, row
//! and seat, category and price, the pickup code and the QR code (drawn as squares, so it
//! prints sharp at any size).
//!
//! Titles, names and seat labels are often Chinese: the text is set in a font that has
//! them, embedded in each document as the subset its pages use. The font is the one
//! configured (`BOXOFFICE_TICKET_FONT`), else WenQuanYi Micro Hei where Debian puts it
//! (`fonts-wqy-microhei`), else DejaVu Sans; with none of them the PDF's own Helvetica is
//! used and what it cannot write (anything beyond Latin-1) is printed as `?`.

use super::draw::{self, QUIET};
use printpdf::{BuiltinFont, Color, Greyscale, Mm, PdfDocument, Rect};
use std::path::Path;

/// Where Debian puts fonts that write Chinese and Latin (first choice) or Latin only.
const KNOWN_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

/// The font tickets are printed in.
pub enum Font {
    /// A TrueType font (or the first of a collection): its bytes and where they came from.
    File { path: String, bytes: Vec<u8> },
    /// The PDF's own Helvetica: Latin-1 only.
    Builtin,
}

impl Font {
    /// The configured font (an error if it cannot be read), else the first known one there
    /// is, else the built-in one.
    pub fn load(configured: Option<&Path>) -> Result<Self, String> {
        if let Some(path) = configured {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("BOXOFFICE_TICKET_FONT {}: {e}", path.display()))?;
            return Ok(Self::File {
                path: path.display().to_string(),
                bytes,
            });
        }
        Ok(KNOWN_FONTS
            .iter()
            .find_map(|path| {
                let bytes = std::fs::read(path).ok()?;
                Some(Self::File {
                    path: (*path).to_owned(),
                    bytes,
                })
            })
            .unwrap_or(Self::Builtin))
    }

    /// What it is, for the log.
    pub fn describe(&self) -> String {
        match self {
            Self::File { path, .. } => path.clone(),
            Self::Builtin => "the PDF's built-in Helvetica (Latin-1 only)".into(),
        }
    }
}

/// One seat's ticket, as printed.
pub struct Printed {
    pub title: String,
    pub cinema: Option<String>,
    pub hall: Option<String>,
    /// The start in the cinema's time (or UTC), already written out.
    pub starts: String,
    pub seat_id: String,
    pub row: Option<String>,
    pub number: Option<u32>,
    pub category: Option<String>,
    pub price: Option<String>,
    pub pickup_code: Option<String>,
    pub ticket_id: String,
    pub version: u32,
    /// The QR code's text.
    pub payload: String,
}

const WIDTH: f32 = 105.0;
const HEIGHT: f32 = 148.0;
/// The QR code's side with its quiet zone, and where its lower left corner is.
const CODE_SIDE: f32 = 62.0;
const CODE_LEFT: f32 = (WIDTH - CODE_SIDE) / 2.0;
const CODE_BOTTOM: f32 = 14.0;

/// The document: a page per ticket, in the order given.
pub fn printable(title: &str, tickets: &[Printed], font: &Font) -> Result<Vec<u8>, String> {
    let (doc, first_page, first_layer) = PdfDocument::new(title, Mm(WIDTH), Mm(HEIGHT), "ticket");
    let (font_ref, latin_only) = match font {
        Font::File { bytes, .. } => (
            doc.add_external_font(std::io::Cursor::new(bytes.as_slice()))
                .map_err(|e| e.to_string())?,
            false,
        ),
        Font::Builtin => (
            doc.add_builtin_font(BuiltinFont::Helvetica)
                .map_err(|e| e.to_string())?,
            true,
        ),
    };
    for (index, ticket) in tickets.iter().enumerate() {
        let (page, layer) = if index == 0 {
            (first_page, first_layer)
        } else {
            doc.add_page(Mm(WIDTH), Mm(HEIGHT), "ticket")
        };
        let layer = doc.get_page(page).get_layer(layer);
        let lines = lines(ticket, latin_only);
        let mut y = HEIGHT - 14.0;
        for (size, text) in lines {
            let text = if latin_only { latin1(&text) } else { text };
            layer.use_text(text, size, Mm(8.0), Mm(y), &font_ref);
            y -= size * 0.5;
        }
        let code = draw::modules(&ticket.payload).ok_or("the QR code cannot be drawn")?;
        let module = CODE_SIDE / (code.side + 2 * QUIET) as f32;
        layer.set_fill_color(Color::Greyscale(Greyscale::new(0.0, None)));
        for (index, _) in code.dark.iter().enumerate().filter(|(_, dark)| **dark) {
            let x = CODE_LEFT + (index % code.side + QUIET) as f32 * module;
            let y = CODE_BOTTOM + CODE_SIDE - (index / code.side + QUIET + 1) as f32 * module;
            layer.add_rect(Rect::new(Mm(x), Mm(y), Mm(x + module), Mm(y + module)));
        }
        let small = format!("{} v{}", ticket.ticket_id, ticket.version);
        layer.use_text(small, 6.0, Mm(8.0), Mm(8.0), &font_ref);
    }
    doc.save_to_bytes().map_err(|e| e.to_string())
}

/// The text of a page, top down, with its size in points.
fn lines(ticket: &Printed, latin_only: bool) -> Vec<(f32, String)> {
    let both = |chinese: &str, english: &str| {
        if latin_only {
            english.to_owned()
        } else {
            format!("{chinese} {english}")
        }
    };
    let mut lines = vec![(16.0, ticket.title.clone())];
    let place: Vec<&str> = [ticket.cinema.as_deref(), ticket.hall.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        lines.push((11.0, place.join(" · ")));
    }
    lines.push((11.0, ticket.starts.clone()));
    let seat = match (&ticket.row, ticket.number) {
        (Some(row), Some(number)) if !latin_only => {
            format!(
                "{row}排 {number}座 · Row {row} Seat {number} ({})",
                ticket.seat_id
            )
        }
        (Some(row), Some(number)) => format!("Row {row} Seat {number} ({})", ticket.seat_id),
        _ => format!("{} {}", both("座位", "Seat"), ticket.seat_id),
    };
    lines.push((14.0, seat));
    let priced: Vec<&str> = [ticket.category.as_deref(), ticket.price.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !priced.is_empty() {
        lines.push((11.0, priced.join(" · ")));
    }
    if let Some(code) = &ticket.pickup_code {
        lines.push((12.0, format!("{} {code}", both("取票码", "Pickup code"))));
    }
    lines
}

/// What Helvetica can write: Latin-1, the rest as `?`.
fn latin1(text: &str) -> String {
    text.chars()
        .map(|c| if u32::from(c) < 256 { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Printed {
        Printed {
            title: "流浪地球 2".into(),
            cinema: Some("万达影城".into()),
            hall: Some("1号厅".into()),
            starts: "2026-12-01 19:30 (Asia/Shanghai)".into(),
            seat_id: "贵宾3".into(),
            row: Some("贵宾".into()),
            number: Some(3),
            category: Some("premium".into()),
            price: Some("80.00 CNY".into()),
            pickup_code: Some("0010001123".into()),
            ticket_id: "t".into(),
            version: 1,
            payload: "BOXT1.e30.AAAA".into(),
        }
    }

    #[test]
    fn without_a_font_the_builtin_one_prints_what_it_can() {
        let document = printable("t", &[ticket(), ticket()], &Font::Builtin).unwrap();
        assert!(document.starts_with(b"%PDF"));
        assert_eq!(latin1("贵宾3 Row"), "??3 Row");
        let lines = lines(&ticket(), true);
        assert!(lines.iter().all(|(_, l)| !l.contains("取票码")));
        assert!(lines.iter().any(|(_, l)| l == "Row 贵宾 Seat 3 (贵宾3)"));
    }
}
