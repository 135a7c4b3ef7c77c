// Placeholder until the checkpoint module's author replaces it with the real report.
#include "daemon/app/checkpoints_command.h"

#include <cstdio>

namespace sfkb::app {

int checkpoint_report(const config::Config& /*config*/) {
  std::fputs("checkpoints: not built into this binary yet\n", stderr);
  return 70;
}

}  // namespace sfkb::app
