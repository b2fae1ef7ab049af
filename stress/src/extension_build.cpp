#include "ftready/stress/extension_build.h"

#include "ftready/process.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace ftready::stress {

const std::vector<std::string> &shimmedApis() {
  static const std::vector<std::string> apis = {
      "PyList_GetItem", "PyDict_GetItem", "PyDict_GetItemWithError",
      "PyDict_GetItemString", "PyDict_SetDefault", "PyWeakref_GetObject",
      "PySys_GetObject", "PyImport_AddModule", "PyDict_Next",
      "PyCriticalSection_Begin", "PyCriticalSection_End",
      // making APIs: counted
      "PyImport_ImportModule", "PyImport_Import", "PyObject_GetAttrString",
      "PyObject_GetAttr", "PyUnicode_InternFromString", "PyUnicode_FromString",
      "PyDict_New", "PyList_New", "PyTuple_New", "PyObject_CallNoArgs",
      "PyObject_CallObject", "PyErr_NewException", "PyErr_NewExceptionWithDoc",
      "PyType_FromSpec", "PyType_FromSpecWithBases", "PyType_FromModuleAndSpec",
      "PyCapsule_Import", "PyMem_Malloc", "PyMem_Calloc", "PyMem_RawMalloc",
      "PyMem_RawCalloc"};
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
  std::vector<std::string> argv = {compilersFor(interp, FTREADY_DEFAULT_CC).c,
                                   "-shared",
                                   "-fPIC",
                                   "-g",
                                   "-O1",
                                   "-I",
                                   interp.include_dir};
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

std::vector<std::string> shimLinkFlags(const std::string &shimsLibrary) {
  if (shimsLibrary.empty())
    return {};
  std::vector<std::string> flags = {"-Wl,--whole-archive", shimsLibrary,
                                    "-Wl,--no-whole-archive"};
  for (const auto &api : shimmedApis())
    flags.push_back("-Wl,--wrap=" + api);
  return flags;
}

} // namespace ftready::stress
