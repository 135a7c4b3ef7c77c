#include "daemon/app/cli.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <stop_token>
#include <vector>

#include <CLI/CLI.hpp>

#include "daemon/app/checkpoints_command.h"
#include "daemon/app/run_daemon.h"
#include "daemon/app/signals.h"
#include "daemon/checkpoint/directory_check.h"
#include "daemon/config/loader.h"
#include "daemon/core/build_info.h"
#include "daemon/core/redact.h"
#include "daemon/ops/log.h"

namespace sfkb::app {
namespace {

struct Options {
  std::string config_file;
  std::optional<std::string> log_level;
};

void add_common_options(CLI::App& command, Options& options) {
  command.add_option("-c,--config", options.config_file,
                     "YAML configuration file; without it, the YAML in $" +
                         std::string(kConfigEnvVar) + " is used");
  std::vector<std::string> levels(config::kLogLevels.begin(), config::kLogLevels.end());
  command.add_option("--log-level", options.log_level, "Overrides logging.level from the config")
      ->check(CLI::IsMember(levels));
}

// Loads the configuration named on the command line (or in the environment). On failure, prints
// one line per problem and returns nullopt with `exit` set.
std::optional<config::Config> load_config(const Options& options, int& exit) {
  std::optional<config::LoadResult> result;
  std::string source;
  if (!options.config_file.empty()) {
    source = options.config_file;
    result = config::load_file(options.config_file);
  } else if (const char* yaml = std::getenv(kConfigEnvVar)) {
    source = std::string("$") + kConfigEnvVar;
    result = config::load_string(yaml, source);
  } else {
    std::cerr << "sf-kafka-bridge: no configuration: pass --config FILE or set " << kConfigEnvVar
              << "\nRun with --help for more information.\n";
    exit = exit_code::kUsage;
    return std::nullopt;
  }
  if (!result->ok()) {
    for (const auto& problem : result->problems()) {
      // The loader never echoes a secret; the one redaction rule still applies to every output.
      std::cerr << source << ": " << core::redact_text(problem.to_string()) << "\n";
    }
    exit = exit_code::kConfig;
    return std::nullopt;
  }
  return std::move(*result).config();
}

int check_config(const Options& options) {
  int exit = exit_code::kOk;
  auto config = load_config(options, exit);
  if (!config) {
    return exit;
  }
  // Without side effects (nothing created): `run` probes by writing, see run(). The Kafka store
  // only reads the file (migration), never writes it.
  if (!config->subscribe.empty() &&
      config->checkpoint.store == config::CheckpointStoreKind::kFile) {
    const auto problem = checkpoint::directory_problem(config->checkpoint.directory, false);
    if (!problem.empty()) {
      std::cerr << config->source << ": warning: checkpoint.directory: " << problem
                << "; `run` exits " << exit_code::kConfig
                << " unless it runs as a user who can write there\n";
    }
  }
  std::cout << "# effective configuration from " << config->source
            << " (defaults filled in, secrets shown as " << core::kRedacted << ")\n"
            << config::to_yaml(*config);
  return exit_code::kOk;
}

int run(const Options& options) {
  int exit = exit_code::kOk;
  auto config = load_config(options, exit);
  if (!config) {
    return exit;
  }
  // Before anything connects: checkpoints that cannot be written are a configuration error now,
  // not a warning every interval and exit 70 at the stop.
  if (!config->subscribe.empty() &&
      config->checkpoint.store == config::CheckpointStoreKind::kFile) {
    const auto problem = checkpoint::directory_problem(config->checkpoint.directory, true);
    if (!problem.empty()) {
      std::cerr << config->source << ": checkpoint.directory: " << problem << "\n";
      return exit_code::kConfig;
    }
  }
  ops::setup_logging(config->logging, options.log_level);
  config::register_secrets(*config);
  auto log = ops::logger("app");

  // Before any thread exists, so that every thread inherits the blocked mask and only the
  // watcher ever receives SIGTERM/SIGINT.
  block_stop_signals();
  std::stop_source stop;
  SignalWatcher watcher(stop);
  // Logged once signals are handled: from this line on, SIGTERM means a graceful stop.
  log->info("starting {} with configuration from {} ({} subscribe, {} publish mappings)",
            version_string(), config->source, config->subscribe.size(), config->publish.size());
  const int code = run_daemon(*config, stop.get_token());
  log->info("stopped (exit code {})", code);
  return code;
}

int checkpoints(const Options& options) {
  int exit = exit_code::kOk;
  auto config = load_config(options, exit);
  if (!config) {
    return exit;
  }
  ops::setup_logging(config->logging, options.log_level);
  config::register_secrets(*config);
  return checkpoint_report(*config);
}

}  // namespace

std::string version_string() {
  return std::string("sf-kafka-bridge ") + SFKB_VERSION + " (commit " + core::git_commit() + ")";
}

int cli_main(int argc, char** argv) {
  CLI::App app{"Bridges Salesforce Platform Events and Apache Kafka, both ways.",
               "sf-kafka-bridge"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_string());
  app.footer("Exit codes: " + std::to_string(exit_code::kOk) + " ok, " +
             std::to_string(exit_code::kUsage) + " usage, " +
             std::to_string(exit_code::kUnavailable) + " dependency unavailable, " +
             std::to_string(exit_code::kSoftware) + " internal error, " +
             std::to_string(exit_code::kConfig) + " configuration error.");

  Options options;
  auto* run_command = app.add_subcommand("run", "Run the bridge until SIGTERM or SIGINT");
  auto* check_command = app.add_subcommand(
      "check-config", "Validate the configuration and print it with defaults, secrets hidden");
  auto* checkpoints_command =
      app.add_subcommand("checkpoints", "Show the resume point of every subscribed channel");
  auto* version_command = app.add_subcommand("version", "Print the version and git commit");
  for (auto* command : {run_command, check_command, checkpoints_command, version_command}) {
    add_common_options(*command, options);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; everything else is a usage error.
    const int code = app.exit(e);
    return code == 0 ? exit_code::kOk : exit_code::kUsage;
  }

  try {
    // Text at info (or --log-level) until the configuration says otherwise.
    ops::setup_logging(config::LoggingConfig{}, options.log_level);
    if (version_command->parsed()) {
      std::cout << version_string() << "\n";
      return exit_code::kOk;
    }
    if (check_command->parsed()) {
      return check_config(options);
    }
    if (checkpoints_command->parsed()) {
      return checkpoints(options);
    }
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "sf-kafka-bridge: internal error: " << core::redact_text(e.what()) << "\n";
    return exit_code::kSoftware;
  } catch (...) {
    std::cerr << "sf-kafka-bridge: internal error (unknown exception)\n";
    return exit_code::kSoftware;
  }
}

}  // namespace sfkb::app
