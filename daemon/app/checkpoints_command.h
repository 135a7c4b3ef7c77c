#pragma once
// `sf-kafka-bridge checkpoints`: prints what the bridge would resume from, per channel (the
// checkpoint file and, where it matters, the Kafka tail). Owned by the checkpoint module's author;
// the CLI only calls it.

#include "daemon/config/config.h"

namespace sfkb::app {

// Prints the report to stdout; returns the process exit code (0 ok, 69 Kafka or the state
// directory unavailable, 70 a corrupt checkpoint file).
int checkpoint_report(const config::Config& config);

}  // namespace sfkb::app
