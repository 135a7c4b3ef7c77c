#pragma once
// Whether checkpoints can be written to checkpoint.directory, checked before anything connects:
// an unwritable directory is a configuration error (exit 78 naming the path) at start, not a
// warning every interval and exit 70 at stop.

#include <string>

namespace sfkb::checkpoint {

// What keeps FileStore from writing checkpoints in `directory`, or an empty string.
//   probe == false: no side effects (for `check-config`): access(2) on the directory or, when it
//     does not exist yet, on its nearest existing ancestor (FileStore::save creates the rest).
//   probe == true (for `run`): creates the directory, then creates and removes a temporary file in
//     it - the only check that also catches read-only mounts, ACLs and full disks.
std::string directory_problem(const std::string& directory, bool probe);

}  // namespace sfkb::checkpoint
