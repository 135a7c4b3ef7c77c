#include "daemon/config/reference.h"

#include <set>
#include <sstream>

namespace sfkb::config {
namespace {

// One marked table of a README.
struct Block {
  std::vector<std::string> sections;
  std::size_t body_begin = 0;  // offsets into the README text
  std::size_t body_end = 0;
  std::string problem;  // a marker without its end, or naming no section
};

std::vector<Block> blocks_of(std::string_view text) {
  std::vector<Block> blocks;
  std::size_t pos = 0;
  while ((pos = text.find(kReferenceBegin, pos)) != std::string_view::npos) {
    Block block;
    const std::size_t line_end = text.find('\n', pos);
    const std::size_t close = text.find("-->", pos);
    if (line_end == std::string_view::npos || close == std::string_view::npos || close > line_end) {
      block.problem = "a \"" + std::string(kReferenceBegin) + "\" marker is not one line";
      blocks.push_back(block);
      break;
    }
    std::istringstream names(std::string(
        text.substr(pos + kReferenceBegin.size(), close - pos - kReferenceBegin.size())));
    for (std::string name; names >> name;) {
      block.sections.push_back(name);
    }
    block.body_begin = line_end + 1;
    const std::size_t end = text.find(kReferenceEnd, block.body_begin);
    if (end == std::string_view::npos) {
      block.problem = "the table of " + std::string(text.substr(pos, close + 3 - pos)) +
                      " has no \"" + std::string(kReferenceEnd) + "\" after it";
      blocks.push_back(block);
      break;
    }
    block.body_end = end;
    blocks.push_back(block);
    pos = end;
  }
  return blocks;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : " ") + name;
  }
  return out;
}

}  // namespace

std::vector<schema::Row> reference_rows() {
  std::vector<schema::Row> rows;
  schema::config_schema().rows("", Config{}, rows);
  return rows;
}

std::string reference_table(const std::vector<std::string>& sections) {
  std::string out = "| key | default | meaning |\n| --- | --- | --- |\n";
  for (const auto& row : reference_rows()) {
    for (const auto& section : sections) {
      const std::string prefix = section + ".";
      if (row.key.rfind(prefix, 0) != 0) {
        continue;
      }
      const std::string key = sections.size() == 1 ? row.key.substr(prefix.size()) : row.key;
      out += "| `" + key + "` | " + row.default_text + " | " + row.meaning + " |\n";
    }
  }
  return out;
}

std::string update_reference(std::string_view readme) {
  std::string out;
  std::size_t copied = 0;
  for (const auto& block : blocks_of(readme)) {
    if (!block.problem.empty()) {
      break;
    }
    out += readme.substr(copied, block.body_begin - copied);
    out += reference_table(block.sections);
    copied = block.body_end;
  }
  out += readme.substr(copied);
  return out;
}

std::vector<std::string> reference_problems(std::string_view readme) {
  std::vector<std::string> problems;
  std::set<std::string> shown;
  const auto blocks = blocks_of(readme);
  for (const auto& block : blocks) {
    if (!block.problem.empty()) {
      problems.push_back(block.problem);
      continue;
    }
    const std::string expected = reference_table(block.sections);
    const std::string actual(readme.substr(block.body_begin, block.body_end - block.body_begin));
    if (actual != expected) {
      // Name the first line that differs, so that the reader sees which setting it is.
      std::istringstream want(expected);
      std::istringstream got(actual);
      std::string want_line;
      std::string got_line;
      while (true) {
        const bool more_want = static_cast<bool>(std::getline(want, want_line));
        const bool more_got = static_cast<bool>(std::getline(got, got_line));
        if (!more_want && !more_got) {
          break;
        }
        if (!more_want || !more_got || want_line != got_line) {
          problems.push_back("the table of \"" + joined(block.sections) +
                             "\" differs: expected \"" + (more_want ? want_line : "(nothing)") +
                             "\", found \"" + (more_got ? got_line : "(nothing)") + "\"");
          break;
        }
      }
    }
    for (const auto& section : block.sections) {
      shown.insert(section);
    }
  }
  for (const auto& row : reference_rows()) {
    bool in_table = false;
    for (const auto& section : shown) {
      in_table = in_table || row.key.rfind(section + ".", 0) == 0;
    }
    if (!in_table) {
      problems.push_back("no table shows " + row.key);
    }
  }
  return problems;
}

}  // namespace sfkb::config
