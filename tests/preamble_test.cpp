// Shared preambles: which prefixes units share, and that a scan with them
// finds exactly what a scan without them finds, on the corpus and on units
// a preamble must not serve; and which declarations the analysis walks.
#include "ftready/analyzer/preamble_prefix.h"
#include "ftready/analyzer/scan.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using ftready::analyzer::leadingIncludePrefixes;
using ftready::analyzer::quotedIncludes;

namespace {

TEST(PreamblePrefix, DirectivesUpToEachIncludeWithoutComments) {
  auto p = leadingIncludePrefixes("/* licence\n * text */\n"
                                  "#define PY_SSIZE_T_CLEAN  // why\n"
                                  "#include <Python.h>\n\n"
                                  "#ifndef X\n#  define X \\\n   1\n#endif\n"
                                  "#include \"mod.h\" /* own */\n"
                                  "static int x;\n#include \"late.h\"\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n");
  EXPECT_EQ(p[1],
            p[0] + "#ifndef X\n#define X 1\n#endif\n#include \"mod.h\"\n");
  EXPECT_EQ(quotedIncludes(p[1]), std::vector<std::string>{"mod.h"});
}

TEST(PreamblePrefix, NoCutInsideAConditionalOrAfterOtherDirectives) {
  EXPECT_TRUE(leadingIncludePrefixes("#ifdef A\n#include <a.h>\n").empty());
  auto p = leadingIncludePrefixes("#if A\n#include <a.h>\n#else\n"
                                  "#include <b.h>\n#endif\n#include <c.h>\n"
                                  "#pragma once\n#include <d.h>\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "#if A\n#include <a.h>\n#else\n#include <b.h>\n#endif\n"
                  "#include <c.h>\n");
  EXPECT_TRUE(leadingIncludePrefixes("int x;\n#include <a.h>\n").empty());
  EXPECT_TRUE(leadingIncludePrefixes("#endif\n#include <a.h>\n").empty());
  EXPECT_TRUE(leadingIncludePrefixes("").empty());
  // A string holding comment marks stays as written.
  EXPECT_EQ(
      leadingIncludePrefixes("#define S \"a//b\" // c\n#include <x.h>\n").at(0),
      "#define S \"a//b\"\n#include <x.h>\n");
}

// Everything a report is made of, as one comparable text.
std::string outcome(const ftready::analyzer::ScanResult &r) {
  nlohmann::json j;
  j["findings"] = r.findings;
  j["state"] = r.state;
  for (const auto &d : r.diagnostics)
    j["diagnostics"].push_back(d.file + ": " + d.message);
  j["unparsed"] = r.unparsed;
  j["included"] = r.included;
  return j.dump(1);
}

// One job unless told: which unit builds a preamble and which use it is
// then known.
ftready::analyzer::ScanResult scanWith(std::vector<std::string> paths,
                                       bool preamble,
                                       const std::string &cache = "",
                                       unsigned jobs = 1) {
  ftready::analyzer::ScanOptions opts;
  opts.paths = std::move(paths);
  opts.python_include = ftready::test::pythonInclude();
  opts.root = FTREADY_CORPUS_DIR;
  opts.jobs = jobs;
  opts.shared_preamble = preamble;
  opts.cache_dir = cache;
  return ftready::analyzer::scan(opts);
}

TEST(SharedPreamble, CorpusFindingsAreTheSameWithAndWithout) {
  auto with = scanWith({FTREADY_CORPUS_DIR}, true, "", 2);
  auto without = scanWith({FTREADY_CORPUS_DIR}, false, "", 2);
  EXPECT_GE(with.files_with_preamble, 5u)
      << "most corpus modules begin with the same Python.h lines";
  EXPECT_GE(with.preambles_built, 1u);
  EXPECT_EQ(without.files_with_preamble, 0u);
  EXPECT_FALSE(with.findings.empty());
  EXPECT_EQ(outcome(with), outcome(without));
}

struct Project {
  fs::path dir;
  Project() {
    dir = fs::temp_directory_path() /
          ("ftready-preamble-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Project() { fs::remove_all(dir); }
  void write(const std::string &name, const std::string &text) const {
    std::ofstream(dir / name) << text;
  }
  // Two units that begin alike, each with a racy global.
  void twoUnits(const std::string &prefix) const {
    for (const char *name : {"a", "b"})
      write(std::string(name) + ".c",
            prefix + "static long hits;\nstatic PyObject *\nbump_" + name +
                "(PyObject *self, PyObject *args)\n{\n    hits++;\n"
                "    Py_RETURN_NONE;\n}\n");
  }
};

TEST(SharedPreamble, HeaderWithoutGuardFallsBackToTheUnitsOwnParse) {
  // Included twice (preamble, then the unit's own line), the enumerator is
  // defined twice: the unit is parsed again without the preamble.
  Project p;
  p.write("types.h", "enum { LIMIT = 3 };\n");
  p.twoUnits("#include <Python.h>\n#include \"types.h\"\n");
  auto with = scanWith({p.dir.string()}, true);
  auto without = scanWith({p.dir.string()}, false);
  EXPECT_TRUE(with.unparsed.empty());
  // a.c fell back to its own parse; b.c took the shorter prefix (Python.h
  // alone), built next.
  EXPECT_EQ(with.files_with_preamble, 1u);
  EXPECT_EQ(with.preambles_built, 2u);
  EXPECT_FALSE(with.findings.empty());
  EXPECT_EQ(outcome(with), outcome(without));
}

TEST(WalkedDeclarations, ConstantTableOfModuleSlotsIsRead) {
  // A constant table of structs is walked: this one declares the module
  // free-threading ready, so FT004 is quiet.
  Project p;
  p.write("m.c",
          "#include <Python.h>\n"
          "static const PyModuleDef_Slot slots[] = {\n"
          "    {Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};\n"
          "static PyModuleDef def = {PyModuleDef_HEAD_INIT, .m_name = \"m\",\n"
          "    .m_slots = (PyModuleDef_Slot *)slots};\n"
          "PyMODINIT_FUNC PyInit_m(void) { return PyModuleDef_Init(&def); }\n");
  auto r = scanWith({p.dir.string()}, false);
  EXPECT_TRUE(r.unparsed.empty());
  EXPECT_TRUE(r.findings.empty()) << r.findings.size() << " findings";
}

TEST(SharedPreamble, ErrorPastThePrefixIsNotParsedAgain) {
  // The header after Python.h is missing: the preamble (Python.h alone) is
  // not at fault, so each unit keeps its one parse, and says the same as
  // without a preamble.
  Project p;
  p.twoUnits("#include <Python.h>\n#include \"missing.h\"\n");
  auto with = scanWith({p.dir.string()}, true);
  auto without = scanWith({p.dir.string()}, false);
  EXPECT_EQ(with.unparsed.size(), 2u);
  EXPECT_EQ(with.files_with_preamble, 2u);
  EXPECT_EQ(with.preambles_built, 1u) << "the longer prefix does not build";
  EXPECT_FALSE(with.findings.empty());
  EXPECT_EQ(outcome(with), outcome(without));
}

TEST(WalkedDeclarations, ConstantTablesAreSkippedTablesOfFunctionsAreNot) {
  // `weights` names only constants: left unwalked, it changes nothing
  // reported (that it is skipped shows only in time). `methods`, constant
  // too, names a function: the state map still learns bump() is a method.
  Project p;
  p.write("m.c",
          "#include <Python.h>\n"
          "static const unsigned char weights[] = {1, 2, 3};\n"
          "static long hits;\n"
          "static PyObject *bump(PyObject *self, PyObject *arg)\n"
          "{\n    hits += weights[1];\n    Py_RETURN_NONE;\n}\n"
          "static const PyMethodDef methods[] = {\n"
          "    {\"bump\", bump, METH_O, NULL}, {NULL}};\n"
          "PyMethodDef *table(void) { return (PyMethodDef *)methods; }\n");
  auto r = scanWith({p.dir.string()}, false);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "FT002");
  EXPECT_EQ(r.findings[0].location.line, 6u);
  EXPECT_EQ(r.findings[0].function, "bump");
  bool method = false;
  for (const auto &f : r.state.functions)
    if (f.function == "bump")
      method = f.callables == std::vector<std::string>{"bump"};
  EXPECT_TRUE(method) << "bump() is named by the constant method table";
}

TEST(SharedPreamble, PrefixThatDefinesMacrosIsParsedAgainOnError) {
  // settings.h changes the unit's BUFSZ. Over the preamble, the unit's own
  // first line sets it back (settings.h is guarded, so not read again): the
  // #error fires in the unit, not in a file of the preamble. Parsed again
  // without it, the unit is whole.
  Project p;
  p.write("settings.h", "#ifndef SETTINGS_H\n#define SETTINGS_H\n"
                        "#undef BUFSZ\n#define BUFSZ 64\n#endif\n");
  p.twoUnits("#define BUFSZ 16\n#include <Python.h>\n"
             "#include \"settings.h\"\n#if BUFSZ != 64\n"
             "#error settings.h sets BUFSZ\n#endif\n");
  auto with = scanWith({p.dir.string()}, true);
  auto without = scanWith({p.dir.string()}, false);
  EXPECT_TRUE(without.unparsed.empty());
  EXPECT_TRUE(with.unparsed.empty());
  EXPECT_FALSE(with.findings.empty());
  EXPECT_EQ(outcome(with), outcome(without));
}

TEST(SharedPreamble, ProjectHeaderWithCodeIsNotPrecompiled) {
  Project p;
  p.write("helpers.h", "#include <Python.h>\nstatic long shared;\n"
                       "static inline void touch(void) { shared++; }\n");
  p.twoUnits("#include \"helpers.h\"\n");
  auto with = scanWith({p.dir.string()}, true);
  auto without = scanWith({p.dir.string()}, false);
  EXPECT_EQ(with.files_with_preamble, 0u);
  EXPECT_EQ(outcome(with), outcome(without));
  bool inHeader = false;
  for (const auto &f : with.findings)
    inHeader |= f.location.file.find("helpers.h") != std::string::npos;
  EXPECT_TRUE(inHeader) << "touch() writes 'shared' unguarded";
}

TEST(SharedPreamble, ProjectHeaderOfDeclarationsIsShared) {
  Project p;
  p.write("decls.h", "#ifndef DECLS_H\n#define DECLS_H\n#include <Python.h>\n"
                     "typedef struct { PyObject_HEAD long n; } Obj;\n"
                     "extern PyObject *make(void);\n#endif\n");
  p.twoUnits("#include \"decls.h\"\n");
  auto with = scanWith({p.dir.string()}, true);
  auto without = scanWith({p.dir.string()}, false);
  EXPECT_EQ(with.files_with_preamble, 2u);
  EXPECT_EQ(with.preambles_built, 1u);
  EXPECT_FALSE(with.findings.empty());
  EXPECT_EQ(outcome(with), outcome(without));
}

TEST(SharedPreamble, KeptOnDiskAndBuiltAgainWhenAHeaderChanges) {
  Project p;
  fs::path cache = p.dir / "cache";
  p.write("decls.h", "#pragma once\n#include <Python.h>\n"
                     "extern PyObject *make(void);\n");
  p.twoUnits("#include \"decls.h\"\n");
  auto first = scanWith({p.dir.string()}, true, cache.string());
  EXPECT_EQ(first.preambles_built, 1u);
  p.write("a.c", "#include \"decls.h\"\nstatic long n;\n"
                 "void f(void) { n++; }\n");
  auto second = scanWith({p.dir.string()}, true, cache.string());
  EXPECT_EQ(second.files_from_cache, 1u);
  EXPECT_EQ(second.files_with_preamble, 1u) << "a.c, from the kept preamble";
  EXPECT_EQ(second.preambles_built, 0u);
  // A changed header makes the kept preamble stale: built again.
  p.write("decls.h", "#pragma once\n#include <Python.h>\n"
                     "extern PyObject *make(int);\n");
  auto third = scanWith({p.dir.string()}, true, cache.string());
  EXPECT_EQ(third.files_from_cache, 0u);
  EXPECT_EQ(third.preambles_built, 1u);
  EXPECT_EQ(outcome(third), outcome(scanWith({p.dir.string()}, false)));
}

} // namespace
