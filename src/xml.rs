//! A small, bounded XML tree built from quick-xml events. Namespace-aware; refuses DTDs,
//! undefined entities, duplicate attributes and documents deeper or larger than the limits,
//! so entity tricks (XXE, billion laughs) have nothing to expand.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_elements: 20_000,
            max_attributes: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub ns: Option<Arc<str>>,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Shared between the elements of one document that use the same namespace: a SOAP
    /// request names two or three, on every element.
    pub ns: Option<Arc<str>>,
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Element>,
    pub text: String,
}

pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

impl Element {
    /// First child element with this local name (namespaces are ignored on input, as
    /// clients differ in how they qualify parameters).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// An attribute by local name with no namespace.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name && a.ns.is_none())
            .map(|a| a.value.as_str())
    }

    /// The `xsi:type` local name, if any (`vdi:JwtTokenGenerationSpec` → `JwtTokenGenerationSpec`).
    pub fn xsi_type(&self) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == "type" && a.ns.as_deref() == Some(XSI_NS))
            .map(|a| a.value.rsplit(':').next().unwrap_or(&a.value))
    }

    pub fn is_nil(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| a.name == "nil" && a.ns.as_deref() == Some(XSI_NS) && a.value == "true")
    }

    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// This element re-rendered without namespaces (element local names, plain attributes),
    /// under `root_name`: the canonical form fed to yaserde.
    pub fn to_plain_xml(&self, root_name: &str) -> String {
        let mut out = String::new();
        self.write_plain(root_name, &mut out);
        out
    }

    fn write_plain(&self, name: &str, out: &mut String) {
        out.push('<');
        out.push_str(name);
        for a in self.attributes.iter().filter(|a| a.ns.is_none()) {
            out.push(' ');
            out.push_str(&a.name);
            out.push_str("=\"");
            out.push_str(&quick_xml::escape::escape(a.value.as_str()));
            out.push('"');
        }
        out.push('>');
        out.push_str(&quick_xml::escape::escape(self.text.as_str()));
        for c in &self.children {
            c.write_plain(&c.name, out);
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("the request is not well-formed XML: {0}")]
    Malformed(String),
    #[error("DTDs and entity declarations are not allowed")]
    Doctype,
    #[error("undefined entity &{0};")]
    UndefinedEntity(String),
    #[error("the document nests deeper than {0} elements")]
    TooDeep(usize),
    #[error("the document has more than {0} elements")]
    TooManyElements(usize),
    #[error("an element has more than {0} attributes")]
    TooManyAttributes(usize),
    #[error("the request has no root element")]
    Empty,
    #[error("only UTF-8 encoded requests are supported (declared {0})")]
    Encoding(String),
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
}

/// The namespace names of one document, each allocated once (the first
/// [`SHARED_NAMESPACES`]: a document declaring thousands must not make the lookup quadratic).
#[derive(Default)]
struct Namespaces(Vec<Arc<str>>);

const SHARED_NAMESPACES: usize = 16;

impl Namespaces {
    fn resolved(&mut self, r: ResolveResult<'_>) -> Result<Option<Arc<str>>, XmlError> {
        match r {
            ResolveResult::Bound(ns) => {
                let name: &str = ns.as_ref();
                if let Some(known) = self.0.iter().find(|n| &***n == name) {
                    return Ok(Some(known.clone()));
                }
                let known: Arc<str> = Arc::from(name);
                if self.0.len() < SHARED_NAMESPACES {
                    self.0.push(known.clone());
                }
                Ok(Some(known))
            }
            ResolveResult::Unbound => Ok(None),
            ResolveResult::Unknown(prefix) => Err(XmlError::Malformed(format!(
                "undeclared namespace prefix {prefix}"
            ))),
        }
    }
}

/// Parses `text` into a tree, enforcing `limits`.
pub fn parse(text: &str, limits: Limits) -> Result<Element, XmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut namespaces = Namespaces::default();
    loop {
        let (resolve, event) = reader.read_resolved_event().map_err(malformed)?;
        let ns = match &event {
            Event::Start(_) => namespaces.resolved(resolve)?,
            _ => None,
        };
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError::TooManyElements(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let name = start.local_name().as_ref().to_string();
                let mut attributes = Vec::new();
                for attr in start.attributes().with_checks(true) {
                    let attr = attr.map_err(malformed)?;
                    let key = attr.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    if attributes.len() >= limits.max_attributes {
                        return Err(XmlError::TooManyAttributes(limits.max_attributes));
                    }
                    let (attr_ns, local) = reader.resolver().resolve_attribute(key);
                    let attr_ns = namespaces.resolved(attr_ns)?;
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| match e {
                            quick_xml::Error::Escape(
                                quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                            ) => XmlError::UndefinedEntity(name),
                            other => malformed(other),
                        })?;
                    attributes.push(Attribute {
                        ns: attr_ns,
                        name: local.as_ref().to_string(),
                        value: value.into_owned(),
                    });
                }
                stack.push(Element {
                    ns,
                    name,
                    attributes,
                    ..Element::default()
                });
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| malformed("unexpected end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(el) => el.text.push_str(&c.xml10_content()),
                None => return Err(malformed("CDATA outside the root element")),
            },
            Event::GeneralRef(r) => {
                let resolved: String = if r.is_char_ref() {
                    match r.resolve_char_ref().map_err(malformed)? {
                        Some(ch) => ch.to_string(),
                        None => return Err(malformed("invalid character reference")),
                    }
                } else {
                    let name = r.xml10_content();
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => s.to_string(),
                        None => return Err(XmlError::UndefinedEntity(name.into_owned())),
                    }
                };
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&resolved),
                    None => return Err(malformed("entity reference outside the root element")),
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding() {
                    let enc = enc.to_ascii_lowercase();
                    if enc != "utf-8" && enc != "utf8" {
                        return Err(XmlError::Encoding(enc));
                    }
                }
            }
            Event::Empty(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("unexpected end of document (unclosed elements)"));
    }
    root.ok_or(XmlError::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaces_entities_and_cdata() {
        let doc = r#"<?xml version="1.0"?><a:r xmlns:a="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><b t="1" xsi:type="p:T">x &amp; &#65;<![CDATA[<y>]]></b></a:r>"#;
        let el = parse(doc, Limits::default()).unwrap();
        assert_eq!(el.ns.as_deref(), Some("urn:x"));
        let b = el.child("b").unwrap();
        assert_eq!(b.text, "x & A<y>");
        assert_eq!(b.attr("t"), Some("1"));
        assert_eq!(b.xsi_type(), Some("T"));
    }

    #[test]
    fn refuses_entity_tricks_and_limits() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(parse(xxe, Limits::default()), Err(XmlError::Doctype));
        assert_eq!(
            parse("<r>&lol;</r>", Limits::default()),
            Err(XmlError::UndefinedEntity("lol".into()))
        );
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(&deep, Limits::default()), Err(XmlError::TooDeep(64)));
        assert!(matches!(
            parse(r#"<r a="1" a="2"/>"#, Limits::default()),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            parse("<r><x></r>", Limits::default()),
            Err(XmlError::Malformed(_))
        ));
        assert_eq!(parse("  ", Limits::default()), Err(XmlError::Empty));
    }
}
