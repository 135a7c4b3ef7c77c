// sfkb-config-reference: README.md's configuration tables from the schema (reference.h).
//   sfkb-config-reference SECTION...         prints the table of those sections
//   sfkb-config-reference --update README.md rewrites every marked table in place
//   sfkb-config-reference --check README.md  exits 1 naming what differs

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/config/reference.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && (args[0] == "--update" || args[0] == "--check")) {
    std::ifstream in(args[1], std::ios::binary);
    if (!in) {
      std::cerr << "sfkb-config-reference: cannot read " << args[1] << "\n";
      return 66;
    }
    std::stringstream text;
    text << in.rdbuf();
    if (args[0] == "--check") {
      const auto problems = sfkb::config::reference_problems(text.str());
      for (const auto& problem : problems) {
        std::cerr << args[1] << ": " << problem << "\n";
      }
      if (!problems.empty()) {
        std::cerr << "regenerate with: " << sfkb::config::kRegenerateCommand << "\n";
      }
      return problems.empty() ? 0 : 1;
    }
    const std::string updated = sfkb::config::update_reference(text.str());
    if (updated != text.str()) {
      std::ofstream(args[1], std::ios::binary | std::ios::trunc) << updated;
    }
    const auto problems = sfkb::config::reference_problems(updated);
    for (const auto& problem : problems) {
      std::cerr << args[1] << ": " << problem << "\n";
    }
    return problems.empty() ? 0 : 1;
  }
  if (args.empty() || args[0].starts_with("-")) {
    std::cerr
        << "usage: sfkb-config-reference SECTION... | --update README.md | --check README.md\n";
    return 64;
  }
  std::cout << sfkb::config::reference_table(args);
  return 0;
}
