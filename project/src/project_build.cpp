// Runs the project's own build once, with every compiler call recorded.
#include "ftready/project/project.h"

#include "ftready/process.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

namespace fs = std::filesystem;

namespace ftready::project {

namespace {

// A copy of the tree without version-control folders: the build writes
// into it, never into the user's.
bool copyTree(const fs::path &from, const fs::path &to, std::string *error) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(to, ec);
  for (auto it = fs::recursive_directory_iterator(
           from, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    std::string name = it->path().filename().string();
    fs::path target = to / it->path().lexically_relative(from);
    if (it->is_symlink()) {
      fs::copy_symlink(it->path(), target, ec);
      ec.clear();
    } else if (it->is_directory()) {
      if (name == ".git" || name == ".hg" || name == ".tox" || name == ".nox") {
        it.disable_recursion_pending();
        continue;
      }
      fs::create_directories(target, ec);
    } else if (it->is_regular_file()) {
      fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing,
                    ec);
    }
    if (ec) {
      *error = "cannot copy " + it->path().string() + ": " + ec.message();
      return false;
    }
  }
  if (ec) {
    *error = "cannot copy " + from.string() + ": " + ec.message();
    return false;
  }
  return true;
}

std::string joined(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v)
    s += (s.empty() ? "" : " ") + x;
  return s;
}

std::string fromEnv(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

// The wrapper as one word: a link named ftready-cc-COMPILER in the work
// folder (distutils replaces the first word of the linker when it links
// C++, so "ftready-cc clang-16" would lose the wrapper's argument).
std::string wrapperFor(const BuildRequest &r, const std::string &compiler) {
  fs::path bin = fs::path(r.work_dir) / "bin";
  fs::path link = bin / ("ftready-cc-" + compiler);
  std::error_code ec;
  fs::create_directories(bin, ec);
  if (!fs::exists(link))
    fs::create_symlink(fs::absolute(r.wrapper), link, ec);
  // Without the link, the wrapper and its compiler as two words: C builds
  // still work, and the failure says what happened.
  return ec ? r.wrapper + " " + compiler : link.string();
}

// CC, CXX, LDSHARED... through the wrapper, the sanitizer and the user's
// CFLAGS/CPPFLAGS/LDFLAGS kept.
std::vector<std::pair<std::string, std::string>>
buildEnvironment(const BuildRequest &r, const std::string &logPath) {
  Compilers compilers = compilersFor(r.interpreter, FTREADY_DEFAULT_CC);
  std::string cc = wrapperFor(r, compilers.c),
              cxx = wrapperFor(r, compilers.cxx);
  std::string sanitize = r.interpreter.tsan ? " -fsanitize=thread" : "";
  std::string cflags = "-g -O1" + sanitize;
  if (!fromEnv("CFLAGS").empty())
    cflags += " " + fromEnv("CFLAGS");
  if (!r.cflags.empty())
    cflags += " " + joined(r.cflags);
  std::string ldflags = sanitize;
  if (!fromEnv("LDFLAGS").empty())
    ldflags += " " + fromEnv("LDFLAGS");
  if (!r.ldflags.empty())
    ldflags += " " + joined(r.ldflags);
  std::string bin = fs::path(r.interpreter.path).parent_path().string();
  return {{"CC", cc},
          {"CXX", cxx},
          {"LDSHARED", cc + " -shared"},
          {"LDCXXSHARED", cxx + " -shared"},
          {"CFLAGS", cflags},
          {"CXXFLAGS", cflags},
          {"CPPFLAGS", fromEnv("CPPFLAGS")},
          {"LDFLAGS", ldflags},
          {"FTREADY_CC_LOG", logPath},
          {"PYTHON", r.interpreter.path},
          {"PATH", bin + ":" + fromEnv("PATH")},
          {"PYTHON_GIL", "0"},
          // A TSan-built interpreter running setup.py is not what is under
          // test: races it reports in itself must not fail the build.
          {"TSAN_OPTIONS", "report_bugs=0 exitcode=0"},
          {"SETUPTOOLS_USE_DISTUTILS", "local"},
          {"PIP_NO_INDEX", "1"},
          {"PIP_NO_BUILD_ISOLATION", "1"}};
}

std::vector<std::string> buildArgv(const BuildRequest &r,
                                   const fs::path &tree) {
  std::string jobs =
      "-j" + std::to_string(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> argv = {"env", "-C", tree.string()};
  if (r.kind == BuildKind::Command) {
    argv.insert(argv.end(), {"sh", "-c", r.build_cmd});
  } else if (r.kind == BuildKind::SetupPy) {
    // --force: a module the user built in place before must not make
    // build_ext skip compiling (and the wrapper miss its commands).
    argv.insert(argv.end(), {r.interpreter.path, "setup.py", "build_ext",
                             "--inplace", "--force", jobs});
  } else {
    argv.insert(argv.end(), {r.interpreter.path, "-c",
                             "from setuptools import setup; setup()",
                             "build_ext", "--inplace", "--force", jobs});
  }
  return argv;
}

// C sources of the given files and folders, with a PyInit_<name>: one
// module, named after the first.
std::pair<std::vector<std::string>, std::string>
looseSources(const std::vector<std::string> &roots) {
  static const std::regex init(R"(PyInit_([A-Za-z_][A-Za-z0-9_]*)\s*\()");
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto &root : roots) {
    if (fs::is_regular_file(root)) {
      files.push_back(fs::absolute(root).lexically_normal().string());
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(root, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec)
        break;
      if (it->is_regular_file() && isSourceFile(it->path().string()))
        files.push_back(fs::absolute(it->path()).lexically_normal().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::string module;
  for (const auto &f : files) {
    std::ifstream in(f);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::smatch m;
    if (std::regex_search(text, m, init)) {
      module = m[1];
      break;
    }
  }
  return {files, module};
}

// Compiles each source through the wrapper, then links them: the same
// record a build system's run leaves.
ProcessResult buildLoose(const BuildRequest &r, const std::string &logPath) {
  auto [files, module] = looseSources(
      r.sources.empty() ? std::vector<std::string>{r.project} : r.sources);
  ProcessResult res;
  if (module.empty()) {
    res.exit_code = 1;
    res.err = "no PyInit_<name> in the C sources: no extension module to "
              "build (set [tool.ftready] module, or give a setup.py)";
    return res;
  }
  auto env = buildEnvironment(r, logPath);
  ProcessOptions opts = withTimeout(r.timeout_seconds, env);
  std::vector<std::string> objects;
  const std::string compiler =
      compilersFor(r.interpreter, FTREADY_DEFAULT_CC).c;
  std::vector<std::string> base = {r.wrapper,
                                   compiler,
                                   "-fPIC",
                                   "-g",
                                   "-O1",
                                   "-I",
                                   r.interpreter.include_dir};
  if (r.interpreter.tsan)
    base.push_back("-fsanitize=thread");
  base.insert(base.end(), r.cflags.begin(), r.cflags.end());
  for (size_t i = 0; i < files.size(); ++i) {
    std::string obj = r.work_dir + "/obj/" + std::to_string(i) + ".o";
    fs::create_directories(r.work_dir + "/obj");
    auto argv = base;
    argv.insert(argv.end(), {"-c", files[i], "-o", obj});
    auto c = runProcess(argv, opts);
    res.out += c.out;
    res.err += c.err;
    if (c.exit_code != 0) {
      res.exit_code = c.exit_code;
      return res;
    }
    objects.push_back(obj);
  }
  std::string so = r.work_dir + "/lib/" + module + r.interpreter.ext_suffix;
  fs::create_directories(r.work_dir + "/lib");
  std::vector<std::string> link = {r.wrapper, compiler, "-shared"};
  if (r.interpreter.tsan)
    link.push_back("-fsanitize=thread");
  link.insert(link.end(), objects.begin(), objects.end());
  link.insert(link.end(), r.ldflags.begin(), r.ldflags.end());
  link.insert(link.end(), {"-o", so});
  auto l = runProcess(link, opts);
  res.out += l.out;
  res.err += l.err;
  res.exit_code = l.exit_code;
  return res;
}

std::string tail(const std::string &s, size_t n) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

// build_ext links into build/lib.*/ and copies the result into the
// package (--inplace), where the package's __init__.py gives it its dotted
// name: import that copy.
void preferInplaceCopies(ProjectBuild &out) {
  std::string buildDir = out.tree + "/build/";
  for (auto &m : out.modules) {
    if (m.path.rfind(buildDir, 0) != 0)
      continue;
    fs::path rel = fs::path(m.path.substr(buildDir.size()));
    // build/lib.linux-x86_64-cpython-313t/pkg/mod.so -> pkg/mod.so
    fs::path inPackage;
    for (auto it = std::next(rel.begin()); it != rel.end(); ++it)
      inPackage /= *it;
    for (const char *base : {"", "src/", "lib/"}) {
      fs::path candidate = fs::path(out.tree + "/" + base) / inPackage;
      if (fs::exists(candidate)) {
        auto sources = std::move(m.sources);
        m = moduleOf(candidate.string());
        m.sources = std::move(sources);
        break;
      }
    }
  }
}

// Names the project's environment switches in the fixes that point at
// "the project's own switch".
void addSwitches(const std::string &project,
                 std::vector<BuildProblem> &problems) {
  auto switches = environmentSwitches(project);
  if (switches.empty())
    return;
  std::string list;
  for (const auto &s : switches)
    list += (list.empty() ? "" : ", ") + s;
  for (auto &p : problems)
    if (p.fix.find("switch") != std::string::npos)
      p.fix += " (setup.py reads: " + list + ")";
}

} // namespace

ProjectBuild build(const BuildRequest &r) {
  ProjectBuild out;
  out.kind = r.kind;
  // Canonical, as the wrapper's getcwd() is: a symlinked TMPDIR or project
  // folder must not put the recorded units outside the tree.
  std::error_code canon;
  out.source_root = fs::weakly_canonical(fs::absolute(r.project), canon)
                        .lexically_normal()
                        .string();
  std::error_code ec;
  fs::create_directories(r.work_dir, ec);
  std::string logPath = r.work_dir + "/compile-log.jsonl";
  fs::remove(logPath, ec);
  out.compile_commands_dir = r.work_dir;
  if (r.kind == BuildKind::CompileDatabase) {
    out.tree = out.source_root;
    std::string err;
    // Where detectBuildKind found it: the project's folder or its build/.
    std::string dir = r.compdb_dir;
    if (dir.empty())
      dir = fs::exists(out.source_root + "/compile_commands.json")
                ? out.source_root
                : out.source_root + "/build";
    if (!readCompileDatabase(dir, out, &err)) {
      out.problems.push_back({err, "pass the folder that holds the build's "
                                   "compile_commands.json"});
      return out;
    }
    out.compile_commands_dir = dir;
    out.ok = true;
    // The build is the user's: its modules are whatever it left behind.
    for (auto it = fs::recursive_directory_iterator(
             dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string p = it->path().string();
      if (it->is_regular_file() && !r.interpreter.ext_suffix.empty() &&
          p.size() > r.interpreter.ext_suffix.size() &&
          p.compare(p.size() - r.interpreter.ext_suffix.size(),
                    std::string::npos, r.interpreter.ext_suffix) == 0) {
        out.modules.push_back(moduleOf(p));
        out.modules.back().tsan_instrumented = isTsanInstrumented(p);
      }
    }
    return out;
  }
  ProcessResult res;
  if (r.kind == BuildKind::LooseSources) {
    out.tree = out.source_root;
    res = buildLoose(r, logPath);
  } else {
    fs::path tree = fs::path(r.work_dir) / "tree";
    std::string err;
    if (!copyTree(r.project, tree, &err)) {
      out.problems.push_back({err, "make the project folder readable"});
      return out;
    }
    out.tree = fs::weakly_canonical(fs::absolute(tree), ec)
                   .lexically_normal()
                   .string();
    res = runProcess(
        buildArgv(r, tree),
        withTimeout(r.timeout_seconds, buildEnvironment(r, logPath)));
  }
  out.log = tail(res.out + res.err, 20000);
  std::ofstream(r.work_dir + "/build.log") << res.out << res.err;
  if (res.timed_out)
    out.problems.push_back(
        {"the build ran past " + std::to_string(int(r.timeout_seconds)) + " s",
         "build it yourself and pass --compile-commands, or give --build-cmd"});
  out.ok = res.exit_code == 0;
  readCompileLog(logPath, out);
  for (auto &m : out.modules)
    m.tsan_instrumented = r.interpreter.tsan;
  preferInplaceCopies(out);
  std::string err;
  writeCompileDatabase(out, r.work_dir, &err);
  // Sources of the project whose compile failed while the build went on
  // (an optional extension skipped), and modules with no recorded source
  // (compiled by something that did not go through CC).
  std::vector<std::string> failed;
  for (const auto &u : out.units)
    if (u.exit_code != 0 && u.file.rfind(out.tree + "/", 0) == 0)
      failed.push_back(u.file.substr(out.tree.size() + 1));
  if (out.ok && !failed.empty()) {
    std::string list;
    for (const auto &f : failed)
      list += (list.empty() ? "" : ", ") + f;
    out.problems.push_back(
        {"the build went on without what failed to compile: " + list,
         "an optional extension was skipped: fix what stops it compiling "
         "(the compiler's errors are listed here and in build.log)"});
  }
  for (const auto &m : out.modules)
    if (m.sources.empty() && r.kind != BuildKind::CompileDatabase)
      out.problems.push_back(
          {"module " + m.name +
               " was built from sources ftready did not see compiled (not "
               "through CC/CXX)",
           "build with --build-cmd so that its compiler is CC, or give the "
           "build's compile_commands.json with --compile-commands"});
  if (!out.ok || out.modules.empty() || !failed.empty()) {
    // A failed build, or one that succeeded without its extension (an
    // optional one that did not compile, a Cython one without Cython).
    auto found = diagnoseBuildLog(res.out + res.err);
    out.problems.insert(out.problems.end(), found.begin(), found.end());
    addSwitches(r.project, out.problems);
    if (out.ok && !cythonSources(out.tree).empty() &&
        std::none_of(out.problems.begin(), out.problems.end(),
                     [](const BuildProblem &p) {
                       return p.what.find("Cython") != std::string::npos;
                     }))
      out.problems.push_back(
          {"the extension is written in Cython (.pyx) and the build made no "
           "module from it",
           "the build needs Cython (3.1 or later for free-threading) "
           "importable by the managed interpreter; Debian 12's cython3 is "
           "0.29, for its own Python: commit the generated C, or build with "
           "--build-cmd"});
  }
  if (!out.ok) {
    if (out.problems.empty())
      out.problems.push_back(
          {"the build failed (exit " + std::to_string(res.exit_code) + ")",
           "read the build's output (build.log in ftready check's report "
           "folder); fix the build, or give --build-cmd"});
  }
  return out;
}

} // namespace ftready::project
