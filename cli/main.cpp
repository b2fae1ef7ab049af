// ftready: is this C extension ready for free-threaded Python?
#include "commands.h"

#include "ftready/finding.h"
#include "ftready/interrupt.h"
#include "ftready/process.h"
#include "ftready/work_dir.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char **argv) {
  CLI::App app{"ftready: free-threading readiness scanner and stress tester "
               "for CPython C/C++ extensions"};
  bool verbose = false, quiet = false, showVersion = false;
  app.add_flag("-v,--verbose", verbose, "more log output");
  app.add_flag("-q,--quiet", quiet, "errors only");
  app.add_flag("--version", showVersion,
               "print the version and the interpreters found");
  app.require_subcommand(0, 1);

  auto log = spdlog::stderr_color_mt("ftready");
  ftready::cli::Commands commands(log);
  commands.registerAll(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::cerr << "ftready: error: " << e.what() << "\n";
    return 2;
  }
  log->set_level(quiet     ? spdlog::level::err
                 : verbose ? spdlog::level::debug
                           : spdlog::level::info);
  log->set_pattern("ftready: %l: %v");
  if (showVersion)
    return commands.printVersion();
  if (app.get_subcommands().empty()) {
    std::cerr << app.help();
    return 2;
  }
  // Ctrl-C or `kill` ends a run with what it found, marked incomplete; and
  // nothing an extension under test forks outlives ftready.
  ftready::InterruptSignals interrupts;
  ftready::becomeSubreaper();
  // Folders a run killed with SIGKILL could not remove.
  ftready::removeOrphanedWorkDirs();
  int rc = commands.run(*app.get_subcommands().front());
  ftready::killStrayChildren();
  if (int sig = ftready::interruptSignal()) {
    std::cerr << "ftready: interrupted (signal " << sig
              << "): the report written is marked incomplete\n";
    return 128 + sig;
  }
  return rc;
}
