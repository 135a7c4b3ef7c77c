#pragma once
// An Avro schema (Apache Avro 1.11 specification, "Schema Declaration"), parsed from its JSON
// text into a flat table of nodes. The Pub/Sub API hands events over as Avro binary records of a
// schema that GetSchema returns as JSON (docs/SALESFORCE_PROTOCOL.md "Pub/Sub API (gRPC)").
//
// Schemas come from the network, so parsing is total: any text gives a Schema or a kInvalidInput
// error naming what is wrong, never a crash. Named types may refer to themselves (a recursive
// record): nodes refer to each other by index, so the table has no ownership cycles.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/result.h"

namespace sfkb::avro {

enum class Type : std::uint8_t {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};
const char* to_string(Type type);  // the schema's spelling: "null", "record", ...

using NodeId = std::uint32_t;

struct Field {
  std::string name;
  NodeId type = 0;
  std::string doc;  // Salesforce names the field's type here, e.g. "Data:DateTime"
  // The field's default as compact JSON text; nullopt when the schema gives none.
  std::optional<std::string> default_json;
};

struct Node {
  Type type = Type::kNull;
  std::string name;          // named types (record, enum, fixed): the full name
  std::string logical_type;  // e.g. "timestamp-millis", "date"; empty when none
  std::string doc;
  std::vector<Field> fields;         // record
  std::vector<std::string> symbols;  // enum
  NodeId items = 0;                  // array items, map values
  std::vector<NodeId> branches;      // union
  std::size_t size = 0;              // fixed
};

// Nesting deeper than this (in the schema text, or of values while decoding) is refused: it
// bounds the stack of the recursive walks, and no event schema nests more than a few levels.
inline constexpr int kMaxDepth = 64;

class Schema {
 public:
  // kInvalidInput for text that is not JSON or not a valid schema (unknown type name, a union
  // inside a union, a duplicate field or symbol, a named type defined twice, ...).
  static core::Result<Schema> parse(std::string_view json);

  NodeId root() const { return root_; }
  const Node& node(NodeId id) const { return nodes_[id]; }
  std::size_t size() const { return nodes_.size(); }

  // Convenience for the root record: the index of the field called `name`, or nullopt.
  std::optional<std::size_t> field_index(std::string_view name) const;
  // The branch of union `id` whose type is `type` (first such), or nullopt; for a non-union node,
  // 0 when the node itself has that type.
  std::optional<std::size_t> branch_of(NodeId id, Type type) const;
  // For a union ["null", T] (in either order) or T: T's node. Unions of more types are returned
  // as they are.
  NodeId non_null(NodeId id) const;

 private:
  friend class SchemaParser;
  std::vector<Node> nodes_;
  NodeId root_ = 0;
};

}  // namespace sfkb::avro
