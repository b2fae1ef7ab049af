#include "ftready/stress/extension_build.h"

#include "ftready/process.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace ftready::stress {

const std::vector<std::string> &shimmedApis() {
  static const std::vector<std::string> apis = {"PyList_GetItem",
                                                "PyDict_GetItem",
                                                "PyDict_GetItemWithError",
                                                "PyDict_GetItemString",
                                                "PyDict_SetDefault",
                                                "PyWeakref_GetObject",
                                                "PySys_GetObject",
                                                "PyImport_AddModule",
                                                "PyDict_Next",
                                                "PyCriticalSection_Begin",
                                                "PyCriticalSection_End"};
  return apis;
}

BuiltExtension buildExtension(const ExtensionSources &src,
                              const Interpreter &interp,
                              const std::string &outDir) {
  BuiltExtension out;
  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (ec) {
    out.log = "cannot create " + outDir + ": " + ec.message();
    return out;
  }
  out.directory = outDir;
  out.path = outDir + "/" + src.module + interp.ext_suffix;
  std::vector<std::string> argv = {
      "clang-16", "-shared", "-fPIC", "-g", "-O1", "-I", interp.include_dir};
  if (interp.tsan)
    argv.push_back("-fsanitize=thread");
  argv.insert(argv.end(), src.cflags.begin(), src.cflags.end());
  argv.insert(argv.end(), src.sources.begin(), src.sources.end());
  if (!src.shims_library.empty()) {
    argv.push_back(src.shims_library);
    for (const auto &api : shimmedApis())
      argv.push_back("-Wl,--wrap=" + api);
  }
  argv.push_back("-o");
  argv.push_back(out.path);
  ProcessResult r = runProcess(argv, withTimeout(300));
  out.log = r.out + r.err;
  out.ok = r.exit_code == 0 && fs::exists(out.path);
  return out;
}

BuiltExtension buildProject(const std::string &projectDir,
                            const Interpreter &interp,
                            const std::string &setuptoolsDir,
                            const std::string &shimsLibrary,
                            const std::string &outDir, std::string *module) {
  BuiltExtension out;
  std::error_code ec;
  fs::path tree = fs::path(outDir) / "project";
  fs::remove_all(tree, ec);
  fs::create_directories(tree, ec);
  // A copy: the build leaves the user's tree as it was.
  fs::copy(projectDir, tree,
           fs::copy_options::recursive | fs::copy_options::skip_symlinks, ec);
  if (ec) {
    out.log = "cannot copy " + projectDir + ": " + ec.message();
    return out;
  }
  std::string sanitize = interp.tsan ? " -fsanitize=thread" : "";
  std::string link = sanitize;
  if (!shimsLibrary.empty()) {
    link += " -Wl,--whole-archive " + shimsLibrary + " -Wl,--no-whole-archive";
    for (const auto &api : shimmedApis())
      link += " -Wl,--wrap=" + api;
  }
  bool hasSetupPy = fs::exists(tree / "setup.py");
  std::vector<std::string> argv = {interp.path};
  if (hasSetupPy)
    argv.push_back("setup.py");
  else
    argv.insert(argv.end(), {"-c", "from setuptools import setup; setup()"});
  argv.insert(argv.end(), {"build_ext", "--inplace"});
  ProcessOptions opts = withTimeout(900, {{"PYTHONPATH", setuptoolsDir},
                                          {"CC", "clang-16"},
                                          {"LDSHARED", "clang-16 -shared"},
                                          {"CFLAGS", "-g -O1" + sanitize},
                                          {"LDFLAGS", link},
                                          {"PYTHON_GIL", "0"}});
  // build_ext runs in the project's folder.
  argv.insert(argv.begin(), {"env", "-C", tree.string()});
  ProcessResult r = runProcess(argv, opts);
  out.log = r.out + r.err;
  if (r.exit_code != 0)
    return out;
  for (const auto &e : fs::recursive_directory_iterator(tree, ec)) {
    std::string name = e.path().filename().string();
    if (!e.is_regular_file() || e.path().extension() != ".so" ||
        e.path().string().find("/build/") != std::string::npos)
      continue;
    fs::path rel = fs::relative(e.path(), tree);
    std::string dotted;
    for (const auto &part : rel.parent_path())
      dotted += part.string() + ".";
    *module = dotted + name.substr(0, name.find('.'));
    out.path = e.path().string();
    out.directory = tree.string();
    out.ok = true;
    return out;
  }
  out.log += "\nno extension .so was built";
  return out;
}

} // namespace ftready::stress
