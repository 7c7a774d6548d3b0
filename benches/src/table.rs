//! A small table type rendered two ways: as aligned plain text for stdout and as a GitHub
//! Markdown table for `report.md`. Every experiment builds a [`Table`]; only the rendering
//! differs, so the terminal and the report always show the same numbers.

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

    fn cell(&self, row: &[String], col: usize) -> String {
        row.get(col).cloned().unwrap_or_default()
    }

    fn widths(&self, render: impl Fn(&str) -> String) -> Vec<usize> {
        (0..self.headers.len())
            .map(|col| {
                let header = render(&self.headers[col]).chars().count();
                self.rows
                    .iter()
                    .map(|row| render(&self.cell(row, col)).chars().count())
                    .fold(header, usize::max)
            })
            .collect()
    }

    /// Aligned plain text: columns separated by two spaces, a dashed rule under the header.
    pub fn to_text(&self) -> String {
        let widths = self.widths(|s| s.to_string());
        let mut out = String::new();
        let line = |cells: Vec<String>, out: &mut String| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(col, cell)| pad(cell, widths[col], self.align[col]))
                .collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        };
        line(self.headers.clone(), &mut out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&rule.join("  "));
        out.push('\n');
        for row in &self.rows {
            let cells = (0..self.headers.len())
                .map(|col| self.cell(row, col))
                .collect();
            line(cells, &mut out);
        }
        out
    }

    /// A GitHub-flavoured Markdown table. `|` inside a cell is escaped so it cannot split the
    /// cell; columns are padded so the source stays readable too.
    pub fn to_markdown(&self) -> String {
        let widths: Vec<usize> = self.widths(escape).iter().map(|w| (*w).max(3)).collect();
        let mut out = String::new();
        let line = |cells: Vec<String>, out: &mut String| {
            out.push('|');
            for (col, cell) in cells.iter().enumerate() {
                out.push(' ');
                out.push_str(&pad(&escape(cell), widths[col], self.align[col]));
                out.push_str(" |");
            }
            out.push('\n');
        };
        line(self.headers.clone(), &mut out);
        out.push('|');
        for (col, width) in widths.iter().enumerate() {
            let dashes = "-".repeat(width - 1);
            match self.align[col] {
                Align::Left => out.push_str(&format!(" :{dashes} |")),
                Align::Right => out.push_str(&format!(" {dashes}: |")),
            }
        }
        out.push('\n');
        for row in &self.rows {
            let cells = (0..self.headers.len())
                .map(|col| self.cell(row, col))
                .collect();
            line(cells, &mut out);
        }
        out
    }
}

/// Escapes the characters that would change a Markdown cell's structure or look: `|`
/// (cell separator) and `~` (GitHub reads `~text~` as strike-through; the sweep tables use
/// a trailing `~` as the noise mark).
fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('~', "\\~")
}

fn pad(cell: &str, width: usize, align: Align) -> String {
    let fill = width.saturating_sub(cell.chars().count());
    match align {
        Align::Left => format!("{cell}{}", " ".repeat(fill)),
        Align::Right => format!("{}{cell}", " ".repeat(fill)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(["system", "median", "speed-up"]);
        t.push_row(["serial", "1.00 ms", "1.00x"]);
        t.push_row(["filch", "512 µs", "1.95x"]);
        t
    }

    #[test]
    fn markdown_has_header_rule_and_one_line_per_row() {
        let md = sample().to_markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "| system |  median | speed-up |");
        assert_eq!(lines[1], "| :----- | ------: | -------: |");
        assert_eq!(lines[2], "| serial | 1.00 ms |    1.00x |");
        assert_eq!(lines[3], "| filch  |  512 µs |    1.95x |");
    }

    #[test]
    fn markdown_escapes_pipes_and_tildes_inside_cells() {
        let mut t = Table::new(["a", "b"]);
        t.push_row(["x|y", "1.5x~"]);
        let md = t.to_markdown();
        assert!(md.contains("x\\|y"), "{md}");
        assert!(md.contains("1.5x\\~"), "{md}");
        // Every line has the same number of unescaped separators.
        for line in md.lines() {
            assert_eq!(line.replace("\\|", "").matches('|').count(), 3, "{line}");
        }
    }

    #[test]
    fn text_aligns_numbers_right_and_labels_left() {
        let text = sample().to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "system   median  speed-up");
        assert_eq!(lines[1], "------  -------  --------");
        assert_eq!(lines[2], "serial  1.00 ms     1.00x");
        assert_eq!(lines[3], "filch    512 µs     1.95x");
    }

    #[test]
    fn short_rows_are_padded_with_blanks() {
        let mut t = Table::new(["a", "b", "c"]);
        t.push_row(["only"]);
        let md = t.to_markdown();
        assert_eq!(md.lines().nth(2).unwrap(), "| only |     |     |");
    }
}
