//! A table of preformatted cells, rendered as Markdown by `comfy-table` for the report and
//! stdout alike. Every experiment builds a [`Table`].

use comfy_table::{presets, CellAlignment, ContentArrangement};

/// Horizontal alignment of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text columns (system names, labels).
    Left,
    /// Number columns, so digits line up.
    Right,
}

/// A rectangular table: a header row and body rows of preformatted cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column titles.
    pub headers: Vec<String>,
    /// Per-column alignment; same length as `headers`.
    pub align: Vec<Align>,
    /// Body rows; each row has one cell per header (short rows are padded with blanks).
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first column is left-aligned and whose other columns are right-aligned,
    /// the layout of every table in this crate (a label, then numbers).
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Table {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        let align = (0..headers.len())
            .map(|i| if i == 0 { Align::Left } else { Align::Right })
            .collect();
        Table {
            headers,
            align,
            rows: Vec::new(),
        }
    }

    /// Appends a body row.
    pub fn push_row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    fn render(&self, preset: &str, cell: impl Fn(&str) -> String) -> comfy_table::Table {
        let mut t = comfy_table::Table::new();
        t.load_preset(preset)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(self.headers.iter().map(|h| cell(h)));
        for row in &self.rows {
            t.add_row((0..self.headers.len()).map(|i| cell(row.get(i).map_or("", |s| s))));
        }
        for (column, align) in t.column_iter_mut().zip(&self.align) {
            column.set_cell_alignment(match align {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
        }
        t
    }

    /// A GitHub-flavoured Markdown table; `|` and `~` inside a cell are escaped so they
    /// cannot split the cell or strike text through (the sweep marks noise with a `~`).
    /// The rule under the header marks each column's alignment (`:---` or `---:`), which
    /// `comfy-table`'s Markdown preset leaves out.
    pub fn to_markdown(&self) -> String {
        let escape = |cell: &str| cell.replace('|', "\\|").replace('~', "\\~");
        let t = self.render(presets::ASCII_MARKDOWN, escape);
        let mut lines: Vec<String> = t.lines().collect();
        if let Some(rule) = lines.get_mut(1) {
            let marked: Vec<String> = rule
                .split('|')
                .enumerate()
                .map(
                    |(i, dashes)| match i.checked_sub(1).and_then(|c| self.align.get(c)) {
                        Some(Align::Left) if dashes.len() > 1 => format!(":{}", &dashes[1..]),
                        Some(Align::Right) if dashes.len() > 1 => format!("{}:", &dashes[1..]),
                        _ => dashes.to_string(),
                    },
                )
                .collect();
            *rule = marked.join("|");
        }
        lines.into_iter().map(|line| line + "\n").collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(["system", "median", "speed-up"]);
        t.push_row(["serial", "1.00 ms", "1.00x"]);
        t.push_row(["filch", "512 µs", "1.95x"]);
        t.push_row(["short"]);
        t
    }

    #[test]
    fn markdown_has_header_rule_and_one_line_per_row() {
        let md = sample().to_markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], "| system |  median | speed-up |");
        assert_eq!(lines[1], "|:-------|--------:|---------:|");
        assert_eq!(lines[3], "| filch  |  512 µs |    1.95x |");
        assert_eq!(lines[4], "| short  |         |          |");
    }

    #[test]
    fn markdown_escapes_pipes_and_tildes_inside_cells() {
        let mut t = Table::new(["a", "b"]);
        t.push_row(["x|y", "1.5x~"]);
        let md = t.to_markdown();
        assert!(md.contains("x\\|y") && md.contains("1.5x\\~"), "{md}");
        for line in md.lines() {
            assert_eq!(line.replace("\\|", "").matches('|').count(), 3, "{line}");
        }
    }
}
