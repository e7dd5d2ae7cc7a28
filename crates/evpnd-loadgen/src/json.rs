//! An insertion-ordered JSON object, so the output lists its fields in the
//! order evpn-blast.py prints them (serde_json's own map is sorted unless a
//! workspace-wide feature changes it for every crate).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// A JSON value whose objects keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Val(Value),
    Obj(Obj),
    List(Vec<Node>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj(Vec<(String, Node)>);

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }

    /// Sets `key`, in place when it exists (as a Python dict does).
    pub fn set(&mut self, key: &str, v: impl Into<Node>) {
        let v = v.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = v,
            None => self.0.push((key.to_string(), v)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key` when it is a JSON number.
    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Node::Val(v) => v.as_f64(),
            _ => None,
        }
    }

    /// Every field of `other`, each set as by [`Obj::set`].
    pub fn update(&mut self, other: Obj) {
        for (k, v) in other.0 {
            self.set(&k, v);
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"json: {e}\"}}"))
    }
}

impl<T: Into<Value>> From<T> for Node {
    fn from(v: T) -> Node {
        Node::Val(v.into())
    }
}

impl From<Obj> for Node {
    fn from(o: Obj) -> Node {
        Node::Obj(o)
    }
}

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Val(v) => v.serialize(s),
            Node::Obj(o) => o.serialize(s),
            Node::List(l) => {
                let mut q = s.serialize_seq(Some(l.len()))?;
                for n in l {
                    q.serialize_element(n)?;
                }
                q.end()
            }
        }
    }
}

/// Python's `round(x, digits)` for the figures printed (half away from zero
/// differs from Python's half-even only on exact ties, which measured times
/// do not produce).
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_replaces_in_place() {
        let mut o = Obj::new();
        o.set("b", 1);
        o.set("a", "x");
        let mut inner = Obj::new();
        inner.set("z", true);
        inner.set("y", Value::Null);
        o.set("c", inner);
        o.set("b", 2.5);
        assert_eq!(o.to_json(), r#"{"b":2.5,"a":"x","c":{"z":true,"y":null}}"#);
        assert_eq!(o.f64("b"), Some(2.5));
    }
}
