#include "shared_preamble.h"

#include "clang_compat.h"
#include "ftready/analyzer/preamble_prefix.h"
#include "ftready/finding.h"
#include "result_cache.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/Decl.h>
#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/FileManager.h>
#include <clang/Basic/Version.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Frontend/MultiplexConsumer.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ftready::analyzer {

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "c-header" / "c++-header" for the unit's language; empty for any other
// (Objective-C, CUDA...), which gets no shared preamble.
std::string headerLanguage(const UnitCommand &unit) {
  std::string given;
  for (size_t i = 0; i < unit.commandLine.size(); ++i) {
    const std::string &a = unit.commandLine[i];
    if (a == unit.sourceArg)
      break;
    if (a == "-x" && i + 1 < unit.commandLine.size())
      given = unit.commandLine[i + 1];
    else if (a.rfind("-x", 0) == 0 && a.size() > 2)
      given = a.substr(2);
  }
  if (given == "c" || given == "c++")
    return given + "-header";
  if (!given.empty())
    return {};
  std::string ext = fs::path(unit.file).extension().string();
  if (ext == ".c")
    return "c-header";
  if (ext == ".cc" || ext == ".cpp" || ext == ".cxx" || ext == ".C" ||
      ext == ".c++")
    return "c++-header";
  return {};
}

// The unit's command line without its input, its output and what writes
// dependency files: what a preamble for it is built with.
std::vector<std::string> argsWithoutInputOutput(const UnitCommand &unit) {
  static const std::set<std::string> withValue = {"-o", "-MF", "-MT", "-MQ",
                                                  "--serialize-diagnostics"};
  static const std::set<std::string> alone = {
      "-c",       "-S",   "-E",  "-M",  "-MM",
      "-MD",      "-MMD", "-MP", "-MG", "-fsyntax-only",
      "-emit-ast"};
  std::vector<std::string> out;
  const auto &cl = unit.commandLine;
  for (size_t i = 0; i < cl.size(); ++i) {
    const std::string &a = cl[i];
    if (i > 0 && (a == unit.sourceArg ||
                  fs::path(unit.directory) / a == fs::path(unit.file)))
      continue;
    if (withValue.count(a)) {
      ++i;
      continue;
    }
    if (alone.count(a) ||
        (a.size() > 2 && (a.rfind("-o", 0) == 0 || a.rfind("-MF", 0) == 0 ||
                          a.rfind("-MT", 0) == 0 || a.rfind("-MQ", 0) == 0)))
      continue;
    out.push_back(a);
  }
  return out;
}

// A quoted #include is first looked for beside the file that asks: when one
// of the prefix's is there, the preamble is that folder's (built with it as
// the first -iquote), not every unit's with the same flags.
bool prefixNeedsItsFolder(const std::string &prefix, const std::string &dir) {
  std::error_code ec;
  for (const auto &name : quotedIncludes(prefix))
    if (fs::exists(fs::path(dir) / name, ec))
      return true;
  return false;
}

// Where the unit's #include lines look, in order: the quoted-only folders
// (-iquote) and the others (-I, -isystem, -idirafter), made absolute.
struct SearchPath {
  std::vector<std::string> quoted, all;
};

SearchPath searchPathOf(const std::vector<std::string> &args,
                        const std::string &directory) {
  static const std::vector<std::string> flags = {"-iquote", "-I", "-isystem",
                                                 "-idirafter"};
  SearchPath path;
  for (size_t i = 0; i < args.size(); ++i)
    for (const auto &flag : flags) {
      if (args[i].rfind(flag, 0) != 0)
        continue;
      std::string dir = args[i].size() > flag.size()
                            ? args[i].substr(flag.size())
                        : i + 1 < args.size() ? args[++i]
                                              : "";
      if (dir.empty())
        break;
      dir = (fs::path(directory) / dir).lexically_normal().string();
      (flag == "-iquote" ? path.quoted : path.all).push_back(dir);
      break;
    }
  return path;
}

// The file an #include line names, found as the compiler would look for it
// among the given folders; empty when it is elsewhere (the system's).
std::string resolveInclude(const std::string &line, const std::string &folder,
                           const SearchPath &path) {
  size_t open = line.find_first_of("\"<");
  if (open == std::string::npos)
    return {}; // #include MACRO: not followed
  bool quoted = line[open] == '"';
  size_t close = line.find(quoted ? '"' : '>', open + 1);
  if (close == std::string::npos)
    return {};
  std::string name = line.substr(open + 1, close - open - 1);
  std::vector<std::string> dirs;
  if (quoted) {
    dirs.push_back(folder);
    dirs.insert(dirs.end(), path.quoted.begin(), path.quoted.end());
  }
  dirs.insert(dirs.end(), path.all.begin(), path.all.end());
  std::error_code ec;
  for (const auto &dir : dirs) {
    fs::path candidate = fs::path(dir) / name;
    if (fs::is_regular_file(candidate, ec))
      return candidate.lexically_normal().string();
  }
  return {};
}

// Notes the files that hold code: a function body or a variable's
// definition. A preamble may hold a file of the report scope only when it
// holds nothing of the kind (declarations the analysis reads where the code
// uses them, never walks).
class CodeSpotter : public clang::ASTConsumer {
public:
  CodeSpotter(const clang::SourceManager &sm, std::set<std::string> &files)
      : sm_(sm), files_(files) {}

  bool HandleTopLevelDecl(clang::DeclGroupRef group) override {
    for (const clang::Decl *d : group)
      if (holdsCode(d))
        if (auto entry = sm_.getFileEntryRefForID(
                sm_.getFileID(sm_.getExpansionLoc(d->getLocation()))))
          files_.insert(entry->getName().str());
    return true;
  }

private:
  static bool holdsCode(const clang::Decl *d) {
    if (const auto *fn = llvm::dyn_cast<clang::FunctionDecl>(d))
      return fn->doesThisDeclarationHaveABody();
    if (const auto *var = llvm::dyn_cast<clang::VarDecl>(d))
      return var->isThisDeclarationADefinition() !=
             clang::VarDecl::DeclarationOnly;
    // C++ (classes with inline members, namespaces, templates): counted as
    // code whole.
    return d->getLangOpts().CPlusPlus &&
           !llvm::isa<clang::TypedefNameDecl, clang::EnumDecl>(d);
  }

  const clang::SourceManager &sm_;
  std::set<std::string> &files_;
};

// Builds a PCH and records every file it was made of, and which of them
// hold code.
class PchBuildAction : public clang::GeneratePCHAction {
public:
  PchBuildAction(std::vector<std::string> &files, std::set<std::string> &code)
      : files_(files), code_(code) {}

protected:
  std::unique_ptr<clang::ASTConsumer>
  CreateASTConsumer(clang::CompilerInstance &ci, llvm::StringRef in) override {
    auto pch = clang::GeneratePCHAction::CreateASTConsumer(ci, in);
    if (!pch)
      return nullptr;
    std::vector<std::unique_ptr<clang::ASTConsumer>> both;
    both.push_back(
        std::make_unique<CodeSpotter>(ci.getSourceManager(), spotted_));
    both.push_back(std::move(pch));
    return std::make_unique<clang::MultiplexConsumer>(std::move(both));
  }

  void EndSourceFileAction() override {
    auto &sm = getCompilerInstance().getSourceManager();
    auto absolute = [&](llvm::StringRef name) {
      llvm::SmallString<256> path(name);
      sm.getFileManager().makeAbsolutePath(path);
      return fs::path(path.str().str()).lexically_normal().string();
    };
    // The prefix file itself is ftready's, not a dependency of the unit.
    std::string prefix = absolute(getCurrentFile());
    for (auto it = sm.fileinfo_begin(); it != sm.fileinfo_end(); ++it)
      if (std::string f = absolute(compat::fileInfoName(it)); f != prefix)
        files_.push_back(f);
    for (const auto &name : spotted_)
      code_.insert(absolute(name));
    clang::GeneratePCHAction::EndSourceFileAction();
  }

private:
  std::vector<std::string> &files_;
  std::set<std::string> &code_;
  std::set<std::string> spotted_;
};

// This process and thread: temporary files of two scans sharing a cache,
// or two workers, never meet.
std::string threadTag() {
  std::ostringstream s;
  s << ::getpid() << "." << std::this_thread::get_id();
  return s.str();
}

// Written whole under a name of its own, then renamed: a reader (another
// scan) never sees half a file.
bool writeWhole(const std::string &path, const std::string &text) {
  std::string tmp = path + "." + threadTag() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out)
      return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    fs::remove(tmp, ec);
  return !ec;
}

bool onlyIncludes(const std::string &prefix) {
  std::istringstream lines(prefix);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line.rfind("#include", 0) != 0)
      return false;
  return true;
}

bool writeManifest(const std::string &path, const Preamble &p) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto &f : p.dependencies)
    j.push_back(
        {{"path", f}, {"stamp", fileStamp(f)}, {"code", p.code.count(f) > 0}});
  return writeWhole(path, j.dump());
}

} // namespace

SharedPreambles::SharedPreambles(
    std::string dir, std::function<bool(const std::string &)> inScope)
    : dir_(std::move(dir)), inScope_(std::move(inScope)) {}

std::string SharedPreambles::pathOf(const std::string &key,
                                    const char *suffix) const {
  return dir_ + "/" + key + suffix;
}

void SharedPreambles::plan(const std::vector<UnitCommand> &units) {
  std::map<std::string, unsigned> count;
  std::map<std::string, std::vector<std::string>> candidates; // file -> keys
  for (const auto &unit : units) {
    std::string language = headerLanguage(unit);
    if (language.empty() || unit.commandLine.empty())
      continue;
    std::vector<std::string> args = argsWithoutInputOutput(unit);
    std::string folder = fs::path(unit.file).parent_path().string();
    SearchPath search = searchPathOf(args, unit.directory);
    for (const auto &prefix : leadingIncludePrefixes(readFile(unit.file))) {
      // A prefix that reaches a file of the report scope, and every longer
      // one, is the unit's own to parse.
      std::string last =
          prefix.substr(prefix.rfind('\n', prefix.size() - 2) + 1);
      std::string found = resolveInclude(last, folder, search);
      if (language == "c++-header" && !found.empty() && inScope_(found))
        break;
      Entry e{State::Unbuilt, prefix, language, unit.directory, args, {}};
      if (prefixNeedsItsFolder(prefix, folder))
        e.args.insert(e.args.begin() + 1, {"-iquote", folder});
      // A PCH is readable only by the clang that wrote it.
      std::string material =
          CLANG_VERSION_STRING "\n" + language + "\n" + unit.directory + "\n";
      for (const auto &a : e.args)
        material += a + "\x1f";
      std::string key =
          makeFingerprint("preamble", version(), material + "\n" + prefix, "");
      entries_.emplace(key, std::move(e));
      candidates[unit.file].push_back(key);
      ++count[key];
    }
  }
  std::set<std::string> wanted;
  for (auto &[file, keys] : candidates) {
    std::vector<std::string> chain = preferred(keys, count);
    wanted.insert(chain.begin(), chain.end());
    if (!chain.empty())
      chains_[file] = std::move(chain);
  }
  std::erase_if(entries_,
                [&](const auto &e) { return !wanted.count(e.first); });
}

// The prefixes a unit would use, best first: the one that saves the most,
// counting each #include as one unit of work saved for every unit that
// shares it but the one that pays for the build (none for one already on
// disk); then the shorter ones, for when it cannot be built or used.
std::vector<std::string>
SharedPreambles::preferred(const std::vector<std::string> &keys,
                           const std::map<std::string, unsigned> &count) const {
  std::error_code ec;
  size_t best = keys.size();
  unsigned bestGain = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    unsigned users = count.at(keys[i]);
    unsigned payers = fs::exists(pathOf(keys[i], ".pch"), ec) ? 0 : 1;
    unsigned gain = (users - payers) * static_cast<unsigned>(i + 1);
    if (users - payers > 0 && gain > bestGain) {
      best = i;
      bestGain = gain;
    }
  }
  std::vector<std::string> chain;
  for (size_t i = best; i < keys.size(); --i)
    if (count.at(keys[i]) > 1 || fs::exists(pathOf(keys[i], ".pch"), ec))
      chain.push_back(keys[i]);
  return chain;
}

bool SharedPreambles::loadFromDisk(const std::string &key, Entry &entry) const {
  std::ifstream in(pathOf(key, ".deps"));
  std::error_code ec;
  if (!in || !fs::exists(pathOf(key, ".pch"), ec))
    return false;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_array())
    return false;
  Preamble p{pathOf(key, ".pch"), {}};
  for (const auto &d : j) {
    if (!d.contains("path") || !d.contains("stamp"))
      return false;
    std::string path = d["path"].get<std::string>();
    if (fileStamp(path) != d["stamp"].get<std::string>())
      return false;
    p.dependencies.push_back(path);
    if (d.value("code", true))
      p.code.insert(path);
  }
  entry.preamble = std::move(p);
  return true;
}

bool SharedPreambles::build(const std::string &key, Entry &entry) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::string header = pathOf(key, ".h");
  if (!writeWhole(header, entry.prefix))
    return false;
  std::string tmp = pathOf(key, ".pch.") + threadTag() + ".tmp";
  std::vector<std::string> args = entry.args;
  args.insert(args.end(), {"-x", entry.language, header, "-o", tmp});
  auto vfs = llvm::vfs::createPhysicalFileSystem();
  vfs->setCurrentWorkingDirectory(entry.directory);
  llvm::IntrusiveRefCntPtr<clang::FileManager> files(new clang::FileManager(
      clang::FileSystemOptions(),
      llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem>(vfs.release())));
  Preamble made{pathOf(key, ".pch"), {}, {}};
  clang::tooling::ToolInvocation run(
      args, std::make_unique<PchBuildAction>(made.dependencies, made.code),
      files.get());
  clang::DiagnosticConsumer diagnostics; // counts; says nothing
  run.setDiagnosticConsumer(&diagnostics);
  bool ok = run.run() && diagnostics.getNumErrors() == 0;
  ok = ok && !made.dependencies.empty() &&
       writeManifest(pathOf(key, ".deps"), made);
  if (ok) {
    fs::rename(tmp, pathOf(key, ".pch"), ec);
    ok = !ec;
  }
  fs::remove(tmp, ec);
  if (!ok)
    return false;
  entry.preamble = std::move(made);
  return true;
}

std::optional<Preamble> SharedPreambles::acquire(const std::string &file) {
  std::unique_lock lock(mutex_);
  auto chain = chains_.find(file);
  if (chain == chains_.end())
    return std::nullopt;
  for (const auto &key : chain->second) {
    Entry &e = entries_.at(key);
    if (e.state == State::Building)
      return std::nullopt; // parsed without rather than waiting
    if (e.state == State::Unbuilt) {
      e.state = State::Building;
      lock.unlock();
      bool fromDisk = loadFromDisk(key, e);
      bool ready = fromDisk || build(key, e);
      if (ready)
        for (const auto &d : e.preamble.code)
          ready = ready && !inScope_(d);
      lock.lock();
      e.state = ready ? State::Ready : State::Failed;
      built_ += ready && !fromDisk;
    }
    if (e.state == State::Ready) {
      used_[file] = key;
      e.preamble.includesOnly = onlyIncludes(e.prefix);
      return e.preamble;
    }
  }
  return std::nullopt;
}

void SharedPreambles::reject(const std::string &file) {
  std::lock_guard lock(mutex_);
  auto used = used_.find(file);
  if (used == used_.end())
    return;
  entries_.at(used->second).state = State::Failed;
  std::error_code ec;
  for (const char *suffix : {".pch", ".deps", ".h"})
    fs::remove(pathOf(used->second, suffix), ec);
}

unsigned SharedPreambles::built() const {
  std::lock_guard lock(mutex_);
  return built_;
}

} // namespace ftready::analyzer
