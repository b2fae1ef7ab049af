#include "ftready/stress/stress_run.h"

#include <chrono>

namespace ftready::stress {

std::vector<ModuleRun> stressModules(const std::vector<ModuleTarget> &modules,
                                     const StressOptions &base,
                                     double budgetSeconds,
                                     const StressEvents &events) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<ModuleRun> runs;
  for (size_t i = 0; i < modules.size(); ++i) {
    double used =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    double share = (budgetSeconds - used) / double(modules.size() - i);
    ModuleRun run;
    run.target = modules[i];
    run.budget_seconds = share > 0 ? share : 0;
    if (share >= 2) {
      StressOptions o = base;
      o.module = modules[i].name;
      o.module_dir = modules[i].import_dir;
      o.object_name = modules[i].object_name;
      o.module_file = modules[i].file;
      o.budget_seconds = share;
      run.summary = runStress(o, events);
    } else {
      run.summary.import.error = "the budget ran out before this module";
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

} // namespace ftready::stress
