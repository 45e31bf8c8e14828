//! Reading ONNX node attributes, with the operator's defaults.

use crate::onnx::proto::NodeProto;

/// An integer attribute, or `default`.
pub(crate) fn int(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.i)
}

/// A float attribute, or `default`.
pub(crate) fn float(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.f)
}

/// An integer-list attribute (empty when absent).
pub(crate) fn ints(node: &NodeProto, name: &str) -> Vec<i64> {
    node.attribute.iter().find(|a| a.name == name).map_or_else(Vec::new, |a| a.ints.clone())
}

/// A float-list attribute (empty when absent).
pub(crate) fn floats(node: &NodeProto, name: &str) -> Vec<f32> {
    node.attribute.iter().find(|a| a.name == name).map_or_else(Vec::new, |a| a.floats.clone())
}

/// A string attribute, or `default`.
pub(crate) fn string(node: &NodeProto, name: &str, default: &str) -> String {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or_else(|| default.to_string(), |a| String::from_utf8_lossy(&a.s).into_owned())
}

/// A string-list attribute (empty when absent).
pub(crate) fn strings(node: &NodeProto, name: &str) -> Vec<String> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or_else(Vec::new, |a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect())
}

/// Whether the node has the attribute at all.
pub(crate) fn has(node: &NodeProto, name: &str) -> bool {
    node.attribute.iter().any(|a| a.name == name)
}
