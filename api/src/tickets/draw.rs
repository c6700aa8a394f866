//! A ticket's QR code drawn: as an SVG document, a PNG image, or the grid of modules the
//! printable tickets draw as squares.

/// The code's modules, row by row (true: dark), and how many there are a side; None when
/// the text is too long for a QR code.
pub struct Modules {
    pub side: usize,
    pub dark: Vec<bool>,
}

/// The quiet zone readers need around a code, in modules.
pub const QUIET: usize = 4;

pub fn modules(payload: &str) -> Option<Modules> {
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    Some(Modules {
        side: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect(),
    })
}

/// The code as an SVG document.
pub fn svg(payload: &str) -> Option<String> {
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(256, 256)
            .build(),
    )
}

/// The code as a grey-scale PNG image, 8 pixels a module, with the quiet zone.
pub fn png(payload: &str) -> Option<Vec<u8>> {
    const SCALE: usize = 8;
    let code = modules(payload)?;
    let side = (code.side + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (index, _) in code.dark.iter().enumerate().filter(|(_, dark)| **dark) {
        let (x, y) = (
            (index % code.side + QUIET) * SCALE,
            (index / code.side + QUIET) * SCALE,
        );
        for row in y..y + SCALE {
            pixels[row * side + x..row * side + x + SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side).ok()?;
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drawings_are_an_svg_document_and_a_png_image() {
        let payload = "BOXT1.e30.AAAA";
        assert!(svg(payload).unwrap().contains("<svg"));
        let png = png(payload).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let code = modules(payload).unwrap();
        assert_eq!(code.dark.len(), code.side * code.side);
    }
}
