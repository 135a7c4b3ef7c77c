#pragma once
// `sf-kafka-bridge checkpoints`: prints what the bridge would resume from, per channel (the
// checkpoint file and, where it matters, the Kafka tail). Kept out of cli.cpp: it is the
// reconciliation's view, the CLI only calls it.

#include "daemon/config/config.h"

namespace sfkb::app {

// Prints the report to stdout; returns the process exit code (exit_codes.h): kOk, kUnavailable
// when Kafka cannot be read, kSoftware when the checkpoint file cannot be read.
int checkpoint_report(const config::Config& config);

}  // namespace sfkb::app
