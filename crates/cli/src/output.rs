//! Printing for people (aligned text) and machines (`--json`).
//!
//! Commands print with [`outln!`] and [`out!`] instead of `println!` and `print!`,
//! which panic when standard output is a pipe the reader has closed
//! (`custodia customers list | head`).

/// `println!` that returns [`StdoutClosed`] from the calling function when standard
/// output is a closed pipe.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` that returns [`StdoutClosed`] from the calling function when standard
/// output is a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))?
    };
}

/// Standard output is a pipe whose reader has gone (`custodia customers list | head`).
/// The command stops, returning through its callers so what they hold is let go as
/// usual (a benchmark's temporary directory, the store), and the process ends with
/// status 141, as a shell reports one ended by SIGPIPE, and says nothing: there is no
/// one left to read the rest, and what was printed is only a report of work done.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed by its reader")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes to standard output; any failure but a closed pipe is an error that says why.
pub fn write_stdout(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_fmt(args) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("could not write to standard output")),
    }
}

use gateway::CustomerView;
use model::CustomerField;
use serde::Serialize;

/// `count` and the noun for it: `1 file`, `2 files`.
pub fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &[String]| -> anyhow::Result<()> {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        outln!("{}", padded.join("  ").trim_end());
        Ok(())
    };
    line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>())?;
    for row in rows {
        line(row)?;
    }
    Ok(())
}

/// One customer, field by field.
pub fn customer(view: &CustomerView) -> anyhow::Result<()> {
    outln!("{}", view.id);
    let rows: Vec<(&str, String)> = vec![
        ("owner", view.owner.to_string()),
        ("team", view.team.as_ref().map(|t| t.to_string()).unwrap_or_default()),
        ("territory", view.territory.clone().unwrap_or_default()),
        ("country", view.country.clone().unwrap_or_default()),
        ("classification", view.classification.to_string()),
        (
            "compartments",
            view.compartments.iter().cloned().collect::<Vec<_>>().join(", "),
        ),
    ];
    for (k, v) in rows {
        outln!("  {k:<15} {v}");
    }
    for field in CustomerField::ALL {
        let value = if view.hidden.contains(&field) {
            "(withheld)".to_owned()
        } else {
            let text = view.text(field).unwrap_or_default();
            if view.masked.contains(&field) {
                format!("{text}  (masked)")
            } else {
                text
            }
        };
        outln!("  {:<15} {value}", field.as_str());
    }
    Ok(())
}

/// A one-line summary row of a customer.
pub fn customer_row(view: &CustomerView) -> Vec<String> {
    vec![
        view.id.to_string(),
        view.text(CustomerField::Name).unwrap_or_else(|| "(withheld)".into()),
        view.text(CustomerField::Company).unwrap_or_default(),
        view.text(CustomerField::Emails).unwrap_or_default(),
        view.text(CustomerField::Phones).unwrap_or_default(),
        view.owner.to_string(),
        view.classification.to_string(),
    ]
}

pub const CUSTOMER_HEADER: &[&str] = &["ID", "NAME", "COMPANY", "EMAIL", "PHONE", "OWNER", "CLASS"];
