#pragma once

// The git commit this binary was built from. It lives in one generated translation unit
// (build_info.cpp, written by cmake/git_commit.cmake on every build, touched only when the commit
// changes) so a new commit relinks the binary instead of recompiling every module.

namespace sfkb::core {

const char* git_commit();

}  // namespace sfkb::core
