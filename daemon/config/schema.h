#pragma once
// The configuration schema: one declaration per setting (fields.cpp) binds its YAML key to a
// member of the config.h structs, with its type, bounds, whether it is secret and its doc line.
// From those declarations come the reading and bounds checks (loader.cpp), the effective
// configuration that `check-config` prints (yaml_emitter.cpp) and README.md's configuration
// reference (reference.cpp). A setting's default is its member's initializer in config.h.
// Rules that relate several settings (an auth flow's required fields, a topic fed by a channel and
// published back) are explicit code in rules.cpp, attached to the mapping they concern.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/config/config.h"
#include "daemon/config/scalars.h"
#include "daemon/config/yaml_reader.h"

namespace sfkb::config::schema {

// One row of README.md's configuration reference.
struct Row {
  std::string key;           // the YAML path, e.g. "salesforce.auth.flow", "subscribe[].topic"
  std::string type;          // text, path, duration, integer, boolean, choice, list, map, ...
  std::string default_text;  // Markdown
  std::string meaning;       // Markdown: the doc line, "secret", then the bounds
  bool secret = false;
};

// What is wrong with a text value (one problem each), checked when it is read.
using Check = std::vector<std::string> (*)(std::string_view value);

// What every declaration says besides its type and member.
struct Spec {
  std::string_view key;                // the YAML key
  std::string_view doc;                // README's meaning column
  std::string_view default_note = {};  // after the default, e.g. "(system CAs)"
  bool secret = false;                 // redacted in check-config and registered with redact_text
  bool required = false;               // text: must not be empty; choice: must be present
  Check check = nullptr;               // text values
};

// A choice's names in the order the README and the problems list them.
template <typename E>
using Names = std::vector<std::pair<std::string_view, E>>;

template <typename S>
struct Field {
  std::string_view key;
  std::function<void(Reader&, const Map&, S&)> read;
  std::function<void(YAML::Emitter&, const S&)> emit;  // the key and its value
  std::function<void(const std::string& prefix, const S& defaults, std::vector<Row>&)> rows;
  std::function<void(const S&, std::vector<std::string>&)> secrets;  // empty: none
};

// The settings of one YAML mapping (a config.h struct).
template <typename S>
struct Schema {
  std::vector<Field<S>> fields;
  // The mapping's cross-field rules (rules.h), run once its fields are read.
  void (*rules)(Reader&, const Map&, S&) = nullptr;

  Keys keys() const {
    Keys out;
    for (const auto& field : fields) {
      out.push_back(field.key);
    }
    return out;
  }
  void read(Reader& reader, const Map& m, S& out) const {
    for (const auto& field : fields) {
      field.read(reader, m, out);
    }
    if (rules != nullptr) {
      rules(reader, m, out);
    }
  }
  void emit(YAML::Emitter& out, const S& value) const {
    out << YAML::BeginMap;
    for (const auto& field : fields) {
      field.emit(out, value);
    }
    out << YAML::EndMap;
  }
  void rows(const std::string& prefix, const S& defaults, std::vector<Row>& out) const {
    for (const auto& field : fields) {
      field.rows(prefix, defaults, out);
    }
  }
  void secrets(const S& value, std::vector<std::string>& out) const {
    for (const auto& field : fields) {
      if (field.secrets) {
        field.secrets(value, out);
      }
    }
  }
};

// The whole configuration (fields.cpp).
const Schema<Config>& config_schema();

// --- building blocks of the declarations (schema.cpp) ----------------------------------------

// A text value as check-config shows it: double-quoted, or core::kRedacted when secret or a PEM
// block.
void emit_text(YAML::Emitter& out, std::string_view key, const std::string& value, bool secret);
// README's default column for a text value.
std::string text_default(const std::string& value, const Spec& spec);
// README's meaning column: the doc line, "secret", the bounds.
std::string meaning(const Spec& spec, const std::string& bounds);
std::string duration_bounds(DurationRange range);
std::string integer_bounds(Range<long long> range);
// `value` in backquotes, then the spec's note.
std::string code_default(const std::string& value, const Spec& spec);
void report(Reader& reader, const Scalar& s, Check check);

// --- the declarations' types -----------------------------------------------------------------

template <typename S>
Field<S> leaf(const Spec& spec, std::string type, std::function<void(Reader&, const Map&, S&)> read,
              std::function<void(YAML::Emitter&, const S&)> emit,
              std::function<std::string(const S& defaults)> default_text, std::string bounds = {}) {
  Field<S> field;
  field.key = spec.key;
  field.read = std::move(read);
  field.emit = std::move(emit);
  field.rows = [spec, type, default_text = std::move(default_text), bounds](
                   const std::string& prefix, const S& defaults, std::vector<Row>& out) {
    out.push_back(Row{prefix + std::string(spec.key), type, default_text(defaults),
                      meaning(spec, bounds), spec.secret});
  };
  return field;
}

// Free text; `path` resolves it against the config file's directory.
template <typename S>
Field<S> text(std::string S::*member, Spec spec, bool path = false) {
  auto field = leaf<S>(
      spec, path ? "path" : "text",
      [member, spec, path](Reader& r, const Map& m, S& out) {
        if (auto s = r.scalar(m, spec.key)) {
          if (path) {
            s->text = r.resolve(s->text);
          }
          out.*member = s->text;
          r.accept(s->path);
          report(r, *s, spec.check);
        }
        if (spec.required) {
          r.require_non_empty(m, spec.key, out.*member);
        }
      },
      [member, spec](YAML::Emitter& out, const S& value) {
        emit_text(out, spec.key, value.*member, spec.secret);
      },
      [member, spec](const S& defaults) { return text_default(defaults.*member, spec); });
  if (spec.secret) {
    field.secrets = [member](const S& value, std::vector<std::string>& out) {
      out.push_back(value.*member);
    };
  }
  return field;
}

template <typename S>
Field<S> path(std::string S::*member, Spec spec) {
  return text(member, spec, true);
}

template <typename S>
Field<S> duration(std::chrono::milliseconds S::*member, DurationRange range, Spec spec) {
  return leaf<S>(
      spec, "duration",
      [member, range, spec](Reader& r, const Map& m, S& out) {
        if (auto s = r.scalar(m, spec.key)) {
          if (auto value = r.parse_duration_within(*s, range)) {
            out.*member = *value;
          }
        }
      },
      [member, spec](YAML::Emitter& out, const S& value) {
        out << YAML::Key << std::string(spec.key) << YAML::Value << format_duration(value.*member);
      },
      [member, spec](const S& defaults) {
        return code_default(format_duration(defaults.*member), spec);
      },
      duration_bounds(range));
}

template <typename S, typename Int>
Field<S> integer(Int S::*member, Range<long long> range, Spec spec) {
  return leaf<S>(
      spec, "integer",
      [member, range, spec](Reader& r, const Map& m, S& out) {
        if (auto s = r.scalar(m, spec.key)) {
          if (auto value = r.parse_integer(*s, range.min, range.max)) {
            out.*member = static_cast<Int>(*value);
          }
        }
      },
      [member, spec](YAML::Emitter& out, const S& value) {
        out << YAML::Key << std::string(spec.key) << YAML::Value << value.*member;
      },
      [member, spec](const S& defaults) {
        return code_default(std::to_string(defaults.*member), spec);
      },
      integer_bounds(range));
}

// A share written as a whole percentage, "50%" (or 50), kept as a fraction (0.5); `min`..100.
template <typename S>
Field<S> percent(double S::*member, long long min, Spec spec) {
  auto shown = [](double share) {
    return std::to_string(static_cast<long long>(share * 100.0 + 0.5)) + "%";
  };
  return leaf<S>(
      spec, "percent",
      [member, min, spec](Reader& r, const Map& m, S& out) {
        if (auto s = r.scalar(m, spec.key)) {
          Scalar number = *s;
          if (!number.text.empty() && number.text.back() == '%') {
            number.text.pop_back();
          }
          if (auto value = r.parse_integer(number, min, 100)) {
            out.*member = static_cast<double>(*value) / 100.0;
          }
        }
      },
      [member, spec, shown](YAML::Emitter& out, const S& value) {
        out << YAML::Key << std::string(spec.key) << YAML::Value << shown(value.*member);
      },
      [member, spec, shown](const S& defaults) {
        return code_default(shown(defaults.*member), spec);
      },
      std::to_string(min) + "%–100%");
}

// An integer of milliseconds (e.g. publish[].linger_ms).
template <typename S>
Field<S> milliseconds(std::chrono::milliseconds S::*member, Range<long long> range, Spec spec) {
  return leaf<S>(
      spec, "integer",
      [member, range, spec](Reader& r, const Map& m, S& out) {
        if (auto s = r.scalar(m, spec.key)) {
          if (auto value = r.parse_integer(*s, range.min, range.max)) {
            out.*member = std::chrono::milliseconds(*value);
          }
        }
      },
      [member, spec](YAML::Emitter& out, const S& value) {
        out << YAML::Key << std::string(spec.key) << YAML::Value << (value.*member).count();
      },
      [member, spec](const S& defaults) {
        return code_default(std::to_string((defaults.*member).count()), spec);
      },
      integer_bounds(range));
}

template <typename S>
Field<S> boolean(bool S::*member, Spec spec) {
  return leaf<S>(
      spec, "boolean",
      [member, spec](Reader& r, const Map& m, S& out) {
        if (auto s = r.scalar(m, spec.key)) {
          if (auto value = r.parse_bool(*s)) {
            out.*member = *value;
          }
        }
      },
      [member, spec](YAML::Emitter& out, const S& value) {
        out << YAML::Key << std::string(spec.key) << YAML::Value << value.*member;
      },
      [member, spec](const S& defaults) {
        return code_default(defaults.*member ? "true" : "false", spec);
      });
}

template <typename E>
std::string name_of(E value, const Names<E>& names) {
  for (const auto& [name, v] : names) {
    if (v == value) {
      return std::string(name);
    }
  }
  return "?";
}

template <typename E>
std::vector<std::string_view> names_only(const Names<E>& names) {
  std::vector<std::string_view> out;
  for (const auto& [name, value] : names) {
    out.push_back(name);
  }
  return out;
}

// One of a fixed set of names. `required`: the key must be present ("is required; one of: ...").
template <typename S, typename E>
Field<S> choice(E S::*member, Names<E> names, Spec spec) {
  return leaf<S>(
      spec, "choice",
      [member, names, spec](Reader& r, const Map& m, S& out) {
        if (spec.required && m.find(spec.key) == nullptr) {
          r.error(join(m.path, spec.key), m.mark,
                  "is required; one of: " + list_of(names_only(names)));
        }
        if (auto s = r.scalar(m, spec.key)) {
          if (auto index = r.parse_choice(*s, names_only(names))) {
            out.*member = names[*index].second;
            r.accept(s->path);
          }
        }
      },
      [member, names, spec](YAML::Emitter& out, const S& value) {
        out << YAML::Key << std::string(spec.key) << YAML::Value << name_of(value.*member, names);
      },
      [member, names, spec](const S& defaults) {
        return spec.required ? std::string("— (required)")
                             : code_default(name_of(defaults.*member, names), spec);
      });
}

// A value with its own reading and writing (e.g. subscribe[].start: latest, earliest or a
// number), declared with the rest.
template <typename S>
Field<S> custom(Spec spec, std::string type, std::string default_text,
                std::function<void(Reader&, const Map&, S&)> read,
                std::function<void(YAML::Emitter&, const S&)> emit) {
  return leaf<S>(
      spec, std::move(type), std::move(read), std::move(emit), [default_text, spec](const S&) {
        return spec.default_note.empty() ? default_text
                                         : default_text + " " + std::string(spec.default_note);
      });
}

// A nested mapping (e.g. salesforce.auth).
template <typename S, typename C>
Field<S> section(std::string_view key, C S::*member, const Schema<C>& inner) {
  Field<S> field;
  field.key = key;
  field.read = [key, member, &inner](Reader& r, const Map& m, S& out) {
    inner.read(r, r.child_map(m, key, inner.keys()), out.*member);
  };
  field.emit = [key, member, &inner](YAML::Emitter& out, const S& value) {
    out << YAML::Key << std::string(key) << YAML::Value;
    inner.emit(out, value.*member);
  };
  field.rows = [key, member, &inner](const std::string& prefix, const S& defaults,
                                     std::vector<Row>& out) {
    inner.rows(prefix + std::string(key) + ".", defaults.*member, out);
  };
  field.secrets = [member, &inner](const S& value, std::vector<std::string>& out) {
    inner.secrets(value.*member, out);
  };
  return field;
}

// A list of mappings (subscribe, publish). `empty_problem` is reported for an empty entry.
template <typename S, typename C>
Field<S> list(std::string_view key, std::vector<C> S::*member, const Schema<C>& inner,
              std::string_view empty_problem) {
  Field<S> field;
  field.key = key;
  field.read = [key, member, &inner, empty_problem](Reader& r, const Map& m, S& out) {
    const Entry* entry = m.find(key);
    if (entry == nullptr || entry->value.IsNull()) {
      return;
    }
    const std::string path = join(m.path, key);
    if (!entry->value.IsSequence()) {
      r.error(path, entry->value.Mark(),
              "expected a list of mappings, got " + kind_of(entry->value));
      return;
    }
    for (std::size_t i = 0; i < entry->value.size(); ++i) {
      const YAML::Node node = entry->value[i];
      auto item = r.map(node, indexed(path, i), inner.keys());
      if (!item) {
        continue;
      }
      if (node.IsNull()) {
        r.error(item->path, node.Mark(), std::string(empty_problem));
        continue;
      }
      C value;
      inner.read(r, *item, value);
      (out.*member).push_back(std::move(value));
    }
  };
  field.emit = [key, member, &inner](YAML::Emitter& out, const S& value) {
    out << YAML::Key << std::string(key) << YAML::Value << YAML::BeginSeq;
    for (const auto& item : value.*member) {
      inner.emit(out, item);
    }
    out << YAML::EndSeq;
  };
  field.rows = [key, &inner](const std::string& prefix, const S&, std::vector<Row>& out) {
    inner.rows(prefix + std::string(key) + "[].", C{}, out);
  };
  field.secrets = [member, &inner](const S& value, std::vector<std::string>& out) {
    for (const auto& item : value.*member) {
      inner.secrets(item, out);
    }
  };
  return field;
}

}  // namespace sfkb::config::schema
