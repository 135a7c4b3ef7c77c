// load_string / load_file: YAML -> Config through the schema (fields.cpp), with every problem
// collected (yaml_reader.h).

#include "daemon/config/loader.h"

#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "daemon/config/files.h"
#include "daemon/config/schema.h"
#include "daemon/config/yaml_reader.h"

namespace sfkb::config {

std::string Problem::to_string() const {
  std::string out = path.empty() ? message : path + ": " + message;
  if (line > 0) {
    out += " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
  }
  return out;
}

LoadResult LoadResult::success(Config config) {
  LoadResult result;
  result.config_ = std::move(config);
  return result;
}

LoadResult LoadResult::failure(std::vector<Problem> problems) {
  LoadResult result;
  result.problems_ = std::move(problems);
  return result;
}

LoadResult load_string(std::string_view yaml, const std::string& source_name, const EnvLookup& env,
                       const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    Problem problem{"", "not valid YAML: " + e.msg, 0, 0};
    if (!e.mark.is_null()) {
      problem.line = e.mark.line + 1;
      problem.column = e.mark.column + 1;
    }
    return LoadResult::failure({std::move(problem)});
  }
  if (!root.IsDefined() || root.IsNull()) {
    return LoadResult::failure({Problem{"", source_name + " is empty", 0, 0}});
  }
  Config config;
  Reader reader(env, base_dir, config);
  const auto& schema = schema::config_schema();
  if (auto top = reader.map(root, "", schema.keys())) {
    schema.read(reader, *top, config);
  }
  auto problems = reader.take_problems();
  if (!problems.empty()) {
    return LoadResult::failure(std::move(problems));
  }
  config.source = source_name;
  return LoadResult::success(std::move(config));
}

LoadResult load_file(const std::string& path, const EnvLookup& env) {
  std::string content;
  if (auto failure = read_bounded(path, content)) {
    return LoadResult::failure({Problem{"", "cannot read " + path + ": " + *failure, 0, 0}});
  }
  return load_string(content, path, env, std::filesystem::path(path).parent_path().string());
}

}  // namespace sfkb::config
