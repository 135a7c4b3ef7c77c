#include "daemon/avro/schema.h"

#include <map>
#include <set>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfkb::avro {
namespace {

core::Error invalid(std::string message) {
  return {core::ErrorKind::kInvalidInput, "Avro schema: " + std::move(message)};
}

std::optional<Type> primitive(std::string_view name) {
  static const std::pair<std::string_view, Type> kPrimitives[] = {
      {"null", Type::kNull},   {"boolean", Type::kBoolean}, {"int", Type::kInt},
      {"long", Type::kLong},   {"float", Type::kFloat},     {"double", Type::kDouble},
      {"bytes", Type::kBytes}, {"string", Type::kString}};
  for (const auto& [spelling, type] : kPrimitives) {
    if (spelling == name) {
      return type;
    }
  }
  return std::nullopt;
}

// [A-Za-z_][A-Za-z0-9_]* (the specification's rule for names and enum symbols).
bool valid_simple_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

bool valid_full_name(std::string_view name) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    if (!valid_simple_name(name.substr(start, dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

std::string compact(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string string_member(const rapidjson::Value& object, const char* key) {
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return {};
  }
  return {it->value.GetString(), it->value.GetStringLength()};
}

// A value's nesting depth, without recursion, stopping once it passes `limit`.
int depth_of(const rapidjson::Value& root, int limit) {
  std::vector<std::pair<const rapidjson::Value*, int>> stack = {{&root, 1}};
  int deepest = 0;
  while (!stack.empty() && deepest <= limit) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (value->IsObject()) {
      for (const auto& member : value->GetObject()) {
        stack.emplace_back(&member.value, depth + 1);
      }
    } else if (value->IsArray()) {
      for (const auto& element : value->GetArray()) {
        stack.emplace_back(&element, depth + 1);
      }
    }
  }
  return deepest;
}

}  // namespace

// Builds a Schema's node table from the parsed JSON. Recursion follows the schema's nesting,
// which parse() has bounded first.
class SchemaParser {
 public:
  core::Result<Schema> run(const rapidjson::Value& root) {
    auto id = parse(root, "", "the schema");
    if (!id) {
      return id.error();
    }
    schema_.root_ = *id;
    return std::move(schema_);
  }

 private:
  core::Result<NodeId> add(Node node) {
    schema_.nodes_.push_back(std::move(node));
    return static_cast<NodeId>(schema_.nodes_.size() - 1);
  }

  // `where` says which part of the schema is parsed, for error messages ("field Name").
  core::Result<NodeId> parse(const rapidjson::Value& value, const std::string& space,
                             const std::string& where) {
    if (value.IsString()) {
      return reference(std::string_view(value.GetString(), value.GetStringLength()), space, where);
    }
    if (value.IsArray()) {
      return parse_union(value, space, where);
    }
    if (!value.IsObject()) {
      return invalid(where + " is neither a type name, a union nor a type object");
    }
    const auto type_it = value.FindMember("type");
    if (type_it == value.MemberEnd()) {
      return invalid(where + " has no \"type\"");
    }
    if (!type_it->value.IsString()) {
      // {"type": {...}} or {"type": [...]}: a type wrapped in an object.
      return parse(type_it->value, space, where);
    }
    const std::string type(type_it->value.GetString(), type_it->value.GetStringLength());
    const std::string logical = string_member(value, "logicalType");
    const std::string doc = string_member(value, "doc");
    if (const auto prim = primitive(type)) {
      Node node;
      node.type = *prim;
      node.logical_type = logical;
      node.doc = doc;
      return add(std::move(node));
    }
    if (type == "record" || type == "error") {
      return parse_record(value, space, where, logical, doc);
    }
    if (type == "enum") {
      return parse_enum(value, space, where, doc);
    }
    if (type == "fixed") {
      return parse_fixed(value, space, where, logical);
    }
    if (type == "array" || type == "map") {
      const char* key = type == "array" ? "items" : "values";
      const auto it = value.FindMember(key);
      if (it == value.MemberEnd()) {
        return invalid(where + ": " + type + " without \"" + key + "\"");
      }
      auto child = parse(it->value, space, where + " " + key);
      if (!child) {
        return child;
      }
      Node node;
      node.type = type == "array" ? Type::kArray : Type::kMap;
      node.items = *child;
      node.logical_type = logical;
      return add(std::move(node));
    }
    // {"type": "Name"}: a reference to a named type.
    return reference(type, space, where);
  }

  core::Result<NodeId> reference(std::string_view name, const std::string& space,
                                 const std::string& where) {
    if (const auto prim = primitive(name)) {
      Node node;
      node.type = *prim;
      return add(std::move(node));
    }
    if (name.find('.') == std::string_view::npos && !space.empty()) {
      if (const auto it = named_.find(space + "." + std::string(name)); it != named_.end()) {
        return it->second;
      }
    }
    if (const auto it = named_.find(std::string(name)); it != named_.end()) {
      return it->second;
    }
    return invalid(where + " refers to \"" + std::string(name) +
                   "\", which is neither a primitive type nor a named type defined before");
  }

  // The full name of a named type and the namespace its members resolve against.
  core::Result<std::pair<std::string, std::string>> name_of(const rapidjson::Value& value,
                                                            const std::string& space,
                                                            const std::string& where) {
    const auto it = value.FindMember("name");
    if (it == value.MemberEnd() || !it->value.IsString()) {
      return invalid(where + ": a named type without a \"name\" string");
    }
    std::string name(it->value.GetString(), it->value.GetStringLength());
    std::string full;
    if (name.find('.') != std::string::npos) {
      full = name;
    } else {
      std::string own_space = space;
      if (const auto ns = value.FindMember("namespace"); ns != value.MemberEnd()) {
        if (ns->value.IsString()) {
          own_space.assign(ns->value.GetString(), ns->value.GetStringLength());
        } else if (!ns->value.IsNull()) {
          return invalid(where + ": \"namespace\" is not a string");
        }
      }
      full = own_space.empty() ? name : own_space + "." + name;
    }
    if (!valid_full_name(full)) {
      return invalid(where + ": \"" + full + "\" is not a valid name");
    }
    if (primitive(full) || named_.contains(full)) {
      return invalid(where + ": the name \"" + full + "\" is defined twice");
    }
    const auto dot = full.rfind('.');
    std::string member_space = dot == std::string::npos ? "" : full.substr(0, dot);
    return std::make_pair(std::move(full), std::move(member_space));
  }

  core::Result<NodeId> parse_record(const rapidjson::Value& value, const std::string& space,
                                    const std::string& where, const std::string& logical,
                                    const std::string& doc) {
    auto names = name_of(value, space, where);
    if (!names) {
      return names.error();
    }
    const auto fields = value.FindMember("fields");
    if (fields == value.MemberEnd() || !fields->value.IsArray()) {
      return invalid("record " + names->first + " has no \"fields\" array");
    }
    Node node;
    node.type = Type::kRecord;
    node.name = names->first;
    node.logical_type = logical;
    node.doc = doc;
    auto id = add(std::move(node));
    // Registered before its fields: a field may refer to the record itself.
    named_.emplace(names->first, *id);
    std::vector<Field> parsed;
    std::set<std::string, std::less<>> seen;
    for (const auto& field : fields->value.GetArray()) {
      if (!field.IsObject()) {
        return invalid("record " + names->first + " has a field that is not an object");
      }
      const auto name = field.FindMember("name");
      if (name == field.MemberEnd() || !name->value.IsString() ||
          !valid_simple_name(
              std::string_view(name->value.GetString(), name->value.GetStringLength()))) {
        return invalid("record " + names->first + " has a field without a valid \"name\"");
      }
      Field out;
      out.name.assign(name->value.GetString(), name->value.GetStringLength());
      if (!seen.insert(out.name).second) {
        return invalid("record " + names->first + " has two fields called " + out.name);
      }
      const auto type = field.FindMember("type");
      if (type == field.MemberEnd()) {
        return invalid("field " + names->first + "." + out.name + " has no \"type\"");
      }
      auto child = parse(type->value, names->second, "field " + names->first + "." + out.name);
      if (!child) {
        return child;
      }
      out.type = *child;
      out.doc = string_member(field, "doc");
      if (const auto def = field.FindMember("default"); def != field.MemberEnd()) {
        out.default_json = compact(def->value);
      }
      parsed.push_back(std::move(out));
    }
    schema_.nodes_[*id].fields = std::move(parsed);
    return id;
  }

  core::Result<NodeId> parse_enum(const rapidjson::Value& value, const std::string& space,
                                  const std::string& where, const std::string& doc) {
    auto names = name_of(value, space, where);
    if (!names) {
      return names.error();
    }
    const auto symbols = value.FindMember("symbols");
    if (symbols == value.MemberEnd() || !symbols->value.IsArray()) {
      return invalid("enum " + names->first + " has no \"symbols\" array");
    }
    Node node;
    node.type = Type::kEnum;
    node.name = names->first;
    node.doc = doc;
    std::set<std::string, std::less<>> seen;
    for (const auto& symbol : symbols->value.GetArray()) {
      if (!symbol.IsString() ||
          !valid_simple_name(std::string_view(symbol.GetString(), symbol.GetStringLength()))) {
        return invalid("enum " + names->first + " has a symbol that is not a valid name");
      }
      std::string text(symbol.GetString(), symbol.GetStringLength());
      if (!seen.insert(text).second) {
        return invalid("enum " + names->first + " lists " + text + " twice");
      }
      node.symbols.push_back(std::move(text));
    }
    auto id = add(std::move(node));
    named_.emplace(names->first, *id);
    return id;
  }

  core::Result<NodeId> parse_fixed(const rapidjson::Value& value, const std::string& space,
                                   const std::string& where, const std::string& logical) {
    auto names = name_of(value, space, where);
    if (!names) {
      return names.error();
    }
    const auto size = value.FindMember("size");
    // A fixed is read whole from the payload; a size beyond any event's is refused up front.
    constexpr std::uint64_t kMaxFixed = 1 << 20;
    if (size == value.MemberEnd() || !size->value.IsUint64() ||
        size->value.GetUint64() > kMaxFixed) {
      return invalid("fixed " + names->first + " has no \"size\" between 0 and 1 MiB");
    }
    Node node;
    node.type = Type::kFixed;
    node.name = names->first;
    node.logical_type = logical;
    node.size = static_cast<std::size_t>(size->value.GetUint64());
    auto id = add(std::move(node));
    named_.emplace(names->first, *id);
    return id;
  }

  core::Result<NodeId> parse_union(const rapidjson::Value& value, const std::string& space,
                                   const std::string& where) {
    if (value.Empty()) {
      return invalid(where + " is an empty union");
    }
    std::vector<NodeId> branches;
    std::set<std::string> kinds;  // a union holds each unnamed type once and each name once
    for (const auto& branch : value.GetArray()) {
      auto child = parse(branch, space, where);
      if (!child) {
        return child;
      }
      const Node& node = schema_.nodes_[*child];
      if (node.type == Type::kUnion) {
        return invalid(where + " has a union directly inside a union");
      }
      const std::string kind = node.name.empty() ? to_string(node.type) : node.name;
      if (!kinds.insert(kind).second) {
        return invalid(where + " is a union that lists " + kind + " twice");
      }
      branches.push_back(*child);
    }
    Node node;
    node.type = Type::kUnion;
    node.branches = std::move(branches);
    return add(std::move(node));
  }

  Schema schema_;
  std::map<std::string, NodeId, std::less<>> named_;
};

const char* to_string(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kInt:
      return "int";
    case Type::kLong:
      return "long";
    case Type::kFloat:
      return "float";
    case Type::kDouble:
      return "double";
    case Type::kBytes:
      return "bytes";
    case Type::kString:
      return "string";
    case Type::kRecord:
      return "record";
    case Type::kEnum:
      return "enum";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kUnion:
      return "union";
    case Type::kFixed:
      return "fixed";
  }
  return "?";
}

core::Result<Schema> Schema::parse(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(),
                                                                                    json.size());
  if (doc.HasParseError()) {
    return invalid(std::string("not valid JSON (") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                   std::to_string(doc.GetErrorOffset()) + ")");
  }
  // Each schema level is at most a few JSON levels ({"type": [..., {"type": ...}]}).
  if (depth_of(doc, 4 * kMaxDepth) > 4 * kMaxDepth) {
    return invalid("nested deeper than " + std::to_string(4 * kMaxDepth) + " JSON levels");
  }
  return SchemaParser().run(doc);
}

std::optional<std::size_t> Schema::field_index(std::string_view name) const {
  const Node& record = nodes_[root_];
  for (std::size_t i = 0; i < record.fields.size(); ++i) {
    if (record.fields[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> Schema::branch_of(NodeId id, Type type) const {
  const Node& node = nodes_[id];
  if (node.type != Type::kUnion) {
    return node.type == type ? std::optional<std::size_t>(0) : std::nullopt;
  }
  for (std::size_t i = 0; i < node.branches.size(); ++i) {
    if (nodes_[node.branches[i]].type == type) {
      return i;
    }
  }
  return std::nullopt;
}

NodeId Schema::non_null(NodeId id) const {
  const Node& node = nodes_[id];
  if (node.type != Type::kUnion || node.branches.size() != 2) {
    return id;
  }
  if (nodes_[node.branches[0]].type == Type::kNull) {
    return node.branches[1];
  }
  if (nodes_[node.branches[1]].type == Type::kNull) {
    return node.branches[0];
  }
  return id;
}

}  // namespace sfkb::avro
