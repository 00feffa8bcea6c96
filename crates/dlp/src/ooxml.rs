//! The parts of an Office Open XML package (`.docx`, `.xlsx`, `.pptx`) that hold text
//! outside a document's body, a sheet's cells and a slide's shapes: which parts those
//! are, the targets of a part's external relationships (a `mailto:` link's address),
//! a sheet's print header and footer, and a workbook's pivot caches.
//!
//! The reading of the parts themselves is in `extract.rs`, with the rest of the
//! extraction and its bounds; here are the small schemas it needs.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::Event;

/// Attributes that hold text a user wrote in the parts read whole (see
/// [`is_formatting_part`]): a picture's or shape's alternative text and name
/// (`descr`, `title`, `name`), VML's `alt`, a link's `display` and `tooltip`, a data
/// validation's messages, a scenario's `comment`, a table's `displayName`, the
/// `caption` and `description` of pivots and connections. Every other attribute is
/// layout, style or an identifier.
pub(crate) const TEXT_ATTRIBUTES: &[&[u8]] = &[
    b"descr",
    b"title",
    b"name",
    b"alt",
    b"display",
    b"tooltip",
    b"prompt",
    b"promptTitle",
    b"error",
    b"errorTitle",
    b"comment",
    b"caption",
    b"description",
    b"displayName",
];

/// Whether a part of an Office package holds only formatting, settings or bookkeeping,
/// no text of the user's: styles, themes, fonts, numbering, settings, the properties of
/// a presentation's views, chart styles and colours, the calculation chain. Known by
/// name: each format names them so (`word/styles.xml`, `xl/theme/theme1.xml`,
/// `ppt/presProps.xml`, `xl/charts/colors1.xml`).
pub(crate) fn is_formatting_part(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = file.strip_suffix(".xml").unwrap_or(file);
    let stem = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    name.contains("/theme/")
        || name.contains("/printerSettings/")
        || [
            "styles",
            "stylesWithEffects",
            "fontTable",
            "numbering",
            "settings",
            "webSettings",
            "themeOverride",
            "tableStyles",
            "presProps",
            "viewProps",
            "calcChain",
            "style",
            "colors",
        ]
        .iter()
        .any(|known| stem.eq_ignore_ascii_case(known))
}

/// The relationships part of `part`: `word/document.xml` → `word/_rels/document.xml.rels`.
pub(crate) fn relationships_part(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((folder, file)) => format!("{folder}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// The part a relationships part describes: the inverse of [`relationships_part`].
fn described_part(rels: &str) -> Option<String> {
    let file = rels.strip_suffix(".rels")?;
    let (folder, file) = match file.rsplit_once('/') {
        Some((folder, file)) => (folder, file),
        None => ("", file),
    };
    let folder = folder.strip_suffix("_rels")?.trim_end_matches('/');
    Some(if folder.is_empty() {
        file.to_string()
    } else {
        format!("{folder}/{file}")
    })
}

/// One relationship of a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relationship {
    pub(crate) id: String,
    /// What the target is to the part: its `Type`, a URI that ends in a name
    /// (`…/relationships/hyperlink`, `…/pivotCacheRecords`).
    pub(crate) kind: String,
    pub(crate) target: String,
    /// `TargetMode="External"`: a link out of the package (a web address, `mailto:`,
    /// a file path), whose target is text of the user's.
    pub(crate) external: bool,
}

/// The relationships a `.rels` part lists; what does not parse is left out.
pub(crate) fn relationships(xml: &[u8]) -> Vec<Relationship> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut found = Vec::new();
    let mut buf = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                let mut relationship = Relationship {
                    id: String::new(),
                    kind: String::new(),
                    target: String::new(),
                    external: false,
                };
                for attribute in e.attributes().flatten() {
                    let Ok(value) = attribute.decode_and_unescape_value(reader.decoder()) else {
                        continue;
                    };
                    match attribute.key.local_name().as_ref() {
                        b"Id" => relationship.id = value.into_owned(),
                        b"Type" => relationship.kind = value.into_owned(),
                        b"Target" => relationship.target = value.into_owned(),
                        b"TargetMode" => relationship.external = value.eq_ignore_ascii_case("External"),
                        _ => {}
                    }
                }
                found.push(relationship);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    found
}

/// The path, inside the package, of a relationship's internal target from `part`:
/// `../pivotCache/pivotCacheRecords1.xml` from `xl/pivotCache/pivotCacheDefinition1.xml`
/// is `xl/pivotCache/pivotCacheRecords1.xml`; `/xl/…` is from the package's root.
pub(crate) fn resolve_target(part: &str, target: &str) -> String {
    let mut path: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        part.split('/').collect()
    };
    path.pop();
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            other => path.push(other),
        }
    }
    path.join("/")
}

/// What an external relationship's target says: the address of a `mailto:` or `tel:`
/// link, any other target (a web address, a file path) percent-decoded.
fn link_text(target: &str) -> String {
    match crate::extract::strip_link_scheme(target.trim()) {
        Some(address) => address.into_owned(),
        None => percent_encoding::percent_decode_str(target.trim())
            .decode_utf8_lossy()
            .into_owned(),
    }
}

/// The external relationships of every part of a package, by the part they belong to,
/// each marked once a reader has put its target where the part links it.
#[derive(Debug, Default)]
pub(crate) struct Links {
    parts: HashMap<String, PartLinks>,
}

/// The external relationships of one part, by id.
#[derive(Debug, Default)]
pub(crate) struct PartLinks {
    by_id: HashMap<String, (String, bool)>,
    /// Ids in the order the `.rels` part lists them.
    order: Vec<String>,
}

impl PartLinks {
    /// The text of the external relationship `id`, marked as read; `None` for an
    /// internal one (a picture, a style) or an unknown id.
    pub(crate) fn take(&mut self, id: &str) -> Option<String> {
        let (text, used) = self.by_id.get_mut(id)?;
        *used = true;
        Some(text.clone())
    }
}

impl Links {
    /// The external relationships of the `.rels` parts among `members`, and the bytes
    /// they were read from.
    pub(crate) fn of(members: &[(String, Vec<u8>)]) -> (Self, usize) {
        let mut links = Links::default();
        let mut read = 0;
        for (name, xml) in members.iter().filter(|(name, _)| name.ends_with(".rels")) {
            let Some(part) = described_part(name) else {
                continue;
            };
            read += xml.len();
            let mut part_links = PartLinks::default();
            for relationship in relationships(xml).into_iter().filter(|r| r.external) {
                let text = link_text(&relationship.target);
                if text.trim().is_empty() || part_links.by_id.contains_key(&relationship.id) {
                    continue;
                }
                part_links.order.push(relationship.id.clone());
                part_links.by_id.insert(relationship.id, (text, false));
            }
            if !part_links.order.is_empty() {
                links.parts.insert(part, part_links);
            }
        }
        (links, read)
    }

    /// The external relationships of `part`.
    pub(crate) fn of_part(&mut self, part: &str) -> Option<&mut PartLinks> {
        self.parts.get_mut(part)
    }

    /// The targets no reader put in place, one to a line, by the relationships part
    /// that lists them, in the order of the parts' names.
    pub(crate) fn unread(&self) -> Vec<(String, String)> {
        let mut parts: Vec<(&String, &PartLinks)> = self.parts.iter().collect();
        parts.sort_by(|a, b| a.0.cmp(b.0));
        parts
            .into_iter()
            .filter_map(|(part, links)| {
                let text: Vec<&str> = links
                    .order
                    .iter()
                    .filter_map(|id| links.by_id.get(id))
                    .filter(|(_, used)| !used)
                    .map(|(text, _)| text.as_str())
                    .collect();
                (!text.is_empty()).then(|| (relationships_part(part), text.join("\n")))
            })
            .collect()
    }
}

/// The text of a spreadsheet's print header or footer without its codes: `&L`, `&C`
/// and `&R` begin its left, centre and right sections (a line each here), `&"Arial,Bold"`
/// names a font, `&12` a size, `&K` and six digits a colour, `&P`, `&D`, `&F` and the
/// other letters a field or a format; `&&` is an ampersand.
pub(crate) fn header_footer_text(code: &str) -> String {
    let mut text = String::with_capacity(code.len());
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '&' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('&') => text.push('&'),
            Some('L' | 'C' | 'R') => text.push('\n'),
            Some('"') => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            Some(d) if d.is_ascii_digit() => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
            Some('K') => {
                for _ in 0..6 {
                    chars.next();
                }
            }
            // A field (page number, date, file name) or a format (bold, underline):
            // apart from the words around it.
            Some(_) => text.push(' '),
            None => {}
        }
    }
    text
}

/// A pivot cache read: the names of its fields, the records it keeps (each field's
/// value, as the source range's rows held them), and the values of its fields no
/// record refers to (Excel may keep items deleted from the source, and a cache saved
/// without its records keeps only these).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PivotCache {
    pub(crate) fields: Vec<String>,
    pub(crate) records: Vec<Vec<String>>,
    pub(crate) unreferenced: Vec<String>,
}

/// A field of a pivot cache's definition.
#[derive(Debug, Default)]
struct PivotField {
    name: String,
    /// Whether records hold it: a field computed by a formula or grouped from another
    /// is only in the definition (`databaseField="0"`).
    in_records: bool,
    items: Vec<String>,
    referenced: Vec<bool>,
}

/// Reads a pivot cache: its definition (`pivotCacheDefinition*.xml`, each field with
/// its distinct values) and records (`pivotCacheRecords*.xml`, a row per source row:
/// `<x v="3"/>` is the field's fourth value, `<s v="…"/>`, `<n v="…"/>`, `<d>`, `<b>`,
/// `<e>` a value of its own, `<m/>` none).
pub(crate) fn pivot_cache(definition: &[u8], records: Option<&[u8]>) -> Result<PivotCache, quick_xml::Error> {
    let mut fields: Vec<PivotField> = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(definition);
    let mut buf = Vec::new();
    let mut in_items = false;
    // Depth inside `sharedItems`: only its children are values.
    let mut depth = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf)?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    b"cacheField" if !in_items => {
                        let mut field = PivotField {
                            in_records: true,
                            ..PivotField::default()
                        };
                        for attribute in e.attributes().flatten() {
                            let value = attribute.decode_and_unescape_value(reader.decoder())?;
                            match attribute.key.local_name().as_ref() {
                                b"name" => field.name = value.into_owned(),
                                b"databaseField" => field.in_records = !matches!(value.as_ref(), "0" | "false"),
                                _ => {}
                            }
                        }
                        fields.push(field);
                    }
                    b"sharedItems" if !in_items && !empty => {
                        in_items = true;
                        depth = 0;
                    }
                    _ if in_items => {
                        if depth == 0 {
                            if let Some(field) = fields.last_mut() {
                                let value = pivot_value(e, &reader)?;
                                field.items.push(value.unwrap_or_default());
                                field.referenced.push(false);
                            }
                        }
                        if !empty {
                            depth += 1;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) if in_items => {
                if depth == 0 && e.local_name().as_ref() == b"sharedItems" {
                    in_items = false;
                } else {
                    depth = depth.saturating_sub(1);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let in_records: Vec<usize> = (0..fields.len())
        .filter(|&i| fields.get(i).is_some_and(|f| f.in_records))
        .collect();
    let mut cache = PivotCache {
        fields: in_records
            .iter()
            .filter_map(|&i| fields.get(i).map(|f| f.name.clone()))
            .collect(),
        ..PivotCache::default()
    };
    if let Some(records) = records {
        let mut reader = quick_xml::Reader::from_reader(records);
        let mut record: Option<Vec<String>> = None;
        // Depth inside a record `r`: only its children are values.
        let mut depth = 0usize;
        loop {
            let event = reader.read_event_into(&mut buf)?;
            match &event {
                Event::Start(e) | Event::Empty(e) => {
                    let empty = matches!(event, Event::Empty(_));
                    match record.as_mut() {
                        None if e.local_name().as_ref() == b"r" => {
                            if empty {
                                cache.records.push(Vec::new());
                            } else {
                                record = Some(Vec::new());
                                depth = 0;
                            }
                        }
                        Some(values) => {
                            if depth == 0 {
                                let field = in_records.get(values.len()).and_then(|&i| fields.get_mut(i));
                                let value = pivot_value(e, &reader)?.unwrap_or_default();
                                let value = match (e.local_name().as_ref(), field) {
                                    (b"x", Some(field)) => match value.trim().parse::<usize>() {
                                        Ok(index) => {
                                            if let Some(seen) = field.referenced.get_mut(index) {
                                                *seen = true;
                                            }
                                            field.items.get(index).cloned().unwrap_or_default()
                                        }
                                        Err(_) => String::new(),
                                    },
                                    (b"x", None) => String::new(),
                                    _ => value,
                                };
                                values.push(value);
                            }
                            if !empty {
                                depth += 1;
                            }
                        }
                        None => {}
                    }
                }
                Event::End(e) if record.is_some() => {
                    if depth == 0 && e.local_name().as_ref() == b"r" {
                        cache.records.extend(record.take());
                    } else {
                        depth = depth.saturating_sub(1);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
    }
    for field in &fields {
        for (item, referenced) in field.items.iter().zip(&field.referenced) {
            if !referenced && !item.trim().is_empty() {
                cache.unreferenced.push(item.clone());
            }
        }
    }
    Ok(cache)
}

/// The `v` attribute of a pivot cache's value element, unescaped.
fn pivot_value(
    element: &quick_xml::events::BytesStart<'_>,
    reader: &quick_xml::Reader<&[u8]>,
) -> Result<Option<String>, quick_xml::Error> {
    for attribute in element.attributes().flatten() {
        if attribute.key.local_name().as_ref() == b"v" {
            let value: Cow<'_, str> = attribute.decode_and_unescape_value(reader.decoder())?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_and_footer_codes_are_not_text() {
        assert_eq!(
            header_footer_text("&L&\"Arial,Bold\"&14Ana Rossi&C&KFF0000ana@x.io &P of &N&R&&Co"),
            "\nAna Rossi\nana@x.io   of  \n&Co"
        );
    }

    #[test]
    fn relationships_parts_and_targets() {
        assert_eq!(relationships_part("word/document.xml"), "word/_rels/document.xml.rels");
        assert_eq!(
            described_part("word/_rels/document.xml.rels").as_deref(),
            Some("word/document.xml")
        );
        assert_eq!(described_part("_rels/.rels").as_deref(), Some(""));
        assert_eq!(
            resolve_target("xl/pivotCache/pivotCacheDefinition1.xml", "pivotCacheRecords1.xml"),
            "xl/pivotCache/pivotCacheRecords1.xml"
        );
        assert_eq!(
            resolve_target("xl/workbook.xml", "../customXml/item1.xml"),
            "customXml/item1.xml"
        );
        assert_eq!(resolve_target("xl/workbook.xml", "/xl/a.xml"), "xl/a.xml");
        assert_eq!(link_text("mailto:ana%40x.io?subject=Hi"), "ana@x.io");
        assert_eq!(
            link_text("https://crm.example/c/D%C3%B6rte"),
            "https://crm.example/c/Dörte"
        );
    }

    #[test]
    fn formatting_parts_are_known_by_name() {
        for name in [
            "word/styles.xml",
            "word/stylesWithEffects.xml",
            "xl/theme/theme1.xml",
            "ppt/presProps.xml",
            "xl/charts/colors1.xml",
            "xl/charts/style1.xml",
            "xl/calcChain.xml",
        ] {
            assert!(is_formatting_part(name), "{name}");
        }
        for name in [
            "docProps/core.xml",
            "xl/workbook.xml",
            "xl/drawings/drawing1.xml",
            "ppt/slideLayouts/slideLayout1.xml",
        ] {
            assert!(!is_formatting_part(name), "{name}");
        }
    }

    #[test]
    fn pivot_records_are_rows_of_their_fields_values() {
        let definition = br#"<pivotCacheDefinition><cacheFields count="3"><cacheField name="Name"><sharedItems count="3"><s v="Ana Rossi"/><s v="Bo Lee"/><s v="Old &amp; gone"/></sharedItems></cacheField><cacheField name="Sum" databaseField="0"><sharedItems/></cacheField><cacheField name="Phone"><sharedItems containsNumber="1"/></cacheField></cacheFields></pivotCacheDefinition>"#;
        let records =
            br#"<pivotCacheRecords><r><x v="1"/><n v="3934712"/></r><r><x v="0"/><m/></r></pivotCacheRecords>"#;
        let cache = pivot_cache(definition, Some(records)).unwrap();
        assert_eq!(cache.fields, ["Name", "Phone"]);
        assert_eq!(cache.records, [vec!["Bo Lee", "3934712"], vec!["Ana Rossi", ""]]);
        assert_eq!(cache.unreferenced, ["Old & gone"]);
        let alone = pivot_cache(definition, None).unwrap();
        assert!(alone.records.is_empty());
        assert_eq!(alone.unreferenced, ["Ana Rossi", "Bo Lee", "Old & gone"]);
    }
}
