//! Printing for people (aligned text) and machines (`--json`).

use gateway::CustomerView;
use model::CustomerField;
use serde::Serialize;

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
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
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// One customer, field by field.
pub fn customer(view: &CustomerView) {
    println!("{}", view.id);
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
        println!("  {k:<15} {v}");
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
        println!("  {:<15} {value}", field.as_str());
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
