//! Printing for people (aligned text) and machines (`--json`).
//!
//! Commands print with [`outln!`] and [`out!`] instead of `println!` and `print!`,
//! which panic when standard output is a pipe the reader has closed
//! (`custodia customers list | head`).

/// `println!` that ends the process quietly when standard output is a closed pipe.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends the process quietly when standard output is a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// Writes to standard output. When the reader has gone (a closed pipe), the process ends
/// at once with status 141, as a shell reports one ended by SIGPIPE: there is no one
/// left to read the rest, and what was printed is only a report of work already done.
/// Any other failure to write ends it with status 1 and says why.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: could not write to standard output: {e}");
        std::process::exit(1);
    }
}

use gateway::CustomerView;
use model::CustomerField;
use serde::Serialize;

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        outln!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// One customer, field by field.
pub fn customer(view: &CustomerView) {
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
