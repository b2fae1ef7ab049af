// Compile and link commands: recorded by ftready-cc, or read from a
// compile_commands.json; which sources each built extension is made of.
#include "ftready/project/project.h"

#include "ftready/process.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace ftready::project {

namespace {

// Driver options whose value is the next argument.
bool takesValue(const std::string &arg) {
  static const std::set<std::string> flags = {
      "-o",        "-I",         "-D",       "-U",      "-include", "-isystem",
      "-iquote",   "-idirafter", "-x",       "-MF",     "-MT",      "-MQ",
      "-L",        "-l",         "-Xlinker", "-Xclang", "-imacros", "-isysroot",
      "--sysroot", "-target",    "-arch",    "-T"};
  return flags.count(arg) != 0;
}

std::string absoluteIn(const std::string &dir, const std::string &p) {
  fs::path path(p);
  if (path.is_relative())
    path = fs::path(dir) / path;
  return path.lexically_normal().string();
}

struct Invocation {
  int exitCode = 0;
  std::string directory;
  std::vector<std::string> arguments;
  bool compileOnly = false;
  std::string output;
  std::vector<std::string> sources; // absolute
  std::vector<std::string> objects; // absolute
};

Invocation parseInvocation(const std::string &dir,
                           const std::vector<std::string> &args) {
  Invocation inv{0, dir, args, false, "", {}, {}};
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-c") {
      inv.compileOnly = true;
    } else if (a == "-o" && i + 1 < args.size()) {
      inv.output = absoluteIn(dir, args[++i]);
    } else if (takesValue(a)) {
      ++i;
    } else if (!a.empty() && a[0] != '-') {
      if (isSourceFile(a))
        inv.sources.push_back(absoluteIn(dir, a));
      else if (fs::path(a).extension() == ".o")
        inv.objects.push_back(absoluteIn(dir, a));
    }
  }
  return inv;
}

bool isSharedObject(const std::string &path) {
  std::string name = fs::path(path).filename().string();
  return name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0;
}

// Does the .so export PyInit_<name>? (a helper library built beside the
// extensions does not). When nm cannot tell, it is taken as a module.
bool exportsInit(const std::string &so, const std::string &name) {
  auto r = runProcess({"nm", "-D", "--defined-only", so}, withTimeout(60));
  if (r.exit_code != 0)
    return true;
  return r.out.find(" PyInit_" + name + "\n") != std::string::npos;
}

} // namespace

bool isSourceFile(const std::string &arg) {
  static const std::set<std::string> exts = {".c",   ".cc",  ".cpp",
                                             ".cxx", ".c++", ".C"};
  return exts.count(fs::path(arg).extension().string()) != 0;
}

bool isTsanInstrumented(const std::string &soPath) {
  auto r =
      runProcess({"nm", "-D", "--undefined-only", soPath}, withTimeout(60));
  return r.exit_code == 0 && r.out.find(" __tsan_") != std::string::npos;
}

ExtensionModule moduleOf(const std::string &soPath) {
  ExtensionModule m;
  m.path = fs::absolute(soPath).lexically_normal().string();
  fs::path p(m.path);
  std::string name = p.filename().string();
  m.name = name.substr(0, name.find('.'));
  fs::path dir = p.parent_path();
  while (fs::exists(dir / "__init__.py") && dir.has_parent_path() &&
         dir != dir.root_path()) {
    m.name = dir.filename().string() + "." + m.name;
    dir = dir.parent_path();
  }
  m.import_dir = dir.string();
  return m;
}

void readCompileLog(const std::string &logPath, ProjectBuild &out) {
  std::ifstream in(logPath);
  std::vector<Invocation> links;
  std::map<std::string, std::vector<std::string>> sourcesOfObject;
  std::set<std::pair<std::string, std::string>> seen; // (file, output)
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("arguments") ||
        !j["arguments"].is_array() ||
        !std::all_of(j["arguments"].begin(), j["arguments"].end(),
                     [](const nlohmann::json &a) { return a.is_string(); }) ||
        !j.value("directory", nlohmann::json()).is_string())
      continue;
    Invocation inv =
        parseInvocation(j.value("directory", ""),
                        j["arguments"].get<std::vector<std::string>>());
    inv.exitCode = j.value("exit", 0);
    for (const auto &src : inv.sources) {
      if (!seen.insert({src, inv.output}).second)
        continue;
      // One unit per source: the other sources of a multi-source command
      // are not this unit's arguments.
      std::vector<std::string> args;
      for (size_t i = 0; i < inv.arguments.size(); ++i) {
        const std::string &a = inv.arguments[i];
        if (i > 0 && a[0] != '-' && isSourceFile(a) &&
            absoluteIn(inv.directory, a) != src &&
            (i == 0 || !takesValue(inv.arguments[i - 1])))
          continue;
        args.push_back(a);
      }
      out.units.push_back({src, inv.directory, args, inv.output, inv.exitCode});
      if (!inv.output.empty() && inv.compileOnly && inv.exitCode == 0)
        sourcesOfObject[inv.output].push_back(src);
    }
    if (!inv.compileOnly && isSharedObject(inv.output) && inv.exitCode == 0)
      links.push_back(inv);
  }
  std::set<std::string> modulesSeen;
  for (const auto &l : links) {
    if (!fs::exists(l.output) || !modulesSeen.insert(l.output).second)
      continue;
    ExtensionModule m = moduleOf(l.output);
    std::string leaf = m.name.substr(m.name.rfind('.') + 1);
    if (!exportsInit(l.output, leaf))
      continue;
    for (const auto &o : l.objects)
      for (const auto &s : sourcesOfObject[o])
        m.sources.push_back(s);
    m.sources.insert(m.sources.end(), l.sources.begin(), l.sources.end());
    out.modules.push_back(std::move(m));
  }
}

bool writeCompileDatabase(const ProjectBuild &b, const std::string &dir,
                          std::string *error) {
  nlohmann::json db = nlohmann::json::array();
  for (const auto &u : b.units) {
    nlohmann::json e = {{"directory", u.directory},
                        {"file", u.file},
                        {"arguments", u.arguments}};
    if (!u.output.empty())
      e["output"] = u.output;
    db.push_back(std::move(e));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream outFile(dir + "/compile_commands.json", std::ios::trunc);
  outFile << db.dump(1) << "\n";
  if (!outFile) {
    if (error)
      *error = "cannot write " + dir + "/compile_commands.json";
    return false;
  }
  return true;
}

bool readCompileDatabase(const std::string &dir, ProjectBuild &b,
                         std::string *error) {
  std::string path = dir + "/compile_commands.json";
  std::ifstream in(path);
  if (!in) {
    if (error)
      *error = "no compile_commands.json in '" + dir + "'";
    return false;
  }
  auto db = nlohmann::json::parse(in, nullptr, false);
  if (db.is_discarded() || !db.is_array()) {
    if (error)
      *error = path + " is not a JSON array of compile commands";
    return false;
  }
  try {
    for (const auto &e : db) {
      if (!e.is_object() || !e.contains("file") || !e.contains("directory"))
        continue;
      CompileUnit u;
      u.directory = e["directory"].get<std::string>();
      u.file = absoluteIn(u.directory, e["file"].get<std::string>());
      if (e.contains("arguments") && e["arguments"].is_array()) {
        u.arguments = e["arguments"].get<std::vector<std::string>>();
      } else if (e.contains("command") && e["command"].is_string()) {
        // Split on blanks; quoted arguments are rare in generated databases.
        std::string cmd = e["command"].get<std::string>(), cur;
        for (char c : cmd + " ") {
          if (c == ' ' || c == '\t') {
            if (!cur.empty())
              u.arguments.push_back(cur);
            cur.clear();
          } else if (c != '"') {
            cur += c;
          }
        }
      }
      u.output = e.value("output", "");
      b.units.push_back(std::move(u));
    }
  } catch (const nlohmann::json::exception &e) {
    if (error)
      *error = path + ": an entry is not a compile command (" + e.what() + ")";
    return false;
  }
  return true;
}

} // namespace ftready::project
