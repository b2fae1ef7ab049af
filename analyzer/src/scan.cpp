// Drives the analysis: finds sources, parses each translation unit with
// Clang, runs the rules over it, and gathers findings and diagnostics.
#include "ftready/analyzer/scan.h"
#include "ftready/interrupt.h"

#include "analysis/borrowed_apis.h"
#include "analysis/macro_recorder.h"
#include "analysis/state_access.h"
#include "analysis/tu_model.h"
#include "clang_compat.h"
#include "result_cache.h"
#include "rules/rule.h"
#include "shared_preamble.h"
#include "source_files.h"
#include "suppressions.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/Support/VirtualFileSystem.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sys/stat.h>
#include <thread>

namespace fs = std::filesystem;

namespace ftready::analyzer {

namespace {

// Everything one translation unit produced. Each worker thread owns the
// FileOutcome of the files it parses, so no state is shared between them.
struct FileOutcome {
  std::vector<Finding> findings;
  std::vector<ScanDiagnostic> diagnostics;
  StateMap state;
  std::vector<std::string> dependencies; // every file the parse read
  bool fromCache = false;
  bool parseFailed = false;
  bool withPreamble = false; // parsed with a shared preamble
  bool skipped = false;      // Ctrl-C came before its turn
  // The file of each parse error (absolute; empty when it has none).
  std::vector<std::string> errorFiles;
};

// The files whose findings are reported: under a scanned folder, or next to
// a scanned file (its clinic/*.c.h), never in system headers.
struct ReportScope {
  std::vector<std::string> roots; // absolute, with a trailing '/'
  std::string relativeTo;
  bool contains(const std::string &absolute) const {
    for (const auto &r : roots)
      if (absolute.rfind(r, 0) == 0)
        return true;
    return false;
  }
  std::string display(const std::string &absolute) const {
    std::error_code ec;
    fs::path rel = fs::path(absolute).lexically_relative(relativeTo);
    if (rel.empty() || rel.native().rfind("..", 0) == 0)
      return absolute;
    return rel.string();
  }
};

std::string absolutePath(const std::string &p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? fs::path(p) : a).lexically_normal().string();
}

// A file name of the translation unit made absolute against the directory
// its compile command ran in (not this process's).
std::string absoluteInTu(const clang::SourceManager &sm, llvm::StringRef name) {
  llvm::SmallString<256> path(name);
  sm.getFileManager().makeAbsolutePath(path);
  return absolutePath(path.str().str());
}

std::set<std::string> watchedApis() {
  std::set<std::string> names = {"Py_REFCNT",
                                 "Py_SET_REFCNT",
                                 "PyDict_Next",
                                 "PyList_GET_ITEM",
                                 "PySequence_Fast_GET_ITEM",
                                 "PySequence_Fast_ITEMS"};
  for (const auto &api : analysis::borrowedApis())
    names.insert(api.name);
  return names;
}

class ErrorCollector : public clang::DiagnosticConsumer {
public:
  void HandleDiagnostic(clang::DiagnosticsEngine::Level level,
                        const clang::Diagnostic &info) override {
    clang::DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < clang::DiagnosticsEngine::Error)
      return;
    llvm::SmallString<256> text;
    info.FormatDiagnostic(text);
    errors.push_back({info.getLocation(), text.str().str()});
    files.push_back(fileOf(info));
    if (info.hasSourceManager() && info.getLocation().isValid()) {
      auto p = info.getSourceManager().getPresumedLoc(
          info.getSourceManager().getExpansionLoc(info.getLocation()));
      if (p.isValid())
        located.push_back(std::string(p.getFilename()) + ":" +
                          std::to_string(p.getLine()) + ": " +
                          text.str().str());
      else
        located.push_back(text.str().str());
    } else {
      located.push_back(text.str().str());
    }
  }
  std::vector<rules::ParseDiagnostic> errors;
  std::vector<std::string> located;
  std::vector<std::string> files; // of each error, as fileOf says

private:
  // The file the diagnostic lies in, absolute; empty when it lies nowhere
  // (the command line, a PCH that could not be read).
  static std::string fileOf(const clang::Diagnostic &info) {
    if (!info.hasSourceManager() || info.getLocation().isInvalid())
      return {};
    const auto &sm = info.getSourceManager();
    auto entry = sm.getFileEntryRefForID(
        sm.getFileID(sm.getExpansionLoc(info.getLocation())));
    return entry ? absoluteInTu(sm, entry->getName()) : std::string();
  }
};

// What the parse of one translation unit needs and where its results go;
// owned by the worker thread that parses it.
struct TuJob {
  const ScanOptions &opts;
  const ReportScope &scope;
  const std::set<std::string> &watched;
  const ErrorCollector &errors;
  FileOutcome &out;
};

class ScanConsumer : public clang::ASTConsumer {
public:
  ScanConsumer(const TuJob &job, const analysis::MacroRecord &macros)
      : opts_(job.opts), scope_(job.scope), watched_(job.watched),
        macros_(macros), errors_(job.errors), out_(job.out) {}

  void HandleTranslationUnit(clang::ASTContext &ctx) override {
    ctx.setTraversalScope(ownDecls(ctx));
    analysis::TuModel model(ctx, macros_, watched_);
    rules::RuleContext rctx(model, errors_.errors,
                            [&](rules::Report r) { accept(ctx, r); });
    std::vector<std::unique_ptr<rules::Rule>> active;
    clang::ast_matchers::MatchFinder finder;
    for (const auto &reg : rules::allRules()) {
      if (!opts_.rules.empty() && !opts_.rules.count(reg.id))
        continue;
      active.push_back(reg.make(rctx));
      active.back()->registerMatchers(finder);
    }
    finder.matchAST(ctx);
    for (auto &rule : active)
      rule->onEndOfTranslationUnit();
    const auto &sm = ctx.getSourceManager();
    out_.state = analysis::buildStateMap(model, [&](clang::SourceLocation l) {
      clang::PresumedLoc p = sm.getPresumedLoc(sm.getExpansionLoc(l));
      if (p.isInvalid() || sm.isInSystemHeader(sm.getExpansionLoc(l)))
        return std::string();
      std::string file = absoluteInTu(sm, p.getFilename());
      return scope_.contains(file) ? file : std::string();
    });
    for (auto it = sm.fileinfo_begin(); it != sm.fileinfo_end(); ++it)
      out_.dependencies.push_back(absoluteInTu(sm, compat::fileInfoName(it)));
  }

private:
  // What the analysis walks: the top-level declarations of the unit's own
  // files and of the report scope's headers. Headers from elsewhere
  // (Python.h, a library's) are known through what the code uses of them,
  // not walked: the same whether they came from a shared preamble (whose
  // declarations are then never loaded whole) or were parsed here.
  std::vector<clang::Decl *> ownDecls(clang::ASTContext &ctx) const {
    const auto &sm = ctx.getSourceManager();
    std::vector<clang::Decl *> own;
    std::map<clang::FileID, bool> known;
    for (clang::Decl *d : ctx.getTranslationUnitDecl()->noload_decls()) {
      if (d->isFromASTFile())
        continue;
      clang::FileID id = sm.getFileID(sm.getExpansionLoc(d->getLocation()));
      auto it = known.find(id);
      if (it == known.end()) {
        bool mine = id == sm.getMainFileID();
        if (!mine)
          if (auto entry = sm.getFileEntryRefForID(id))
            mine = scope_.contains(absoluteInTu(sm, entry->getName()));
        it = known.emplace(id, mine).first;
      }
      if (it->second && !isConstantTable(ctx, d))
        own.push_back(d);
    }
    addDefinitionsUsed(own);
    return own;
  }

  // A constant table (unicodedata's, a codec's mappings): a variable of
  // constant type, of numbers or pointers (a struct, such as a table of
  // module slots, tells the analysis what the module declares), whose
  // initializer names nothing but constants. Nothing in it runs, is shared
  // state or can be written, so it is not walked: its parent map alone cost
  // more than the rest of the unit's analysis. Its uses, in the functions
  // that read it, are.
  static bool isConstantTable(const clang::ASTContext &ctx,
                              const clang::Decl *d) {
    const auto *var = llvm::dyn_cast<clang::VarDecl>(d);
    if (!var || !var->hasGlobalStorage() || !var->getInit() ||
        !var->getType().isConstant(ctx) ||
        !ctx.getBaseElementType(var->getType())->isScalarType())
      return false;
    struct OnlyConstants : clang::RecursiveASTVisitor<OnlyConstants> {
      const clang::ASTContext &ctx;
      explicit OnlyConstants(const clang::ASTContext &c) : ctx(c) {}
      bool VisitDeclRefExpr(clang::DeclRefExpr *e) {
        if (llvm::isa<clang::EnumConstantDecl>(e->getDecl()))
          return true;
        const auto *v = llvm::dyn_cast<clang::VarDecl>(e->getDecl());
        return v && v->hasGlobalStorage() && v->getType().isConstant(ctx);
      }
      bool VisitCallExpr(clang::CallExpr *) { return false; }
      bool VisitStmtExpr(clang::StmtExpr *) { return false; }
      bool VisitBlockExpr(clang::BlockExpr *) { return false; }
      bool VisitLambdaExpr(clang::LambdaExpr *) { return false; }
    } visitor(ctx);
    return visitor.TraverseStmt(const_cast<clang::Expr *>(var->getInit()));
  }

  // The definitions of the functions that `decls` use, and of those they
  // use in turn, wherever they are (Py_NewRef's body tells the analysis it
  // returns its argument).
  static void addDefinitionsUsed(std::vector<clang::Decl *> &decls) {
    struct Uses : clang::RecursiveASTVisitor<Uses> {
      std::set<const clang::Decl *> seen;
      std::vector<clang::Decl *> found;
      bool VisitDeclRefExpr(clang::DeclRefExpr *e) {
        if (const auto *fn = llvm::dyn_cast<clang::FunctionDecl>(e->getDecl()))
          if (const clang::FunctionDecl *def = fn->getDefinition())
            if (seen.insert(def).second)
              found.push_back(const_cast<clang::FunctionDecl *>(def));
        return true;
      }
    } uses;
    uses.seen.insert(decls.begin(), decls.end());
    for (size_t i = 0; i < decls.size(); ++i)
      uses.TraverseDecl(decls[i]);
    for (size_t i = 0; i < uses.found.size(); ++i) {
      clang::Decl *d = uses.found[i];
      uses.TraverseDecl(d); // may find more
      decls.push_back(d);
    }
  }

  void accept(clang::ASTContext &ctx, const rules::Report &r) {
    const auto &sm = ctx.getSourceManager();
    // Where the code was written: inside a macro argument, the argument.
    clang::SourceLocation at = sm.getFileLoc(r.location);
    if (at.isInvalid() || sm.isInSystemHeader(at))
      return;
    clang::PresumedLoc p = sm.getPresumedLoc(at);
    if (p.isInvalid())
      return;
    std::string file = absoluteInTu(sm, p.getFilename());
    if (!scope_.contains(file))
      return;
    Finding f;
    f.rule = r.rule;
    f.severity = r.severity;
    f.location = {scope_.display(file), p.getLine(), p.getColumn()};
    f.function = r.function ? r.function->getNameAsString() : "";
    f.message = r.message;
    f.fix = r.fix;
    f.evidence = r.evidence;
    f.fingerprint = makeFingerprint(f.rule, f.location.file, f.function, r.key);
    out_.findings.push_back(std::move(f));
  }

  const ScanOptions &opts_;
  const ReportScope &scope_;
  const std::set<std::string> &watched_;
  const analysis::MacroRecord &macros_;
  const ErrorCollector &errors_;
  FileOutcome &out_;
};

class ScanAction : public clang::ASTFrontendAction {
public:
  explicit ScanAction(const TuJob &job) : job_(job) {}

  std::unique_ptr<clang::ASTConsumer>
  CreateASTConsumer(clang::CompilerInstance &ci, llvm::StringRef) override {
    ci.getPreprocessor().addPPCallbacks(
        std::make_unique<analysis::MacroRecorder>(ci.getPreprocessor(),
                                                  job_.watched, macros_));
    return std::make_unique<ScanConsumer>(job_, macros_);
  }

private:
  const TuJob &job_;
  analysis::MacroRecord macros_;
};

class ScanActionFactory : public clang::tooling::FrontendActionFactory {
public:
  explicit ScanActionFactory(const TuJob &job) : job_(job) {}
  std::unique_ptr<clang::FrontendAction> create() override {
    return std::make_unique<ScanAction>(job_);
  }

private:
  const TuJob &job_;
};

std::vector<std::string> defaultFlags(const ScanOptions &opts) {
  std::vector<std::string> flags;
  if (!opts.python_include.empty())
    flags = {"-isystem", opts.python_include};
  return flags;
}

// What besides the file and its flags decides a scan's result.
std::string cacheContext(const ScanOptions &opts, const ReportScope &scope) {
  std::string c = "rules:";
  for (const auto &r : opts.rules)
    c += r + ",";
  c += " root:" + scope.relativeTo + " scope:";
  for (const auto &r : scope.roots)
    c += r + ",";
  return c;
}

// The arguments every parse gets before and after the unit's own.
std::vector<std::string> frontArgs() {
  return {"-resource-dir=" FTREADY_CLANG_RESOURCE_DIR};
}
std::vector<std::string> backArgs(const ScanOptions &opts) {
  // -fno-caret-diagnostics also silences clang's "N errors generated.":
  // errors reach the user through ScanResult::diagnostics.
  std::vector<std::string> back = {"-w", "-ferror-limit=0",
                                   "-fno-caret-diagnostics"};
  back.insert(back.end(), opts.extra_args.begin(), opts.extra_args.end());
  return back;
}

// The file's compile command: the project's database, or default flags
// (said in `notes` when the database does not know the file).
struct UnitSource {
  std::unique_ptr<clang::tooling::CompilationDatabase> fallback;
  const clang::tooling::CompilationDatabase *db = nullptr;
  std::vector<ScanDiagnostic> notes;
};

UnitSource unitSource(const std::string &file, const ScanOptions &opts,
                      const clang::tooling::CompilationDatabase *compdb) {
  UnitSource u;
  u.db = compdb;
  if (!u.db || u.db->getCompileCommands(file).empty()) {
    if (u.db)
      u.notes.push_back(
          {file, "not in compile_commands.json: scanned with default flags",
           false});
    u.fallback = std::make_unique<clang::tooling::FixedCompilationDatabase>(
        ".", defaultFlags(opts));
    u.db = u.fallback.get();
  }
  return u;
}

// The unit as its parse runs it, for the shared preambles: none (an empty
// command line) when the file has several commands.
UnitCommand unitCommand(const std::string &file,
                        const clang::tooling::CompilationDatabase &db,
                        const ScanOptions &opts) {
  UnitCommand u;
  u.file = file;
  auto cmds = db.getCompileCommands(file);
  if (cmds.size() != 1 || cmds[0].CommandLine.empty())
    return u;
  const auto &cl = cmds[0].CommandLine;
  u.sourceArg = cmds[0].Filename;
  u.directory = absolutePath(cmds[0].Directory);
  u.commandLine = {cl[0]};
  for (const auto &a : frontArgs())
    u.commandLine.push_back(a);
  u.commandLine.insert(u.commandLine.end(), cl.begin() + 1, cl.end());
  for (const auto &a : backArgs(opts))
    u.commandLine.push_back(a);
  return u;
}

// One parse of one unit, with a shared preamble or without.
FileOutcome parseUnit(const std::string &file,
                      const clang::tooling::CompilationDatabase &db,
                      const ScanOptions &opts, const ReportScope &scope,
                      const std::set<std::string> &watched,
                      const Preamble *preamble) {
  FileOutcome out;
  // A file system of its own: the default real one changes the process's
  // working directory to each compile command's, which parallel workers
  // with relative paths (setuptools' -Isrc) would see change under them.
  clang::tooling::ClangTool tool(
      db, {file}, std::make_shared<clang::PCHContainerOperations>(),
      llvm::vfs::createPhysicalFileSystem());
  compat::keepToolWorkingDirectory(tool);
  std::vector<std::string> back = backArgs(opts);
  if (preamble)
    back.insert(back.end(), {"-include-pch", preamble->pch});
  tool.appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
      frontArgs(), clang::tooling::ArgumentInsertPosition::BEGIN));
  tool.appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
      back, clang::tooling::ArgumentInsertPosition::END));
  ErrorCollector errors;
  tool.setDiagnosticConsumer(&errors);
  tool.setPrintErrorMessage(false);
  TuJob job{opts, scope, watched, errors, out};
  ScanActionFactory factory(job);
  // A unit the tool could not run at all (no such file, a bad command line)
  // has not parsed. (Compile errors make run() fail too: those are judged
  // one by one below, as FT006's missing ob_refcnt is not a bad parse.)
  int rc = tool.run(&factory);
  if ((rc != 0 && errors.errors.empty()) || out.dependencies.empty()) {
    out.parseFailed = true;
    out.diagnostics.push_back(
        {file, "parse error: the unit could not be parsed at all"});
  }
  unsigned shown = 0;
  for (size_t i = 0; i < errors.errors.size(); ++i) {
    // A missing ob_refcnt is the code's hazard (FT006), not a bad input.
    if (errors.errors[i].message.find("no member named 'ob_refcnt'") !=
        std::string::npos)
      continue;
    out.parseFailed = true;
    out.errorFiles.push_back(errors.files[i]);
    if (shown++ < 3)
      out.diagnostics.push_back(
          {file,
           "parse error (findings cover what parsed): " + errors.located[i]});
  }
  if (preamble && !out.dependencies.empty())
    out.dependencies.insert(out.dependencies.end(),
                            preamble->dependencies.begin(),
                            preamble->dependencies.end());
  out.withPreamble = preamble != nullptr;
  return out;
}

// A file's identity, whatever the path that names it (a symlinked checkout,
// a relative -I); none when it cannot be read.
std::optional<std::pair<dev_t, ino_t>> fileIdentity(const std::string &path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0)
    return std::nullopt;
  return std::pair{st.st_dev, st.st_ino};
}

// Whether a unit that did not parse with a shared preamble may parse without
// it. Not when the preamble's prefix is #include lines only and every error
// lies in a file the preamble never read: the preamble holds the state the
// prefix leaves, so such an error (a missing tcl.h, a library config's
// #error) comes back the same, and parsing again would cost a whole parse
// for nothing. A prefix that defines macros is read again over the preamble
// by the unit's own lines, which can leave another state (a header that
// redefines the unit's macro): then, and for an error in the preamble's own
// files or in no file, the unit is parsed again.
bool preambleMayBeAtFault(const FileOutcome &out, const Preamble &preamble) {
  if (!preamble.includesOnly || out.errorFiles.empty())
    return true;
  std::set<std::pair<dev_t, ino_t>> own;
  if (auto prefix =
          fileIdentity(fs::path(preamble.pch).replace_extension(".h").string()))
    own.insert(*prefix);
  for (const auto &d : preamble.dependencies)
    if (auto id = fileIdentity(d))
      own.insert(*id);
  for (const auto &f : out.errorFiles) {
    auto id = fileIdentity(f);
    if (!id || own.count(*id))
      return true;
  }
  return false;
}

FileOutcome scanOne(const std::string &file, const ScanOptions &opts,
                    const clang::tooling::CompilationDatabase *compdb,
                    const ReportScope &scope,
                    const std::set<std::string> &watched,
                    const ResultCache &cache, SharedPreambles &preambles) {
  UnitSource source = unitSource(file, opts, compdb);
  std::vector<std::string> commandLine = frontArgs();
  for (const auto &cmd : source.db->getCompileCommands(file))
    commandLine.insert(commandLine.end(), cmd.CommandLine.begin(),
                       cmd.CommandLine.end());
  for (const auto &a : backArgs(opts))
    commandLine.push_back(a);
  std::string key = cache.keyFor(file, commandLine, cacheContext(opts, scope));
  FileOutcome out;
  if (auto hit = cache.load(key)) {
    out.findings = std::move(hit->findings);
    out.state = std::move(hit->state);
    out.diagnostics = std::move(hit->diagnostics);
    out.dependencies = std::move(hit->dependencies);
    for (const auto &d : out.diagnostics)
      out.parseFailed |= d.message.rfind("parse error", 0) == 0;
    out.fromCache = true;
  } else {
    std::optional<Preamble> preamble = preambles.acquire(file);
    out = parseUnit(file, *source.db, opts, scope, watched,
                    preamble ? &*preamble : nullptr);
    // When the preamble may be what went wrong, the unit's own parse
    // decides: a preamble it does not need is never used again.
    if (preamble && out.parseFailed && preambleMayBeAtFault(out, *preamble)) {
      out = parseUnit(file, *source.db, opts, scope, watched, nullptr);
      if (!out.parseFailed)
        preambles.reject(file);
    }
    if (!out.dependencies.empty())
      cache.store(key, {out.findings, out.diagnostics, out.state},
                  out.dependencies);
  }
  out.diagnostics.insert(out.diagnostics.begin(), source.notes.begin(),
                         source.notes.end());
  return out;
}

ReportScope scopeOf(const ScanOptions &opts) {
  ReportScope scope;
  scope.relativeTo = absolutePath(opts.root.empty() ? "." : opts.root);
  if (!opts.report_roots.empty()) {
    for (const auto &r : opts.report_roots) {
      std::string dir = absolutePath(r);
      scope.roots.push_back(dir.back() == '/' ? dir : dir + '/');
    }
    return scope;
  }
  for (const auto &p : opts.paths) {
    std::error_code ec;
    std::string a = absolutePath(p);
    std::string dir =
        fs::is_directory(a, ec) ? a : fs::path(a).parent_path().string();
    if (dir.empty() || dir.back() != '/')
      dir += '/';
    scope.roots.push_back(dir);
  }
  return scope;
}

std::vector<UnitCommand>
unitCommands(const std::vector<std::string> &files, const ScanOptions &opts,
             const clang::tooling::CompilationDatabase *compdb) {
  std::vector<UnitCommand> units;
  for (const auto &file : files) {
    UnitSource source = unitSource(file, opts, compdb);
    units.push_back(unitCommand(file, *source.db, opts));
  }
  return units;
}

// A folder of the scan's own, removed with everything in it at the end:
// the shared preambles of a scan without a cache.
struct ScratchDir {
  explicit ScratchDir(bool wanted) {
    if (!wanted)
      return;
    std::error_code ec;
    std::string pattern =
        (fs::temp_directory_path(ec) / "ftready-preambles-XXXXXX").string();
    if (!ec && ::mkdtemp(pattern.data()))
      path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty())
      fs::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;
  std::string path;
};

void dropCythonNoise(const std::vector<std::string> &cythonFiles,
                     const ReportScope &scope, ScanResult &result) {
  for (const auto &cy : cythonFiles) {
    size_t before = result.findings.size();
    std::string shown = scope.display(cy);
    std::erase_if(result.findings, [&](const Finding &f) {
      return f.rule != "FT004" && f.location.file == shown;
    });
    result.diagnostics.push_back(
        {cy,
         "Cython-generated C: " +
             std::to_string(before - result.findings.size()) +
             " findings in generated code are not reported; fix the .pyx "
             "and declare `# cython: freethreading_compatible = True` "
             "(Cython >= 3.1)",
         false});
  }
}

} // namespace

std::vector<std::string> ruleIds() {
  std::vector<std::string> ids;
  for (const auto &r : rules::allRules())
    ids.push_back(r.id);
  return ids;
}

ScanResult scan(const ScanOptions &opts) {
  ScanResult result;
  const std::vector<std::string> known = ruleIds();
  for (const auto &rule : opts.rules)
    if (std::find(known.begin(), known.end(), rule) == known.end())
      throw UsageError("unknown rule '" + rule + "' (known: FT001-FT007)");
  std::unique_ptr<clang::tooling::CompilationDatabase> compdb;
  if (!opts.compile_commands_dir.empty()) {
    std::string err;
    compdb = clang::tooling::CompilationDatabase::loadFromDirectory(
        opts.compile_commands_dir, err);
    if (!compdb)
      throw UsageError("cannot load compile_commands.json from '" +
                       opts.compile_commands_dir + "': " + err);
  }
  SourceSet sources = discoverSources(opts.paths);
  for (auto &d : sources.problems)
    result.diagnostics.push_back({d.path, d.message, true});
  if (sources.files.empty())
    throw UsageError("no C or C++ source to scan" +
                     (result.diagnostics.empty()
                          ? std::string()
                          : ": " + result.diagnostics.front().file + ": " +
                                result.diagnostics.front().message));
  result.cython_files = sources.cython;
  ReportScope scope = scopeOf(opts);
  std::set<std::string> watched = watchedApis();
  std::vector<FileOutcome> outcomes(sources.files.size());
  ResultCache cache(opts.cache_dir);
  ScratchDir scratch(opts.cache_dir.empty() && opts.shared_preamble);
  std::string preambleDir =
      opts.cache_dir.empty() ? scratch.path : opts.cache_dir + "/preambles";
  SharedPreambles preambles(
      preambleDir, [&](const std::string &f) { return scope.contains(f); });
  if (opts.shared_preamble && !preambleDir.empty())
    preambles.plan(unitCommands(sources.files, opts, compdb.get()));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < sources.files.size(); i = next++) {
      if (interruptSignal()) {
        outcomes[i].skipped = true; // what is done is kept and reported
        continue;
      }
      try {
        outcomes[i] = scanOne(sources.files[i], opts, compdb.get(), scope,
                              watched, cache, preambles);
      } catch (const std::exception &e) {
        outcomes[i].diagnostics.push_back(
            {sources.files[i], std::string("internal error: ") + e.what()});
        outcomes[i].parseFailed = true;
      }
    }
  };
  unsigned n =
      std::max(1u, std::min<unsigned>(opts.jobs, sources.files.size()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t)
    threads.emplace_back(worker);
  worker();
  for (auto &t : threads)
    t.join();
  std::set<
      std::tuple<std::string, std::string, unsigned, unsigned, std::string>>
      seen; // a header included by several files reports once
  std::set<std::string> included;
  unsigned skipped = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    auto &o = outcomes[i];
    skipped += o.skipped;
    if (o.parseFailed)
      result.unparsed.push_back(sources.files[i]);
    for (const auto &d : o.dependencies)
      if (d != sources.files[i] && scope.contains(d))
        included.insert(d);
    result.files_from_cache += o.fromCache ? 1 : 0;
    result.files_with_preamble += o.withPreamble ? 1 : 0;
    for (auto &f : o.findings)
      if (seen.insert({f.rule, f.location.file, f.location.line,
                       f.location.column, f.message})
              .second)
        result.findings.push_back(std::move(f));
    for (auto &d : o.diagnostics)
      result.diagnostics.push_back(std::move(d));
    mergeStateMaps(result.state, o.state);
  }
  linkCallables(result.state);
  result.preambles_built = preambles.built();
  result.included.assign(included.begin(), included.end());
  result.files_scanned = static_cast<unsigned>(sources.files.size()) - skipped;
  result.interrupted = skipped > 0;
  dropCythonNoise(sources.cython, scope, result);
  result.suppressed = applySuppressions(result.findings, scope.relativeTo);
  sortFindings(result.findings);
  return result;
}

} // namespace ftready::analyzer
